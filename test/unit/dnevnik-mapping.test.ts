import { describe, expect, it } from '@jest/globals';
import type { DnevnikConfig } from '../../adapters/dnevnikru/client.js';
import { parseLossless, quoteLongIntegers, quoteLongValuesOf } from '../../adapters/dnevnikru/lossless.js';
import { attendanceRecord } from '../../adapters/dnevnikru/mapping-journal.js';
import { classRecord, periodRecord, teacherRecords, yearPeriodId, yearPeriodRecord } from '../../adapters/dnevnikru/mapping.js';
import type { EduGroup, Person } from '../../adapters/dnevnikru/schemas.js';
import { bellTime, bellsOf, type Ctx } from '../../adapters/dnevnikru/school.js';
import { onTurn } from '../../adapters/dnevnikru/turns.js';

/** The pure parts of the Дневник.ру adapter: the lossless parse, names, bells, periods, roles, the parents' turns. */

describe('Дневник.ру lossless JSON', () => {
  it('keeps integers of 16 digits and more exact, as strings, and leaves everything else alone', () => {
    const text = '{"id":1831204599018700001,"n":-1831204599018700002,"small":1000004956244,"x":1.5e20,"f":12345678901234567.5,"s":"1831204599018700003","q":"a\\"1831204599018700004","a":[1831204599018700005, 7]}';
    expect(parseLossless(text)).toEqual({
      id: '1831204599018700001', n: '-1831204599018700002', small: 1000004956244, x: 1.5e20, f: Number('12345678901234567.5'), s: '1831204599018700003', q: 'a"1831204599018700004', a: ['1831204599018700005', 7],
    });
    expect(quoteLongIntegers('[1,2,"x"]')).toBe('[1,2,"x"]');
  });

  it('quotes the named keys only when asked to, and never inside strings', () => {
    const text = '[{"id":1831204599018700001,"workType":1831204599018700002,"text":"\\"workType\\":1831204599018700003"}]';
    expect(JSON.parse(quoteLongValuesOf(text, ['workType']))).toEqual([{ id: Number('1831204599018700001'), workType: '1831204599018700002', text: '"workType":1831204599018700003' }]);
    expect(() => parseLossless('{"works": [')).toThrow(SyntaxError);
  });
});

describe('Дневник.ру roster mapping', () => {
  const group = (name: string): EduGroup => ({ id_str: '1', type: 'Group', name, parallel: 5, studyyear: 2025 });

  it.each([['5А', 'А'], ['5 а', 'а'], ['11-H', 'H'], ['10-Б', 'Б'], ['5А англ. гр. 1', 'А'], ['Алг1 Ж.А', undefined]])('«%s» has the letter %s', (name, letter) => {
    expect(classRecord(group(name))).toMatchObject({ letter });
  });

  it('counts period numbers from 0 and passes an unknown type on as it is', () => {
    const period = { id_str: '8', start: '2025-09-01T00:00:00', finish: '2025-10-26T23:59:59', number: 0, name: '1 модуль', year: 2025 };
    expect(periodRecord({ ...period, type: 'Trimester' })).toMatchObject({ kind: 'trimester', number: 1, startDate: '2025-09-01', endDate: '2025-10-26' });
    expect(periodRecord({ ...period, type: 'Semester' })).toMatchObject({ kind: 'half_year' });
    expect(periodRecord({ ...period, type: 'Module' })).toMatchObject({ kind: 'module' });
  });

  it('adds the school year for final marks without a period, unless the platform has a Year period', () => {
    const quarter = (id: string, start: string, finish: string) => ({ id_str: id, start, finish, number: 0, type: 'Quarter', name: 'ч', year: 2025 });
    const periods = [quarter('81', '2025-09-01T00:00:00', '2025-10-26T00:00:00'), quarter('84', '2026-03-30T00:00:00', '2026-05-26T00:00:00')];
    expect(yearPeriodRecord(2025, periods)).toEqual({
      type: 'period', externalId: 'year-2025', year: 2025, kind: 'year', number: 1, title: '2025/2026 учебный год', startDate: '2025-09-01', endDate: '2026-05-26',
    });
    expect(yearPeriodId(2025, periods)).toBe('year-2025');
    const withYear = [...periods, { ...quarter('89', '2025-09-01T00:00:00', '2026-05-26T00:00:00'), type: 'Year' }];
    expect(yearPeriodRecord(2025, withYear)).toBeUndefined();
    expect(yearPeriodId(2025, withYear)).toBe('89');
  });

  it('gives staff roles from the flags and positions', () => {
    const roles = (t: Record<string, unknown>) => teacherRecords({ IdStr: '9', LastName: 'Л', FirstName: 'И', ...t }).flatMap((r) => (r.type === 'staff_role' ? [r.role] : []));
    expect(roles({ ManagingEmployee: true, NameManagingPosition: 'Директор', TeachingStaff: false })).toEqual(['director']);
    expect(roles({ ManagingEmployee: true, NameManagingPosition: 'Заместитель директора по УВР', TeachingStaff: true })).toEqual(['deputy', 'teacher']);
    expect(roles({ NameTeacherPosition: 'Заместитель директора' })).toEqual(['deputy']);
    expect(roles({ ManagingEmployee: true, NameManagingPosition: 'Завхоз' })).toEqual(['other']);
    expect(roles({ NameTeacherPosition: 'Учитель' })).toEqual(['teacher']);
  });

  it('leaves presence out of the attendance', () => {
    expect(attendanceRecord({ person_str: '1', lesson_str: '2', status: 'Attend' })).toBeUndefined();
    expect(attendanceRecord({ person_str: '1', lesson_str: '2', status: 'Absent' })).toMatchObject({ code: 'Absent', kind: 'unexcused' });
  });
});

