import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import express, { type Request, type Response } from 'express';
import type { DemoSchool } from '../../src/demo/generator.js';
import { copyFaults, faultGate, type FaultAnswers, type SimulatorFactory, type SimulatorFaults, type SimulatorHandle } from '../../src/ports/simulator.js';
import { DnevnikData, toJson, type PlatformEdits } from './simulator-data.js';

export interface DnevnikSimulatorOptions {
  port?: number;
  login?: string;
  password?: string;
  clientId?: string;
  clientSecret?: string;
}

export interface DnevnikSimulator extends SimulatorHandle {
  login: string;
  password: string;
  clientId: string;
  clientSecret: string;
  /** A long-lived token, as a partner application's OAuth2 flow would have issued (it never expires). */
  staticToken: string;
  /** Teachers' edits on the platform after the fact (a changed or deleted mark, an added lesson). */
  edits: PlatformEdits;
}

/**
 * A Дневник.ру API v2 that serves a generated school: the `Access-Token` header on every call, tokens
 * from POST /v2/authorizations/bycredentials, `{type, description}` errors, and the faults of
 * SimulatorFaults (expired tokens, 429 with Retry-After, HTTP 550 or an HTML error page, slowness, a
 * malformed mark).
 */
export async function startDnevnikSimulator(school: DemoSchool, options: DnevnikSimulatorOptions = {}): Promise<DnevnikSimulator> {
  const data = new DnevnikData(school);
  const creds = { login: options.login ?? 'admin@school17', password: options.password ?? 'Пароль-17!', clientId: options.clientId ?? 'partner-app', clientSecret: options.clientSecret ?? randomBytes(12).toString('hex') };
  const staticToken = randomBytes(16).toString('hex');
  const state = { requests: 0, faults: {} as SimulatorFaults, issued: new Set<string>([staticToken]), failedLogins: 0 };
  const app = express();
  app.use(express.json());
  app.use(faultGate<Request, Response>(state, FAULT_ANSWERS));
  app.post('/v2/authorizations/bycredentials', (req, res) => {
    const body = req.body as Record<string, string>;
    if (state.failedLogins >= 5) return error(res, 400, 'maxAttempsExceeded', 'Превышено количество попыток входа');
    if (body.client_id !== creds.clientId || body.client_secret !== creds.clientSecret || body.username !== creds.login || body.password !== creds.password) {
      state.failedLogins += 1;
      return error(res, 401, 'authorizationFailed', 'Неверный логин или пароль');
    }
    state.failedLogins = 0;
    const token = randomBytes(16).toString('hex');
    state.issued.add(token);
    send(res, { accessToken: token, expiresIn: 3600, type: 'Success' });
  });
  app.use('/v2', (req, res, next) => {
    const token = req.header('access-token');
    if (!token) return error(res, 401, 'tokenRequired', 'Access-Token required');
    if (!state.issued.has(token)) return error(res, 401, 'authorizationFailed', 'Invalid or expired token');
    next();
  });
  mountRoutes(app, data, state);
  const server = app.listen(options.port ?? 0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url, ...creds, staticToken, edits: data.edits,
    connectionConfig: () => ({ baseUrl: url, ...creds, requestsPerSecond: 1000 }),
    badConfig: () => ({ baseUrl: url, ...creds, password: 'not-the-password', requestsPerSecond: 1000 }),
    secrets: () => [creds.password, creds.clientSecret],
    requests: () => state.requests,
    setFaults: (faults) => {
      state.faults = copyFaults(faults);
      if (faults.expireSessions) state.issued = new Set([staticToken]);
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

type State = { requests: number; faults: SimulatorFaults; issued: Set<string>; failedLogins: number };

/** Дневник.ру's answers to the faults: 429 with a `{type, description}` body; 550 "Server Work", or an HTML error page. */
const FAULT_ANSWERS: FaultAnswers<Response> = {
  rateLimited: (res, retryAfterSeconds) => {
    res.status(429).set('Retry-After', String(retryAfterSeconds));
    error(res, 429, 'Error', 'Too many requests');
  },
  maintenance: (res, style) => {
    if (style === 'html') res.status(503).type('text/html').send('<html><body><div class="error__description"><p>Сервис временно недоступен. Ведутся технические работы.</p></div></body></html>');
    else error(res, 550, 'Error', 'Server Work');
  },
};

function mountRoutes(app: express.Express, data: DnevnikData, state: State): void {
  const group = (req: Request) => data.groupOf(String(req.params.g));
  app.get('/v2/users/me/context', (_req, res) => send(res, data.context('admin')));
  app.get('/v2/schools/:s', (_req, res) => send(res, data.schoolInfo()));
  app.get('/v2/schools/:s/edu-groups', (_req, res) => send(res, data.school.groups.map((g) => data.group(g.id))));
  app.get('/v2/schools/:s/subjects', (_req, res) => send(res, data.subjects()));
  app.get('/v2/schools/:s/teachers', (_req, res) => send(res, data.teachers()));
  app.get('/v2/schools/:s/timetables', (_req, res) => send(res, data.timetables()));
  app.get('/v2/work-types/:s', (_req, res) => send(res, data.workTypes()));
  app.get('/v2/edu-groups/:g/persons', (req, res) => withGroup(res, group(req), (g) => data.persons(g)));
  app.get('/v2/edu-groups/:g/reporting-periods', (req, res) => withGroup(res, group(req), (g) => data.reportingPeriods(g)));
  app.get('/v2/edu-groups/:g/final-marks', (req, res) => withGroup(res, group(req), (g) => data.finalMarks(g)));
  app.get('/v2/edu-groups/:g/lessons/:from/:to', (req, res) =>
    withRange(req, res, group(req), (g, from, to) => data.lessonsOf(g, from, to).map((l) => data.lesson(l))));
  app.get('/v2/edu-groups/:g/marks/:from/:to', (req, res) =>
    withRange(req, res, group(req), (g, from, to) => data.marksOf(data.lessonsOf(g, from, to), Boolean(state.faults.malformedRecord))));
  app.get('/v2/lesson-log-entries/group/:g', (req, res) => {
    const { from, to } = req.query as Record<string, string | undefined>;
    withRange({ params: { from: from ?? '', to: to ?? '' } } as unknown as Request, res, group(req), (g, f, t) => data.logEntriesOf(data.lessonsOf(g, f, t)));
  });
  app.use((_req: Request, res: Response) => error(res, 404, 'invalidRequest', 'Unknown method'));
}

function withGroup(res: Response, groupId: string | undefined, answer: (groupId: string) => unknown): void {
  if (!groupId) return error(res, 404, 'parameterInvalid', 'Группа не найдена');
  send(res, answer(groupId));
}

function withRange(req: Request, res: Response, groupId: string | undefined, answer: (groupId: string, from: string, to: string) => unknown): void {
  const from = String(req.params.from ?? '').slice(0, 10);
  const to = String(req.params.to ?? '').slice(0, 10);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(from) || !/^\d{4}-\d{2}-\d{2}$/.test(to) || from > to) return error(res, 400, 'parameterInvalid', 'Неверный период');
  withGroup(res, groupId, (g) => answer(g, from, to));
}

function send(res: Response, body: unknown): void {
  res.type('application/json').send(toJson(body));
}

function error(res: Response, status: number, type: string, description: string): void {
  res.status(status).type('application/json').send(JSON.stringify({ type, description }));
}

/** The simulator as the registry offers it (`dnevnikru.simulator()`): absences spelled as the lesson log's statuses. */
export const simulator: SimulatorFactory = {
  start: (school, options) => startDnevnikSimulator(school as DemoSchool, options as DnevnikSimulatorOptions),
  spelling: () => ({ absenceCode: (code) => ({ Н: 'Absent', Б: 'Ill', УП: 'Pass', ОП: 'Late' } as Record<string, string>)[code] ?? code }),
};
