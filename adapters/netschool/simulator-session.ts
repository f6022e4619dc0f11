import { randomBytes, randomInt } from 'node:crypto';
import type express from 'express';
import type { Response } from 'express';
import type { FaultAnswers, SimulatorFaults } from '../../src/ports/simulator.js';
import { passwordHash } from './client.js';
import type { ReportTask } from './simulator-report.js';
import type { NetSchoolSimulatorOptions } from './simulator.js';

/** The simulator's sessions and login (logindata, auth/getdata, login), and its answers to the faults. */

/** A browser session: its cookie, the one-shot salt of a login under way, then its `at`. */
export interface Session {
  cookie: string;
  salt?: { lt: string; ver: string; salt: string };
  at?: string;
  roleChosen?: boolean;
}

/** What the simulated server keeps: sessions, the report tasks and files, counters the tests read. */
export interface State {
  requests: number;
  faults: SimulatorFaults;
  sessions: Map<string, Session>;
  failedLogins: number;
  tasks: Map<number, ReportTask>;
  files: Map<string, string>;
  nextTask: number;
  roleChoices: number;
  logouts: number;
}

/** The school's `scid` on the simulated server. */
export const SCHOOL_ID = 1089;

/** The session of a request's NSSESSIONID cookie. */
export function sessionOf(state: State, cookieHeader: string | undefined): Session | undefined {
  const cookie = /(?:^|;\s*)NSSESSIONID=([^;]+)/.exec(cookieHeader ?? '')?.[1];
  return cookie ? state.sessions.get(cookie) : undefined;
}

/**
 * The session around the API: `at` + cookie on every call (else 401 `auth-error: SessionExpired`), the
 * role choice when asked for, logout (both paths), the SecurityWarning's acknowledgement.
 */
export function serveSession(app: express.Express, api: express.Router, state: State, options: NetSchoolSimulatorOptions): void {
  api.use((req, res, next) => {
    const session = sessionOf(state, req.header('cookie'));
    if (!session?.at || req.header('at') !== session.at) return void res.status(401).set('auth-error', 'SessionExpired').end();
    if (options.chooseRole && !session.roleChosen && req.path !== '/context/sessionrole') return void res.status(401).set('auth-error', 'NoRole').end();
    next();
  });
  api.post('/context/sessionrole', (req, res) => {
    sessionOf(state, req.header('cookie'))!.roleChosen = req.query.roleGroup === '0';
    state.roleChoices += 1;
    res.status(200).end();
  });
  api.post('/auth/logout', (req, res) => {
    state.sessions.delete(sessionOf(state, req.header('cookie'))!.cookie);
    state.logouts += 1;
    res.status(200).end();
  });
  app.post('/asp/logout.asp', (req, res) => {
    const session = sessionOf(state, req.header('cookie'));
    if (session) state.sessions.delete(session.cookie);
    state.logouts += 1;
    res.type('text/html').send('<html><body></body></html>');
  });
  app.post('/asp/SecurityWarning.asp', (_req, res) => void res.type('text/html').send('<html><body>OK</body></html>'));
}

/** logindata (the cookie), auth/getdata (the one-shot salt), login (the salted hash checked). */
export function serveLogin(app: express.Express, state: State, creds: { login: string; password: string }, options: NetSchoolSimulatorOptions): void {
  app.get('/webapi/logindata', (_req, res) => {
    const cookie = randomBytes(12).toString('hex');
    state.sessions.set(cookie, { cookie });
    res.cookie('NSSESSIONID', cookie, { httpOnly: true, path: '/' });
    res.json({
      productName: 'Сетевой Город. Образование', version: options.version ?? '5.56.0', schoolLogin: !options.esiaOnly, emLogin: true, esiaLogin: true,
      esiaLoginPage: 'https://esia.example.org/', esiaMainAuth: false, esiaButton: true, signatureLogin: false, cacheVer: '709000001', windowsAuth: false, enableSms: false,
    });
  });
  app.post('/webapi/auth/getdata', (req, res) => {
    const session = sessionOf(state, req.header('cookie'));
    if (!session || options.esiaOnly) return void res.status(200).type('text/plain').send('');
    session.salt = { lt: String(randomInt(1e8, 1e9)), ver: String(randomInt(1e8, 1e9)), salt: String(randomInt(1e10, 9e10)) };
    res.json(session.salt);
  });
  app.post('/webapi/login', (req, res) => {
    const session = sessionOf(state, req.header('cookie'));
    const form = req.body as Record<string, string>;
    const salt = session?.salt;
    if (session) session.salt = undefined; // one-shot
    if (state.failedLogins >= 5) return void res.status(409).json({ message: 'Следующая попытка может быть выполнена не ранее чем через 60 секунд' });
    if (!session || !salt || form.lt !== salt.lt || form.ver !== salt.ver) return void res.status(409).json({ message: 'Неверные данные для входа: начните вход заново' });
    const expected = passwordHash(creds.password, salt.salt);
    if (form.un !== creds.login || form.scid !== String(SCHOOL_ID) || form.pw2 !== expected.pw2 || form.pw !== expected.pw || form.loginType !== '1') {
      state.failedLogins += 1;
      return void res.status(409).json({ message: 'Неправильный пароль или имя пользователя' });
    }
    state.failedLogins = 0;
    session.at = randomBytes(13).toString('hex');
    res.json({
      at: session.at, code: null, timeOut: 900_000, accessToken: session.at, refreshToken: randomBytes(8).toString('hex'), tokenType: 'Bearer',
      accountInfo: { currentOrganization: { id: SCHOOL_ID, name: 'МБОУ «Школа № 1»' }, user: { id: 70_111, name: 'Петрова Н. И.' }, userRoles: [{ userId: 70_111, schoolId: SCHOOL_ID, role: { id: 0, name: 'Администратор' } }] },
      entryPoint: options.chooseRole ? '/app/simple/attention/choose-session-role/' : '/angular/school/main/', requestData: { warnType: '', atlist: '' }, errorMessage: null,
    });
  });
}

/** NetSchool's answers to the faults: 429 with its JSON error; 503 as JSON or an HTML page. */
export const FAULT_ANSWERS: FaultAnswers<Response> = {
  rateLimited: (res, retryAfterSeconds) => {
    res.status(429).set('Retry-After', String(retryAfterSeconds)).json({ code: 429, message: 'Слишком много запросов', details: null });
  },
  maintenance: (res, style) => {
    if (style === 'html') {
      res.status(503).type('text/html').send('<!DOCTYPE html><html><head><title>Технические работы</title></head><body><h1>Технические работы</h1><p>Сервис временно недоступен.</p></body></html>');
    } else {
      res.status(503).json({ code: 503, message: 'Service Unavailable', details: null });
    }
  },
};

