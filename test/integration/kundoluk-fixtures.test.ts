import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import nock from 'nock';
import { classifyKundoluk } from '../../adapters/kundoluk/client.js';
import { kundoluk } from '../../adapters/kundoluk/index.js';
import { quarterMarkSubjects } from '../../adapters/kundoluk/mapping.js';
import { classOfCaption, LOGIN_REFUSED, splitName } from '../../adapters/kundoluk/web.js';
import { fixedClock } from '../../src/lib/clock.js';
import type { AnyAdapter, StreamName } from '../../src/ports/adapter.js';
import type { SourceBatch } from '../../src/ports/adapter.js';
import type { SourceRecord } from '../../src/ports/records.js';
import { createAdapterContext } from '../../src/sync/adapter-context.js';
import { Limiters } from '../../src/sync/http-client.js';
import { memoryLogger } from '../support/adapter-harness.js';

/**
 * Kundoluk answers replayed with nock from fixtures written after platforms.md §4.1 (the login answer's
 * account fields in both spellings, the envelope, camelCase lessons with bilingual subjects and groups,
 * snake_case marks with `custom_mark`, an unknown `mark_type`, absences with `absent_type` /
 * `absent_reason` / `late_minutes`, duplicated quarter marks, a 401 mid-run, a 400 list of
 * `{errorMessage}`). The network is off; the school is in Bishkek (UTC+6).
 */
const HOST = 'https://kundoluk.example.test';
const RANGE = { from: '2025-09-01', to: '2025-09-05' };
const ACCOUNTS = [{ username: 'asanov.b', password: 'Жылдыз-2025' }, { username: 'ivanova.a', password: 'Алина#0715' }];
const config = { baseUrl: `${HOST}/api/`, accounts: ACCOUNTS, parallelPupils: 1, requestsPerSecond: 100 };
const fixture = (name: string) => readFileSync(new URL(`../fixtures/kundoluk/${name}`, import.meta.url), 'utf8');
const json = { 'Content-Type': 'application/json; charset=utf-8' };
const adapter: AnyAdapter = kundoluk;
const limiters = new Limiters();
const PUPILS = [{ name: 'asanov', account: ACCOUNTS[0]! }, { name: 'ivanova', account: ACCOUNTS[1]! }];
const WEB = 'https://kundoluk-web.example.test';
const TEACHER = { baseUrl: `${WEB}/`, login: 'toktogulova.g', password: 'Мугалим#2025' };
const html = { 'Content-Type': 'text/html; charset=utf-8' };

function context(options: { teacher?: boolean } = {}) {
  const log = memoryLogger('debug');
  const ctx = createAdapterContext({
    adapter, config: options.teacher ? { ...config, teacher: TEACHER } : config, range: RANGE, timeZone: 'Asia/Bishkek', signal: new AbortController().signal,
    clock: fixedClock(new Date('2025-09-05T18:00:00+06:00')), logger: log.logger, limiters,
  });
  return { ctx, log };
}

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());
afterAll(async () => {
  nock.enableNetConnect();
  await limiters.stop();
});

function login(scope: nock.Scope, pupil: (typeof PUPILS)[number], answer = `login-${pupil.name}.json`): nock.Scope {
  return scope.post('/api/auth/loginStudent', { ...pupil.account, device: 'android' }).reply(200, fixture(answer), json);
}

/** The API as a pupil signed in with `token` (its first token unless told). */
function as(name: string, token = `tok-${name}-1`): nock.Scope {
  return nock(HOST, { reqheaders: { authorization: `Bearer ${token}` } });
}

function everything(name: string): nock.Scope {
  return as(name)
    .get('/api/student/gradebook/list').query({ start_date: '2025-09-01', end_date: '2025-09-05' }).reply(200, fixture(`gradebook-list-${name}.json`), json)
    .get('/api/student/homework/list').query({ term_no: '1' }).reply(200, fixture(`homework-1-${name}.json`), json)
    .get('/api/student/gradebook/term/1').query({ absent: '0' }).reply(200, fixture(`term-1-marks-${name}.json`), json)
    .get('/api/student/gradebook/term/1').query({ absent: '1' }).reply(200, fixture(`term-1-absent-${name}.json`), json)
    .get('/api/student/qmarks/all').reply(200, fixture(`qmarks-${name}.json`), json);
}

async function read(ctx: ReturnType<typeof context>['ctx'], streams: StreamName[]): Promise<SourceRecord[]> {
  const records: SourceRecord[] = [];
  for (const name of streams) for await (const batch of adapter.streams[name]!.read(ctx)) records.push(...batch.records);
  return records;
}

