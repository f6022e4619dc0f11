import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { DemoSchool } from '../../src/demo/generator.js';
import { copyFaults, faultGate, type FaultAnswers, type SimulatorFactory, type SimulatorFaults, type SimulatorHandle } from '../../src/ports/simulator.js';
import { EduTatarData, type SimClass } from './simulator-data.js';
import {
  JOURNAL_URL, cabinetPage, classesPage, journalPage, loginPage, messagePage, notFoundPage, pupilsPage, schoolPage, sessionGonePage,
  subjectsPage, twoFactorPage,
} from './simulator-pages.js';

export interface EduTatarSimulatorOptions {
  port?: number;
  login?: string;
  password?: string;
  /** The login form's field names: the classic `main_login` / `main_password` or the later `main_login2` / `main_password2`. */
  loginFields?: 'main_login' | 'main_login2';
  /** The account has two-factor authentication on: the right password leads to a code form, not in. */
  twoFactor?: boolean;
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
  logins: number;
  expireAt?: number;
}

const SESSION_COOKIE = 'DNSID';

/**
 * An edu.tatar.ru serving a generated school through its staff pages: the form login (`GET /logon` sets
 * the DNSID cookie, `POST /logon` checks the form and redirects to the cabinet), «Пользователь не
 * найден» for an unknown or expired session, the school, class, pupil and subject pages, the class
 * journal per course and term paginated by columns, an account with 2FA, and the faults of
 * SimulatorFaults (rate limiting as 429 + Retry-After, maintenance as 503 or an HTML page).
 */
export async function startEduTatarSimulator(school: DemoSchool, options: EduTatarSimulatorOptions = {}): Promise<EduTatarSimulator> {
  const data = new EduTatarData(school, options.columnsPerPage ?? 20);
  const creds = { login: options.login ?? 'zavuch.sch17', password: options.password ?? 'Завуч#2025' };
  const fields = options.loginFields === 'main_login2' ? { login: 'main_login2', password: 'main_password2' } : { login: 'main_login', password: 'main_password' };
  const state: State = { requests: 0, faults: {}, sessions: new Map(), logins: 0 };
  const app = express();
  app.use(express.urlencoded({ extended: false }));
  app.use(faultGate<Request, Response>(state, FAULT_ANSWERS));
  app.use((_req, _res, next) => endPlannedSessions(state, next));
  const html = (res: Response, page: string, status = 200) => void res.status(status).type('text/html; charset=utf-8').send(page);

  app.get('/logon', (_req, res) => {
    const cookie = randomBytes(16).toString('hex');
    state.sessions.set(cookie, false);
    res.cookie(SESSION_COOKIE, cookie, { httpOnly: true, path: '/' });
    html(res, loginPage(fields));
  });
  app.post('/logon', (req, res) => {
    const form = req.body as Record<string, string | undefined>;
    const anonymous = sessionCookie(req);
    if (anonymous === undefined || !state.sessions.has(anonymous)) return html(res, loginPage(fields, 'Время сессии истекло. Повторите вход.'));
    if (form[fields.login] !== creds.login || form[fields.password] !== creds.password) return html(res, loginPage(fields, 'Неверный логин или пароль.'));
    if (options.twoFactor) return html(res, twoFactorPage());
    state.sessions.delete(anonymous);
    const cookie = randomBytes(16).toString('hex');
    state.sessions.set(cookie, true);
    state.logins += 1;
    res.cookie(SESSION_COOKIE, cookie, { httpOnly: true, path: '/' }).redirect(302, '/user/anketa');
  });

  const staff = express.Router();
  staff.use((req, res, next) => (state.sessions.get(sessionCookie(req) ?? '') ? next() : html(res, sessionGonePage())));
  staff.get('/user/anketa', (_req, res) => html(res, cabinetPage()));
  staff.get('/school', (_req, res) => html(res, schoolPage(school)));
  staff.get('/school/academic_year/classes', (_req, res) => html(res, classesPage(data)));
  staff.get('/school/subject/index', (_req, res) => html(res, subjectsPage(school)));
  staff.get('/school/academic_year/pupils', (req, res) => {
    const cls = data.classOf(Number(req.query.id));
    return cls ? html(res, pupilsPage(data, cls)) : html(res, notFoundPage('Класс'), 404);
  });
  staff.get(JOURNAL_URL, (req, res) => {
    const cls = data.classOf(Number(req.query.edu_class_id));
    if (!cls) return html(res, notFoundPage('Класс'), 404);
    const found = journalOf(data, cls, req.query as Record<string, string | undefined>, state);
    return typeof found === 'string' ? html(res, notFoundPage(found), 404) : html(res, journalPage(found, data));
  });
  app.use(staff);
  app.use((_req: Request, res: Response) => html(res, notFoundPage('Раздел'), 404));

  const server = app.listen(options.port ?? 0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url, ...creds,
    connectionConfig: () => ({ baseUrl: url, ...creds, requestsPerSecond: 1000 }),
    badConfig: () => ({ baseUrl: url, ...creds, password: 'not-the-password', requestsPerSecond: 1000 }),
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

/** edu.tatar.ru's answers to the faults [I]: 429 with a message page; 503 HTML page or a bare 502 from the proxy. */
const FAULT_ANSWERS: FaultAnswers<Response> = {
  rateLimited: (res, retryAfterSeconds) => {
    res.status(429).set('Retry-After', String(retryAfterSeconds)).type('text/html; charset=utf-8')
      .send(messagePage('Слишком много запросов', 'Превышено число запросов. Повторите попытку позже.'));
  },
  maintenance: (res, style) => {
    if (style === 'html') res.status(503).type('text/html; charset=utf-8').send(messagePage('Технические работы', 'Сайт временно недоступен. Ведутся технические работы.'));
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
