import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import express, { type Request, type Response } from 'express';
import type { DemoSchool } from '../../src/demo/generator.js';
import { copyFaults, faultGate, type FaultAnswers, type SimulatorFactory, type SimulatorFaults, type SimulatorHandle } from '../../src/ports/simulator.js';
import { toJson, type PlatformEdits } from './simulator-data.js';
import { DnevnikJournal, LOG_STATUS } from './simulator-journal.js';

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

type State = { requests: number; faults: SimulatorFaults; issued: Set<string>; failedLogins: number };

/**
 * A Дневник.ру API v2 that serves a generated school in the shapes public clients show (README.md
 * "Evidence"): the `Access-Token` header on every call, tokens from POST /v2/authorizations/bycredentials,
 * `{type, description}` errors with the API's own types, and the faults of SimulatorFaults (expired
 * tokens, `apiRequestLimit` with 429 and Retry-After, HTTP 550 or an HTML error page, slowness, a
 * malformed mark).
 */
export async function startDnevnikSimulator(school: DemoSchool, options: DnevnikSimulatorOptions = {}): Promise<DnevnikSimulator> {
  const data = new DnevnikJournal(school);
  const creds = { login: options.login ?? 'admin@school17', password: options.password ?? 'Пароль-17!', clientId: options.clientId ?? 'partner-app', clientSecret: options.clientSecret ?? randomBytes(12).toString('hex') };
  const staticToken = randomBytes(16).toString('hex');
  const state: State = { requests: 0, faults: {}, issued: new Set<string>([staticToken]), failedLogins: 0 };
  const app = express();
  app.use(express.json());
  app.use(faultGate<Request, Response>(state, FAULT_ANSWERS));
  app.post('/v2/authorizations/bycredentials', (req, res) => {
    const body = req.body as Record<string, string>;
    if (state.failedLogins >= 5) return error(res, 400, 'maxAttempsExceeded', 'Превышено количество попыток входа');
    if (body.client_id !== creds.clientId || body.client_secret !== creds.clientSecret || body.username !== creds.login || body.password !== creds.password) {
      state.failedLogins += 1;
      return error(res, 401, 'authorizationFailed', "Can't authorize");
    }
    state.failedLogins = 0;
    const token = randomBytes(16).toString('hex');
    state.issued.add(token);
    send(res, { accessToken: token, expiresIn: 3600, type: 'Success' });
  });
  app.use('/v2', (req, res, next) => {
    const token = req.header('access-token');
    if (!token) return error(res, 401, 'tokenRequired', 'You must supply valid token to access method');
    if (!state.issued.has(token)) return error(res, 401, 'invalidToken', 'Неверный или неактивный токен');
    next();
  });
  mountRoster(app, data);
  mountJournal(app, data, state);
  app.use((_req: Request, res: Response) => error(res, 404, 'apiResourceUnavailable', 'Ресурс не существует'));
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

/** Дневник.ру's answers to the faults: `apiRequestLimit` with 429; 550 "Server Work", or an HTML error page. */
const FAULT_ANSWERS: FaultAnswers<Response> = {
  rateLimited: (res, retryAfterSeconds) => {
    res.set('Retry-After', String(retryAfterSeconds));
    error(res, 429, 'apiRequestLimit', 'Превышен лимит запросов для данного токена');
  },
  maintenance: (res, style) => {
    if (style === 'html') res.status(503).type('text/html').send('<html><body><div class="error__description"><p>Сервис временно недоступен. Ведутся технические работы.</p></div></body></html>');
    else error(res, 550, 'apiServerError', 'Server Work');
  },
};

function mountRoster(app: express.Express, data: DnevnikJournal): void {
  const group = (req: Request) => data.groupOf(String(req.params.g));
  const school = (req: Request, res: Response, answer: () => unknown) =>
    (String(req.params.s) === String(data.schoolId) ? send(res, answer()) : error(res, 404, 'apiResourceUnavailable', 'Школа не найдена'));
  app.get('/v2/users/me/context', (_req, res) => send(res, data.context()));
  app.get('/v2/schools/:s/edu-groups', (req, res) => school(req, res, () => data.groups()));
  app.get('/v2/schools/:s/subjects', (req, res) => school(req, res, () => data.subjects()));
  app.get('/v2/schools/:s/teachers', (req, res) => school(req, res, () => data.teachers()));
  app.get('/v2/schools/:s/timetables', (req, res) => school(req, res, () => data.timetables()));
  app.get('/v2/work-types/:s', (req, res) => school(req, res, () => data.workTypes()));
  app.get('/v2/edu-groups/:g/persons', (req, res) => withGroup(res, group(req), (g) => data.persons(g)));
  app.get('/v2/edu-groups/:g/timetables', (req, res) => withGroup(res, group(req), () => data.timetables()));
  app.get('/v2/edu-groups/:g/classteacher', (req, res) => withGroup(res, group(req), (g) => data.classTeacher(g)));
  app.get('/v2/edu-groups/:g/reporting-periods', (req, res) => withGroup(res, group(req), (g) => data.reportingPeriods(g)));
  app.get('/v2/users/me/school/:s/homeworks', (req, res) => {
    const { startDate, endDate } = req.query as Record<string, string | undefined>;
    const [from, to] = [String(startDate ?? '').slice(0, 10), String(endDate ?? '').slice(0, 10)];
    if (!isRange(from, to)) return error(res, 400, 'parameterInvalid', 'Неверный период');
    school(req, res, () => data.homeworks(from, to));
  });
  app.get('/v2/users/:u/relatives', (req, res) => withFound(res, data.relatives(Number(req.params.u))));
  app.get('/v2/users/:u', (req, res) => withFound(res, data.user(Number(req.params.u))));
  app.post('/v2/users/many', (req, res) => {
    const ids = req.body as unknown;
    if (!Array.isArray(ids) || !ids.every((id) => typeof id === 'number')) return error(res, 400, 'parameterInvalid', 'Ожидался список идентификаторов');
    send(res, ids.map((id: number) => data.user(id)).filter((u) => u !== undefined));
  });
}

function mountJournal(app: express.Express, data: DnevnikJournal, state: State): void {
  const group = (req: Request) => data.groupOf(String(req.params.g));
  app.get('/v2/edu-groups/:g/final-marks', (req, res) => withGroup(res, group(req), (g) => data.finalMarks(g)));
  app.get('/v2/edu-groups/:g/lessons/:from/:to', (req, res) =>
    withRange(res, group(req), req.params, (g, from, to) => data.lessonsOf(g, from, to).map((l) => data.lesson(l))));
  app.get('/v2/edu-groups/:g/marks/:from/:to', (req, res) =>
    withRange(res, group(req), req.params, (g, from, to) => data.marksOf(data.lessonsOf(g, from, to), Boolean(state.faults.malformedRecord))));
  app.get('/v2/lesson-log-entries/group/:g', (req, res) => {
    const query = req.query as Record<string, string | undefined>;
    // «Список отметок о посещаемости на уроках по заданному предмету»: no subject, no answer.
    if (!query.subject) return error(res, 400, 'parameterInvalid', 'Не указан предмет');
    withRange(res, group(req), query, (g, f, t) => data.logEntriesOf(data.lessonsOf(g, f, t), query.subject!));
  });
}

const isRange = (from: string, to: string) => /^\d{4}-\d{2}-\d{2}$/.test(from) && /^\d{4}-\d{2}-\d{2}$/.test(to) && from <= to;

function withFound(res: Response, answer: unknown): void {
  if (answer === undefined) return error(res, 404, 'apiResourceUnavailable', 'Пользователь не найден');
  send(res, answer);
}

function withGroup(res: Response, groupId: string | undefined, answer: (groupId: string) => unknown): void {
  if (!groupId) return error(res, 404, 'apiResourceUnavailable', 'Группа не найдена');
  const body = answer(groupId);
  // A class without a class teacher [I: not public]: the resource is missing.
  if (body === undefined) return error(res, 404, 'apiResourceUnavailable', 'Ресурс не существует');
  send(res, body);
}

/** `from` / `to` as dates or date-times (the adapter sends the end of the last day). */
function withRange(res: Response, groupId: string | undefined, params: Record<string, string | undefined>, answer: (groupId: string, from: string, to: string) => unknown): void {
  const from = String(params.from ?? '').slice(0, 10);
  const to = String(params.to ?? '').slice(0, 10);
  if (!isRange(from, to)) return error(res, 400, 'parameterInvalid', 'Неверный период');
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
  spelling: () => ({ absenceCode: (code) => LOG_STATUS[code] ?? code }),
};