const byId = (records: SourceRecord[], type: string, id: string) => records.find((r) => r.type === type && r.externalId === id);
const ofType = <T extends SourceRecord['type']>(records: SourceRecord[], type: T) => records.filter((r): r is Extract<SourceRecord, { type: T }> => r.type === type);

describe('Kundoluk fixtures', () => {
  it('signs in as each pupil and reads every stream with the pupil\'s Bearer token', async () => {
    const auth = PUPILS.reduce((scope, p) => login(scope, p), nock(HOST));
    const scopes = PUPILS.map((p) => everything(p.name));
    const { ctx, log } = context();
    const records = await read(ctx, ['roster', 'schedule', 'homework', 'marks', 'attendance', 'periodMarks']);
    expect(auth.pendingMocks()).toEqual([]);
    for (const scope of scopes) expect(scope.pendingMocks()).toEqual([]);
    for (const secret of [...ACCOUNTS.map((a) => a.password), ...ACCOUNTS.map((a) => a.username)]) expect(log.text()).not.toContain(secret);

    expect(byId(records, 'period', '2025-q1')).toEqual({ type: 'period', externalId: '2025-q1', year: 2025, kind: 'quarter', number: 1, title: '1 четверть', startDate: '2025-09-01', endDate: '2025-11-04' });
    expect(byId(records, 'class', '7А')).toEqual({ type: 'class', externalId: '7А', year: 2025, name: '7А', grade: 7, letter: 'А' });
    expect(byId(records, 'person', '7f1e2d3c-0001-4b5a-8c9d-000000000001')).toEqual({
      type: 'person', externalId: '7f1e2d3c-0001-4b5a-8c9d-000000000001', role: 'pupil', lastName: 'Асанов', firstName: 'Бакыт', middleName: 'Нурланович',
      birthDate: '2012-03-14', classExternalId: '7А',
    });
    expect(byId(records, 'person', '7f1e2d3c-0002-4b5a-8c9d-000000000002')).toMatchObject({ lastName: 'Иванова', firstName: 'Алина', middleName: 'Сергеевна', classExternalId: '7А' });

    // Subjects by their Russian name, the Kyrgyz one beside it (from the lessons' `subject` and from the quarter marks alike).
    expect(byId(records, 'subject', 'Кыргызский язык')).toEqual({
      type: 'subject', externalId: 'Кыргызский язык', name: 'Кыргызский язык', shortName: 'Кырг. яз.', altNames: { ky: 'Кыргыз тили' },
    });
    const subjects = ofType(records, 'subject');
    expect(subjects.length).toBeGreaterThanOrEqual(3);
    for (const subject of subjects) expect(subject.altNames?.ky).toEqual(expect.any(String));
    expect(Object.fromEntries(subjects.map((s) => [s.name, s.altNames!.ky]))).toEqual({
      'Математика': 'Математика', 'Кыргызский язык': 'Кыргыз тили', 'Английский язык': 'Англис тили',
    });
    expect(quarterMarkSubjects([{ subjectNameRu: 'История', subjectNameKg: 'Тарых' }, { subjectNameKg: 'Тарых' }])).toEqual([
      { type: 'subject', externalId: 'История', name: 'История', altNames: { ky: 'Тарых' } },
      { type: 'subject', externalId: 'Тарых', name: 'Тарых' },
    ]);
    // The class's lesson once, however many pupils show it (their uids differ); the club lesson and Saturday are not read.
    const lessons = ofType(records, 'lesson');
    expect(lessons.map((l) => l.externalId).sort()).toEqual(['si-7a-mon-1@2025-09-01', 'si-7a-mon-2@2025-09-01', 'si-7a1-mon-3@2025-09-01', 'si-7a2-mon-3@2025-09-01']);
    expect(byId(records, 'lesson', 'si-7a-mon-1@2025-09-01')).toEqual({
      type: 'lesson', externalId: 'si-7a-mon-1@2025-09-01', classExternalId: '7А', subjectExternalId: 'Математика', date: '2025-09-01', slot: 1,
      startsAt: '2025-09-01T08:00:00+06:00', endsAt: '2025-09-01T08:45:00+06:00', teacherExternalId: expect.stringMatching(/^t-[0-9a-f]{20}$/),
      topic: 'Натуралдык сандар / Натуральные числа',
    });
    // English in two subgroups (groupId), named from the class and subjectGroupName.
    expect(byId(records, 'lesson', 'si-7a1-mon-3@2025-09-01')).toMatchObject({ classExternalId: '7А/e1f0a000-0000-4000-8000-00000000e001', subjectExternalId: 'Английский язык' });
    expect(byId(records, 'class', '7А/e1f0a000-0000-4000-8000-00000000e002')).toEqual({
      type: 'class', externalId: '7А/e1f0a000-0000-4000-8000-00000000e002', year: 2025, name: '7А англ. 2-топ', grade: 7, letter: 'А', parentExternalId: '7А',
    });
    // Teachers are known by a hash of their personal number, which is not kept.
    const teachers = ofType(records, 'person').filter((p) => p.role === 'staff');
    expect(teachers.map((t) => `${t.lastName} ${t.firstName}`).sort()).toEqual(['Жумабеков Айбек', 'Ким Елена', 'Токтогулова Гульнара']);
    expect(JSON.stringify(records)).not.toContain('21203198500123');

    expect(ofType(records, 'homework').map((h) => [h.lessonExternalId, h.text]).sort()).toEqual([
      ['si-7a-mon-1@2025-09-01', '№ 12, 14\nстр. 8'], ['si-7a1-mon-3@2025-09-01', 'Ex. 3 p. 10'], ['si-7a2-mon-3@2025-09-01', 'Workbook p. 4'],
    ]);

    const marks = ofType(records, 'mark');
    expect(marks.map((m) => [m.externalId, m.lessonExternalId, m.value, m.kind, m.scale, m.weight, m.workCategory, m.workTitle])).toEqual([
      ['m-a-1', 'si-7a-mon-1@2025-09-01', '5', 'mark', 5, 1, 'other', 'Оценка'],
      ['m-a-2', 'si-7a-mon-1@2025-09-01', 'зч', 'pass', undefined, 1, 'control', 'Контрольная'],
      ['m-a-3', 'si-7a-mon-2@2025-09-01', '4', 'mark', 5, 1, 'other', 'Тип: olympiad'],
      ['m-b-1', 'si-7a-mon-1@2025-09-01', '3', 'mark', 5, 1, 'homework', 'Домашняя работа'],
    ]);
    expect(byId(records, 'mark', 'm-a-1')).toMatchObject({ pupilExternalId: '7f1e2d3c-0001-4b5a-8c9d-000000000001', enteredAt: '2025-09-01T08:20:11+06:00' });
    expect(byId(records, 'mark', 'm-b-1')).toMatchObject({ enteredAt: '2025-09-01T15:00:00+06:00', modifiedAt: '2025-09-03T10:30:00+06:00' });

    expect(ofType(records, 'attendance').map((a) => [a.lessonExternalId, a.code, a.kind, a.lateMinutes, a.reason])).toEqual([
      ['si-7a1-mon-3@2025-09-01', 'sick', 'ill', undefined, 'ОРВИ, справка от врача'],
      ['si-7a-mon-1@2025-09-01', 'ОП', 'late', 7, undefined],
      ['si-7a-mon-2@2025-09-01', 'Н', 'unexcused', undefined, undefined],
    ]);

    // Three math entries for the first quarter (one repeated whole, one corrected later): the latest counts.
    expect(ofType(records, 'period_mark').map((p) => [p.subjectExternalId, p.periodExternalId, p.value, p.kind, p.average, p.setAt])).toEqual([
      ['Математика', '2025-q1', '5', 'mark', 4.55, '2025-10-31T09:15:00+06:00'],
      ['Кыргызский язык', '2025-q1', 'зч', 'pass', undefined, '2025-10-30T11:00:00+06:00'],
    ]);
  });

  it('logs in again with the stored password when the token is refused (401), and goes on', async () => {
    const auth = login(login(nock(HOST), PUPILS[0]!), PUPILS[1]!);
    const again = login(nock(HOST), PUPILS[0]!, 'login-asanov-again.json');
    const refused = as('asanov').get('/api/student/gradebook/list').query(true).reply(401, fixture('unauthorized.json'), json);
    const retried = as('asanov', 'tok-asanov-2').get('/api/student/gradebook/list').query(true).reply(200, fixture('gradebook-list-asanov.json'), json);
    const other = as('ivanova').get('/api/student/gradebook/list').query(true).reply(200, fixture('gradebook-list-ivanova.json'), json);
    const records = await read(context().ctx, ['schedule']);
    for (const scope of [auth, again, refused, retried, other]) expect(scope.pendingMocks()).toEqual([]);
    expect(ofType(records, 'lesson')).toHaveLength(4);
  });

  it('turns a 400 list of {errorMessage} into a clear permanent error', async () => {
    login(login(nock(HOST), PUPILS[0]!), PUPILS[1]!);
    const scope = as('asanov').get('/api/student/gradebook/list').query(true).reply(400, fixture('errors-400.json'), json);
    const failure = await read(context().ctx, ['schedule']).catch((e: unknown) => e);
    expect(scope.isDone()).toBe(true);
    expect(failure).toMatchObject({
      kind: 'permanent', status: 400,
      message: 'Kundoluk refused the request (HTTP 400): start_date: күндүн форматы туура эмес; end_date: неверный формат даты',
    });
  });

  it('names a refused login by the account\'s position, never by its login', async () => {
    nock(HOST).post('/api/auth/loginStudent').reply(401, fixture('login-refused.json'), json);
    const failure = await adapter.checkConnection(context().ctx).catch((e: unknown) => e);
    expect(failure).toMatchObject({ kind: 'auth', message: 'Kundoluk refused the login of account #1 of 2: wrong login or password' });
  });

  it('classifies an envelope with resultCode ≠ 0 as permanent and a proxy\'s HTML page as transient', () => {
    expect(classifyKundoluk({ status: 200, headers: {}, url: '', data: JSON.parse(fixture('result-code.json')) }))
      .toMatchObject({ kind: 'permanent', message: 'Kundoluk: Окуучу табылган жок (resultCode 3)' });
    expect(classifyKundoluk({ status: 502, headers: {}, url: '', data: fixture('bad-gateway.html') }))
      .toMatchObject({ kind: 'transient', message: 'Kundoluk answered with an HTML page «502 Bad Gateway» (HTTP 502)' });
    expect(classifyKundoluk({ status: 200, headers: {}, url: '', data: JSON.parse(fixture('qmarks-ivanova.json')) })).toBeUndefined();
  });
});

