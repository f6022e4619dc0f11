import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import nock from 'nock';
import { dnevnikru } from '../../adapters/dnevnikru/index.js';
import { AdapterError, STREAM_ORDER, type AnyAdapter } from '../../src/ports/adapter.js';
import type { SourceRecord } from '../../src/ports/records.js';
import { harnessContext } from '../support/adapter-harness.js';

/**
 * Дневник.ру answers replayed with nock from fixtures written after platforms.md §1 (ids above 2^53 as
 * bare numbers with `*_str` twins, string mark values with a mood, an HTML error page, HTTP 550). The
 * network is off: only the interceptors answer.
 */
const HOST = 'https://api.dnevnik.test';
const TOKEN = 'fixture-access-token';
const SCHOOL = '1000000000000012345';
const CLASS = '2000000000000000071';
const SUBGROUP = '2000000000000000072';
const RANGE = { from: '2025-09-01', to: '2025-09-05' };
const fixture = (name: string) => readFileSync(new URL(`../fixtures/dnevnikru/${name}`, import.meta.url), 'utf8');
const json = { 'Content-Type': 'application/json; charset=utf-8' };
const adapter: AnyAdapter = dnevnikru;
const context = (config: Record<string, unknown> = {}) => harnessContext(adapter, { config: { baseUrl: HOST, token: TOKEN, ...config }, range: RANGE });

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());
afterAll(() => nock.enableNetConnect());

function platform(): nock.Scope {
  const api = nock(HOST, { reqheaders: { 'access-token': TOKEN } });
  api.get('/v2/users/me/context').reply(200, fixture('context.json'), json);
  api.get(`/v2/schools/${SCHOOL}/edu-groups`).reply(200, fixture('edu-groups.json'), json);
  api.get(`/v2/schools/${SCHOOL}/subjects`).reply(200, fixture('subjects.json'), json);
  api.get(`/v2/schools/${SCHOOL}/teachers`).reply(200, fixture('teachers.json'), json);
  api.get(`/v2/edu-groups/${CLASS}/persons`).reply(200, fixture('persons-5a.json'), json);
  api.get(`/v2/edu-groups/${SUBGROUP}/persons`).reply(200, fixture('persons-5a-1.json'), json);
  api.get(`/v2/edu-groups/${CLASS}/reporting-periods`).reply(200, fixture('reporting-periods.json'), json);
  api.get(`/v2/schools/${SCHOOL}/timetables`).reply(200, fixture('timetables.json'), json);
  api.get(`/v2/work-types/${SCHOOL}`).reply(200, fixture('work-types.json'), json);
  api.get(`/v2/edu-groups/${CLASS}/lessons/${RANGE.from}/${RANGE.to}`).reply(200, fixture('lessons-5a.json'), json);
  api.get(`/v2/edu-groups/${SUBGROUP}/lessons/${RANGE.from}/${RANGE.to}`).reply(200, '[]', json);
  api.get(`/v2/edu-groups/${CLASS}/marks/${RANGE.from}/${RANGE.to}`).reply(200, fixture('marks-5a.json'), json);
  api.get(`/v2/edu-groups/${SUBGROUP}/marks/${RANGE.from}/${RANGE.to}`).reply(200, '[]', json);
  api.get(`/v2/lesson-log-entries/group/${CLASS}`).query(RANGE).reply(200, fixture('log-entries-5a.json'), json);
  api.get(`/v2/lesson-log-entries/group/${SUBGROUP}`).query(RANGE).reply(200, '[]', json);
  api.get(`/v2/edu-groups/${CLASS}/final-marks`).reply(200, fixture('final-marks-5a.json'), json);
  return api;
}

async function readAll(ctx: ReturnType<typeof context>): Promise<SourceRecord[]> {
  const records: SourceRecord[] = [];
  for (const name of STREAM_ORDER) {
    const stream = adapter.streams[name];
    if (stream) for await (const batch of stream.read(ctx)) records.push(...batch.records);
  }
  return records;
}

const byId = (records: SourceRecord[], type: string, id: string) => records.find((r) => r.type === type && r.externalId === id);