describe('Дневник.ру bells', () => {
  it('takes the local time of a date-time, a bare HH:MM, and the school-zone time of an instant', () => {
    expect(bellTime('2023-09-01T08:30:00', 'Europe/Moscow')).toBe('08:30');
    expect(bellTime('2023-09-01T08:30:00.000', 'Asia/Almaty')).toBe('08:30');
    expect(bellTime('08:30', 'Europe/Moscow')).toBe('08:30');
    expect(bellTime('2023-09-01T05:30:00Z', 'Europe/Moscow')).toBe('08:30');
    expect(bellTime('2023-09-01T08:30:00+05:00', 'Europe/Moscow')).toBe('06:30');
  });

  it('picks the item whose DaysOfWeek names the lesson\'s weekday, else the first', () => {
    const item = (start: string, days: string[]) => ({ Start: `2024-09-02T${start}:00`, Finish: `2024-09-02T${start}:00`, DaysOfWeek: days, LessonNumber: 1 });
    const bellOf = bellsOf({ Items: [item('08:00', ['Monday', 'Tuesday']), item('09:00', ['Saturday']), item('10:00', ['Понедельник'])] }, 'Europe/Moscow');
    expect(bellOf(1, '2024-09-03')?.start).toBe('08:00');
    expect(bellOf(1, '2024-09-07')?.start).toBe('09:00');
    expect(bellOf(1, '2024-09-04')?.start).toBe('08:00');
    expect(bellOf(2, '2024-09-04')).toBeUndefined();
  });
});

describe('Дневник.ру reads in turns (parents, class teachers)', () => {
  const pupils: Person[] = Array.from({ length: 200 }, (_, i) => ({ id_str: String(1000006900000 + i * 7) }));
  const ctx = (relatives: DnevnikConfig['relatives'], range: { from: string; to: string }, now: string) =>
    ({ config: { relatives }, range, timeZone: 'Europe/Moscow', now: () => new Date(now) }) as unknown as Ctx;
  const pupilsOnTurn = (c: Ctx, list: Person[]) => list.filter((p) => onTurn(c, c.config.relatives)(p.id_str!));
  const daily = (day: string) => ctx('rotate', { from: '2025-10-01', to: day }, `${day}T18:00:00+03:00`);

  it('reads every pupil once over five consecutive school days, and all on a long run or when told to', () => {
    const week = ['2025-10-13', '2025-10-14', '2025-10-15', '2025-10-16', '2025-10-17'].map((day) => pupilsOnTurn(daily(day), pupils).map((p) => p.id_str));
    expect(week.flat().sort()).toEqual(pupils.map((p) => p.id_str).sort());
    expect(week.every((turn) => turn.length > 20 && turn.length < 60)).toBe(true);
    // The next Monday starts the same turns again.
    expect(pupilsOnTurn(daily('2025-10-20'), pupils)).toEqual(pupilsOnTurn(daily('2025-10-13'), pupils));
    expect(pupilsOnTurn(ctx('rotate', { from: '2025-09-01', to: '2025-10-17' }, '2025-10-17T18:00:00+03:00'), pupils)).toHaveLength(200);
    expect(pupilsOnTurn(ctx('all', { from: '2025-10-16', to: '2025-10-17' }, '2025-10-17T18:00:00+03:00'), pupils)).toHaveLength(200);
    expect(pupilsOnTurn(ctx('off', { from: '2025-09-01', to: '2025-10-17' }, '2025-10-17T18:00:00+03:00'), pupils)).toEqual([]);
  });
});
