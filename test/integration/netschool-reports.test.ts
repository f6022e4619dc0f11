import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import nock from 'nock';
import { REPORT_FILE } from '../../adapters/netschool/endpoints.js';
import { netschool } from '../../adapters/netschool/index.js';
import type { AnyAdapter, PlatformSocket } from '../../src/ports/adapter.js';
import type { SourceRecord } from '../../src/ports/records.js';
import { harnessContext } from '../support/adapter-harness.js';

/**
 * The attendance stream against replayed answers: the studenttotal filters (bare array and wrapped),
 * the queue body (SID, PCLID, TERMID and the `period` string), the hub frames of ASP.NET Core SignalR
 * over a scripted socket (the boundary the adapter gets from its context) — `startTask [taskId,
 * queueKey]` with an invocationId, a refused start failing at once — the captured report layout,
 * codes placed on the diary's lessons, term marks, logout at the end.
 */
const HOST = 'https://sgo.example.test';
const SESSION = 'b4c1f0e2a9d8';
const AT = '00168638015400000000000001';
const RS = '\u001e';
const RANGE = { from: '2022-01-10', to: '2022-01-16' };
const fixture = (name: string) => readFileSync(new URL(`../fixtures/netschool/${name}`, import.meta.url), 'utf8');
const frame = (name: string) => JSON.parse(fixture(name)) as Record<string, unknown>;
const json = { 'Content-Type': 'application/json; charset=utf-8' };
const html = { 'Content-Type': 'text/html; charset=utf-8' };
const adapter: AnyAdapter = netschool;
// A report that never completes must fail by the hub's answer, not by this timeout.
const config = { baseUrl: HOST, schoolId: 1089, login: 'zavuch', password: 'Завуч-2025!', parallelPupils: 1, reportTimeoutSeconds: 3600 };

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());
afterAll(() => nock.enableNetConnect());

function login(loginData = 'logindata.json'): void {
  nock(HOST).get('/webapi/logindata').reply(200, fixture(loginData), { ...json, 'Set-Cookie': `NSSESSIONID=${SESSION}; path=/` })
    .post('/webapi/auth/getdata').reply(200, fixture('getdata.json'), json)
    .post('/webapi/login').reply(200, fixture('login.json'), json);
}

/** The staff reads for the class 10Б, and its term filter once the class is chosen. */
function school(filters = 'initfilters-class.json'): nock.Scope {
  return nock(HOST, { reqheaders: { at: AT, cookie: `NSSESSIONID=${SESSION}` } })
    .get('/webapi/years/current').reply(200, fixture('years-current.json'), json)
    .get('/webapi/grade/assignment/types').query(true).reply(200, fixture('assignment-types.json'), json)
    .get('/webapi/classes').query(true).reply(200, JSON.stringify((JSON.parse(fixture('classes.json')) as unknown[]).slice(1)), json)
    .get('/webapi/grade/studentList').query({ classId: '105042' }).reply(200, fixture('student-list-105042.json'), json)
    .get('/webapi/terms').reply(200, fixture('terms.json'), json)
    .post('/webapi/reports/studenttotal/initfilters', { params: null, selectedData: [{ filterId: 'PCLID', filterValue: '105042' }] }).reply(200, fixture(filters), json);
}

type Hub = 'complete' | 'refuse' | 'close';

/** A scripted hub: answers the handshake and each `startTask` as the fixtures' frames do; records what the adapter sent. */
function scriptedHub(behaviour: Hub) {
  const sent: Array<Record<string, unknown>> = [];
  const urls: string[] = [];
  const open = (url: string): PlatformSocket => {
    urls.push(url);
    const events = new EventEmitter();
    const emit = (...frames: Array<Record<string, unknown>>) => setImmediate(() => events.emit('message', frames.map((f) => JSON.stringify(f) + RS).join('')));
    const socket: PlatformSocket = {
      send(text) {
        for (const message of text.split(RS).filter(Boolean).map((t) => JSON.parse(t) as Record<string, unknown>)) {
          sent.push(message);
          if (message.protocol === 'json') emit(frame('hub-handshake.json'));
          if (message.target !== 'startTask') continue;
          const [taskId] = message.arguments as [number];
          const done = frame('hub-complete.json');
          done.arguments = [{ ...(done.arguments as object[])[0], taskId, data: `file-${taskId}` }];
          if (behaviour === 'refuse') emit({ ...frame('hub-start-failed.json'), invocationId: message.invocationId });
          else if (behaviour === 'close') emit({ ...frame('hub-started.json'), invocationId: message.invocationId }, frame('hub-close.json'));
          else emit({ ...frame('hub-started.json'), invocationId: message.invocationId }, frame('hub-ping.json'), frame('hub-progress.json'), done);
        }
      },
      close: () => setImmediate(() => events.emit('close')),
      on(event: string, listener: (...args: never[]) => void) {
        events.on(event, listener as (...args: unknown[]) => void);
        return socket;
      },
    } as PlatformSocket;
    setImmediate(() => events.emit('open'));
    return socket;
  };
  return { sent, urls, open };
}

