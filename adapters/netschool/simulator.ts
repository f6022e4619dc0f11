import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Request, type Response } from 'express';
import { WebSocketServer } from 'ws';
import type { DemoSchool } from '../../src/demo/generator.js';
import { copyFaults, faultGate, type SimulatorFactory, type SimulatorHandle } from '../../src/ports/simulator.js';
import { FAULT_ANSWERS, SCHOOL_ID, serveLogin, serveSession, sessionOf, type State } from './simulator-session.js';
import { serveHub, type HubFailure } from './simulator-hub.js';
import { NetSchoolData, netschoolMark, type NetSchoolEdits } from './simulator-data.js';
import { NETSCHOOL_CODE, NetSchoolReports, type Selected } from './simulator-report.js';

export interface NetSchoolSimulatorOptions {
  port?: number;
  login?: string;
  password?: string;
  /** `schoolLogin: false` in logindata: the server is ЕСИА-only. */
  esiaOnly?: boolean;
  /** What logindata says of the server (default 5.56.0, the captured report's). */
  version?: string;
  /** The login answer sends the account to the role choice (`choose-session-role`). */
  chooseRole?: boolean;
  /** The report hub's path (default `/webapi/signalr/queueHub`; netschool-api-plus saw `/signalr/queueHub`). */
  hubPath?: string;
  hubFailure?: HubFailure;
}

export interface NetSchoolSimulator extends SimulatorHandle {
  login: string;
  password: string;
  schoolId: number;
  edits: NetSchoolEdits;
  /** Sessions that asked for the staff role, and that logged out. */
  roleChoices(): number;
  logouts(): number;
}

/**
 * A NetSchool server (`/webapi`) serving a generated school in the shapes the public evidence shows:
 * the NSSESSIONID cookie from logindata, a one-shot salt, the salted MD5 login checked for real, `at` +
 * cookie on every call (else 401 `auth-error: SessionExpired`), the staff lists, the weekly diaries,
 * the report filters and queue with its SignalR hub, logout, and the faults of SimulatorFaults.
 */
