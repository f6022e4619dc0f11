import { describe, expect, it } from '@jest/globals';
import { markRecord as dnevnikMark, WORK_CATEGORY, type WorkType } from '../../adapters/dnevnikru/mapping.js';
import { markRecord as netschoolMark, workCategoryOf, type Assignment, type AssignmentType } from '../../adapters/netschool/mapping.js';
import { dnevnikru } from '../../adapters/dnevnikru/index.js';
import { mapMarkValue } from '../../src/ports/values.js';

/**
 * The mark mapping tables per platform: every raw value the platform can send → the canonical kind,
 * numeric value and scale (src/ports/values.ts, applied by the journal) and the weight and work
 * category the adapter adds.
 */

const DNEVNIK_TYPES = new Map<number, WorkType>([
  [1, { id: 1, kind: 'Oral', weight: 1 }], [2, { id: 2, kind: 'Homework', weight: 1 }], [3, { id: 3, kind: 'Written', weight: 1.5 }],
  [4, { id: 4, kind: 'Test', weight: 1.5 }], [7, { id: 7, kind: 'Control', weight: 2 }], [8, { id: 8, kind: 'Essay', weight: 2 }],
  [12, { id: 12, kind: 'Olympiad', weight: 3 }],
]);

/** [value, workType, kind, numeric, scale, weight, category] — Дневник.ру sends `value` as a string, the weight lives on the work type. */
const DNEVNIK: Array<[string, number | undefined, string, number | null, number | null, number | undefined, string | undefined]> = [
  ['5', 1, 'mark', 5, 5, 1, 'oral'],
  ['4', 2, 'mark', 4, 5, 1, 'homework'],
  ['3', 3, 'mark', 3, 5, 1.5, 'written'],
  ['2', 7, 'mark', 2, 5, 2, 'control'],
  ['1', 4, 'mark', 1, 5, 1.5, 'test'],
  ['5-', 8, 'mark', 5, 5, 2, 'essay'],
  ['4+', 1, 'mark', 4, 5, 1, 'oral'],
  ['2/5', 8, 'mark', null, 5, 2, 'essay'],
  ['зч', 12, 'pass', null, null, 3, 'other'],
  ['нз', 12, 'fail', null, null, 3, 'other'],
  ['н', 1, 'absence', null, null, 1, 'oral'],
  ['осв', undefined, 'exempt', null, null, undefined, undefined],
  ['н/а', undefined, 'not_assessed', null, null, undefined, undefined],
  ['+', 1, 'other', null, null, 1, 'oral'],
];

describe('Дневник.ру marks', () => {
  it.each(DNEVNIK)('«%s» (work type %s) → %s %s/%s, weight %s, %s', (value, workType, kind, numeric, scale, weight, category) => {
    const record = dnevnikMark({ id_str: '7000000000000000001', value, person_str: '1', lesson_str: '2', workType }, DNEVNIK_TYPES, 'Europe/Moscow', 5);
    expect(record).toMatchObject({ value, weight, workCategory: category });
    expect(mapMarkValue(value, dnevnikru.vocabulary, 5)).toEqual({ kind, numeric, scale });
  });

  it('knows every work kind it maps', () => {
    expect(Object.keys(WORK_CATEGORY).sort()).toEqual(['Control', 'Essay', 'Homework', 'Lab', 'Oral', 'Practical', 'Test', 'Written']);
  });

  it('reads a ten-point instance (Kundelik) on its own scale', () => {
    expect(mapMarkValue('9', dnevnikru.vocabulary, 10)).toEqual({ kind: 'mark', numeric: 9, scale: 10 });
    expect(mapMarkValue('9', dnevnikru.vocabulary, 5)).toEqual({ kind: 'other', numeric: null, scale: null });
  });
});

const NETSCHOOL_TYPES: AssignmentType[] = [
  { id: 1, name: 'Ответ на уроке' }, { id: 3, name: 'Домашнее задание' }, { id: 4, name: 'Самостоятельная работа' },
  { id: 5, name: 'Тест' }, { id: 6, name: 'Практическая работа' }, { id: 7, name: 'Лабораторная работа' },
  { id: 8, name: 'Контрольная работа' }, { id: 9, name: 'Сочинение' }, { id: 11, name: 'Диктант' }, { id: 12, name: 'Проверочная работа' },
  { id: 31, name: 'Работа с картой' },
];

/** [mark, dutyMark, typeId, value, kind, weight, category] — NetSchool sends `mark` as an int or a string; `dutyMark` is the «точка». */
const NETSCHOOL: Array<[number | string | null, boolean, number, string, string, number, string]> = [
  [5, false, 1, '5', 'mark', 10, 'oral'],
  [4, false, 3, '4', 'mark', 10, 'homework'],
  [3, false, 4, '3', 'mark', 15, 'written'],
  [2, false, 5, '2', 'mark', 15, 'test'],
  [5, false, 6, '5', 'mark', 10, 'practical'],
  [4, false, 7, '4', 'mark', 15, 'lab'],
  [3, false, 8, '3', 'mark', 20, 'control'],
  [5, false, 9, '5', 'mark', 20, 'essay'],
  [4, false, 11, '4', 'mark', 20, 'control'],
  [3, false, 12, '3', 'mark', 15, 'written'],
  ['зч', false, 8, 'зч', 'pass', 20, 'control'],
  ['зачёт', false, 8, 'зачёт', 'pass', 20, 'control'],
  ['нз', false, 8, 'нз', 'fail', 20, 'control'],
  ['н/а', false, 8, 'н/а', 'not_assessed', 20, 'control'],
  [null, true, 3, '.', 'debt', 10, 'homework'],
  [2, true, 3, '2', 'debt', 10, 'homework'],
  [5, false, 31, '5', 'mark', 0, 'other'],
  ['?', false, 99, '?', 'other', 10, 'other'],
];

describe('NetSchool marks', () => {
  const types = new Map(NETSCHOOL_TYPES.map((t) => [t.id, t]));
  it.each(NETSCHOOL)('mark %p, dutyMark %p, type %s → «%s» %s, weight %s, %s', (mark, dutyMark, typeId, value, kind, weight, category) => {
    const assignment: Assignment = { id: 1, typeId, assignmentName: '---Не указана---', weight, classMeetingId: 2 };
    const record = netschoolMark({ id: 3, studentId: 4, mark, dutyMark, assignmentId: 1 }, assignment, types.get(typeId), 5);
    expect(record).toMatchObject({ value, kind, weight, workCategory: category });
    expect(record.workTitle).toBe(types.get(typeId)?.name);
  });

  it('gives unknown assignment types the category other', () => {
    expect(workCategoryOf(undefined)).toBe('other');
    expect(workCategoryOf({ id: 1, name: 'Проект' })).toBe('other');
  });
});