async function readAttendance(hub: ReturnType<typeof scriptedHub>): Promise<SourceRecord[]> {
  const ctx = harnessContext(adapter, { config, range: RANGE });
  ctx.socket = hub.open;
  const records: SourceRecord[] = [];
  for await (const batch of adapter.streams.attendance!.read(ctx)) records.push(...batch.records);
  return records;
}

const body = (sid: string) => ({
  params: [
    { name: 'DATEFORMAT', value: 'd\u0001mm\u0001yy\u0001.' }, { name: 'SCHOOLYEARID', value: '8987' },
    { name: 'SERVERTIMEZONE', value: 3 }, { name: 'FULLSCHOOLNAME', value: 'МБОУ СОШ №19' },
  ],
  selectedData: [
    { filterId: 'SID', filterValue: sid }, { filterId: 'PCLID', filterValue: '105042' }, { filterId: 'TERMID', filterValue: '26912' },
    { filterId: 'period', filterValue: '2021-12-01T00:00:00.000Z - 2022-02-28T00:00:00.000Z' },
  ],
});

const logout = () => nock(HOST).post('/webapi/auth/logout', (b: string) => new URLSearchParams(b).get('at') === AT && new URLSearchParams(b).get('ver') === '709000001').reply(200, fixture('logout.txt'));

