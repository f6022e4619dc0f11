import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import nock from 'nock';
import { classifyEduTatar } from '../../adapters/edutatar/client.js';
import { edutatar } from '../../adapters/edutatar/index.js';
import { cellTokens, parseJournal } from '../../adapters/edutatar/journal.js';
import type { AnyAdapter, StreamName } from '../../src/ports/adapter.js';
import type { SourceRecord } from '../../src/ports/records.js';
import { harnessContext, memoryLogger } from '../support/adapter-harness.js';

/**
 * edu.tatar.ru pages replayed with nock from fixtures written after platforms.md §3.2 (the form login
 * with the DNSID cookie, «Неверный логин или пароль.» / `.err_text`, «Личный кабинет», «Пользователь не
 * найден», the staff roster pages as thead/tbody tables, the class journal with month and day headers,
 * work-type codes with titles, `td.mark` / `td.term-mark` cells and `div.pages`), with Cyrillic text,
 * stray whitespace and non-breaking spaces, empty cells and an unknown code. The network is off.
 */
const HOST = 'https://edu.example.test';
const PASSWORD = 'Гимназия#139';
const ANONYMOUS = 'a0a0a0a0a0a0';
const SESSION = 'd15e55102025';
const RANGE = { from: '2025-09-01', to: '2025-10-20' };
const JOURNAL = '/school/journal/school_editor';
const fixture = (name: string) => readFileSync(new URL(`../fixtures/edutatar/${name}`, import.meta.url), 'utf8');
const html = { 'Content-Type': 'text/html; charset=utf-8' };
const adapter: AnyAdapter = edutatar;
const config = { baseUrl: HOST, login: 'zavuch139', password: PASSWORD, parallelPages: 1, requestsPerSecond: 50 };
const context = (logger = memoryLogger('debug'), overrides: Record<string, unknown> = {}) =>
  ({ ctx: harnessContext(adapter, { config: { ...config, ...overrides }, range: RANGE, logger: logger.logger }), log: logger });

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());
afterAll(() => nock.enableNetConnect());

const formOf = (body: unknown): Record<string, string> => (typeof body === 'string' ? Object.fromEntries(new URLSearchParams(body)) : (body as Record<string, string>));

interface LoginOptions {
  session?: string;
  form?: string;
  action?: string;
  fields?: [string, string];
  /** The answer to the form: a redirect to the cabinet (the usual), or a page straight away. */
  answer?: 'redirect' | string;
}

/** `GET /logon` (anonymous DNSID) → `POST` the form with that cookie and the Referer → the cabinet, under a new DNSID. */
function login(options: LoginOptions = {}): nock.Scope {
  const { session = SESSION, form = 'logon.html', action = '/logon', fields = ['main_login', 'main_password'], answer = 'redirect' } = options;
  const scope = nock(HOST)
    .get('/logon').reply(200, fixture(form), { ...html, 'Set-Cookie': `DNSID=${ANONYMOUS}; path=/; HttpOnly` })
    .post(action, (body) => {
      const sent = formOf(body);
      return sent[fields[0]] === 'zavuch139' && sent[fields[1]] === PASSWORD && Object.keys(sent).length === 2;
    })
    .matchHeader('cookie', `DNSID=${ANONYMOUS}`)
    .matchHeader('referer', `${HOST}/logon`)
    .matchHeader('content-type', 'application/x-www-form-urlencoded');
  if (answer !== 'redirect') return scope.reply(200, fixture(answer), { ...html, 'Set-Cookie': `DNSID=${session}; path=/; HttpOnly` });
  return scope.reply(302, '', { Location: '/user/anketa', 'Set-Cookie': `DNSID=${session}; path=/; HttpOnly` })
    .get('/user/anketa').matchHeader('cookie', `DNSID=${session}`).reply(200, fixture('cabinet.html'), html);
}

/** Pages of the logged-in session. */
function pages(session = SESSION): nock.Scope {
  return nock(HOST, { reqheaders: { cookie: `DNSID=${session}` } });
}

