import { describe, expect, it } from '@jest/globals';
import type { Mark, QuarterMark } from '../../adapters/kundoluk/endpoints.js';
import { kundoluk } from '../../adapters/kundoluk/index.js';
import { entryRecords, MARK_TYPES, quarterMarkRecords, quarterValueOf } from '../../adapters/kundoluk/marks.js';
import type { AttendanceRecord, MarkRecord } from '../../src/ports/records.js';
import { mapAttendanceCode, mapMarkValue } from '../../src/ports/values.js';

/**
 * Kundoluk's mark entries (kundoluk-plus `mark.dart` / `MarkUi`, the Python client's `Mark`, `MarkType`,
 * `AbsentType`, react-kundoluk's `MarkModel`): an int `mark`, a string `custom_mark`, a `mark_type`, and
 * the attendance fields `absent`, `absent_type` (absent / late / present), `absent_reason`,
 * `late_minutes` — what each becomes. And quarter marks: `customMark` first, as the app shows them.
 */

const FIVE = { timeZone: 'Asia/Bishkek', scale: 5 };
/** An entry as its schema hands it on (fields it lacks are undefined). */
type Entry = Partial<Mark>;
const records = (entry: Entry, o = FIVE) => entryRecords('p1', 'l1', { uid: 'e1', ...entry } as Mark, o);
const markOf = (entry: Entry, o = FIVE) => records(entry, o).find((r): r is MarkRecord => r.type === 'mark');
const attendanceOf = (entry: Entry) => records(entry).find((r): r is AttendanceRecord => r.type === 'attendance');

/** [mark, custom_mark, mark_type, value, kind, numeric, scale, category, title] */
const MARKS: Array<[number | string | undefined, string | undefined, string | undefined, string, string, number | null, number | null, string, string | undefined]> = [
  [5, undefined, 'general', '5', 'mark', 5, 5, 'other', 'Оценка'],
  [4, undefined, 'control', '4', 'mark', 4, 5, 'control', 'Контрольная работа'],
  [3, undefined, 'homework', '3', 'mark', 3, 5, 'homework', 'Домашняя работа'],
  [2, undefined, 'test', '2', 'mark', 2, 5, 'test', 'Тест'],
  [5, undefined, 'laboratory', '5', 'mark', 5, 5, 'lab', 'Лабораторная работа'],
  [4, undefined, 'write', '4', 'mark', 4, 5, 'written', 'Письменная работа'],
  [3, undefined, 'practice', '3', 'mark', 3, 5, 'practical', 'Практическая работа'],
  [1, undefined, 'general', '1', 'mark', 1, 5, 'other', 'Оценка'],
  ['4', undefined, 'general', '4', 'mark', 4, 5, 'other', 'Оценка'],
  // A numeric mark wins over custom_mark (kundoluk-plus' display rule).
  [5, 'зч', 'general', '5', 'mark', 5, 5, 'other', 'Оценка'],
  [0, 'зч', 'control', 'зч', 'pass', null, null, 'control', 'Контрольная работа'],
  [0, 'зачёт', 'control', 'зачёт', 'pass', null, null, 'control', 'Контрольная работа'],
  [undefined, 'нз', 'test', 'нз', 'fail', null, null, 'test', 'Тест'],
  [0, 'н/а', 'general', 'н/а', 'not_assessed', null, null, 'other', 'Оценка'],
  [0, 'осв', 'general', 'осв', 'exempt', null, null, 'other', 'Оценка'],
  [0, '2/5', 'write', '2/5', 'mark', null, 5, 'written', 'Письменная работа'],
  [0, ' 4 ', 'general', '4', 'mark', 4, 5, 'other', 'Оценка'],
  // Outside the 5-point scale, or a word nobody maps: `other`, kept as written.
  [6, undefined, 'general', '6', 'other', null, null, 'other', 'Оценка'],
  [0, '+', 'general', '+', 'other', null, null, 'other', 'Оценка'],
  // A type the app does not know is «Оценка» there too.
  [4, undefined, 'olympiad', '4', 'mark', 4, 5, 'other', 'Оценка'],
  [5, undefined, undefined, '5', 'mark', 5, 5, 'other', undefined],
];

