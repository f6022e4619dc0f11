import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { DemoSchool } from '../../src/demo/generator.js';
import type { DemoPupil } from '../../src/demo/types.js';
import { IsoDateSchema } from '../../src/ports/records.js';
import { copyFaults, faultGate, type FaultAnswers, type SimulatorFactory, type SimulatorFaults, type SimulatorHandle } from '../../src/ports/simulator.js';
import { KundolukData, type Credential, type TeacherCredential } from './simulator-data.js';
import { absentTypeOf, kundolukMark } from './simulator-shapes.js';
import { serveWebJournal } from './simulator-web.js';

interface KundolukSimulatorOptions {
  port?: number;
}

export interface KundolukSimulator extends SimulatorHandle {
  /** One login per pupil of the school, in the school's order. */
  credentials: Credential[];
  /** The deputy head's login to the legacy web journal, with the class journals to read. */
  teacher: TeacherCredential;
}

interface State {
  requests: number;
  faults: SimulatorFaults;
  tokens: Map<string, DemoPupil>;
  /** Session cookies of the legacy web journal. */
  sessions: Set<string>;
}

const MAINTENANCE_PAGE = '<!DOCTYPE html><html><head><title>503 Service Temporarily Unavailable</title></head><body><center><h1>503 Service Temporarily Unavailable</h1></center><hr><center>nginx</center></body></html>';

/**
 * The Kundoluk mobile API (`/api/…`) serving a generated school: `auth/loginStudent` per pupil (the
 * account at the top level; 401 on a wrong password [I: the real status is unknown], 400 with
 * `{errorMessage}` on a malformed login), the Bearer token on every `student/…` call (401 when unknown
 * or expired), answers in the `{resultCode, resultMessage, actionResult}` envelope, and the faults of
 * SimulatorFaults. Beside it, at the root, the legacy web journal (simulator-web.ts).
 */
async function startKundolukSimulator(school: DemoSchool, options: KundolukSimulatorOptions = {}): Promise<KundolukSimulator> {
  const data = new KundolukData(school);
  const state: State = { requests: 0, faults: {}, tokens: new Map(), sessions: new Set() };
  const app = express();
  app.use(faultGate<Request, Response>(state, FAULT_ANSWERS));
  app.use(express.json());
  app.use(express.urlencoded({ extended: false }));

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
  serveWebJournal(app, data, state);
  app.use((_req: Request, res: Response) => void res.status(404).json({ resultCode: 404, resultMessage: 'Not found', actionResult: null }));
  app.use((_error: unknown, _req: Request, res: Response, _next: NextFunction) => badRequest(res, 'Неверный формат запроса'));

  const server = app.listen(options.port ?? 0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const terms = school.periods.filter((p) => p.kind === 'quarter').sort((a, b) => a.number - b.number)
    .map((p) => ({ from: p.startDate.slice(5), to: p.endDate.slice(5) }));
  const connectionConfig = (password?: string) => ({
    baseUrl: `${url}/api/`, accounts: data.credentials.map((c) => ({ ...c, ...(password ? { password } : {}) })), terms, requestsPerSecond: 1000, parallelPupils: 8,
    teacher: { baseUrl: `${url}/`, ...data.teacher, classes: data.teacher.classes.map((c) => ({ ...c })), ...(password ? { password } : {}) },
  });
  return {
    url, credentials: data.credentials, teacher: data.teacher,
    connectionConfig: () => connectionConfig(),
    badConfig: () => connectionConfig('not-the-password'),
    secrets: () => [...data.credentials.map((c) => c.password), data.teacher.password],
    requests: () => state.requests,
    setFaults: (faults) => {
      state.faults = copyFaults(faults);
      if (faults.expireSessions) {
        state.tokens.clear();
        state.sessions.clear();
      }
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
  return IsoDateSchema.safeParse(value).success;
}

/** Kundoluk's answers to the faults: 429 in its envelope; 503 in its envelope or nginx's HTML page. */
const FAULT_ANSWERS: FaultAnswers<Response> = {
  rateLimited: (res, retryAfterSeconds) => {
    res.status(429).set('Retry-After', String(retryAfterSeconds)).json({ resultCode: 429, resultMessage: 'Too Many Requests', actionResult: null });
  },
  maintenance: (res, style) => {
    if (style === 'html') res.status(503).type('text/html').send(MAINTENANCE_PAGE);
    else res.status(503).json({ resultCode: 503, resultMessage: 'Service Unavailable', actionResult: null });
  },
};

/**
 * The simulator as the registry offers it (`kundoluk.simulator()`). Kundoluk shows integer marks (no
 * «5-»; words and «2/5» as `custom_mark`), absences as `absent_type` `absent` (whatever the reason) and
 * lateness as `late`, and names a subgroup «<class> <subject> <n> группа».
 */
export const simulator: SimulatorFactory = {
  start: (school, options) => startKundolukSimulator(school as DemoSchool, options as KundolukSimulatorOptions),
  spelling: (school) => {
    const subjects = new Map((school as DemoSchool).subjects.map((s) => [s.id, s.name]));
    const groups = new Map((school as DemoSchool).groups.map((g) => [g.id, g.name]));
    return {
      markValue: (value) => {
        const { mark, custom_mark } = kundolukMark(value);
        return mark > 0 ? String(mark) : custom_mark ?? value;
      },
      absenceCode: absentTypeOf,
      groupName: (group) => (group.kind === 'subgroup' && group.subjectId
        ? `${groups.get(group.parentId ?? '')} ${subjects.get(group.subjectId)} ${/(\d+)$/.exec(group.name)?.[1] ?? 1} группа`
        : group.name),
    };
  },
};