describe('Дневник.ру fixtures', () => {
  it('sends the documented requests with the Access-Token and maps every record, ids above 2^53 exact', async () => {
    const api = platform();
    const records = await readAll(context());
    expect(api.pendingMocks()).toEqual([]);
    expect(records.filter((r) => r.type === 'class').map((r) => r.externalId)).toEqual([CLASS, SUBGROUP]);
    expect(byId(records, 'class', SUBGROUP)).toMatchObject({ name: '5А англ. гр. 1', grade: 5, letter: 'А', parentExternalId: CLASS });
    expect(byId(records, 'person', '3000000000000001001')).toMatchObject({ role: 'pupil', lastName: 'Белова', firstName: 'Анна', middleName: 'Сергеевна', sex: 'f', classExternalId: CLASS });
    expect(byId(records, 'staff_role', `3000000000000000901:class_teacher@${CLASS}`)).toMatchObject({ role: 'class_teacher', classExternalId: CLASS });
    expect(byId(records, 'staff_role', '3000000000000000902:director')).toBeDefined();
    expect(byId(records, 'period', '8000000000000000012')).toMatchObject({ kind: 'quarter', number: 2, startDate: '2025-11-05', endDate: '2025-12-28' });
    expect(byId(records, 'lesson', '5000000000000123457')).toEqual({
      type: 'lesson', externalId: '5000000000000123457', classExternalId: CLASS, subjectExternalId: '4000000000000000501', date: '2025-09-02', slot: 1,
      startsAt: '2025-09-02T08:30:00+03:00', endsAt: '2025-09-02T09:15:00+03:00', teacherExternalId: '3000000000000000901', substituteExternalId: undefined,
      topic: 'Сложение дробей', homework: '№ 112, 114', status: 'held',
    });
    expect(byId(records, 'lesson', '5000000000000123458')).toMatchObject({ status: 'cancelled', substituteExternalId: '3000000000000000902', topic: undefined });
    const marks = records.filter((r) => r.type === 'mark');
    expect(marks.map((m) => [m.externalId, m.value, m.weight, m.workCategory])).toEqual([
      ['7000000000000654321', '5', 1, 'oral'],
      ['7000000000000654322', '4-', 2, 'control'],
      ['7000000000000654323', 'зч', 1.5, 'other'],
      // Passed on as it came: applyBatch rejects this one record with «empty mark value».
      ['7000000000000654324', '', 1, 'oral'],
    ]);
    expect(byId(records, 'mark', '7000000000000654321')).toMatchObject({ pupilExternalId: '3000000000000001001', lessonExternalId: '5000000000000123457', enteredAt: '2025-09-02T09:01:12+03:00' });
    expect(records.filter((r) => r.type === 'attendance').map((a) => [a.pupilExternalId, a.lessonExternalId, a.code, a.reason])).toEqual([
      ['3000000000000001002', '5000000000000123457', 'Late', 'опоздание 10 мин'],
      ['3000000000000001001', '5000000000000123458', 'Ill', undefined],
    ]);
    expect(byId(records, 'period_mark', '7000000000000999001')).toMatchObject({ value: '5', periodExternalId: '8000000000000000011', subjectExternalId: '4000000000000000501', setAt: '2025-10-24T15:00:00+03:00' });
  });

  it('passes on the final marks of the periods the read range touches only', async () => {
    const api = nock(HOST, { reqheaders: { 'access-token': TOKEN } });
    api.get('/v2/users/me/context').times(2).reply(200, fixture('context.json'), json);
    api.get(`/v2/schools/${SCHOOL}/edu-groups`).times(2).reply(200, fixture('edu-groups.json'), json);
    api.get(`/v2/edu-groups/${CLASS}/reporting-periods`).times(2).reply(200, fixture('reporting-periods.json'), json);
    api.get(`/v2/edu-groups/${CLASS}/final-marks`).times(2).reply(200, fixture('final-marks-5a.json'), json);
    const read = async (range: { from: string; to: string }) => {
      const records: SourceRecord[] = [];
      const ctx = harnessContext(adapter, { config: { baseUrl: HOST, token: TOKEN }, range });
      for await (const batch of adapter.streams.periodMarks!.read(ctx)) records.push(...batch.records);
      return records;
    };
    // A daily window in the second quarter: the first quarter's final mark is not re-sent.
    expect(await read({ from: '2025-11-10', to: '2025-11-24' })).toEqual([]);
    // A window that still reaches into the first quarter's last days sends it.
    expect((await read({ from: '2025-10-20', to: '2025-11-03' })).map((r) => r.externalId)).toEqual(['7000000000000999001']);
  });

  it('logs in by credentials when there is no token', async () => {
    const login = nock(HOST).post('/v2/authorizations/bycredentials', (body: Record<string, string>) =>
      body.username === 'admin' && body.password === 'Пароль' && body.client_id === 'app' && body.client_secret === 'secret' && typeof body.scope === 'string',
    ).reply(200, { accessToken: TOKEN, expiresIn: 3600, type: 'Success' });
    nock(HOST, { reqheaders: { 'access-token': TOKEN } }).get('/v2/users/me/context').reply(200, fixture('context.json'), json)
      .get(`/v2/schools/${SCHOOL}/edu-groups`).reply(200, fixture('edu-groups.json'), json);
    await adapter.checkConnection(context({ token: undefined, login: 'admin', password: 'Пароль', clientId: 'app', clientSecret: 'secret' }));
    expect(login.isDone()).toBe(true);
  });

  it('maps the platform\'s failures to kinds: {type} bodies, HTML error pages, HTTP 550', async () => {
    nock(HOST).get('/v2/users/me/context').reply(401, { type: 'authorizationFailed', description: 'Invalid token' });
    await expect(adapter.checkConnection(context())).rejects.toMatchObject({ kind: 'auth', message: expect.stringContaining('authorizationFailed') });

    nock(HOST).get('/v2/users/me/context').reply(400, { type: 'parameterInvalid', description: 'Неверный параметр' });
    await expect(adapter.checkConnection(context())).rejects.toMatchObject({ kind: 'permanent' });

    nock(HOST).get('/v2/users/me/context').times(5).reply(503, fixture('error-page.html'), { 'Content-Type': 'text/html; charset=utf-8' });
    const page = await adapter.checkConnection(context()).catch((e: unknown) => e);
    expect(page).toBeInstanceOf(AdapterError);
    expect(page).toMatchObject({ kind: 'transient', message: expect.stringContaining('Ведутся технические работы') });

    nock(HOST).get('/v2/users/me/context').reply(550, { type: 'Error', description: 'Server Work' })
      .get('/v2/users/me/context').reply(200, fixture('context.json'), json)
      .get(`/v2/schools/${SCHOOL}/edu-groups`).reply(200, fixture('edu-groups.json'), json);
    await expect(adapter.checkConnection(context())).resolves.toBeUndefined();

    nock(HOST).get('/v2/users/me/context').reply(429, { type: 'maxAttempsExceeded', description: 'Too many requests' }, { 'Retry-After': '1' })
      .get('/v2/users/me/context').reply(200, fixture('context.json'), json)
      .get(`/v2/schools/${SCHOOL}/edu-groups`).reply(200, fixture('edu-groups.json'), json);
    const started = Date.now();
    await expect(adapter.checkConnection(context())).resolves.toBeUndefined();
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });
});
