import { beforeAll, describe, expect, it } from '@jest/globals';
import type nock from 'nock';
import type { SourceRecord } from '../../src/ports/records.js';
import { ACCOUNTS, as, fixture, json, kundolukOffline, loginBoth, ofType, PUPILS, read } from './kundoluk-offline.js';

/**
 * Kundoluk answers replayed with nock. No captured answer is public: the fixtures are reconstructed from
 * the clients' models (test/fixtures/kundoluk/README.md) — the login answer in both spellings, the
 * envelope and a bare list, lessons dated by year/month/day or by `lessonDay` with and without an offset,
 * `group` 0 with a null or zero `groupId`, subgroups «1 группа», an `isTwelve` lesson, entries of type
 * `quarter`, `absent_type` absent / late / present, `qmarks` with duplicates, `customMark` and the year
 * mark (quarter 5). The network is off; the school is in Bishkek (UTC+6).
 */
const ASANOV = '7b2d4e10-0000-4000-8000-000000000001';
const IVANOVA = '7b2d4e10-0000-4000-8000-000000000002';
const lessonId = (n: number, date = '2025-09-01') => `a1b2c3d4-0000-4000-8000-0000000000${n}@${date}`;

const context = kundolukOffline();

function everything(name: string): nock.Scope {
  return as(name)
    .get('/api/student/gradebook/list').query({ start_date: '2025-09-01', end_date: '2025-09-05' }).reply(200, fixture(`gradebook-list-${name}.json`), json)
    .get('/api/student/homework/list').query({ term_no: '1' }).reply(200, fixture(`homework-1-${name}.json`), json)
    .get('/api/student/gradebook/term/1').query({ absent: '0' }).reply(200, fixture(`term-1-marks-${name}.json`), json)
    .get('/api/student/gradebook/term/1').query({ absent: '1' }).reply(200, fixture(`term-1-absent-${name}.json`), json)
    .get('/api/student/qmarks/all').reply(200, fixture(`qmarks-${name}.json`), json);
}

const byId = (records: SourceRecord[], type: string, id: string) => records.find((r) => r.type === type && r.externalId === id);