/**
 * The legacy web journal (platforms.md §4.2): the teacher's form login (302 + session cookie, or the
 * login page again with «Ысымыңыз же сыр сөзүңүз туура эмес!») is known; the pages `journal2` and
 * `journal2?class=` are of an assumed structure [I] (fixtures web-*.html).
 */
describe('Kundoluk web journal roster', () => {
  const FORM = { login: TEACHER.login, password: TEACHER.password, language: 'ru', type: 'default' };

  function signIn(scope: nock.Scope, session: string): nock.Scope {
    return scope.post('/account/login', FORM).reply(302, 'Found. Redirecting to /', { ...html, Location: '/', 'Set-Cookie': [`session=${session}; Path=/; HttpOnly`, 'lang=ru; Path=/'] });
  }

  function pages(session: string): nock.Scope {
    return nock(WEB, { reqheaders: { cookie: `session=${session}; lang=ru` } })
      .get('/journal2').reply(200, fixture('web-journal2.html'), html)
      .get('/journal2').query({ class: '1042' }).reply(200, fixture('web-journal2-class-1042.html'), html)
      .get('/journal2').query({ class: '1043' }).reply(200, fixture('web-journal2-class-1043.html'), html);
  }

  async function roster(ctx: ReturnType<typeof context>['ctx']): Promise<SourceBatch[]> {
    const batches: SourceBatch[] = [];
    for await (const batch of adapter.streams.roster!.read(ctx)) batches.push(batch);
    return batches;
  }

  it('signs the teacher in (302 + session cookie) and lists every pupil of the class journals, those without an account too', async () => {
    const auth = PUPILS.reduce((scope, p) => login(scope, p), nock(HOST));
    const web = signIn(nock(WEB), 's3ss10n-1');
    const read = pages('s3ss10n-1');
    const { ctx, log } = context({ teacher: true });
    const batches = await roster(ctx);
    for (const scope of [auth, web, read]) expect(scope.pendingMocks()).toEqual([]);
    for (const secret of [TEACHER.password, TEACHER.login, 's3ss10n-1', ...ACCOUNTS.map((a) => a.password)]) expect(log.text()).not.toContain(secret);

    // First the quarters and classes (7Б from the web journal only), and the web ids of the pupils who have accounts retired,
    // so that a person the journal knew by the web id is handed over to the account's id.
    const [first, second] = batches;
    expect(batches).toHaveLength(2);
    expect(ofType(first!.records, 'class').map((c) => c.externalId)).toEqual(['7А', '7Б']);
    expect(byId(first!.records, 'class', '7Б')).toEqual({ type: 'class', externalId: '7Б', year: 2025, name: '7Б', grade: 7, letter: 'Б' });
    expect(first!.goneIds).toEqual([{ type: 'person', externalId: 'web-51234' }, { type: 'person', externalId: 'web-51236' }]);

    const records = second!.records;
    const pupils = ofType(records, 'person').map((p) => [p.externalId, p.classExternalId, p.lastName, p.firstName, p.middleName]);
    expect(pupils).toEqual([
      // The accounts' pupils, by the API's id (Асанов and «ИВАНОВА Алина» of the web journal are they: same class and name).
      ['7f1e2d3c-0001-4b5a-8c9d-000000000001', '7А', 'Асанов', 'Бакыт', 'Нурланович'],
      ['7f1e2d3c-0002-4b5a-8c9d-000000000002', '7А', 'Иванова', 'Алина', 'Сергеевна'],
      // The pupils without an account, by the web journal's id: a Kyrgyz surname «… уулу», a patronymic «… кызы».
      ['web-51240', '7А', 'Бакытбек уулу', 'Нурсултан', undefined],
      ['web-51241', '7А', 'Жумабаева', 'Айпери', 'Нурбек кызы'],
      ['web-51250', '7А', 'Кадыров', 'Эрлан', 'Маратович'],
      ['web-52001', '7Б', 'Осмонова', 'Элиза', 'Таалайбековна'],
      ['web-52002', '7Б', 'Сыдыков', 'Адилет', undefined],
    ]);
    expect(byId(records, 'person', 'web-51240')).toEqual({ type: 'person', externalId: 'web-51240', role: 'pupil', lastName: 'Бакытбек уулу', firstName: 'Нурсултан', classExternalId: '7А' });
    expect(ofType(records, 'enrollment').map((e) => e.externalId)).toEqual([
      '7f1e2d3c-0001-4b5a-8c9d-000000000001@7А', '7f1e2d3c-0002-4b5a-8c9d-000000000002@7А', 'web-51240@7А', 'web-51241@7А', 'web-51250@7А', 'web-52001@7Б', 'web-52002@7Б',
    ]);
    // The row with an empty name cell is skipped; the link captioned with no class is not read.
    expect(log.text()).toContain('"skipped":1');
    expect(log.text()).toContain('"unreadable":1');
    expect(log.text()).toContain('"withAccount":2,"withoutAccount":5');
  });

  it('turns the login page\'s «Ысымыңыз же сыр сөзүңүз туура эмес!» into an auth error', async () => {
    PUPILS.reduce((scope, p) => login(scope, p), nock(HOST));
    const web = nock(WEB).post('/account/login', FORM).reply(200, fixture('web-login-refused.html'), html);
    const failure = await adapter.checkConnection(context({ teacher: true }).ctx).catch((e: unknown) => e);
    expect(web.isDone()).toBe(true);
    expect(failure).toMatchObject({ kind: 'auth', message: `the Kundoluk web journal refused the teacher's login: «${LOGIN_REFUSED}» (wrong login or password)` });
  });

  it('logs the teacher in again when a page sends it to the login form, and goes on', async () => {
    PUPILS.reduce((scope, p) => login(scope, p), nock(HOST));
    const web = signIn(signIn(nock(WEB), 'old'), 'new');
    const ended = nock(WEB, { reqheaders: { cookie: 'session=old; lang=ru' } }).get('/journal2').reply(302, '', { Location: '/account/login?ReturnUrl=%2Fjournal2' });
    const read = pages('new');
    const batches = await roster(context({ teacher: true }).ctx);
    for (const scope of [web, ended, read]) expect(scope.pendingMocks()).toEqual([]);
    expect(ofType(batches.flatMap((b) => b.records), 'person')).toHaveLength(7);
  });

  it('reads class captions and Kyrgyz names', () => {
    expect(['7А', '7 а', '7-А', '7 «Б» класс', '11A', '7 класс', 'Ийрим'].map(classOfCaption)).toEqual([
      { grade: 7, letter: 'А' }, { grade: 7, letter: 'А' }, { grade: 7, letter: 'А' }, { grade: 7, letter: 'Б' }, { grade: 11, letter: 'А' }, { grade: 7 }, undefined,
    ]);
    expect(splitName('Бакытбек уулу Нурсултан')).toEqual({ lastName: 'Бакытбек уулу', firstName: 'Нурсултан' });
    expect(splitName(' Жумабаева Айпери  Нурбек кызы ')).toEqual({ lastName: 'Жумабаева', firstName: 'Айпери', middleName: 'Нурбек кызы' });
    expect(splitName('Асанов')).toBeUndefined();
  });
});
