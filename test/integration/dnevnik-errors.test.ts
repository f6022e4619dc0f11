import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import nock from 'nock';
import { dnevnikru } from '../../adapters/dnevnikru/index.js';
import type { AdapterError, AnyAdapter } from '../../src/ports/adapter.js';
import { harnessContext } from '../support/adapter-harness.js';

/**
 * Дневник.ру's failures as the evidence shows them (README.md "Errors"): `{type, description}` bodies
 * with the API's own types, HTML error pages, HTTP 550 and 429 / 433; the login by credentials and the
 * re-login when a token is refused; answers of a shape the adapter does not know fail as `permanent`,
 * naming the endpoint and the field. The network is off: only the interceptors answer.
 */
const HOST = 'https://api.dnevnik.test';
const TOKEN = 'fixture-access-token';
const SCHOOL = '1000002100037';
const fixture = (name: string) => readFileSync(new URL(`../fixtures/dnevnikru/${name}`, import.meta.url), 'utf8');
const json = { 'Content-Type': 'application/json; charset=utf-8' };
const adapter: AnyAdapter = dnevnikru;
const CREDENTIALS = { token: undefined, login: 'admin', password: 'Пароль', clientId: 'app', clientSecret: 'secret' };
const context = (config: Record<string, unknown> = {}) => harnessContext(adapter, { config: { baseUrl: HOST, token: TOKEN, requestsPerSecond: 100, ...config }, range: { from: '2024-09-02', to: '2024-09-07' } });
const failure = (promise: Promise<unknown>) => promise.then(() => undefined, (e: unknown) => e as AdapterError);

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());
afterAll(() => nock.enableNetConnect());

const school = (scope: nock.Scope) => scope.get('/v2/users/me/context').reply(200, fixture('context.json'), json)
  .get(`/v2/schools/${SCHOOL}/edu-groups`).reply(200, fixture('edu-groups.json'), json);

describe('Дневник.ру session', () => {
  it('logs in by credentials with the scopes the reads need', async () => {
    let sent: Record<string, string> | undefined;
    const login = nock(HOST).post('/v2/authorizations/bycredentials', (body: Record<string, string>) => {
      sent = body;
      return body.username === 'admin' && body.password === 'Пароль' && body.client_id === 'app' && body.client_secret === 'secret';
    }).reply(200, fixture('bycredentials.json'), json);
    school(nock(HOST, { reqheaders: { 'access-token': TOKEN } }));
    await adapter.checkConnection(context(CREDENTIALS));
    expect(login.isDone()).toBe(true);
    // What the login sent, not the adapter's constant: the scopes lessons, relatives and contacts need.
    expect(String(sent?.scope).split(',')).toEqual(expect.arrayContaining(['EducationalInfo', 'FriendsAndRelatives', 'ContactInfo']));
  });

  it.each(['invalidToken', 'authorizationInvalidToken'])('logs in again when the token is refused as %s', async (type) => {
    nock(HOST).get('/v2/users/me/context').reply(401, { type, description: 'Неверный или неактивный токен' });
    nock(HOST).post('/v2/authorizations/bycredentials').reply(200, { accessToken: 'renewed' });
    school(nock(HOST, { reqheaders: { 'access-token': 'renewed' } }));
    await expect(adapter.checkConnection(context({ ...CREDENTIALS, token: TOKEN }))).resolves.toBeUndefined();
  });

  it('fails as auth when a refused token cannot be renewed, or the login is refused (captured bodies)', async () => {
    nock(HOST).get('/v2/users/me/context').reply(401, fixture('error-tokenRequired.json'), json);
    expect(await failure(adapter.checkConnection(context()))).toMatchObject({ kind: 'auth', message: expect.stringContaining('tokenRequired') });
    nock(HOST).post('/v2/authorizations/bycredentials').reply(401, fixture('bycredentials-authorizationFailed.json'), json);
    expect(await failure(adapter.checkConnection(context(CREDENTIALS)))).toMatchObject({ kind: 'auth', message: "Дневник.ру authorizationFailed: Can't authorize (HTTP 401 on /v2/authorizations/bycredentials)" });
    // kesha1225/DnevnikRuAPI reads the refusal from the body whatever the status.
    nock(HOST).post('/v2/authorizations/bycredentials').reply(200, fixture('bycredentials-authorizationFailed.json'), json);
    expect(await failure(adapter.checkConnection(context(CREDENTIALS)))).toMatchObject({ kind: 'auth' });
    nock(HOST).post('/v2/authorizations/bycredentials').reply(400, { type: 'maxAttempsExceeded', description: 'Превышено количество попыток' });
    expect(await failure(adapter.checkConnection(context(CREDENTIALS)))).toMatchObject({ kind: 'auth' });
  });
});

