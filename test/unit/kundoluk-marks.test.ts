import { describe, expect, it } from '@jest/globals';
import { entryRecords, MARK_TYPES } from '../../adapters/kundoluk/mapping.js';
import type { KundolukMark } from '../../adapters/kundoluk/types.js';
import type { AttendanceRecord, MarkRecord } from '../../src/ports/records.js';
import { kundoluk } from '../../adapters/kundoluk/index.js';
import { mapMarkValue } from '../../src/ports/values.js';

/**
 * Kundoluk's mark entries (platforms.md §4.1, §6.1): an int `mark`, a string `custom_mark`, a
 * `mark_type`, and the attendance fields `absent`, `absent_type`, `absent_reason`, `late_minutes` — what
 * each becomes (value by the app's display rule, kind, numeric, scale, work category; attendance kind).
 */

const records = (entry: KundolukMark) => entryRecords('p1', 'l1', { uid: 'e1', ...entry }, 'Asia/Bishkek');
const markOf = (entry: KundolukMark) => records(entry).find((r): r is MarkRecord => r.type === 'mark');
const attendanceOf = (entry: KundolukMark) => records(entry).find((r): r is AttendanceRecord => r.type === 'attendance');

/** [mark, custom_mark, mark_type, value, kind, numeric, scale, category, title] */
const MARKS: Array<[number | null, string | null, string | null, string, string, number | null, number | null, string, string | undefined]> = [
  [5, null, 'general', '5', 'mark', 5, 5, 'other', 'Оценка'],
  [4, null, 'control', '4', 'mark', 4, 5, 'control', 'Контрольная'],
  [3, null, 'homework', '3', 'mark', 3, 5, 'homework', 'Домашняя работа'],
  [2, null, 'test', '2', 'mark', 2, 5, 'test', 'Тест'],
  [5, null, 'laboratory', '5', 'mark', 5, 5, 'lab', 'Лабораторная'],
  [4, null, 'write', '4', 'mark', 4, 5, 'written', 'Письменная'],
  [3, null, 'practice', '3', 'mark', 3, 5, 'practical', 'Практическая'],
  [1, null, 'general', '1', 'mark', 1, 5, 'other', 'Оценка'],
  // A numeric mark wins over custom_mark (the app's display rule).
  [5, 'зч', 'general', '5', 'mark', 5, 5, 'other', 'Оценка'],
  [0, 'зч', 'control', 'зч', 'pass', null, null, 'control', 'Контрольная'],
  [0, 'зачёт', 'control', 'зачёт', 'pass', null, null, 'control', 'Контрольная'],
  [null, 'нз', 'test', 'нз', 'fail', null, null, 'test', 'Тест'],
  [0, 'н/а', 'general', 'н/а', 'not_assessed', null, null, 'other', 'Оценка'],
  [0, 'осв', 'general', 'осв', 'exempt', null, null, 'other', 'Оценка'],
  [0, '2/5', 'write', '2/5', 'mark', null, 5, 'written', 'Письменная'],
  [0, 'н', 'control', 'н', 'absence', null, null, 'control', 'Контрольная'],
  [0, ' 4 ', 'general', '4', 'mark', 4, 5, 'other', 'Оценка'],
  // Outside the 5-point scale, or a word nobody maps: `other`, kept as written.
  [6, null, 'general', '6', 'other', null, null, 'other', 'Оценка'],
  [0, '+', 'general', '+', 'other', null, null, 'other', 'Оценка'],
  // A type the app does not know: category other, titled as the app shows it.
  [4, null, 'olympiad', '4', 'mark', 4, 5, 'other', 'Тип: olympiad'],
  [5, null, null, '5', 'mark', 5, 5, 'other', undefined],
];

describe('Kundoluk marks', () => {
  it.each(MARKS)('mark %p, custom_mark %p, mark_type %p → «%s» %s %p/%p, %s', (mark, custom, type, value, kind, numeric, scale, category, title) => {
    const record = markOf({ mark, custom_mark: custom, mark_type: type });
    expect(record).toMatchObject({ value, kind, weight: 1, workCategory: category });
    expect(record?.scale).toBe(scale ?? undefined);
    expect(record?.workTitle).toBe(title);
    expect(mapMarkValue(value, kundoluk.vocabulary)).toEqual({ kind, numeric, scale });
  });

  it('knows every mark_type the app names', () => {
    expect(Object.keys(MARK_TYPES).sort()).toEqual(['control', 'general', 'homework', 'laboratory', 'practice', 'test', 'write']);
  });

  it('passes an entry of a mark type without any value on with an empty value, for the journal to reject', () => {
    expect(markOf({ mark: 0, custom_mark: '  ', mark_type: 'general' })).toMatchObject({ value: '' });
    expect(records({ mark: 0, custom_mark: null, mark_type: null })).toEqual([]);
  });
});

/** [absent, absent_type, late_minutes, code, kind] */
const ATTENDANCE: Array<[boolean | null, string | null, number | null, string, string]> = [
  [true, 'sick', 0, 'sick', 'ill'],
  [true, 'reason', 0, 'reason', 'valid'],
  [true, 'noreason', 0, 'noreason', 'unexcused'],
  [true, 'late', 0, 'late', 'late'],
  [true, 'Болезнь', 0, 'Болезнь', 'ill'],
  [true, 'Уважительная', null, 'Уважительная', 'valid'],
  // No type: the app's «Н» for an absence, «ОП» for lateness.
  [true, null, 0, 'Н', 'unexcused'],
  [true, ' ', null, 'Н', 'unexcused'],
  [false, null, 12, 'ОП', 'late'],
  [null, null, 5, 'ОП', 'late'],
  // A type nobody maps: unknown, unless the pupil was late.
  [true, 'family', 0, 'family', 'unknown'],
  [false, 'family', 10, 'family', 'late'],
];

describe('Kundoluk attendance', () => {
  it.each(ATTENDANCE)('absent %p, absent_type %p, late_minutes %p → «%s» %s', (absent, type, late, code, kind) => {
    expect(attendanceOf({ absent, absent_type: type, late_minutes: late, absent_reason: 'Справка' })).toEqual({
      type: 'attendance', externalId: 'p1@l1', pupilExternalId: 'p1', lessonExternalId: 'l1', code, kind, reason: 'Справка',
      ...(late ? { lateMinutes: late } : {}),
    });
  });

  it('reads neither absence nor lateness from a plain mark', () => {
    expect(attendanceOf({ mark: 5, mark_type: 'general', absent: false, late_minutes: 0 })).toBeUndefined();
  });

  it('reads a late pupil\'s mark and the lateness from one entry', () => {
    expect(records({ mark: 4, mark_type: 'general', late_minutes: 10 }).map((r) => [r.type, r.type === 'mark' ? r.value : r.code])).toEqual([['mark', '4'], ['attendance', 'ОП']]);
  });
});
