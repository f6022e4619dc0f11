import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import nock from 'nock';
import { classifyNetSchool, passwordHash } from '../../adapters/netschool/client.js';
import { netschool } from '../../adapters/netschool/index.js';
import { attendanceCodes, parseStudentTotal } from '../../adapters/netschool/mapping.js';
import { AdapterError, type AnyAdapter } from '../../src/ports/adapter.js';
import type { SourceRecord } from '../../src/ports/records.js';
import { harnessContext, memoryLogger } from '../support/adapter-harness.js';

/**
 * NetSchool answers replayed with nock from fixtures written after platforms.md §2 (the salted login, the
 * `at` header and NSSESSIONID cookie, diary/init, the weekly diary with classmeetingId / classMeetingId,
 * int and string marks, dutyMark, placeholder names, the login page and SecurityWarning interstitial, the
 * «studenttotal» report HTML). The network is off.
 */
const HOST = 'https://sgo.example.test';
const PASSWORD = 'Завуч-2025!';
const SESSION = 'b4c1f0e2a9d8';
const AT = '2411237419163947523818216';
const RANGE = { from: '2025-09-01', to: '2025-09-05' };
const fixture = (name: string) => readFileSync(new URL(`../fixtures/netschool/${name}`, import.meta.url), 'utf8');
const json = { 'Content-Type': 'application/json; charset=utf-8' };
const html = { 'Content-Type': 'text/html; charset=utf-8' };
const adapter: AnyAdapter = netschool;
const config = { baseUrl: HOST, schoolId: 1089, login: 'zavuch', password: PASSWORD, parallelPupils: 1 };
const context = (logger = memoryLogger('debug')) => ({ ctx: harnessContext(adapter, { config, range: RANGE, logger: logger.logger }), log: logger });

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());
afterAll(() => nock.enableNetConnect());

const formOf = (body: unknown): Record<string, string> => (typeof body === 'string' ? Object.fromEntries(new URLSearchParams(body)) : (body as Record<string, string>));

/** The login handshake; `salt` as in the Go client's comment (platforms.md §2.2). */
function login(scope: nock.Scope): nock.Scope {
  return scope
    .get('/webapi/logindata').reply(200, fixture('logindata.json'), { ...json, 'Set-Cookie': `NSSESSIONID=${SESSION}; path=/; HttpOnly` })
    .post('/webapi/auth/getdata').matchHeader('cookie', `NSSESSIONID=${SESSION}`).reply(200, fixture('getdata.json'), json)
    .post('/webapi/login', (body) => {
      const form = formOf(body);
      // Computed independently (Python hashlib, cp1251): md5(salt + md5hex(password)) and its first len(password) chars.
      return form.loginType === '1' && form.scid === '1089' && form.un === 'zavuch' && form.lt === '850328404' && form.ver === '709065789'
        && form.pw2 === 'afae8db014478cab45891266479f474a' && form.pw === 'afae8db0144';
    })
    .matchHeader('cookie', `NSSESSIONID=${SESSION}`)
    .reply(200, fixture('login.json'), json);
}

function api(): nock.Scope {
  return nock(HOST, { reqheaders: { at: AT, cookie: `NSSESSIONID=${SESSION}`, 'x-requested-with': 'XMLHttpRequest' } });
}

function school(scope: nock.Scope): nock.Scope {
  return scope
    .get('/webapi/student/diary/init').reply(200, fixture('diary-init.json'), json)
    .get('/webapi/years/current').reply(200, fixture('years-current.json'), json)
    .get('/webapi/grade/assignment/types').query({ all: 'false' }).reply(200, fixture('assignment-types.json'), json)
    .get('/webapi/reports/studentGrades').reply(200, fixture('student-grades.json'), json);
}

function diary(scope: nock.Scope, studentId: number, reply: () => [number, string, Record<string, string>] = () => [200, fixture(`diary-${studentId}.json`), json]): nock.Scope {
  return scope.get('/webapi/student/diary').query({ studentId: String(studentId), yearId: '20251', weekStart: '2025-09-01', weekEnd: '2025-09-07' }).reply(() => reply());
}