describe('Kundoluk fixtures', () => {
  let records: SourceRecord[];
  let logText: string;

  beforeAll(async () => {
    const auth = loginBoth();
    const scopes = PUPILS.map((name) => everything(name));
    const { ctx, log } = context();
    records = await read(ctx, ['roster', 'schedule', 'homework', 'marks', 'attendance', 'periodMarks']);
    expect(auth.pendingMocks()).toEqual([]);
    for (const scope of scopes) expect(scope.pendingMocks()).toEqual([]);
    logText = log.text();
  });

  it('signs in as each pupil, reads both spellings of the account, and never logs a login or password', () => {
    for (const secret of [...ACCOUNTS.map((a) => a.password), ...ACCOUNTS.map((a) => a.username)]) expect(logText).not.toContain(secret);
    expect(byId(records, 'class', '7А')).toEqual({ type: 'class', externalId: '7А', year: 2025, name: '7А', grade: 7, letter: 'А' });
    expect(byId(records, 'person', ASANOV)).toEqual({
      type: 'person', externalId: ASANOV, role: 'pupil', lastName: 'Асанов', firstName: 'Бакыт', middleName: 'Нурланович', birthDate: '2012-05-14', classExternalId: '7А',
    });
    // react-kundoluk's spelling: lastName / firstName / middleName / birthDate.
    expect(byId(records, 'person', IVANOVA)).toEqual({
      type: 'person', externalId: IVANOVA, role: 'pupil', lastName: 'Иванова', firstName: 'Алина', middleName: 'Сергеевна', birthDate: '2012-07-15', classExternalId: '7А',
    });
  });

  it('writes the quarters and the school year as periods', () => {
    expect(ofType(records, 'period').map((p) => [p.externalId, p.kind, p.number, p.title, p.startDate, p.endDate])).toEqual([
      ['2025-q1', 'quarter', 1, '1 четверть', '2025-09-01', '2025-11-04'], ['2025-q2', 'quarter', 2, '2 четверть', '2025-11-10', '2025-12-30'],
      ['2025-q3', 'quarter', 3, '3 четверть', '2026-01-12', '2026-03-05'], ['2025-q4', 'quarter', 4, '4 четверть', '2026-03-09', '2026-05-31'],
      ['2025-y', 'year', 1, '2025/2026 учебный год', '2025-09-01', '2026-05-31'],
    ]);
  });

  it('dates lessons by year/month/day, else by lessonDay in the school\'s zone, and keeps each once', () => {
    const lessons = ofType(records, 'lesson');
    // 15 has no year/month/day: «2025-09-01T18:00:00Z» is 2 September in Bishkek; Ivanova's copy says «2025-09-02T00:00:00».
    // The club lesson (isKrujok) and Saturday's (outside the range) are not read.
    expect(lessons.map((l) => l.externalId).sort()).toEqual([lessonId(10), lessonId(11), lessonId(12), lessonId(13), lessonId(14), lessonId(15, '2025-09-02')]);
    expect(byId(records, 'lesson', lessonId(10))).toEqual({
      type: 'lesson', externalId: lessonId(10), classExternalId: '7А', subjectExternalId: 'Математика', date: '2025-09-01', slot: 1,
      startsAt: '2025-09-01T08:00:00+06:00', endsAt: '2025-09-01T08:45:00+06:00', teacherExternalId: expect.stringMatching(/^t-[0-9a-f]{20}$/),
      topic: 'Натуралдык сандар / Натуральные числа',
    });
    expect(byId(records, 'lesson', lessonId(15, '2025-09-02'))).toMatchObject({ date: '2025-09-02', startsAt: '2025-09-02T08:00:00+06:00' });
  });

  it('makes subgroups only of split lessons (group > 0 and a real groupId), named with the subject', () => {
    // `group` 0 with `groupId` null (math) or the zero UUID (Kyrgyz) is the class's.
    expect(byId(records, 'lesson', lessonId(11))).toMatchObject({ classExternalId: '7А' });
    expect(byId(records, 'lesson', lessonId(12))).toMatchObject({ classExternalId: '7А/e1f0a000-0000-4000-8000-00000000e001', subjectExternalId: 'Английский язык' });
    expect(ofType(records, 'class').filter((c) => c.parentExternalId)).toEqual([
      { type: 'class', externalId: '7А/e1f0a000-0000-4000-8000-00000000e001', year: 2025, name: '7А Английский язык 1 группа', grade: 7, letter: 'А', parentExternalId: '7А' },
      { type: 'class', externalId: '7А/e1f0a000-0000-4000-8000-00000000e002', year: 2025, name: '7А Английский язык 2 группа', grade: 7, letter: 'А', parentExternalId: '7А' },
    ]);
  });

  it('names subjects in Russian with the Kyrgyz name beside, and teachers by a hash of their PIN in either spelling', () => {
    expect(byId(records, 'subject', 'Кыргызский язык')).toEqual({ type: 'subject', externalId: 'Кыргызский язык', name: 'Кыргызский язык', shortName: 'Кырг. яз.', altNames: { ky: 'Кыргыз тили' } });
    expect(Object.fromEntries(ofType(records, 'subject').map((s) => [s.name, s.altNames?.ky]))).toEqual({
      'Математика': 'Математика', 'Кыргызский язык': 'Кыргыз тили', 'Английский язык': 'Англис тили', 'Информатика': 'Информатика', 'Физическая культура': 'Дене тарбия',
    });
    const teachers = ofType(records, 'person').filter((p) => p.role === 'staff');
    expect(teachers.map((t) => `${t.lastName} ${t.firstName} ${t.middleName}`).sort()).toEqual(['Жумабеков Айбек Маратович', 'Ким Елена Викторовна', 'Токтогулова Гульнара Асановна']);
    expect(JSON.stringify(records)).not.toContain('11505198000001');
  });

  it('reads homework from the task', () => {
    expect(ofType(records, 'homework').map((h) => [h.lessonExternalId, h.text]).sort()).toEqual([
      [lessonId(10), '№ 12, 14\nстр. 8'], [lessonId(12), 'Ex. 3 p. 10'], [lessonId(13), 'Workbook p. 4'],
    ]);
  });

  it('reads marks by the app\'s rules, on 12 points for isTwelve lessons, and never a quarter entry as a lesson mark', () => {
    expect(ofType(records, 'mark').map((m) => [m.externalId, m.lessonExternalId, m.value, m.kind, m.scale, m.weight, m.workCategory, m.workTitle])).toEqual([
      ['m-a-1', lessonId(10), '5', 'mark', 5, 1, 'other', 'Оценка'],
      ['m-a-2', lessonId(10), 'зч', 'pass', undefined, 1, 'control', 'Контрольная работа'],
      ['m-a-3', lessonId(11), '4', 'mark', 5, 1, 'other', 'Оценка'],
      ['m-a-4', lessonId(14), '10', 'mark', 12, 1, 'written', 'Письменная работа'],
      ['m-b-1', lessonId(10), '3', 'mark', 5, 1, 'homework', 'Домашняя работа'],
    ]);
    expect(byId(records, 'mark', 'm-a-1')).toMatchObject({ pupilExternalId: ASANOV, enteredAt: '2025-09-01T08:20:11+06:00' });
    expect(byId(records, 'mark', 'm-a-2')).toMatchObject({ comment: 'Хорошо решил вторую задачу' });
    expect(byId(records, 'mark', 'm-a-3')).toMatchObject({ enteredAt: '2025-09-01T03:30:00.000Z' });
    expect(byId(records, 'mark', 'm-b-1')).toMatchObject({ enteredAt: '2025-09-01T15:00:00+06:00', modifiedAt: '2025-09-03T10:30:00+06:00' });
    expect(byId(records, 'mark', 'm-a-q')).toBeUndefined();
    expect(logText).toContain('"quarterEntries":1');
  });

  it('reads absences and lateness by absent_type, never «present»', () => {
    expect(ofType(records, 'attendance').map((a) => [a.pupilExternalId === ASANOV ? 'A' : 'B', a.lessonExternalId, a.code, a.kind, a.lateMinutes, a.reason])).toEqual([
      ['A', lessonId(12), 'absent', 'unknown', undefined, 'ОРВИ, справка от врача'],
      ['A', lessonId(10), 'late', 'late', 7, undefined],
      ['B', lessonId(15, '2025-09-02'), 'Н', 'unknown', undefined, undefined],
      ['B', lessonId(11), 'absent', 'unknown', undefined, 'Семейные обстоятельства'],
    ]);
  });

  it('reads quarter marks (customMark first, the latest of duplicates) and the year mark (quarter 5)', () => {
    expect(ofType(records, 'period_mark').map((p) => [p.subjectExternalId, p.periodExternalId, p.value, p.kind, p.average, p.setAt])).toEqual([
      ['Математика', '2025-q1', '5', 'mark', 4.55, '2025-10-31T09:15:00+06:00'],
      ['Математика', '2025-y', '5', 'mark', 4.6, '2026-05-28T12:00:00+06:00'],
      ['Кыргызский язык', '2025-q1', 'зч', 'pass', undefined, '2025-10-30T11:00:00+06:00'],
      ['Физическая культура', '2025-q1', 'осв', 'exempt', undefined, '2025-10-31T10:00:00+06:00'],
    ]);
  });
});
