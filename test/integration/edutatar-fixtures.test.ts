import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import nock from 'nock';
import { edutatar } from '../../adapters/edutatar/index.js';
import { AdapterError, type AnyAdapter, type StreamName } from '../../src/ports/adapter.js';
import type { SourceRecord } from '../../src/ports/records.js';
import { harnessContext, memoryLogger } from '../support/adapter-harness.js';

/**
 * edu.tatar.ru pages replayed with nock from test/fixtures/edutatar (their README says where each
 * shape comes from): the login at `/login/` with `main_login2` and its redirects, the school, the
 * classes with «(Свойства класса)» links, pupils as `addUser(…)` calls, journal pages whose rows carry
 * no pupil link (`td.fio`, matched by name), `p.pages` and `div.pages`, numbered terms without dates
 * (dated by the configuration), the timetable that places the lessons, and malformed pages failing as
 * `permanent` with the page and the element named. The network is off.
 */
const HOST = 'https://edu.example.test';
const PASSWORD = 'Гимназия#139';
const ANONYMOUS = 'a'.repeat(40);
const SESSION = '0123456789abcdef0123456789abcdef01234567';
const RANGE = { from: '2025-09-01', to: '2025-10-20' };
const JOURNAL = '/school/journal/school_editor';
const TERMS = {
  quarters: [{ from: '09-01', to: '10-24' }, { from: '11-05', to: '12-26' }, { from: '01-12', to: '03-27' }, { from: '04-06', to: '05-26' }],
  halfYears: [{ from: '09-01', to: '12-26' }, { from: '01-12', to: '05-26' }],
};
const fixture = (name: string) => readFileSync(new URL(`../fixtures/edutatar/${name}`, import.meta.url), 'utf8');
const html = { 'Content-Type': 'text/html; charset=UTF-8' };
const adapter: AnyAdapter = edutatar;
const config = { baseUrl: HOST, login: '1600000077', password: PASSWORD, terms: TERMS, parallelPages: 1, requestsPerSecond: 50 };
const context = (logger = memoryLogger('debug')) => ({ ctx: harnessContext(adapter, { config, range: RANGE, logger: logger.logger }), log: logger });
const cookie = (name: string, value: string) => `${name}=${value}; path=/; samesite=Lax; domain=.edu.example.test; secure; httponly`;

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());
afterAll(() => nock.enableNetConnect());

const formOf = (body: unknown): Record<string, string> => (typeof body === 'string' ? Object.fromEntries(new URLSearchParams(body)) : (body as Record<string, string>));

/**
 * `GET /login/` → `POST /logon` (main_login2, the form's cookie and Referer) → 302 `/start/logon-process`
 * → 302 `/user/anketa`, which is not fetched (the cabinet carries the account's mail password).
 */
function login(): nock.Scope {
  return nock(HOST)
    .get('/login/').reply(200, fixture('login.html'), { ...html, 'Set-Cookie': cookie('DNSID', ANONYMOUS) })
    .post('/logon', (body) => {
      const sent = formOf(body);
      return sent.main_login2 === '1600000077' && sent.main_password2 === PASSWORD && Object.keys(sent).length === 2;
    })
    .matchHeader('cookie', `DNSID=${ANONYMOUS}`)
    .matchHeader('referer', `${HOST}/login/`)
    .matchHeader('content-type', 'application/x-www-form-urlencoded')
    .reply(302, '', { Location: '/start/logon-process', 'Set-Cookie': [cookie('DNSID', SESSION), cookie('HLP', '1600077%7C%242y%2410%24tok')] })
    .get('/start/logon-process').matchHeader('cookie', /DNSID=0123456789abcdef.*HLP=/).reply(302, '', { Location: `${HOST}/user/anketa` });
}

/** Pages of the logged-in session. */
const pages = () => nock(HOST, { reqheaders: { cookie: (value) => value.includes(`DNSID=${SESSION}`) } });
const page = (name: string) => [200, fixture(name), html] as const;

function journal(scope: nock.Scope, classId: string, criteria: string, n: number, name: string): nock.Scope {
  return scope.get(JOURNAL).query({ term: '1', criteria, edu_class_id: classId, show_moved_pupils: '1', page: String(n) }).reply(...page(name));
}