async function read(ctx: ReturnType<typeof context>['ctx'], streams: Array<'roster' | 'schedule'>): Promise<SourceRecord[]> {
  const records: SourceRecord[] = [];
  for (const name of streams) for await (const batch of adapter.streams[name]!.read(ctx)) records.push(...batch.records);
  return records;
}

const byId = (records: SourceRecord[], type: string, id: string) => records.find((r) => r.type === type && r.externalId === id);

describe('NetSchool fixtures', () => {
  it('logs in with the salted hash, then reads the roster and the diaries with `at` and the session cookie', async () => {
    const auth = login(nock(HOST));
    const scope = school(api())
      .post('/webapi/v2/reports/studentgrades/initfilters', { params: null, selectedData: [{ filterId: 'PCLID', filterValue: '3001' }] }).reply(200, fixture('initfilters-class.json'), json)
      .post('/webapi/v2/reports/studentgrades/initfilters', (b: { selectedData: Array<{ filterValue: string }> }) => b.selectedData[1]?.filterValue === '7701').reply(200, fixture('initfilters-term-7701.json'), json)
      .post('/webapi/v2/reports/studentgrades/initfilters', (b: { selectedData: Array<{ filterValue: string }> }) => b.selectedData[1]?.filterValue === '7702').reply(200, fixture('initfilters-term-7702.json'), json);
    for (const id of [51234, 51235, 51236]) diary(scope, id);
    const { ctx, log } = context();
    const records = await read(ctx, ['roster', 'schedule']);
    expect(auth.pendingMocks()).toEqual([]);
    expect(scope.pendingMocks()).toEqual([]);
    expect(log.text()).not.toContain(PASSWORD);

    expect(byId(records, 'class', '3001')).toEqual({ type: 'class', externalId: '3001', year: 2025, name: '7Б', grade: 7, letter: 'Б' });
    expect(byId(records, 'person', '51234')).toMatchObject({ lastName: 'Белова', firstName: 'Анна', middleName: 'Сергеевна', classExternalId: '3001' });
    expect(byId(records, 'person', '51235')).toMatchObject({ lastName: 'Ёлкин', firstName: 'Артём' });
    expect(byId(records, 'person', '51235')).not.toHaveProperty('middleName');
    expect(byId(records, 'enrollment', '51236@3001')).toMatchObject({ pupilExternalId: '51236', classExternalId: '3001' });
    expect(byId(records, 'period', '7702')).toMatchObject({ kind: 'quarter', number: 2, startDate: '2025-11-05', endDate: '2025-12-28', title: '2 четверть' });

    expect(byId(records, 'subject', 'Английский язык')).toMatchObject({ name: 'Английский язык' });
    expect(byId(records, 'lesson', '900001')).toEqual({
      type: 'lesson', externalId: '900001', classExternalId: '3001', subjectExternalId: 'Математика', date: '2025-09-01', slot: 1,
      startsAt: '2025-09-01T08:30:00+03:00', endsAt: '2025-09-01T09:15:00+03:00', homework: '№ 112, 114',
    });
    // Seen by part of the class only: subgroups, named from the class and the subject.
    expect(byId(records, 'lesson', '900003')).toMatchObject({ classExternalId: '3001/Английский язык/51234' });
    expect(byId(records, 'class', '3001/Английский язык/51234')).toMatchObject({ name: '7Б Английский язык гр. 1', parentExternalId: '3001', grade: 7 });
    expect(byId(records, 'class', '3001/Английский язык/51236')).toMatchObject({ name: '7Б Английский язык гр. 2' });
    // Outside the range (Saturday 6 September): not read.
    expect(byId(records, 'lesson', '900005')).toBeUndefined();

    const marks = records.filter((r) => r.type === 'mark');
    expect(marks.map((m) => [m.externalId, m.pupilExternalId, m.lessonExternalId, m.value, m.kind, m.weight, m.workCategory, m.workTitle])).toEqual([
      ['880001', '51234', '900001', '5', 'mark', 10, 'oral', 'Устный счёт'],
      ['880002', '51234', '900003', 'зч', 'pass', 20, 'control', 'Контрольная работа'],
      ['880003', '51234', '900002', '.', 'debt', 15, 'other', 'Контурная карта'],
      ['880004', '51235', '900001', '4', 'mark', 10, 'oral', 'Устный счёт'],
    ]);
  });

  it('logs in again when the session ends (login page) and acknowledges the SecurityWarning', async () => {
    const first = login(nock(HOST));
    const scope = school(api());
    let expired = false;
    diary(scope, 51234, () => (expired ? [200, fixture('diary-51234.json'), json] : ((expired = true), [200, fixture('login-page.html'), html])));
    diary(scope, 51234);
    const second = login(nock(HOST));
    let warned = false;
    diary(scope, 51235, () => (warned ? [200, fixture('diary-51235.json'), json] : ((warned = true), [200, fixture('security-warning.html'), html])));
    diary(scope, 51235);
    const ack = nock(HOST).post('/asp/SecurityWarning.asp', (body) => formOf(body).WarnType === '2' && formOf(body).at === AT).reply(200, '<html><body>OK</body></html>', html);
    diary(scope, 51236);
    const { ctx } = context();
    const records = await read(ctx, ['schedule']);
    expect(first.isDone() && second.isDone() && ack.isDone()).toBe(true);
    expect(records.filter((r) => r.type === 'mark')).toHaveLength(4);
  });

  it('maps login failures: 409 is bad credentials, «Следующая попытка…» is rate limiting, ЕСИА-only is configuration', async () => {
    nock(HOST).get('/webapi/logindata').reply(200, fixture('logindata.json'), { ...json, 'Set-Cookie': `NSSESSIONID=${SESSION}; path=/` })
      .post('/webapi/auth/getdata').reply(200, fixture('getdata.json'), json)
      .post('/webapi/login').reply(409, fixture('login-409.json'), json);
    await expect(adapter.checkConnection(context().ctx)).rejects.toMatchObject({ kind: 'auth', message: expect.stringContaining('Неправильный пароль') });

    const throttled = classifyNetSchool({ status: 409, headers: {}, url: '', data: JSON.parse(fixture('login-throttled.json')) });
    expect(throttled).toMatchObject({ kind: 'rate_limited' });

    nock(HOST).get('/webapi/logindata').reply(200, { ...JSON.parse(fixture('logindata.json')), schoolLogin: false }, json);
    await expect(adapter.checkConnection(context().ctx)).rejects.toMatchObject({ kind: 'permanent', message: expect.stringContaining('ЕСИА') });

    const waf = classifyNetSchool({ status: 403, headers: {}, url: '', data: fixture('waf.html') });
    expect(waf).toBeInstanceOf(AdapterError);
    expect(waf).toMatchObject({ kind: 'permanent', message: expect.stringContaining('firewall') });
  });

  it('parses the «studenttotal» report: day columns (two under a double lesson), codes, averages and term marks', () => {
    const rows = parseStudentTotal(fixture('studenttotal.html'), '2025-09-01');
    expect(rows.map((r) => r.subject)).toEqual(['Математика', 'Английский язык', 'Физическая культура']);
    const math = rows[0]!;
    expect([...math.days]).toEqual([
      ['2025-09-01', [['5'], ['Н']]],
      ['2025-09-02', [['.']]],
      ['2025-10-24', [undefined, ['4', 'ОП']]],
    ]);
    expect(math).toMatchObject({ average: 4.67, final: '5' });
    expect(attendanceCodes(rows[1]!.days.get('2025-10-24')![0]!)).toEqual([]);
    expect(attendanceCodes(rows[1]!.days.get('2025-10-24')![1]!)).toEqual(['ОТ']);
    expect(rows[2]).toMatchObject({ final: 'осв' });
    expect(rows[2]!.average).toBeUndefined();
  });

  it('hashes the password as the server does, windows-1251 included', () => {
    expect(passwordHash(PASSWORD, '20371071715')).toEqual({ pw2: 'afae8db014478cab45891266479f474a', pw: 'afae8db0144' });
  });
});
