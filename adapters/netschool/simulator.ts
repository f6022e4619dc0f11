import { randomBytes, randomInt } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Request, type Response } from 'express';
import { WebSocketServer, type WebSocket } from 'ws';
import type { DemoSchool } from '../../src/demo/generator.js';
import { copyFaults, faultGate, type FaultAnswers, type SimulatorFactory, type SimulatorFaults, type SimulatorHandle } from '../../src/ports/simulator.js';
import { passwordHash } from './client.js';
import { NetSchoolData, netschoolMark, type NetSchoolEdits } from './simulator-data.js';

export interface NetSchoolSimulatorOptions {
  port?: number;
  login?: string;
  password?: string;
  /** `schoolLogin: false` in logindata: the server is ЕСИА-only. */
  esiaOnly?: boolean;
}

export interface NetSchoolSimulator extends SimulatorHandle {
  login: string;
  password: string;
  schoolId: number;
  edits: NetSchoolEdits;
}

interface Session {
  cookie: string;
  salt?: { lt: string; ver: string; salt: string };
  at?: string;
}

interface State {
  requests: number;
  faults: SimulatorFaults;
  sessions: Map<string, Session>;
  failedLogins: number;
  tasks: Map<number, { studentId: number; termId: string; at: string }>;
  files: Map<string, string>;
  nextTask: number;
}

const SCHOOL_ID = 1089;
const RS = '\u001e';
const LOGIN_PAGE = '<!DOCTYPE html><html><head><title>Сетевой Город. Образование</title></head><body><form id="loginform" action="/webapi/login"><input name="UN"><input name="PW" type="password"></form></body></html>';

/**
 * A NetSchool server (`/webapi`) serving a generated school: the NSSESSIONID cookie from logindata, a
 * one-shot salt from auth/getdata tied to it, the salted MD5 login checked for real, `at` + cookie on
 * every call (401, or the HTML login page without X-Requested-With), 409 on a wrong password and the
 * «Следующая попытка…» message after five, the weekly diaries, the report filters, the report queue with
 * its SignalR hub, and the faults of SimulatorFaults.
 */