function school(scope: nock.Scope): nock.Scope {
  return scope
    .get('/school').reply(200, fixture('school.html'), html)
    .get('/school/academic_year/classes').reply(200, fixture('classes.html'), html)
    .get('/school/subject/index').reply(200, fixture('subjects.html'), html)
    .get(JOURNAL).query({ edu_class_id: '3001' }).reply(200, fixture('journal-math-p1.html'), html);
}

function journal(scope: nock.Scope, criteria: string, page: number, reply: () => [number, string, Record<string, string>]): nock.Scope {
  return scope.get(JOURNAL).query({ term: '1', criteria, edu_class_id: '3001', show_moved_pupils: '1', page: String(page) }).reply(() => reply());
}

const page = (name: string) => (): [number, string, Record<string, string>] => [200, fixture(name), html];

async function read(ctx: ReturnType<typeof context>['ctx'], streams: StreamName[]): Promise<SourceRecord[]> {
  const records: SourceRecord[] = [];
  for (const name of streams) for await (const batch of adapter.streams[name]!.read(ctx)) records.push(...batch.records);
  return records;
}

const byId = (records: SourceRecord[], type: string, id: string) => records.find((r) => r.type === type && r.externalId === id);
const MATH = '3001/7701';
const ALL: StreamName[] = ['roster', 'schedule', 'marks', 'attendance', 'periodMarks'];