export async function startNetSchoolSimulator(school: DemoSchool, options: NetSchoolSimulatorOptions = {}): Promise<NetSchoolSimulator> {
  const data = new NetSchoolData(school);
  const reports = new NetSchoolReports(data);
  const creds = { login: options.login ?? 'admin-sgo', password: options.password ?? 'Завуч-2025!' };
  const state: State = { requests: 0, faults: {}, sessions: new Map(), failedLogins: 0, tasks: new Map(), files: new Map(), nextTask: 10_276_000, roleChoices: 0, logouts: 0 };
  const app = express();
  app.use(express.json());
  app.use(express.urlencoded({ extended: false }));
  app.use(faultGate<Request, Response>(state, FAULT_ANSWERS));
  serveLogin(app, state, creds, options);
  const api = express.Router();
  serveSession(app, api, state, options);
  serveStaffLists(api, data);
  serveDiary(api, state, data);
  serveReports(api, state, reports);
  app.use('/webapi', api);
  app.use((_req: Request, res: Response) => void res.status(404).json({ code: 404, message: 'Not found', details: null }));

  const server = app.listen(options.port ?? 0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const hub = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req: IncomingMessage, socket, head) => {
    const url = new URL(req.url ?? '', 'http://localhost');
    const session = sessionOf(state, req.headers.cookie);
    state.requests += 1;
    if (url.pathname !== (options.hubPath ?? '/webapi/signalr/queueHub')) return void socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
    if (!session?.at || url.searchParams.get('at') !== session.at) return void socket.end('HTTP/1.1 401 Unauthorized\r\n\r\n');
    hub.handleUpgrade(req, socket, head, (ws) => serveHub(ws, state, session.at!, options.hubFailure));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url, ...creds, schoolId: SCHOOL_ID, edits: data.edits,
    connectionConfig: () => ({ baseUrl: url, schoolId: SCHOOL_ID, ...creds, requestsPerSecond: 1000 }),
    badConfig: () => ({ baseUrl: url, schoolId: SCHOOL_ID, ...creds, password: 'not-the-password', requestsPerSecond: 1000 }),
    secrets: () => [creds.password],
    requests: () => state.requests,
    roleChoices: () => state.roleChoices,
    logouts: () => state.logouts,
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

/** The staff lists: the year, the assignment types, the classes, a class's pupils, the terms. */
function serveStaffLists(api: express.Router, data: NetSchoolData): void {
  api.get('/years/current', (_req, res) => res.json(data.yearCurrent()));
  api.get('/grade/assignment/types', (_req, res) => res.json(data.assignmentTypes()));
  api.get('/classes', (_req, res) => res.json(data.classes()));
  api.get('/grade/studentList', (req, res) => {
    const cls = data.classOf(Number(req.query.classId));
    if (!cls) return void res.status(400).json({ code: 400, message: 'Класс не найден', details: null });
    res.json(data.studentList(cls));
  });
  api.get('/terms', (_req, res) => res.json(data.terms()));
}

function serveDiary(api: express.Router, state: State, data: NetSchoolData): void {
  api.get('/student/diary', (req, res) => {
    const q = req.query as Record<string, string | undefined>;
    const pupil = data.pupil(Number(q.studentId));
    const dates = [q.weekStart, q.weekEnd].map((d) => (d ?? '').slice(0, 10));
    if (!pupil) return void res.status(400).json({ code: 400, message: 'Ученик не найден', details: null });
    if (!dates.every((d) => /^\d{4}-\d{2}-\d{2}$/.test(d)) || dates[0]! > dates[1]!) return void res.status(400).json({ code: 400, message: 'Неверные даты', details: null });
    if (Number(q.yearId) !== data.yearId) return void res.status(400).json({ code: 400, message: 'Неверный учебный год', details: null });
    const malformed = { pending: Boolean(state.faults.malformedRecord) };
    res.json(data.diary(pupil, dates[0]!, dates[1]!, malformed));
  });
  api.post('/student/diary/get-attachments', (req, res) => {
    const ids = (req.body as { assignId?: unknown }).assignId;
    if (!data.pupil(Number(req.query.studentId)) || !Array.isArray(ids)) return void res.status(400).json({ code: 400, message: 'Неверные параметры', details: null });
    res.json(data.attachments(ids.map(Number)));
  });
}

function serveReports(api: express.Router, state: State, reports: NetSchoolReports): void {
  const selectedOf = (req: Request) => ((req.body as { selectedData?: Selected[] }).selectedData ?? []).map((s) => ({ filterId: s.filterId, filterValue: String(s.filterValue) }));
  api.post('/reports/studenttotal/initfilters', (req, res) => {
    const filters = reports.initFilters(selectedOf(req));
    if (!filters) return void res.status(400).json({ code: 400, message: 'Неверные параметры фильтра', details: null });
    res.json(filters);
  });
  api.post('/reports/studenttotal/queue', (req, res) => {
    const task = reports.task(selectedOf(req), req.header('at')!);
    if (!task) return void res.status(400).json({ code: 400, message: 'Неверные параметры отчёта', details: null });
    const taskId = (state.nextTask += 1);
    state.tasks.set(taskId, task);
    res.json({ taskId, queueKey: 'report-v2' });
  });
  api.get('/files/:code', (req, res) => {
    const html = state.files.get(String(req.params.code));
    if (html === undefined) return void res.status(404).json({ code: 404, message: 'Файл не найден', details: null });
    state.files.delete(String(req.params.code));
    res.type('text/html').send(html);
  });
}


/**
 * The simulator as the registry offers it (`netschool.simulator()`). NetSchool shows integer marks (no
 * «5-»), no lesson topics in the diary, «НП» for an absence without a valid reason, and subgroups
 * named by the adapter from the class and the subject («5А Английский язык гр. 1»).
 */
export const simulator: SimulatorFactory = {
  start: (school, options) => startNetSchoolSimulator(school as DemoSchool, options as NetSchoolSimulatorOptions),
  spelling: (school) => {
    const truth = school as DemoSchool;
    const classes = new Map(truth.groups.map((g) => [g.id, g]));
    const subjects = new Map(truth.subjects.map((s) => [s.id, s.name]));
    return {
      markValue: (value) => String(netschoolMark(value)),
      absenceCode: (code) => NETSCHOOL_CODE[code] ?? code,
      topic: () => '',
      groupName: (group) => group.kind === 'subgroup'
        ? `${classes.get(group.parentId!)!.name} ${subjects.get(group.subjectId!)} гр. ${group.name.slice(-1)}`
        : group.name,
    };
  },
};
