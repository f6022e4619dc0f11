import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { DemoSchool } from '../../src/demo/generator.js';
import { copyFaults, faultGate, type FaultAnswers, type SimulatorFactory, type SimulatorFaults, type SimulatorHandle } from '../../src/ports/simulator.js';
import { EduTatarData, type SimClass } from './simulator-data.js';
import { JOURNAL_URL, journalPage } from './simulator-journal.js';
import {
  cabinetPage, choosePage, classesPage, layout, loginPage, messagePage, notFoundPage, pupilsPage, schoolPage, timetablePage,
} from './simulator-pages.js';

export interface EduTatarSimulatorOptions {
  port?: number;
  login?: string;
  password?: string;
  /** The login form's field names: `main_login2` / `main_password2` (since 2021-10, the default) or the older `main_login` / `main_password`. */
  loginFields?: 'main_login' | 'main_login2';
  /** How an ended session answers a page: a redirect to `/logon` (which sends on to `/login/`), to `/message`, or a 200 «Выберите дальнейшее действие». */
  endedSession?: 'logon' | 'message' | 'choose';
  /** Lesson columns per journal page (default 20). */
  columnsPerPage?: number;
}

export interface EduTatarSimulator extends SimulatorHandle {
  login: string;
  password: string;
  /** Logins accepted so far. */
  logins(): number;
  /** Every session ends once this many more requests have been served: an expiry in the middle of a sync. */
  expireSessionsAfter(requests: number): void;
}

interface State {
  requests: number;
  faults: SimulatorFaults;
  /** DNSID → whether the session has logged in. */
  sessions: Map<string, boolean>;
  /** DNSID → the text `/message` shows it next. */
  messages: Map<string, string>;
  logins: number;
  expireAt?: number;
}

const SESSION_COOKIE = 'DNSID';
const html = (res: Response, page: string, status = 200) => void res.status(status).type('text/html; charset=utf-8').send(page);

/**
 * An edu.tatar.ru serving a generated school through its staff pages, in the evidence's shapes: the
 * form at `/login/` (`GET /logon` redirects there), `POST /logon` answering with redirects —
 * `/start/logon-process`, then `/user/anketa` — or, refused, `/message` with «Неверный логин или
 * пароль.» (or «Введите логин и пароль.» when the fields are not the form's); an ended session by the
 * `endedSession` option; the school, classes, pupils (`addUser`), journal and timetable pages; and the
 * faults of SimulatorFaults (rate limiting as 429 + Retry-After and maintenance pages: no evidence).
 */