function school(scope: nock.Scope): nock.Scope {
  return scope
    .get('/school').reply(...page('school.html'))
    .get('/school/academic_year/classes').reply(...page('classes.html'))
    .get(JOURNAL).query({ edu_class_id: '987654' }).reply(...page('journal-987654-math-p1.html'))
    .get(JOURNAL).query({ edu_class_id: '987655' }).reply(...page('journal-987655-phys-p1.html'));
}

async function read(ctx: ReturnType<typeof context>['ctx'], streams: StreamName[]): Promise<SourceRecord[]> {
  const records: SourceRecord[] = [];
  for (const name of streams) for await (const batch of adapter.streams[name]!.read(ctx)) records.push(...batch.records);
  return records;
}

const ALL: StreamName[] = ['roster', 'schedule', 'marks', 'attendance', 'periodMarks'];
const ofType = <T extends SourceRecord['type']>(records: SourceRecord[], type: T) => records.filter((r): r is Extract<SourceRecord, { type: T }> => r.type === type);
const MATH = '987654/7701';
const ENG = '987654/7702';

describe('edu.tatar.ru fixtures', () => {
  it('logs in through the redirects, reads the roster pages, every page of each course\'s journal and the timetables', async () => {
    const auth = login();
    const scope = school(pages())
      .get('/school/academic_year/pupils').query({ id: '987654' }).reply(...page('pupils-987654.html'))
      .get('/school/academic_year/pupils').query({ id: '987655' }).reply(...page('pupils-987655.html'))
      .get('/school/schedule/lessons').query({ edu_class_id: '987654', fdate: '1756684800', term_number: '1' }).reply(...page('timetable-987654.html'))
      .get('/school/schedule/lessons').query({ edu_class_id: '987655', fdate: '1756684800', term_number: '1' }).reply(...page('timetable-987655.html'));
    journal(scope, '987654', '7701', 1, 'journal-987654-math-p1.html');
    journal(scope, '987654', '7701', 2, 'journal-987654-math-p2.html');
    journal(scope, '987654', '7702', 1, 'journal-987654-eng-p1.html');
    journal(scope, '987654', '7703', 1, 'journal-987654-tat-p1.html');
    journal(scope, '987655', '8801', 1, 'journal-987655-phys-p1.html');
    const { ctx, log } = context();
    const records = await read(ctx, ALL);
    expect(auth.pendingMocks()).toEqual([]);
    expect(scope.pendingMocks()).toEqual([]);

    expect(ofType(records, 'class')).toEqual([
      { type: 'class', externalId: '987654', year: 2025, name: '7Б', grade: 7, letter: 'Б' },
      { type: 'class', externalId: '987654/7702', year: 2025, name: '7Б англ. гр. 1', grade: 7, letter: 'Б', parentExternalId: '987654' },
      { type: 'class', externalId: '987655', year: 2025, name: '10А', grade: 10, letter: 'А' },
    ]);
    expect(ofType(records, 'subject').map((s) => s.externalId)).toEqual(['Математика', 'Английский язык', 'Родной (татарский) язык', 'Физика']);
    expect(ofType(records, 'period').map((p) => [p.externalId, p.kind, p.number, p.title, p.startDate, p.endDate])).toEqual([
      ['2025/quarter-1', 'quarter', 1, '1 четверть', '2025-09-01', '2025-10-24'], ['2025/quarter-2', 'quarter', 2, '2 четверть', '2025-11-05', '2025-12-26'],
      ['2025/quarter-3', 'quarter', 3, '3 четверть', '2026-01-12', '2026-03-27'], ['2025/quarter-4', 'quarter', 4, '4 четверть', '2026-04-06', '2026-05-26'],
      ['2025/half_year-1', 'half_year', 1, '1 полугодие', '2025-09-01', '2025-12-26'], ['2025/half_year-2', 'half_year', 2, '2 полугодие', '2026-01-12', '2026-05-26'],
    ]);
    const pupils = ofType(records, 'person').filter((p) => p.role === 'pupil');
    expect(pupils.map((p) => [p.externalId, p.lastName, p.firstName, p.middleName, p.classExternalId])).toEqual([
      ['51234', 'Белова', 'Анна', 'Сергеевна', '987654'], ['51235', 'Ёлкин', 'Артём', 'Ильдарович', '987654'],
      ['51236', 'Гарипова', 'Алсу', 'Ринатовна', '987654'], ['51237', 'Хабибуллин', 'Айдар', 'Маратович', '987654'],
      ['51238', 'Алиев', 'Рамиль', 'Эльдар оглы', '987654'], ['51239', 'Гыйззәтуллина', 'Әлфия', undefined, '987654'],
      ['61001', 'Закиров', 'Ильнур', 'Рустемович', '987655'], ['61002', 'Закиров', 'Ильнур', 'Рустемович', '987655'], ['61003', 'Мухаметова', 'Диляра', 'Айдаровна', '987655'],
    ]);
    // No birth date, sex or enrolment dates: the pages show none.
    expect(pupils.every((p) => p.birthDate === undefined && p.sex === undefined)).toBe(true);
    expect(ofType(records, 'enrollment')[0]).toEqual({ type: 'enrollment', externalId: '51234@987654', pupilExternalId: '51234', classExternalId: '987654' });

    const staff = ofType(records, 'person').filter((p) => p.role === 'staff');
    const idOf = (last: string) => staff.find((p) => p.lastName === last)!.externalId;
    expect([...new Set(staff.map((p) => `${p.lastName} ${p.firstName} ${p.middleName}`))]).toEqual(['Хасанова Гульнара Ильдаровна', 'Закирова Гульнара Рифатовна', 'Сафин Ильдар Рашитович']);
    expect(staff.every((p) => /^staff:[0-9a-f]{16}$/.test(p.externalId))).toBe(true);
    expect(ofType(records, 'staff_role')).toEqual([{ type: 'staff_role', externalId: 'class_teacher@987654', personExternalId: idOf('Хасанова'), role: 'class_teacher', classExternalId: '987654' }]);
    expect(ofType(records, 'teaching_assignment').map((t) => [t.teacherExternalId, t.classExternalId, t.subjectExternalId])).toEqual([
      [idOf('Закирова'), '987654', 'Математика'], [idOf('Хасанова'), ENG, 'Английский язык'], [idOf('Сафин'), '987655', 'Физика'],
    ]);

    // Slots from the timetable (Monday's two mathematics rows are 2 and 3); physics is not on Tuesday's: the first free slot.
    expect(ofType(records, 'lesson').map((l) => [l.externalId, l.classExternalId, l.subjectExternalId, l.date, l.slot, l.topic, l.homework, l.teacherExternalId])).toEqual([
      [`${MATH}@2025-09-01#1`, '987654', 'Математика', '2025-09-01', 2, 'Повторение. Действия с дробями', '№ 12, 14', idOf('Закирова')],
      [`${MATH}@2025-09-01#2`, '987654', 'Математика', '2025-09-01', 3, 'Решение задач на движение', '№ 15', idOf('Закирова')],
      [`${MATH}@2025-09-03#1`, '987654', 'Математика', '2025-09-03', 1, 'Входная контрольная работа', undefined, idOf('Закирова')],
      [`${MATH}@2025-09-05#1`, '987654', 'Математика', '2025-09-05', 4, 'Работа над ошибками', '№ 20', idOf('Закирова')],
      [`${MATH}@2025-09-08#1`, '987654', 'Математика', '2025-09-08', 2, 'Сложение дробей', '№ 31', idOf('Закирова')],
      [`${ENG}@2025-09-02#1`, ENG, 'Английский язык', '2025-09-02', 4, 'Present Simple', 'Workbook, p. 4', idOf('Хасанова')],
      ['987655/8801@2025-09-02#1', '987655', 'Физика', '2025-09-02', 1, 'Равноускоренное движение', '§ 4', idOf('Сафин')],
    ]);

    expect(ofType(records, 'mark').map((m) => [m.pupilExternalId, m.lessonExternalId, m.value, m.kind, m.weight, m.workCategory, m.workTitle])).toEqual([
      ['51234', `${MATH}@2025-09-01#1`, '5', 'mark', 1, 'oral', undefined],
      ['51234', `${MATH}@2025-09-01#2`, '4', 'mark', 1, 'oral', undefined],
      ['51234', `${MATH}@2025-09-05#1`, '5-', 'mark', 1, 'other', 'Работа над ошибками'],
      ['51234', `${MATH}@2025-09-08#1`, '4', 'mark', 1.5, 'written', 'Самостоятельная работа'],
      ['51234', `${MATH}@2025-09-08#1`, '5', 'mark', 1.5, 'written', 'Самостоятельная работа'],
      ['51235', `${MATH}@2025-09-01#2`, '3', 'mark', 1, 'oral', undefined],
      ['51235', `${MATH}@2025-09-03#1`, '4', 'mark', 2, 'control', 'Контрольная работа'],
      ['51236', `${MATH}@2025-09-01#1`, '4', 'mark', 1, 'oral', undefined],
      ['51236', `${MATH}@2025-09-03#1`, '3', 'mark', 2, 'control', 'Контрольная работа'],
      ['51237', `${MATH}@2025-09-03#1`, '2/5', 'mark', 2, 'control', 'Контрольная работа'],
      ['51237', `${MATH}@2025-09-08#1`, 'з', 'pass', 1.5, 'written', 'Самостоятельная работа'],
      ['51234', `${ENG}@2025-09-02#1`, '4+', 'mark', 1, 'other', 'ВПР'],
      ['51236', `${ENG}@2025-09-02#1`, '5', 'mark', 1, 'other', 'ВПР'],
      ['61003', '987655/8801@2025-09-02#1', '4', 'mark', 1.5, 'lab', 'Лабораторная работа'],
    ]);
    expect(ofType(records, 'mark').find((m) => m.externalId === `51234@${MATH}@2025-09-08#1#2`)).toMatchObject({ value: '5', scale: 5 });
    expect(ofType(records, 'attendance').map((a) => [a.pupilExternalId, a.lessonExternalId, a.code, a.kind])).toEqual([
      ['51234', `${MATH}@2025-09-03#1`, 'н', 'unexcused'], ['51235', `${MATH}@2025-09-03#1`, 'оп', 'late'], ['51235', `${MATH}@2025-09-05#1`, 'б', 'ill'],
    ]);
    expect(ofType(records, 'period_mark').map((p) => [p.externalId, p.value, p.kind, p.average])).toEqual([
      ['51234/2025/quarter-1/Математика', '4', 'mark', 4.33], ['51235/2025/quarter-1/Математика', '4', 'mark', 3.5], ['51237/2025/quarter-1/Математика', 'н/а', 'not_assessed', 3.5],
    ]);

    // Rows that fit no pupil (row 5) or two (10А's namesakes) are skipped with their numbers only; no name, no password in the log.
    const text = log.text();
    expect(text).toMatch(/"classId":"987654","criteria":"7701","term":"1","rows":\[5\].*match no pupil or several/);
    expect(text).toMatch(/"classId":"987655","criteria":"8801","term":"1","rows":\[1,2\]/);
    expect(text).toMatch(/"classId":"987655","term":"1","lessons":1.*timetable does not place/);
    for (const secret of [PASSWORD, 'Новикова', 'Закиров', 'Белова', 'Хасанова']) expect(text).not.toContain(secret);
  });

  it('sends a teacher who leads two classes as one person, with a class-teacher role per class', async () => {
    login();
    const classes = fixture('classes.html').replace(/(<td>А<\/td>\s*)<td><\/td>/, '$1<td>Хасанова Гульнара Ильдаровна</td>');
    pages().get('/school').reply(...page('school.html')).get('/school/academic_year/classes').reply(200, classes, html)
      .get(JOURNAL).query({ edu_class_id: '987654' }).reply(...page('journal-987654-math-p1.html'))
      .get(JOURNAL).query({ edu_class_id: '987655' }).reply(...page('journal-987655-phys-p1.html'))
      .get('/school/academic_year/pupils').query({ id: '987654' }).reply(...page('pupils-987654.html'))
      .get('/school/academic_year/pupils').query({ id: '987655' }).reply(...page('pupils-987655.html'));
    const records = await read(context().ctx, ['roster']);
    const staff = ofType(records, 'person').filter((p) => p.role === 'staff');
    expect(staff.map((p) => p.lastName)).toEqual(['Хасанова']);
    expect(ofType(records, 'staff_role').map((r) => [r.personExternalId, r.classExternalId])).toEqual([[staff[0]!.externalId, '987654'], [staff[0]!.externalId, '987655']]);
  });

  it('refuses a term kind the configured calendar cannot date (trimesters: no evidence)', async () => {
    login();
    const trimesters = fixture('journal-987654-math-p1.html').replace(/(\d)&nbsp;четверть/g, '$1&nbsp;триместр');
    pages().get('/school').reply(...page('school.html')).get('/school/academic_year/classes').reply(...page('classes.html'))
      .get(JOURNAL).query({ edu_class_id: '987654' }).reply(200, trimesters, html)
      .get(JOURNAL).query({ edu_class_id: '987655' }).reply(...page('journal-987655-phys-p1.html'));
    const failure = await read(context().ctx, ['roster']).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(AdapterError);
    expect(failure).toMatchObject({ kind: 'permanent', message: expect.stringMatching(/^edu\.tatar\.ru GET \/school\/journal\/school_editor: select#term: «1 триместр».*configured calendar/) });
  });
});

/** [what, the page served instead of a fixture, the message expected] */
const MALFORMED: Array<[string, string, string, RegExp]> = [
  ['a journal without its table and selectors', JOURNAL, '<html><body><div class="extra"><a class="cabinet">Личный кабинет</a></div><p>Журнал</p></body></html>',
    /^edu\.tatar\.ru GET \/school\/journal\/school_editor: table «Ученики»: not found/],
  ['a journal row with fewer mark cells than lessons', JOURNAL, fixture('journal-987654-math-p1.html').replace('<td class="mark">5-</td><td class="mark">4,33</td>', ''),
    /^edu\.tatar\.ru GET \/school\/journal\/school_editor: tbody tr\[0\]: 3 td\.mark cells for 4 lessons/],
  ['a classes page without class links', '/school/academic_year/classes', fixture('classes.html').replace(/<a [^>]*>[^<]*<\/a>/g, ''),
    /^edu\.tatar\.ru GET \/school\/academic_year\/classes: table#dataTable tr: no class row/],
  ['a school page without the year', '/school', fixture('school.html').replace('2025/2026', 'текущий'),
    /^edu\.tatar\.ru GET \/school: h3: no school year .*administrator/],
];

describe('edu.tatar.ru malformed pages', () => {
  it.each(MALFORMED)('fail %s as permanent, naming the page and the element', async (_what, path, body, message) => {
    login();
    const scope = pages();
    const served = (p: string, name: string) => (p === path ? [200, body, html] as const : page(name));
    scope.get('/school').reply(...served('/school', 'school.html'))
      .get('/school/academic_year/classes').reply(...served('/school/academic_year/classes', 'classes.html'))
      .get(JOURNAL).query(true).reply(...served(JOURNAL, 'journal-987654-math-p1.html')).persist();
    const failure = await read(context().ctx, ['roster']).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(AdapterError);
    expect(failure).toMatchObject({ kind: 'permanent', message: expect.stringMatching(message) });
  });

  it('fail a pupils page that lists its pupils in another shape', async () => {
    login();
    school(pages()).get('/school/academic_year/pupils').query(true).reply(200, '<html><body><table class="table"><tbody><tr><td>1</td><td>Белова Анна</td></tr></tbody></table></body></html>', html);
    const failure = await read(context().ctx, ['roster']).catch((e: unknown) => e);
    expect(failure).toMatchObject({ kind: 'permanent', message: 'edu.tatar.ru GET /school/academic_year/pupils: addUser(…): not found: the page lists its pupils in a shape the adapter does not know' });
  });
});