export async function startNetSchoolSimulator(school: DemoSchool, options: NetSchoolSimulatorOptions = {}): Promise<NetSchoolSimulator> {
  const data = new NetSchoolData(school);
  const creds = { login: options.login ?? 'admin-sgo', password: options.password ?? 'Завуч-2025!' };
  const state: State = { requests: 0, faults: {}, sessions: new Map(), failedLogins: 0, tasks: new Map(), files: new Map(), nextTask: 1000 };
  const app = express();
  app.use(express.json());
  app.use(express.urlencoded({ extended: false }));
  app.use(faultGate<Request, Response>(state, FAULT_ANSWERS));

  app.get('/webapi/logindata', (_req, res) => {
    const cookie = randomBytes(12).toString('hex');
    state.sessions.set(cookie, { cookie });
    res.cookie('NSSESSIONID', cookie, { httpOnly: true, path: '/' });
    res.json({ schoolLogin: !options.esiaOnly, cacheVer: '2025.1', emLogin: true, esiaLoginPage: 'https://esia.gosuslugi.ru/', esiaButton: true, version: '5.43.0' });
  });
  app.post('/webapi/auth/getdata', (req, res) => {
    const session = sessionOfCookie(state, req);
    if (!session || options.esiaOnly) return void res.status(200).type('text/plain').send('');
    session.salt = { lt: String(randomInt(1e8, 1e9)), ver: String(randomInt(1e8, 1e9)), salt: String(randomInt(1e10, 9e10)) };
    res.json(session.salt);
  });
  app.post('/webapi/login', (req, res) => {
    const session = sessionOfCookie(state, req);
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
    session.at = randomBytes(24).toString('hex');
    res.json({ at: session.at, timeOut: 2_700_000, entryPoint: '/angular/school/main/', requestData: { warnType: '', atlist: '' }, accountInfo: { user: { id: 1, name: 'Администратор' } } });
  });

  const api = express.Router();
  api.use((req, res, next) => {
    const session = sessionOfCookie(state, req);
    if (!session?.at || req.header('at') !== session.at) {
      if (req.header('x-requested-with') === 'XMLHttpRequest') return void res.status(401).json({ message: 'Unauthorized' });
      return void res.status(200).type('text/html').send(LOGIN_PAGE);
    }
    next();
  });
  api.get('/student/diary/init', (_req, res) => res.json(data.diaryInit()));
  api.get('/years/current', (_req, res) => res.json(data.yearCurrent()));
  api.get('/context', (_req, res) => res.json({ schoolId: SCHOOL_ID, schoolYearId: data.yearId, user: { id: 1, name: 'Администратор' }, roles: ['Administrator'] }));
  api.get('/grade/assignment/types', (_req, res) => res.json(data.assignmentTypes()));
  api.get('/reports/studentGrades', (_req, res) => res.json(data.studentGrades()));
  api.post('/v2/reports/studentgrades/initfilters', (req, res) => {
    const selected = ((req.body as { selectedData?: Array<{ filterId: string; filterValue: string }> }).selectedData ?? []);
    const classId = Number(selected.find((s) => s.filterId === 'PCLID')?.filterValue);
    if (!data.classOf(classId)) return void res.status(400).json({ code: 400, message: 'Класс не найден', details: null });
    res.json(data.initFilters(classId, selected.find((s) => s.filterId === 'TERMID')?.filterValue));
  });
  api.get('/student/diary', (req, res) => {
    const q = req.query as Record<string, string | undefined>;
    const pupil = data.pupil(Number(q.studentId));
    const dates = [q.weekStart, q.weekEnd].map((d) => (d ?? '').slice(0, 10));
    if (!pupil) return void res.status(400).json({ code: 400, message: 'Ученик не найден', details: null });
    if (!dates.every((d) => /^\d{4}-\d{2}-\d{2}$/.test(d)) || dates[0]! > dates[1]!) return void res.status(400).json({ code: 400, message: 'Неверные даты', details: null });
    if (Number(q.yearId) !== data.yearId) return void res.status(400).json({ code: 400, message: 'Неверный учебный год', details: null });
    res.json(data.diary(pupil, dates[0]!, dates[1]!, Boolean(state.faults.malformedRecord)));
  });
  api.post('/reports/studenttotal/queue', (req, res) => {
    const selected = ((req.body as { selectedData?: Array<{ filterId: string; filterValue: string }> }).selectedData ?? []);
    const studentId = Number(selected.find((s) => s.filterId === 'SID')?.filterValue);
    const termId = String(selected.find((s) => s.filterId === 'TERMID')?.filterValue ?? '');
    if (!data.pupil(studentId) || !data.termOf(termId)) return void res.status(400).json({ code: 400, message: 'Неверные параметры отчёта', details: null });
    const taskId = (state.nextTask += 1);
    state.tasks.set(taskId, { studentId, termId, at: req.header('at')! });
    res.json({ taskId });
  });
  api.get('/files/:code', (req, res) => {
    const html = state.files.get(String(req.params.code));
    if (html === undefined) return void res.status(404).json({ code: 404, message: 'Файл не найден', details: null });
    state.files.delete(String(req.params.code));
    res.type('text/html').send(html);
  });
  app.use('/webapi', api);
  app.post('/asp/SecurityWarning.asp', (_req, res) => void res.type('text/html').send('<html><body>OK</body></html>'));
  app.use((_req: Request, res: Response) => void res.status(404).json({ code: 404, message: 'Not found', details: null }));

  const server = app.listen(options.port ?? 0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const hub = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '', 'http://localhost');
    const session = sessionOfHeader(state, req);
    if (url.pathname !== '/webapi/signalr/queueHub' || !session?.at || url.searchParams.get('at') !== session.at) {
      socket.end('HTTP/1.1 401 Unauthorized\r\n\r\n');
      return;
    }
    state.requests += 1;
    hub.handleUpgrade(req, socket, head, (ws) => serveHub(ws, state, data, session.at!));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url, ...creds, schoolId: SCHOOL_ID, edits: data.edits,
    connectionConfig: () => ({ baseUrl: url, schoolId: SCHOOL_ID, ...creds, requestsPerSecond: 1000 }),
    badConfig: () => ({ baseUrl: url, schoolId: SCHOOL_ID, ...creds, password: 'not-the-password', requestsPerSecond: 1000 }),
    secrets: () => [creds.password],
    requests: () => state.requests,
    setFaults: (faults) => {
      state.faults = copyFaults(faults);
      if (faults.expireSessions) state.sessions.clear();
    },
    close: async () => {
      for (const client of hub.clients) client.terminate();
      hub.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The SignalR JSON hub protocol: handshake, then `startTask` → `complete` with the report's file code. */
function serveHub(ws: WebSocket, state: State, data: NetSchoolData, at: string): void {
  let handshaken = false;
  ws.on('message', (raw) => {
    for (const frame of raw.toString().split(RS)) {
      if (!frame) continue;
      const message = JSON.parse(frame) as { protocol?: string; type?: number; target?: string; arguments?: unknown[] };
      if (!handshaken) {
        handshaken = true;
        ws.send(message.protocol === 'json' ? `{}${RS}` : `${JSON.stringify({ error: 'Only the json protocol is supported' })}${RS}`);
        continue;
      }
      if (message.type === 6) continue;
      if (message.type === 1 && message.target === 'startTask') {
        const taskId = Number(message.arguments?.[0]);
        const task = state.tasks.get(taskId);
        setImmediate(() => {
          if (!task || task.at !== at) {
            ws.send(JSON.stringify({ type: 1, target: 'error', arguments: [{ taskId, message: 'Задание не найдено' }] }) + RS);
            return;
          }
          state.tasks.delete(taskId);
          const code = randomBytes(8).toString('hex');
          state.files.set(code, data.studentTotal(data.pupil(task.studentId)!, task.termId));
          ws.send(JSON.stringify({ type: 1, target: 'complete', arguments: [{ taskId, data: code, status: 'Completed' }] }) + RS);
        });
      }
    }
  });
}

function cookieOf(header: string | undefined): string | undefined {
  return /(?:^|;\s*)NSSESSIONID=([^;]+)/.exec(header ?? '')?.[1];
}

function sessionOfCookie(state: State, req: Request): Session | undefined {
  const cookie = cookieOf(req.header('cookie'));
  return cookie ? state.sessions.get(cookie) : undefined;
}

function sessionOfHeader(state: State, req: IncomingMessage): Session | undefined {
  const cookie = cookieOf(req.headers.cookie);
  return cookie ? state.sessions.get(cookie) : undefined;
}

/** NetSchool's answers to the faults: 429 with its JSON error; 503 as JSON or an HTML page. */
const FAULT_ANSWERS: FaultAnswers<Response> = {
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

/**
 * The simulator as the registry offers it (`netschool.simulator()`). NetSchool shows integer marks (no
 * «5-»), no lesson topics in the diary, and subgroups named by the adapter from the class and the
 * subject («5А Английский язык гр. 1»).
 */
export const simulator: SimulatorFactory = {
  start: (school, options) => startNetSchoolSimulator(school as DemoSchool, options as NetSchoolSimulatorOptions),
  spelling: (school) => {
    const truth = school as DemoSchool;
    const classes = new Map(truth.groups.map((g) => [g.id, g]));
    const subjects = new Map(truth.subjects.map((s) => [s.id, s.name]));
    return {
      markValue: (value) => String(netschoolMark(value)),
      topic: () => '',
      groupName: (group) => group.kind === 'subgroup'
        ? `${classes.get(group.parentId!)!.name} ${subjects.get(group.subjectId!)} гр. ${group.name.slice(-1)}`
        : group.name,
    };
  },
};
