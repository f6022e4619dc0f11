import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import nock from 'nock';
import { classifyNetSchool, passwordHash } from '../../adapters/netschool/client.js';
import { netschool } from '../../adapters/netschool/index.js';
import { AdapterError, type AnyAdapter } from '../../src/ports/adapter.js';
import type { SourceRecord } from '../../src/ports/records.js';
import { harnessContext, memoryLogger } from '../support/adapter-harness.js';

/**
 * NetSchool answers replayed with nock from test/fixtures/netschool (captured diaries of 2019, 2022,
 * 2023 and 2025, the staff lists of the one teacher/admin client, the swagger's login answer): the
 * requests the adapter sends and the records it maps, every known mismatch, and malformed answers
 * failing as `permanent` with the endpoint and the field. The network is off.
 */
const HOST = 'https://sgo.example.test';
const PASSWORD = 'Завуч-2025!';
const SESSION = 'b4c1f0e2a9d8';
const AT = '00168638015400000000000001';
const fixture = (name: string) => readFileSync(new URL(`../fixtures/netschool/${name}`, import.meta.url), 'utf8');
const json = { 'Content-Type': 'application/json; charset=utf-8' };
const adapter: AnyAdapter = netschool;
const baseConfig = { baseUrl: HOST, schoolId: 1089, login: 'zavuch', password: PASSWORD, parallelPupils: 1 };
const formOf = (body: unknown): Record<string, string> => (typeof body === 'string' ? Object.fromEntries(new URLSearchParams(body)) : (body as Record<string, string>));

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());
afterAll(() => nock.enableNetConnect());

/** The login handshake; the hash computed independently (Python hashlib, cp1251) for the fixture's salt. */
function login(answer = 'login.json', loginData = 'logindata.json'): nock.Scope {
  return nock(HOST)
    .get('/webapi/logindata').reply(200, fixture(loginData), { ...json, 'Set-Cookie': `NSSESSIONID=${SESSION}; path=/; HttpOnly` })
    .post('/webapi/auth/getdata').matchHeader('cookie', `NSSESSIONID=${SESSION}`).reply(200, fixture('getdata.json'), json)
    .post('/webapi/login', (body) => {
      const form = formOf(body);
      return form.loginType === '1' && form.scid === '1089' && form.un === 'zavuch' && form.lt === '850300001' && form.ver === '709000001'
        && form.pw2 === '68c3662fbbd4b4f4c38c655d093bd3f2' && form.pw === '68c3662fbbd';
    })
    .matchHeader('cookie', `NSSESSIONID=${SESSION}`)
    .reply(200, fixture(answer), json);
}

const api = () => nock(HOST, { reqheaders: { at: AT, cookie: `NSSESSIONID=${SESSION}`, 'x-requested-with': 'XMLHttpRequest' } });

/** The staff reads of the school; `classes` limits the classes (and so the pupils) a test reads. */
function school(scope: nock.Scope, classes: unknown = JSON.parse(fixture('classes.json'))): nock.Scope {
  scope.get('/webapi/years/current').reply(200, fixture('years-current.json'), json)
    .get('/webapi/grade/assignment/types').query({ all: 'true' }).reply(200, fixture('assignment-types.json'), json)
    .get('/webapi/classes').query({ expand: 'chiefs' }).reply(200, JSON.stringify(classes), json);
  for (const cls of (Array.isArray(classes) ? classes : [classes]) as Array<{ id: number }>) {
    scope.get('/webapi/grade/studentList').query({ classId: String(cls.id) }).reply(200, fixture(`student-list-${cls.id}.json`), json);
  }
  return scope.get('/webapi/terms').reply(200, fixture('terms.json'), json);
}

const tenthGrade = () => (JSON.parse(fixture('classes.json')) as unknown[]).slice(1);

function diary(scope: nock.Scope, studentId: string, week: [string, string], body: string): nock.Scope {
  return scope.get('/webapi/student/diary').query({ studentId, yearId: '8987', weekStart: week[0], weekEnd: week[1] }).reply(200, body, json);
}

const emptyWeek = (from: string, to: string) => JSON.stringify({ weekStart: `${from}T00:00:00`, weekEnd: `${to}T00:00:00`, weekDays: [] });

