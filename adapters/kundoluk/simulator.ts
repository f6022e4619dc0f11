import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { DemoSchool } from '../../src/demo/generator.js';
import type { DemoPupil } from '../../src/demo/types.js';
import type { SimulatorFaults, SimulatorHandle } from '../../src/ports/simulator.js';
import { KundolukData, type Credential } from './simulator-data.js';

export interface KundolukSimulatorOptions {
  port?: number;
}

export interface KundolukSimulator extends SimulatorHandle {
  /** One login per pupil of the school, in the school's order. */
  credentials: Credential[];
}

interface State {
  requests: number;
  faults: SimulatorFaults;
  tokens: Map<string, DemoPupil>;
}

const MAINTENANCE_PAGE = '<!DOCTYPE html><html><head><title>503 Service Temporarily Unavailable</title></head><body><center><h1>503 Service Temporarily Unavailable</h1></center><hr><center>nginx</center></body></html>';

/**
 * The Kundoluk mobile API (`/api/…`) serving a generated school: `auth/loginStudent` per pupil (401 on a
 * wrong password, 400 with `{errorMessage}` on a malformed login), the Bearer token on every `student/…`
 * call (401 when unknown or expired), answers in the `{resultCode, resultMessage, actionResult}` envelope,
 * and the faults of SimulatorFaults.
 */
export async function startKundolukSimulator(school: DemoSchool, options: KundolukSimulatorOptions = {}): Promise<KundolukSimulator> {
  const data = new KundolukData(school);
  const state: State = { requests: 0, faults: {}, tokens: new Map() };
  const app = express();
  app.use((req, res, next) => countAndInjectFaults(state, req, res, next));
  app.use(express.json());

  app.post('/api/auth/loginStudent', (req, res) => {
    const body = (req.body ?? {}) as { username?: unknown; password?: unknown };
    if (typeof body.username !== 'string' || typeof body.password !== 'string' || !body.username || !body.password) return badRequest(res, 'Введите логин и пароль');
    if (/\s/.test(body.username)) return badRequest(res, 'Логин не должен содержать пробелов');
    const pupil = data.login({ username: body.username, password: body.password });
    if (!pupil) return void res.status(401).json({ resultCode: 1, resultMessage: 'Неверный логин или пароль', actionResult: null });
    const token = randomBytes(32).toString('base64url');
    state.tokens.set(token, pupil);
    res.json({ token, ...data.account(pupil) });
  });

  const student = express.Router();
  student.use((req, res, next) => {
    const pupil = state.tokens.get(/^Bearer (.+)$/i.exec(req.header('authorization') ?? '')?.[1] ?? '');
    if (!pupil) return void res.status(401).json({ resultCode: 401, resultMessage: 'Unauthorized', actionResult: null });
    res.locals.pupil = pupil;
    next();
  });
  student.get('/gradebook/list', (req, res) => {
    const [from, to] = [req.query.start_date, req.query.end_date].map((d) => (typeof d === 'string' ? d : ''));
    if (!isDate(from!) || !isDate(to!)) return badRequest(res, 'start_date и end_date: дата в формате ГГГГ-ММ-ДД');
    if (from! > to!) return badRequest(res, 'start_date не может быть позже end_date');
    ok(res, data.schedule(res.locals.pupil as DemoPupil, from!, to!));
  });
  student.get('/gradebook/term/:term', (req, res) => {
    const absent = req.query.absent ?? '0';
    if (absent !== '0' && absent !== '1') return badRequest(res, 'absent: 0 или 1');
    const answer = data.term(res.locals.pupil as DemoPupil, Number(req.params.term), absent === '1', Boolean(state.faults.malformedRecord));
    if (!answer) return badRequest(res, 'Четверть должна быть от 1 до 4');
    ok(res, answer);
  });
  student.get('/homework/list', (req, res) => {
    const answer = data.homework(res.locals.pupil as DemoPupil, Number(req.query.term_no));
    if (!answer) return badRequest(res, 'term_no: четверть от 1 до 4');
    ok(res, answer);
  });
  student.get('/qmarks/all', (_req, res) => ok(res, data.quarterMarksOf(res.locals.pupil as DemoPupil)));
  app.use('/api/student', student);
  app.use((_req: Request, res: Response) => void res.status(404).json({ resultCode: 404, resultMessage: 'Not found', actionResult: null }));
  app.use((_error: unknown, _req: Request, res: Response, _next: NextFunction) => badRequest(res, 'Неверный формат запроса'));

  const server = app.listen(options.port ?? 0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const terms = school.periods.filter((p) => p.kind === 'quarter').sort((a, b) => a.number - b.number)
    .map((p) => ({ from: p.startDate.slice(5), to: p.endDate.slice(5) }));
  return {
    url, credentials: data.credentials,
    connectionConfig: () => ({ baseUrl: `${url}/api/`, accounts: data.credentials.map((c) => ({ ...c })), terms, requestsPerSecond: 1000, parallelPupils: 8 }),
    requests: () => state.requests,
    setFaults: (faults) => {
      state.faults = { ...faults };
      if (faults.expireSessions) state.tokens.clear();
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function ok(res: Response, payload: unknown): void {
  res.json({ resultCode: 0, resultMessage: 'OK', actionResult: payload });
}

function badRequest(res: Response, ...messages: string[]): void {
  res.status(400).json(messages.map((errorMessage) => ({ errorMessage })));
}

function isDate(value: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(Date.parse(`${value}T00:00:00Z`)) && new Date(`${value}T00:00:00Z`).toISOString().startsWith(value);
}

function countAndInjectFaults(state: State, _req: Request, res: Response, next: NextFunction): void {
  state.requests += 1;
  const { faults } = state;
  if (faults.rateLimit && faults.rateLimit.requests > 0) {
    faults.rateLimit.requests -= 1;
    res.status(429).set('Retry-After', String(faults.rateLimit.retryAfterSeconds)).json({ resultCode: 429, resultMessage: 'Too Many Requests', actionResult: null });
    return;
  }
  if (faults.maintenance && faults.maintenance.requests > 0) {
    faults.maintenance.requests -= 1;
    if (faults.maintenance.style === 'html') res.status(503).type('text/html').send(MAINTENANCE_PAGE);
    else res.status(503).json({ resultCode: 503, resultMessage: 'Service Unavailable', actionResult: null });
    return;
  }
  if (faults.slowMs) setTimeout(next, faults.slowMs);
  else next();
}