describe('NetSchool «Сетевой Город. Образование» reports', () => {
  it('queues each pupil\'s report with the period, starts it on the hub with its key, places the codes on the diary\'s lessons and logs out', async () => {
    login();
    const scope = school()
      .post('/webapi/reports/studenttotal/queue', body('400124')).reply(200, fixture('queue.json'), json)
      .get('/webapi/files/file-10276001').reply(200, fixture('report-studenttotal-5.56.html'), html)
      .post('/webapi/reports/studenttotal/queue', body('400123')).reply(200, JSON.stringify({ ...JSON.parse(fixture('queue-without-key.json')), taskId: 10276002 }), json)
      .get('/webapi/files/file-10276002').reply(200, fixture('report-studenttotal-codes.html'), html)
      .get('/webapi/student/diary').query({ studentId: '400123', yearId: '8987', weekStart: '2022-01-10', weekEnd: '2022-01-16' }).reply(200, fixture('diary-2022-01.json'), json);
    const out = logout();
    const hub = scriptedHub('complete');
    const records = await readAttendance(hub);
    expect([scope.pendingMocks(), out.isDone()]).toEqual([[], true]);
    expect(hub.urls).toEqual([`wss://sgo.example.test/webapi/signalr/queueHub?at=${AT}`]);
    expect(hub.sent).toEqual([
      { protocol: 'json', version: 1 },
      { arguments: [10276001, 'report-v2'], invocationId: '0', target: 'startTask', type: 1 },
      { arguments: [10276002, 'report-v2'], invocationId: '1', target: 'startTask', type: 1 },
    ]);
    const attendance = records.filter((r) => r.type === 'attendance').map((r) => [r.lessonExternalId, r.code, r.kind]);
    expect(attendance).toEqual([
      ['192288987', 'УП', 'valid'], ['192289021', 'УП', 'valid'], ['192289056', 'ОП', 'late'], ['191129565', 'НП', 'unexcused'],
      ['191433211', 'ОСВ', 'valid'], ['191433246', 'ОСВ', 'valid'], ['191432796', 'Б', 'ill'],
    ]);
    expect(records.filter((r) => r.type === 'period_mark').map((r) => [r.externalId, r.value, r.average])).toEqual([
      ['400123/26912/Физика профиль', '5', 4.75], ['400123/26912/Литература', '4', 4], ['400123/26912/Математика профиль', '5', 4.5],
    ]);
    expect(records.find((r) => r.type === 'period')).toMatchObject({ externalId: '26912', kind: 'trimester', title: '2 триместр' });
  });

  it('gives a renewed session a hub socket of its own and asks the refused report again in it', async () => {
    login();
    const scope = school()
      .post('/webapi/reports/studenttotal/queue', body('400124')).reply(200, fixture('queue.json'), json)
      .get('/webapi/files/file-10276001').reply(200, fixture('report-studenttotal-5.56.html'), html)
      .post('/webapi/reports/studenttotal/queue', body('400123')).reply(401, '', { 'auth-error': 'SessionExpired' });
    login();
    const renewed = nock(HOST, { reqheaders: { at: AT, cookie: `NSSESSIONID=${SESSION}` } })
      .post('/webapi/reports/studenttotal/queue', body('400123')).reply(200, JSON.stringify({ taskId: 10276002, queueKey: 'report-v2' }), json)
      .get('/webapi/files/file-10276002').reply(200, fixture('report-studenttotal-codes.html'), html)
      .get('/webapi/student/diary').query(true).reply(200, fixture('diary-2022-01.json'), json);
    const out = logout();
    const hub = scriptedHub('complete');
    const records = await readAttendance(hub);
    expect([scope.pendingMocks(), renewed.pendingMocks(), out.isDone()]).toEqual([[], [], true]);
    expect(hub.urls).toHaveLength(2);
    expect(hub.sent.filter((m) => m.target === 'startTask').map((m) => m.arguments)).toEqual([[10276001, 'report-v2'], [10276002, 'report-v2']]);
    expect(records.filter((r) => r.type === 'attendance')).toHaveLength(7);
  });

  it('fails a report at once when the hub refuses to start it, and still logs out', async () => {
    login();
    school().post('/webapi/reports/studenttotal/queue').reply(200, fixture('queue.json'), json);
    const out = logout();
    const failure = readAttendance(scriptedHub('refuse'));
    await expect(failure).rejects.toMatchObject({ kind: 'transient', message: 'NetSchool report 10276001 did not start: Ошибка запуска задачи' });
    expect(out.isDone()).toBe(true);
  });

  it('fails the waiting reports when the hub closes with an error', async () => {
    login();
    school().post('/webapi/reports/studenttotal/queue').reply(200, fixture('queue.json'), json);
    logout();
    await expect(readAttendance(scriptedHub('close'))).rejects.toMatchObject({ kind: 'transient', message: expect.stringContaining('Connection closed with an error.') });
  });

  it('refuses a server older than 5.29 (the legacy hub) by its version, before queueing anything', async () => {
    login('logindata-5.10.json');
    const scope = school();
    nock(HOST).post('/asp/logout.asp').reply(200, fixture('logout.txt'));
    const hub = scriptedHub('complete');
    await expect(readAttendance(hub)).rejects.toMatchObject({ kind: 'permanent', message: expect.stringContaining('NetSchool 5.10.63221') });
    expect([scope.pendingMocks(), hub.urls]).toEqual([[], []]);
  });

  it('takes a wrapped filter answer and asks the dates of a term `terms` does not list', async () => {
    login();
    const scope = school('initfilters-wrapped.json')
      .post('/webapi/reports/studenttotal/initfilters', { params: null, selectedData: [{ filterId: 'PCLID', filterValue: '105042' }, { filterId: 'TERMID', filterValue: '26999' }] })
      .reply(200, fixture('initfilters-term.json'), json)
      .post('/webapi/reports/studenttotal/queue').times(4).reply(200, fixture('queue.json'), json)
      .get('/webapi/files/file-10276001').times(4).reply(200, fixture('report-studenttotal-no-final.html'), html)
      .get('/webapi/student/diary').query(true).times(2).reply(200, fixture('diary-2022-01.json'), json);
    logout();
    const records = await readAttendance(scriptedHub('complete'));
    expect(scope.pendingMocks()).toEqual([]);
    expect(records.filter((r) => r.type === 'period').map((r) => [r.externalId, r.title, 'startDate' in r && r.startDate])).toEqual([
      ['26999', '2 триместр (доп.)', '2021-12-06'], ['26912', '2 триместр', '2021-12-01'],
    ]);
    // Without an «Итог» column there are no term marks, and the codes are read all the same.
    expect(records.some((r) => r.type === 'period_mark')).toBe(false);
    expect(records.filter((r) => r.type === 'attendance').length).toBeGreaterThan(0);
  });

  it('reads the captured report layout: months and days, subjects, totals, the legend', () => {
    const report = REPORT_FILE.parse(fixture('report-studenttotal-5.56.html'));
    expect(report.columns.map((c) => `${c.month}/${c.day}`)).toEqual(['9/2', '9/4', '9/8', '9/9', '9/10', '9/11', '9/16']);
    expect(report.rows.map((r) => r.subject)).toContain('Ин.яз./Английский язык');
    expect(report.rows.find((r) => r.subject === 'Ин.яз./Английский язык')).toMatchObject({
      cells: [[], ['4'], ['4'], [], [], ['5'], []], totals: [{ title: 'Средн. оценка 1 триместр', kind: 'average', text: '4,33' }],
    });
    expect(report.legend).toEqual(['УП', 'Б', 'НП', 'ОТ', 'ОП', 'ОСВ']);
    expect(() => REPORT_FILE.parse('<html><body><h1>Ошибка</h1></body></html>')).toThrow('NetSchool GET /webapi/files/{code}: table.table-print: not found (not a studenttotal report)');
  });
});