describe('Kundoluk marks', () => {
  it.each(MARKS)('mark %p, custom_mark %p, mark_type %p → «%s» %s %p/%p, %s', (mark, custom, type, value, kind, numeric, scale, category, title) => {
    const record = markOf({ mark, custom_mark: custom, mark_type: type });
    expect(record).toMatchObject({ value, kind, weight: 1, workCategory: category });
    expect(record?.scale).toBe(scale ?? undefined);
    expect(record?.workTitle).toBe(title);
    expect(mapMarkValue(value, kundoluk.vocabulary)).toEqual({ kind, numeric, scale });
  });

  it('knows every mark_type the apps name, and reads the «quarter» type as no lesson mark at all', () => {
    expect(Object.keys(MARK_TYPES).sort()).toEqual(['control', 'general', 'homework', 'laboratory', 'practice', 'test', 'write']);
    expect(records({ mark: 5, mark_type: 'quarter' })).toEqual([]);
    expect(records({ mark: 0, custom_mark: 'н/а', mark_type: 'Quarter', absent: true })).toEqual([]);
  });

  it('reads marks of isTwelve lessons on 12 points', () => {
    expect(markOf({ mark: 10, mark_type: 'general' }, { ...FIVE, scale: 12 })).toMatchObject({ value: '10', kind: 'mark', scale: 12 });
    expect(markOf({ mark: 10, mark_type: 'general' })).toMatchObject({ value: '10', kind: 'other' });
  });

  it('keeps the teacher\'s note as the mark\'s comment', () => {
    expect(markOf({ mark: 4, mark_type: 'general', note: ' Не сдал тетрадь ' })).toMatchObject({ comment: 'Не сдал тетрадь' });
  });

  it('passes an entry of a mark type without any value on with an empty value, for the journal to reject', () => {
    expect(markOf({ mark: 0, custom_mark: '  ', mark_type: 'general' })).toMatchObject({ value: '' });
    expect(records({ mark: 0, custom_mark: undefined, mark_type: undefined })).toEqual([]);
    expect(records({ mark: 0, mark_type: 'general', absent_type: 'present' })).toEqual([]);
  });
});

/** [absent, absent_type, late_minutes, code, kind] */
const ATTENDANCE: Array<[boolean | undefined, string | undefined, number | undefined, string, string]> = [
  [true, 'absent', 0, 'absent', 'unknown'],
  [false, 'late', 12, 'late', 'late'],
  [true, 'late', 5, 'late', 'late'],
  [false, 'late', 0, 'late', 'late'],
  // No type: the app's «Н» for an absence, «ОП» for lateness.
  [true, undefined, 0, 'Н', 'unknown'],
  [true, ' ', undefined, 'Н', 'unknown'],
  [false, undefined, 12, 'ОП', 'late'],
  [undefined, undefined, 5, 'ОП', 'late'],
  // A type outside the enum (the Python client warns on it): kept as written, unknown unless the pupil was late.
  [true, 'family', 0, 'family', 'unknown'],
  [false, 'family', 10, 'family', 'late'],
];

describe('Kundoluk attendance', () => {
  it.each(ATTENDANCE)('absent %p, absent_type %p, late_minutes %p → «%s» %s', (absent, type, late, code, kind) => {
    expect(attendanceOf({ absent, absent_type: type, late_minutes: late, absent_reason: 'Справка' })).toEqual({
      type: 'attendance', externalId: 'p1@l1', pupilExternalId: 'p1', lessonExternalId: 'l1', code, kind, reason: 'Справка',
      ...(late ? { lateMinutes: late } : {}),
    });
    expect(mapAttendanceCode(code, kundoluk.vocabulary, late)).toBe(kind);
  });

  it('never reads «present» as an absence, nor a plain mark', () => {
    expect(attendanceOf({ absent: false, absent_type: 'present', late_minutes: 0 })).toBeUndefined();
    expect(attendanceOf({ absent: true, absent_type: 'present' })).toBeUndefined();
    expect(attendanceOf({ mark: 5, mark_type: 'general', absent: false, late_minutes: 0 })).toBeUndefined();
  });

  it('reads a late pupil\'s mark and the lateness from one entry', () => {
    expect(records({ mark: 4, mark_type: 'general', absent_type: 'late', late_minutes: 10 }).map((r) => [r.type, r.type === 'mark' ? r.value : r.code]))
      .toEqual([['mark', '4'], ['attendance', 'late']]);
  });
});

describe('Kundoluk quarter marks', () => {
  const q = (fields: Partial<QuarterMark>) => ({ subjectNameRu: 'Информатика', quarter: 1, quarterDate: '2025-10-30T10:00:00', ...fields }) as QuarterMark;
  const context = { periodOf: (n: number) => (n === 5 ? '2025-y' : `2025-q${n}`), scaleOf: (s: string) => (s === 'Информатика' ? 12 : 5), timeZone: 'Asia/Bishkek' };

  it('shows customMark first, else quarterMark above 0, else nothing (not set yet)', () => {
    expect([q({ quarterMark: 5, customMark: 'осв' }), q({ quarterMark: 4 }), q({ quarterMark: 0, customMark: ' н/а ' }), q({ quarterMark: 0 }), q({})].map(quarterValueOf))
      .toEqual(['осв', '4', 'н/а', undefined, undefined]);
  });

  it('places quarter 5 in the year and reads a subject marked on 12 points on 12 points', () => {
    expect(quarterMarkRecords('p1', [q({ quarterMark: 11, quarterAvg: 10.6 }), q({ quarter: 5, quarterMark: 10 })], context).map((r) => [r.periodExternalId, r.value, r.kind, r.scale]))
      .toEqual([['2025-q1', '11', 'mark', 12], ['2025-y', '10', 'mark', 12]]);
  });
});