async function read(streams: Array<'roster' | 'schedule'>, range: { from: string; to: string }, config: Record<string, unknown> = {}): Promise<SourceRecord[]> {
  const ctx = harnessContext(adapter, { config: { ...baseConfig, ...config }, range, logger: memoryLogger('debug').logger });
  const records: SourceRecord[] = [];
  for (const name of streams) for await (const batch of adapter.streams[name]!.read(ctx)) records.push(...batch.records);
  return records;
}

const byId = (records: SourceRecord[], type: string, id: string) => records.find((r) => r.type === type && r.externalId === id);
const ofType = <T extends SourceRecord['type']>(records: SourceRecord[], type: T) => records.filter((r): r is Extract<SourceRecord, { type: T }> => r.type === type);

describe('NetSchool «Сетевой Город. Образование» fixtures', () => {
  it('logs in (acknowledging the SecurityWarning the login announces) and reads the roster from the staff lists', async () => {
    const auth = login('login-security-warning.json');
    const ack = nock(HOST).post('/asp/SecurityWarning.asp', (body) => formOf(body).WarnType === '2' && formOf(body).at === AT).reply(200, fixture('security-warning-ack.html'));
    const scope = school(api());
    const log = memoryLogger('debug');
    const ctx = harnessContext(adapter, { config: baseConfig, range: { from: '2022-01-10', to: '2022-01-16' }, logger: log.logger });
    const records: SourceRecord[] = [];
    for await (const batch of adapter.streams.roster!.read(ctx)) records.push(...batch.records);
    expect([auth.isDone(), ack.isDone(), scope.pendingMocks()]).toEqual([true, true, []]);
    expect(log.text()).not.toContain(PASSWORD);
    expect(byId(records, 'class', '105007')).toEqual({ type: 'class', externalId: '105007', year: 2021, name: '1а', grade: 1, letter: 'А' });
    expect(byId(records, 'class', '105042')).toMatchObject({ name: '10Б', grade: 10, letter: 'Б' });
    expect(byId(records, 'person', '811645')).toEqual({ type: 'person', externalId: '811645', role: 'staff', lastName: 'Туранова', firstName: 'Людмила', middleName: 'Александровна' });
    expect(byId(records, 'staff_role', '811645/class_teacher/105007')).toMatchObject({ personExternalId: '811645', role: 'class_teacher', classExternalId: '105007' });
    // The class comes from the list that names it (diary/init says classId 0).
    expect(byId(records, 'person', '400123')).toMatchObject({ role: 'pupil', lastName: 'Сафина', firstName: 'Алсу', middleName: 'Маратовна', classExternalId: '105042' });
    expect(byId(records, 'enrollment', '400123@105042')).toMatchObject({ pupilExternalId: '400123', classExternalId: '105042' });
    expect(byId(records, 'period', '26912')).toEqual({ type: 'period', externalId: '26912', year: 2021, kind: 'trimester', number: 2, title: '2 триместр', startDate: '2021-12-01', endDate: '2022-02-28' });
    expect(byId(records, 'period', '26905')).toMatchObject({ kind: 'quarter', number: 2 });
    // A term of another school year is not this year's.
    expect(byId(records, 'period', '25001')).toBeUndefined();
  });

  it('takes a lone class object for the list, and chooses the staff role when the login asks for one', async () => {
    login('login-choose-role.json');
    const role = api().post('/webapi/context/sessionrole').query({ roleGroup: '0' }).reply(200, fixture('sessionrole.txt'));
    school(api(), JSON.parse(fixture('class-single.json')));
    const records = await read(['roster'], { from: '2022-01-10', to: '2022-01-16' });
    expect(role.isDone()).toBe(true);
    expect(ofType(records, 'class').map((c) => c.name)).toEqual(['1а']);
    expect(byId(records, 'person', '937123')).toMatchObject({ lastName: 'Иванов', firstName: 'Иван', classExternalId: '105007' });
  });

  it('reads the captured 2022 week: marks without id, lessons without assignments, two lessons #7, no extra-curricular lesson, placeholders not homework, files', async () => {
    login();
    const scope = school(api(), tenthGrade());
    diary(scope, '400124', ['2022-01-10', '2022-01-16'], emptyWeek('2022-01-10', '2022-01-16'));
    diary(scope, '400123', ['2022-01-10', '2022-01-16'], fixture('diary-2022-01.json'));
    scope.post('/webapi/student/diary/get-attachments', { assignId: [216834251, 216834316, 218507174, 216879655, 216879399] }).query({ studentId: '400123' }).reply(200, fixture('attachments.json'), json);
    const records = await read(['schedule'], { from: '2022-01-10', to: '2022-01-16' });
    expect(scope.pendingMocks()).toEqual([]);
    expect(ofType(records, 'subject').map((s) => s.name)).toEqual(['Физика профиль', 'Литература', 'Физическая культура', 'Основы безопасности жизнедеятельности', 'Математика профиль', 'Иностранный язык']);
    expect(byId(records, 'lesson', '192288987')).toEqual({
      type: 'lesson', externalId: '192288987', classExternalId: '105042', subjectExternalId: 'Физика профиль', date: '2022-01-13', slot: 1,
      startsAt: '2022-01-13T08:00:00+03:00', endsAt: '2022-01-13T08:40:00+03:00', homework: 'повторить формулы §51',
      homeworkFiles: [{ name: 'Формулы МКТ.pdf', externalId: '5512001' }],
    });
    expect(byId(records, 'lesson', '191432796')).toMatchObject({ homework: 'выучить слова p.44', homeworkFiles: [{ name: 'слова p.44.docx', externalId: '0f8c2a4e-6b1d-4c55-9a3e-000000000001' }] });
    expect(byId(records, 'lesson', '191129565')).not.toHaveProperty('homework'); // «-»
    expect(byId(records, 'lesson', '191129863')).not.toHaveProperty('homework'); // «не задано»
    expect(byId(records, 'lesson', '191433211')).toMatchObject({ slot: 1, subjectExternalId: 'Физическая культура' }); // no assignments key
    expect([byId(records, 'lesson', '190809631'), byId(records, 'lesson', '191433246')].map((l) => (l as { slot: number }).slot)).toEqual([7, 7]);
    expect(byId(records, 'lesson', '194656271')).toBeUndefined(); // isEaLesson
    expect(ofType(records, 'mark').map((m) => [m.externalId, m.pupilExternalId, m.lessonExternalId, m.value, m.kind, m.weight, m.workCategory, m.workTitle, m.dueDate])).toEqual([
      ['216834258@400123', '400123', '192288987', '5', 'mark', undefined, 'oral', 'Основное уравнение кинетической теории газов (§ 52).', '2022-01-13'],
      ['218554105@400123', '400123', '191129565', '4', 'mark', undefined, 'essay', 'Отзывы критиков о романе. Подготовка к домашнему сочинению.', '2022-01-13'],
    ]);
  });

  it('reads the captured 2023 week: marks with id 0, lessons out of order, marked homework, extra-curricular lessons when asked for', async () => {
    login();
    const scope = school(api(), tenthGrade());
    diary(scope, '400124', ['2023-04-10', '2023-04-16'], emptyWeek('2023-04-10', '2023-04-16'));
    diary(scope, '400123', ['2023-04-10', '2023-04-16'], fixture('diary-2023-04.json'));
    scope.post('/webapi/student/diary/get-attachments', { assignId: [271499674, 272023202, 271445343, 273104957, 271626583, 273334720] }).query({ studentId: '400123' }).reply(200, '[]', json);
    const records = await read(['schedule'], { from: '2023-04-10', to: '2023-04-16' }, { extraCurricular: true });
    expect(scope.pendingMocks()).toEqual([]);
    expect(ofType(records, 'mark').map((m) => [m.externalId, m.lessonExternalId, m.value, m.workCategory])).toEqual([
      ['272023202@400123', '208191562', '4', 'homework'], ['272740351@400123', '208172683', '4', 'practical'], ['273104957@400123', '208170424', '5', 'homework'],
    ]);
    expect(byId(records, 'lesson', '208191562')).toMatchObject({ homework: 'выполнить тест (1 попытка) https://tests.example.org законы Ньютона' });
    expect(byId(records, 'lesson', '232610685')).toMatchObject({ slot: 8, subjectExternalId: 'Разговоры о важном 10-11' });
    expect(byId(records, 'lesson', '232610685')).not.toHaveProperty('homework'); // «---»
    expect(['208284730', '208178205'].map((id) => (byId(records, 'lesson', id) as { slot: number }).slot)).toEqual([3, 3]);
  });

  it('reads the captured 2025 assignments (weight 10 kept, «---Не указана---» and «Не задано» as no name) and the 2019 week (`mark: null`)', async () => {
    login();
    const scope = school(api(), tenthGrade());
    diary(scope, '400124', ['2025-04-07', '2025-04-13'], emptyWeek('2025-04-07', '2025-04-13'));
    diary(scope, '400123', ['2025-04-07', '2025-04-13'], fixture('diary-2025-04.json'));
    scope.post('/webapi/student/diary/get-attachments', { assignId: [357160570] }).query({ studentId: '400123' }).reply(200, '[]', json);
    const april = await read(['schedule'], { from: '2025-04-07', to: '2025-04-13' });
    expect(ofType(april, 'mark')).toEqual([expect.objectContaining({ externalId: '357710619@400123', pupilExternalId: '400123', weight: 10, workTitle: 'Построение изображений на чертеже', workCategory: 'other' })]);
    expect(byId(april, 'lesson', '270980021')).toMatchObject({ homework: 'просмотреть презентацию, ответить на вопросы в последнем файле' });

    login();
    const september = school(api(), tenthGrade());
    diary(september, '400124', ['2025-09-01', '2025-09-07'], emptyWeek('2025-09-01', '2025-09-07'));
    diary(september, '400123', ['2025-09-01', '2025-09-07'], fixture('diary-2025-09.json'));
    const placeholders = await read(['schedule'], { from: '2025-09-01', to: '2025-09-07' });
    expect(september.pendingMocks()).toEqual([]); // nothing to ask files for
    expect(byId(placeholders, 'lesson', '302570615')).not.toHaveProperty('homework');

    login();
    const old = school(api(), tenthGrade());
    diary(old, '400124', ['2019-10-21', '2019-10-27'], emptyWeek('2019-10-21', '2019-10-27'));
    diary(old, '400123', ['2019-10-21', '2019-10-27'], fixture('diary-2019-10.json'));
    old.post('/webapi/student/diary/get-attachments', { assignId: [3730001] }).query({ studentId: '400123' }).reply(200, '[]', json);
    const autumn = await read(['schedule'], { from: '2019-10-21', to: '2019-10-27' });
    expect(byId(autumn, 'lesson', '5661001')).toMatchObject({ homework: '№310, 312', slot: 2 });
    expect(ofType(autumn, 'mark')).toEqual([]);
  });

  it('logs in again on 401 SessionExpired and on «Ошибка доступа»; another 401 is no access; a lasting 500 is transient', async () => {
    login();
    api().get('/webapi/years/current').reply(401, '', { 'auth-error': 'SessionExpired' });
    login();
    api().get('/webapi/years/current').reply(200, fixture('dead-session.txt'), { 'Content-Type': 'text/plain' });
    // One new login per refusal: the second refusal is final.
    await expect(read(['roster'], { from: '2022-01-10', to: '2022-01-16' })).rejects.toMatchObject({ kind: 'auth' });
    nock.cleanAll();

    login();
    api().get('/webapi/years/current').reply(401, '', { 'auth-error': 'SessionExpired' });
    login();
    school(api(), tenthGrade());
    expect(ofType(await read(['roster'], { from: '2022-01-10', to: '2022-01-16' }), 'person')).toHaveLength(3);

    login();
    api().get('/webapi/years/current').reply(401, '', { 'auth-error': 'AccessDenied' });
    await expect(read(['roster'], { from: '2022-01-10', to: '2022-01-16' })).rejects.toMatchObject({ kind: 'permanent', message: expect.stringContaining('AccessDenied') });

    login();
    api().get('/webapi/years/current').reply(500, { message: 'Object reference not set' });
    login();
    api().get('/webapi/years/current').reply(500, { message: 'Object reference not set' });
    await expect(read(['roster'], { from: '2022-01-10', to: '2022-01-16' })).rejects.toMatchObject({ kind: 'transient', status: 500 });
  });

  it('fails a malformed answer as permanent, naming the endpoint and the field', async () => {
    login();
    const classes = JSON.parse(fixture('classes.json')) as Array<Record<string, unknown>>;
    delete classes[1]!.name;
    api().get('/webapi/years/current').reply(200, fixture('years-current.json'), json)
      .get('/webapi/grade/assignment/types').query(true).reply(200, fixture('assignment-types.json'), json)
      .get('/webapi/classes').query(true).reply(200, classes, json);
    await expect(read(['roster'], { from: '2022-01-10', to: '2022-01-16' })).rejects.toThrow(/^NetSchool GET \/webapi\/classes: \[1\]\.name: /);

    login();
    const scope = school(api(), tenthGrade());
    const week = JSON.parse(fixture('diary-2022-01.json')) as { weekDays: Array<{ lessons: Array<Record<string, unknown>> }> };
    delete week.weekDays[0]!.lessons[1]!.classmeetingId;
    diary(scope, '400124', ['2022-01-10', '2022-01-16'], JSON.stringify(week));
    const failure = await read(['schedule'], { from: '2022-01-10', to: '2022-01-16' }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(AdapterError);
    expect(failure).toMatchObject({ kind: 'permanent', message: expect.stringMatching(/^NetSchool GET \/webapi\/student\/diary: weekDays\[0\]\.lessons\[1\]\.classmeetingId: /) });
  });

  it('maps login failures: 409 is bad credentials, «Следующая попытка…» rate limiting, a server without password login or an account without classes configuration', async () => {
    nock(HOST).get('/webapi/logindata').reply(200, fixture('logindata.json'), { ...json, 'Set-Cookie': `NSSESSIONID=${SESSION}; path=/` })
      .post('/webapi/auth/getdata').reply(200, fixture('getdata.json'), json)
      .post('/webapi/login').reply(409, fixture('login-409.json'), json);
    const ctx = () => harnessContext(adapter, { config: baseConfig, range: { from: '2022-01-10', to: '2022-01-16' } });
    await expect(adapter.checkConnection(ctx())).rejects.toMatchObject({ kind: 'auth', message: expect.stringContaining('Неправильный пароль') });
    expect(classifyNetSchool({ status: 409, headers: {}, url: '', data: JSON.parse(fixture('login-throttled.json')) })).toMatchObject({ kind: 'rate_limited' });

    nock(HOST).get('/webapi/logindata').reply(200, { ...JSON.parse(fixture('logindata.json')), schoolLogin: false }, json);
    await expect(adapter.checkConnection(ctx())).rejects.toMatchObject({ kind: 'permanent', message: expect.stringContaining('ЕСИА') });
    nock(HOST).get('/webapi/logindata').reply(200, { ...JSON.parse(fixture('logindata.json')), esiaMainAuth: true }, json);
    await expect(adapter.checkConnection(ctx())).rejects.toMatchObject({ kind: 'permanent', message: expect.stringContaining('ЕСИА') });
    nock(HOST).get('/webapi/logindata').reply(200, fixture('logindata.json'), json).post('/webapi/auth/getdata').reply(200, '', { 'Content-Type': 'text/plain' });
    await expect(adapter.checkConnection(ctx())).rejects.toMatchObject({ kind: 'permanent', message: expect.stringContaining('auth/getdata') });

    login();
    api().get('/webapi/classes').query({ expand: 'chiefs' }).reply(200, '[]', json);
    await expect(adapter.checkConnection(ctx())).rejects.toMatchObject({ kind: 'permanent', message: expect.stringContaining('sees no classes') });

    expect(classifyNetSchool({ status: 200, headers: {}, url: '', data: fixture('security-warning.html') })).toMatchObject({ kind: 'auth', message: expect.stringContaining('SecurityWarning') });
  });

  it('hashes the password as the server does, windows-1251 included', () => {
    expect(passwordHash(PASSWORD, '20371000001')).toEqual({ pw2: '68c3662fbbd4b4f4c38c655d093bd3f2', pw: '68c3662fbbd' });
  });
});