export async function startEduTatarSimulator(school: DemoSchool, options: EduTatarSimulatorOptions = {}): Promise<EduTatarSimulator> {
  const data = new EduTatarData(school, options.columnsPerPage ?? 20);
  const creds = { login: options.login ?? '1600000001', password: options.password ?? 'Завуч#2025' };
  const fields = options.loginFields === 'main_login' ? { login: 'main_login', password: 'main_password' } : { login: 'main_login2', password: 'main_password2' };
  const state: State = { requests: 0, faults: {}, sessions: new Map(), messages: new Map(), logins: 0 };
  const app = express();
  app.use(express.urlencoded({ extended: false }));
  app.use(faultGate<Request, Response>(state, FAULT_ANSWERS));
  app.use((_req, _res, next) => endPlannedSessions(state, next));

  serveLogin(app, state, fields, creds);
  serveSchool(app, data, state, options.endedSession ?? 'logon');
  app.use((_req: Request, res: Response) => html(res, notFoundPage('Раздел'), 404));

  const server = app.listen(options.port ?? 0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const terms = termsOf(school);
  return {
    url, ...creds,
    connectionConfig: () => ({ baseUrl: url, ...creds, terms, requestsPerSecond: 1000 }),
    badConfig: () => ({ baseUrl: url, ...creds, terms, password: 'not-the-password', requestsPerSecond: 1000 }),
    secrets: () => [creds.password],
    requests: () => state.requests,
    logins: () => state.logins,
    expireSessionsAfter: (requests) => {
      state.expireAt = state.requests + requests;
    },
    setFaults: (faults) => {
      state.faults = copyFaults(faults);
      if (faults.expireSessions) state.sessions.clear();
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The form at `/login/`, `/logon` sending there, the POST's redirects, and `/message`. */
function serveLogin(app: express.Express, state: State, fields: { login: string; password: string }, creds: { login: string; password: string }): void {
  app.get('/login/', (req, res) => html(anonymous(req, res, state), loginPage(fields)));
  app.get('/logon', (_req, res) => res.redirect(302, '/login/'));
  app.post('/logon', (req, res) => {
    const form = req.body as Record<string, string | undefined>;
    const refusal = !form[fields.login] || !form[fields.password] ? 'Введите логин и пароль.'
      : form[fields.login] !== creds.login || form[fields.password] !== creds.password ? 'Неверный логин или пароль.' : undefined;
    if (refusal) {
      state.messages.set(anonymous(req, res, state).locals.dnsid as string, refusal);
      return res.redirect(302, '/message');
    }
    state.sessions.delete(sessionCookie(req) ?? '');
    const session = randomBytes(20).toString('hex');
    state.sessions.set(session, true);
    state.logins += 1;
    res.cookie(SESSION_COOKIE, session, { httpOnly: true, path: '/', sameSite: 'lax' }).redirect(302, '/start/logon-process');
  });
  app.get('/start/logon-process', (req, res) => (state.sessions.get(sessionCookie(req) ?? '') ? res.redirect(302, '/user/anketa') : res.redirect(302, '/logon')));
  app.get('/message', (req, res) => {
    const cookie = sessionCookie(req) ?? '';
    html(res, messagePage(state.messages.get(cookie) ?? 'Выберите дальнейшее действие'));
    state.messages.delete(cookie);
  });
}

/** The staff pages, for a logged-in session only; an ended one is answered the `endedSession` way. */
function serveSchool(app: express.Express, data: EduTatarData, state: State, endedSession: NonNullable<EduTatarSimulatorOptions['endedSession']>): void {
  const staff = express.Router();
  staff.use((req, res, next) => (state.sessions.get(sessionCookie(req) ?? '') ? next() : endSession(req, res, state, endedSession)));
  staff.get('/user/anketa', (_req, res) => html(res, cabinetPage(data.school)));
  staff.get('/school', (_req, res) => html(res, schoolPage(data.school)));
  staff.get('/school/academic_year/classes', (_req, res) => html(res, classesPage(data)));
  staff.get('/school/academic_year/pupils', (req, res) => withClass(data, req.query.id, res, (cls) => html(res, pupilsPage(data, cls))));
  staff.get('/school/schedule/lessons', (req, res) => withClass(data, req.query.edu_class_id, res, (cls) => html(res, timetablePage(data, cls))));
  staff.get(JOURNAL_URL, (req, res) => withClass(data, req.query.edu_class_id, res, (cls) => {
    const found = journalOf(data, cls, req.query as Record<string, string | undefined>, state);
    return typeof found === 'string' ? html(res, notFoundPage(found), 404) : html(res, journalPage(found));
  }));
  app.use(staff);
}

/** The generated calendar as the adapter's `terms` configuration (the pages show no dates). */
function termsOf(school: DemoSchool): { quarters: Array<{ from: string; to: string }>; halfYears: Array<{ from: string; to: string }> } {
  const of = (kind: string) => school.periods.filter((p) => p.kind === kind).sort((a, b) => a.number - b.number)
    .map((p) => ({ from: p.startDate.slice(5), to: p.endDate.slice(5) }));
  return { quarters: of('quarter'), halfYears: of('half_year') };
}

/** The visitor's DNSID, set when it has none yet (kept in `res.locals.dnsid`). */
function anonymous(req: Request, res: Response, state: State): Response {
  let cookie = sessionCookie(req);
  if (cookie === undefined) {
    cookie = randomBytes(20).toString('hex');
    res.cookie(SESSION_COOKIE, cookie, { httpOnly: true, path: '/', sameSite: 'lax' });
  }
  if (!state.sessions.has(cookie)) state.sessions.set(cookie, false);
  res.locals.dnsid = cookie;
  return res;
}

function endSession(req: Request, res: Response, state: State, how: NonNullable<EduTatarSimulatorOptions['endedSession']>): void {
  if (how === 'choose') return html(res, choosePage());
  if (how === 'message') state.messages.set(sessionCookie(req) ?? '', 'Выберите дальнейшее действие');
  res.redirect(302, how === 'message' ? '/message' : '/logon');
}

function withClass(data: EduTatarData, id: unknown, res: Response, serve: (cls: SimClass) => void): void {
  const cls = data.classOf(Number(id));
  if (cls) serve(cls);
  else html(res, notFoundPage('Класс'), 404);
}

/** The journal view a query asks for (empty `term` / `criteria`: the first of the class), or what was not found. */
function journalOf(data: EduTatarData, cls: SimClass, query: Record<string, string | undefined>, state: State) {
  const terms = data.terms(cls);
  const courses = data.courses(cls);
  const term = query.term ? terms.find((t) => String(t.value) === query.term) : terms[0];
  const course = query.criteria ? courses.find((c) => String(c.criteria) === query.criteria) : courses[0];
  if (!term) return 'Период';
  if (!course) return 'Предмет';
  const page = Math.max(1, Number(query.page ?? 1) || 1);
  return data.journal(cls, course, term, page, { showMoved: query.show_moved_pupils === '1', malformed: Boolean(state.faults.malformedRecord) });
}

const SESSION_COOKIE_PATTERN = new RegExp(`(?:^|;\\s*)${SESSION_COOKIE}=([^;]+)`);

function sessionCookie(req: Request): string | undefined {
  return SESSION_COOKIE_PATTERN.exec(req.header('cookie') ?? '')?.[1];
}

/** The faults' answers have no public evidence (no client handles a 429 or a maintenance page): 429 with Retry-After, 503 HTML, a bare 502. */
const FAULT_ANSWERS: FaultAnswers<Response> = {
  rateLimited: (res, retryAfterSeconds) => {
    res.status(429).set('Retry-After', String(retryAfterSeconds)).type('text/html; charset=utf-8').send(layout('Слишком много запросов', '<p>Повторите попытку позже.</p>', false));
  },
  maintenance: (res, style) => {
    if (style === 'html') res.status(503).type('text/html; charset=utf-8').send(layout('Технические работы', '<p>Сайт временно недоступен.</p>', false));
    else res.status(502).type('text/plain').send('Bad Gateway');
  },
};

/** Sessions planned to end after a number of requests (`expireSessionsAfter`) end here. */
function endPlannedSessions(state: State, next: NextFunction): void {
  if (state.expireAt !== undefined && state.requests > state.expireAt) {
    state.sessions.clear();
    state.expireAt = undefined;
  }
  next();
}

/**
 * The simulator as the registry offers it (`edutatar.simulator()`). edu.tatar.ru shows absence codes
 * lower-case in the mark cells, and no mark «н» of its own (a pupil absent from a test has the cell's
 * absence code, not a second «н»).
 */
export const simulator: SimulatorFactory = {
  start: (school, options) => startEduTatarSimulator(school as DemoSchool, options as EduTatarSimulatorOptions),
  spelling: () => ({ absenceCode: (code) => code.toLowerCase(), markShown: (value) => value !== 'н' }),
};