describe('Дневник.ру errors', () => {
  it.each([
    [400, 'parameterInvalid'], [400, 'invalidRequest'], [403, 'authorizationOutOfScope'], [403, 'outOfScope'], [403, 'authorizationSystemForbidden'],
  ])('HTTP %s %s is permanent', async (status, type) => {
    nock(HOST).get('/v2/users/me/context').reply(status, { type, description: '…' });
    expect(await failure(adapter.checkConnection(context()))).toMatchObject({ kind: 'permanent', message: expect.stringContaining(type) });
  });

  it.each([
    [400, 'apiRequestLimit'], [429, 'requestLimit'], [433, undefined],
  ])('HTTP %s %s is waited out', async (status, type) => {
    const scope = nock(HOST).get('/v2/users/me/context').reply(status, type ? { type, description: 'Превышен лимит запросов для данного токена' } : '', { 'Retry-After': '0' });
    school(scope);
    await expect(adapter.checkConnection(context())).resolves.toBeUndefined();
  });

  it('keeps a platform error code, status and endpoint, but withholds free text that could name a pupil', async () => {
    nock(HOST).get('/v2/users/me/context').reply(404, { type: 'apiResourceUnavailable', description: 'Ученик Иванов Иван не найден' });
    const error = await failure(adapter.checkConnection(context()));
    expect(error?.message).toBe('Дневник.ру apiResourceUnavailable: [platform text withheld, 28 chars] (HTTP 404 on /v2/users/me/context)');
    nock(HOST).get('/v2/users/me/context').reply(400, { type: 'Иванов Иван', description: 'Ресурс не существует' });
    expect((await failure(adapter.checkConnection(context())))?.message).toBe('Дневник.ру [platform text withheld, 11 chars]: Ресурс не существует (HTTP 400 on /v2/users/me/context)');
  });

  it('retries an HTML error page and HTTP 550, then reports transient', async () => {
    nock(HOST).get('/v2/users/me/context').times(5).reply(503, fixture('error-page.html'), { 'Content-Type': 'text/html; charset=utf-8' });
    expect(await failure(adapter.checkConnection(context()))).toMatchObject({ kind: 'transient', message: expect.stringContaining('Ведутся технические работы') });
    school(nock(HOST).get('/v2/users/me/context').reply(550, { type: 'apiServerError', description: 'Server Work' }));
    await expect(adapter.checkConnection(context())).resolves.toBeUndefined();
  });
});

describe('Дневник.ру answers of an unknown shape', () => {
  it('fails as permanent naming the endpoint and the field', async () => {
    nock(HOST).get('/v2/users/me/context').reply(200, { schools: [{ name: 'Школа', type: 'School' }] });
    expect(await failure(adapter.checkConnection(context()))).toMatchObject({
      kind: 'permanent', message: 'Дневник.ру GET /v2/users/me/context: schools[0]: neither id nor id_str',
    });
    nock(HOST).get('/v2/users/me/context').reply(200, { schools: [], schoolIds: [] });
    expect(await failure(adapter.checkConnection(context()))).toMatchObject({ kind: 'permanent', message: expect.stringContaining('belongs to no school') });
  });

  it('refuses a rounded id without its twin, and a teacher whose HouseMaster is not a flag', async () => {
    const groups = [{ id: 2260325488551007500, type: 'Group', name: '11-H', parallel: 11, studyyear: 2024 }];
    nock(HOST).get(`/v2/schools/${SCHOOL}/edu-groups`).reply(200, groups);
    expect(await failure(adapter.checkConnection(context({ schoolId: SCHOOL })))).toMatchObject({
      kind: 'permanent', message: 'Дневник.ру GET /v2/schools/{school}/edu-groups: [0]: id above 2^53 without id_str (rounded by JSON)',
    });
    const teachers = JSON.parse(fixture('teachers.json')) as Array<Record<string, unknown>>;
    teachers[1]!.HouseMaster = ['2260325488551007512'];
    const api = nock(HOST);
    api.get(`/v2/schools/${SCHOOL}/edu-groups`).reply(200, fixture('edu-groups.json'), json);
    api.get(`/v2/schools/${SCHOOL}/subjects`).reply(200, fixture('subjects.json'), json);
    api.get(`/v2/schools/${SCHOOL}/teachers`).reply(200, teachers);
    const read = async () => {
      for await (const batch of adapter.streams.roster!.read(context({ schoolId: SCHOOL }))) void batch;
    };
    expect(await failure(read())).toMatchObject({ kind: 'permanent', message: expect.stringMatching(/^Дневник\.ру GET \/v2\/schools\/\{school\}\/teachers: \[1\]\.HouseMaster: /) });
  });

  it('refuses a bell that is no time, and a lossless answer that is not JSON', async () => {
    const timetables = JSON.parse(fixture('timetables.json')) as Array<{ Items: Array<Record<string, unknown>> }>;
    timetables[0]!.Items[1]!.Start = '8.55';
    const api = nock(HOST);
    api.get(`/v2/schools/${SCHOOL}/edu-groups`).reply(200, fixture('edu-groups.json'), json);
    api.get(`/v2/schools/${SCHOOL}/timetables`).reply(200, timetables);
    const schedule = async () => {
      for await (const batch of adapter.streams.schedule!.read(context({ schoolId: SCHOOL }))) void batch;
    };
    expect(await failure(schedule())).toMatchObject({ kind: 'permanent', message: 'Дневник.ру GET /v2/schools/{school}/timetables: [0].Items[1].Start: expected a date-time or HH:MM' });
    nock(HOST).get(`/v2/schools/${SCHOOL}/edu-groups`).reply(200, fixture('edu-groups.json'), json)
      .get(`/v2/users/me/school/${SCHOOL}/homeworks`).query(true).reply(200, '{"works": [', json);
    const homework = async () => {
      for await (const batch of adapter.streams.homework!.read(context({ schoolId: SCHOOL }))) void batch;
    };
    expect(await failure(homework())).toMatchObject({ kind: 'permanent', message: 'Дневник.ру GET /v2/users/me/school/{school}/homeworks: (the answer): not JSON' });
  });
});