describe('edu.tatar.ru fixtures', () => {
  it('logs in with the form and DNSID, reads the roster pages, and every page of each course\'s journal', async () => {
    const auth = login();
    const scope = school(pages()).get('/school/academic_year/pupils').query({ id: '3001' }).reply(200, fixture('pupils-3001.html'), html);
    journal(scope, '7701', 1, page('journal-math-p1.html'));
    journal(scope, '7701', 2, page('journal-math-p2.html'));
    journal(scope, '7702', 1, page('journal-eng-p1.html'));
    journal(scope, '7703', 1, page('journal-tat-p1.html'));
    const { ctx, log } = context();
    const records = await read(ctx, ALL);
    expect(auth.pendingMocks()).toEqual([]);
    expect(scope.pendingMocks()).toEqual([]);
    expect(log.text()).not.toContain(PASSWORD);
    expect(log.text()).not.toContain('Белова');

    expect(byId(records, 'class', '3001')).toEqual({ type: 'class', externalId: '3001', year: 2025, name: '7Б', grade: 7, letter: 'Б' });
    expect(byId(records, 'class', '3001/7702')).toEqual({ type: 'class', externalId: '3001/7702', year: 2025, name: '7Б англ. гр. 1', grade: 7, letter: 'Б', parentExternalId: '3001' });
    expect(records.filter((r) => r.type === 'subject').map((s) => [s.externalId, s.type === 'subject' && s.name])).toEqual([
      ['101', 'Математика'], ['102', 'Английский язык'], ['Родной (татарский) язык', 'Родной (татарский) язык'],
    ]);
    expect(byId(records, 'period', 'quarter-1')).toEqual({ type: 'period', externalId: 'quarter-1', year: 2025, kind: 'quarter', number: 1, title: '1 четверть', startDate: '2025-09-01', endDate: '2025-10-26' });
    expect(byId(records, 'period', 'year')).toMatchObject({ kind: 'year', title: '2025/2026 учебный год', startDate: '2025-09-01', endDate: '2026-05-26' });
    expect(byId(records, 'person', '51234')).toEqual({
      type: 'person', externalId: '51234', role: 'pupil', lastName: 'Белова', firstName: 'Анна', middleName: 'Сергеевна', sex: 'f', birthDate: '2012-03-14', classExternalId: '3001',
    });
    expect(byId(records, 'person', '51235')).toMatchObject({ lastName: 'Ёлкин', firstName: 'Артём', sex: 'm', birthDate: '2011-11-02' });
    expect(byId(records, 'person', '51235')).not.toHaveProperty('middleName');
    expect(byId(records, 'enrollment', '51236@3001')).toMatchObject({ startDate: '2025-09-01', endDate: '2025-10-15' });

    expect(records.filter((r) => r.type === 'lesson')).toEqual([
      { type: 'lesson', externalId: `${MATH}@2025-09-01#2`, classExternalId: '3001', subjectExternalId: '101', date: '2025-09-01', slot: 2, topic: 'Повторение. Действия с дробями', homework: '№ 12, 14' },
      { type: 'lesson', externalId: `${MATH}@2025-09-01#3`, classExternalId: '3001', subjectExternalId: '101', date: '2025-09-01', slot: 3, topic: 'Решение задач на движение', homework: '№ 15' },
      { type: 'lesson', externalId: `${MATH}@2025-09-03#1`, classExternalId: '3001', subjectExternalId: '101', date: '2025-09-03', slot: 1, topic: 'Входная контрольная работа' },
      { type: 'lesson', externalId: `${MATH}@2025-09-05#4`, classExternalId: '3001', subjectExternalId: '101', date: '2025-09-05', slot: 4, topic: 'Работа над ошибками', homework: '№ 20' },
      // Page 2; its 24 October lesson is past the range.
      { type: 'lesson', externalId: `${MATH}@2025-09-08#1`, classExternalId: '3001', subjectExternalId: '101', date: '2025-09-08', slot: 1, topic: 'Сложение дробей', homework: '№ 31' },
      { type: 'lesson', externalId: '3001/7702@2025-09-02#4', classExternalId: '3001/7702', subjectExternalId: '102', date: '2025-09-02', slot: 4, topic: 'Present Simple', homework: 'Workbook, p. 4' },
    ]);

    const marks = records.filter((r) => r.type === 'mark');
    expect(marks.map((m) => [m.externalId.split('@')[0], m.lessonExternalId, m.value, m.kind, m.weight, m.workCategory, m.workTitle])).toEqual([
      ['51234', `${MATH}@2025-09-01#2`, '5', 'mark', 1, 'oral', undefined],
      ['51234', `${MATH}@2025-09-01#3`, '4', 'mark', 1, 'oral', undefined],
      ['51234', `${MATH}@2025-09-05#4`, '5-', 'mark', 1, 'other', 'Работа над ошибками'],
      ['51234', `${MATH}@2025-09-08#1`, '4', 'mark', 1.5, 'written', 'Самостоятельная работа'],
      ['51234', `${MATH}@2025-09-08#1`, '5', 'mark', 1.5, 'written', 'Самостоятельная работа'],
      ['51235', `${MATH}@2025-09-01#3`, '3', 'mark', 1, 'oral', undefined],
      ['51235', `${MATH}@2025-09-03#1`, '4', 'mark', 2, 'control', 'Контрольная работа'],
      ['51236', `${MATH}@2025-09-01#2`, '4', 'mark', 1, 'oral', undefined],
      ['51236', `${MATH}@2025-09-03#1`, '3', 'mark', 2, 'control', 'Контрольная работа'],
      ['51234', '3001/7702@2025-09-02#4', '4+', 'mark', 1, 'oral', undefined],
      ['51236', '3001/7702@2025-09-02#4', '5', 'mark', 1, 'oral', undefined],
    ]);
    expect(byId(records, 'mark', `51234@${MATH}@2025-09-08#1#2`)).toMatchObject({ pupilExternalId: '51234', scale: 5 });

    expect(records.filter((r) => r.type === 'attendance').map((a) => a.type === 'attendance' && [a.pupilExternalId, a.lessonExternalId, a.code, a.kind])).toEqual([
      ['51234', `${MATH}@2025-09-03#1`, 'н', 'unexcused'],
      ['51235', `${MATH}@2025-09-03#1`, 'оп', 'late'],
      ['51235', `${MATH}@2025-09-05#4`, 'б', 'ill'],
    ]);
    expect(records.filter((r) => r.type === 'period_mark')).toEqual([
      { type: 'period_mark', externalId: '51234/quarter-1/101', pupilExternalId: '51234', subjectExternalId: '101', periodExternalId: 'quarter-1', value: '4', kind: 'mark', scale: 5, average: 4.33 },
      { type: 'period_mark', externalId: '51235/quarter-1/101', pupilExternalId: '51235', subjectExternalId: '101', periodExternalId: 'quarter-1', value: '4', kind: 'mark', scale: 5, average: 3.5 },
      { type: 'period_mark', externalId: '51234/quarter-1/102', pupilExternalId: '51234', subjectExternalId: '102', periodExternalId: 'quarter-1', value: '4', kind: 'mark', scale: 5, average: 4 },
      { type: 'period_mark', externalId: '51234/quarter-1/Родной (татарский) язык', pupilExternalId: '51234', subjectExternalId: 'Родной (татарский) язык', periodExternalId: 'quarter-1', value: 'осв', kind: 'exempt' },
    ]);
  });

  it('logs in again once when a page says «Пользователь не найден», and reads that page again', async () => {
    const first = login();
    const scope = school(pages());
    journal(scope, '7701', 1, page('journal-math-p1.html'));
    journal(scope, '7701', 2, page('session-gone.html'));
    const second = login({ session: 'f00d', answer: 'cabinet.html' });
    const renewed = pages('f00d');
    journal(renewed, '7701', 2, page('journal-math-p2.html'));
    journal(renewed, '7702', 1, page('journal-eng-p1.html'));
    journal(renewed, '7703', 1, page('journal-tat-p1.html'));
    const { ctx } = context();
    const records = await read(ctx, ['schedule', 'marks']);
    expect(first.isDone() && second.isDone() && scope.isDone() && renewed.isDone()).toBe(true);
    expect(records.filter((r) => r.type === 'lesson')).toHaveLength(6);
    expect(records.filter((r) => r.type === 'mark')).toHaveLength(11);
  });

  it('logs in through the later form (main_login2 / main_password2) at the form\'s own action', async () => {
    const auth = login({ form: 'logon2.html', action: '/login/', fields: ['main_login2', 'main_password2'] });
    const scope = pages().get('/school').reply(200, fixture('school.html'), html);
    await expect(adapter.checkConnection(context().ctx)).resolves.toBeUndefined();
    expect(auth.isDone() && scope.isDone()).toBe(true);
  });

  it('reports a refused login as auth and a second factor as a configuration error', async () => {
    login({ answer: 'login-failed.html' });
    await expect(adapter.checkConnection(context().ctx)).rejects.toMatchObject({ kind: 'auth', message: expect.stringContaining('Неверный логин или пароль.') });
    login({ answer: 'two-factor.html' });
    await expect(adapter.checkConnection(context().ctx)).rejects.toMatchObject({ kind: 'permanent', message: expect.stringMatching(/turn two-factor authentication off/) });
  });

  it('classifies «Пользователь не найден» and a redirect to the login page as an ended session', () => {
    expect(classifyEduTatar({ status: 200, headers: {}, url: `${HOST}/school`, data: fixture('session-gone.html') })).toMatchObject({ kind: 'auth' });
    expect(classifyEduTatar({ status: 302, headers: { location: '/logon' }, url: `${HOST}/school`, data: '' })).toMatchObject({ kind: 'auth' });
    expect(classifyEduTatar({ status: 200, headers: {}, url: `${HOST}/school`, data: fixture('school.html') })).toBeUndefined();
  });

  it('parses a last term\'s page: the year column, a lesson without its number, a pass', () => {
    const journal = parseJournal(fixture('journal-year.html'), 2025);
    expect(journal.finals).toEqual(['term', 'year']);
    expect(journal.lessons).toEqual([
      { date: '2026-05-20', code: 'З', codeTitle: 'Зачёт', topic: 'Повторение', homework: '№ 501', slot: 2 },
      { date: '2026-05-20', code: '', topic: 'Повторение' },
    ]);
    expect(journal.rows).toHaveLength(1);
    expect(journal.rows[0]).toMatchObject({ pupilId: '51234', average: '4,80', finals: ['5', '5'] });
    expect(journal.rows[0]!.cells.map(cellTokens)).toEqual([['зч'], []]);
    expect(journal.terms.map((t) => t.value)).toEqual(['1', '2', '4']);
    expect(journal.pages).toEqual([]);
  });
});
