import { describe, expect, it } from '@jest/globals';
import { markRecord as netschoolMark, workCategoryOf, type Assignment, type AssignmentType } from '../../adapters/netschool/mapping.js';

/**
 * The mark mapping tables per platform: every raw value the platform can send → the canonical kind,
 * numeric value and scale (src/ports/values.ts, applied by the journal) and the weight and work
 * category the adapter adds.
 */
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
