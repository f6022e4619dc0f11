import { describe, expect, it } from '@jest/globals';
import { ASSIGNMENT_TYPES, type Assignment, type DiaryMark } from '../../adapters/netschool/endpoints.js';
import { isHomework, markRecord as mapMark, realName, workCategoryOf } from '../../adapters/netschool/mapping.js';

/**
 * NetSchool's marks → mark records: every raw value the diary can send → the value and kind (the
 * journal's tables in src/ports/values.ts do the rest), the weight and the work category the adapter
 * adds, and the mark's identity (the diary's marks have no id of their own).
 */
const TYPES = ASSIGNMENT_TYPES.parse([
  { id: 10, name: 'Ответ на уроке' }, { id: 3, name: 'Домашнее задание' }, { id: 18, name: 'Самостоятельная работа' },
  { id: 14, name: 'Тестирование' }, { id: 20, name: 'Практическая работа' }, { id: 40, name: 'Лабораторная работа' },
  { id: 4, name: 'Контрольная работа' }, { id: 68, name: 'Сочинение' }, { id: 8, name: 'Диктант' }, { id: 12, name: 'Проверочная работа' },
  { id: 31, name: 'Работа с картой' },
]);

/** The mapping with the parsed shapes' optional fields left out, as the schemas leave them. */
const markRecord = (mark: Partial<DiaryMark>, assignment: Partial<Assignment> & Pick<Assignment, 'id' | 'typeId'>, ...rest: [string, string, (typeof TYPES)[number] | undefined, number]) =>
  mapMark(mark as DiaryMark, assignment as Assignment, ...rest);

/** [mark, dutyMark, typeId, weight, value, kind, weight out, category] — `mark` an int or a string; `dutyMark` the «точка»; weight 0 is none. */
const CASES: Array<[number | string | null, boolean, number, number, string, string, number | undefined, string]> = [
  [5, false, 10, 10, '5', 'mark', 10, 'oral'],
  [4, false, 3, 10, '4', 'mark', 10, 'homework'],
  [3, false, 18, 15, '3', 'mark', 15, 'written'],
  [2, false, 14, 15, '2', 'mark', 15, 'test'],
  [5, false, 20, 10, '5', 'mark', 10, 'practical'],
  [4, false, 40, 15, '4', 'mark', 15, 'lab'],
  [3, false, 4, 20, '3', 'mark', 20, 'control'],
  [5, false, 68, 20, '5', 'mark', 20, 'essay'],
  [4, false, 8, 20, '4', 'mark', 20, 'control'],
  [3, false, 12, 15, '3', 'mark', 15, 'written'],
  ['зч', false, 4, 20, 'зч', 'pass', 20, 'control'],
  ['зачёт', false, 4, 20, 'зачёт', 'pass', 20, 'control'],
  ['нз', false, 4, 20, 'нз', 'fail', 20, 'control'],
  ['н/а', false, 4, 20, 'н/а', 'not_assessed', 20, 'control'],
  [null, true, 3, 10, '.', 'debt', 10, 'homework'],
  [2, true, 3, 10, '2', 'debt', 10, 'homework'],
  // sgo.edu-74 2022/2023: weights off (diary/init `weight: false`), every assignment weight 0 → no weight.
  [5, false, 10, 0, '5', 'mark', undefined, 'oral'],
  [5, false, 31, 10, '5', 'mark', 10, 'other'],
  ['?', false, 99, 10, '?', 'other', 10, 'other'],
];

describe('NetSchool «Сетевой Город. Образование» marks', () => {
  const types = new Map(TYPES.map((t) => [t.id, t]));
  it.each(CASES)('mark %p, dutyMark %p, type %s, weight %s → «%s» %s, weight %s, %s', (mark, dutyMark, typeId, weight, value, kind, weightOut, category) => {
    const assignment = { id: '216834258', typeId, assignmentName: '---Не указана---', weight, classMeetingId: '192288987' };
    const record = markRecord({ studentId: '400123', mark, dutyMark, assignmentId: '216834258' }, assignment, '192288987', '400123', types.get(typeId), 5);
    expect(record).toMatchObject({ externalId: '216834258@400123', value, kind, workCategory: category });
    expect(record.weight).toBe(weightOut);
    expect(record.workTitle).toBe(types.get(typeId)?.name);
  });

  it('identifies a mark by its assignment and pupil whether the mark has no id or id 0, and keeps its due date and comment', () => {
    const assignment = { id: '357710619', typeId: 40, assignmentName: 'Построение изображений на чертеже', weight: 10, dueDate: '2025-04-07T00:00:00', markComment: { name: ' Аккуратнее с линиями ' } };
    const zero = markRecord({ id: 0, studentId: '590123', mark: 5, dutyMark: false, assignmentId: '357710619' }, { ...assignment, id: '357710619' }, '271000528', '590123', undefined, 5);
    const none = markRecord({ studentId: '590123', mark: 5, assignmentId: '357710619' }, { ...assignment, id: '357710619' }, '271000528', '590123', undefined, 5);
    expect(zero.externalId).toBe('357710619@590123');
    expect(none.externalId).toBe(zero.externalId);
    expect(zero).toMatchObject({ lessonExternalId: '271000528', dueDate: '2025-04-07', comment: 'Аккуратнее с линиями', workTitle: 'Построение изображений на чертеже' });
    // The pupil is the one whose diary was read, the assignment the one the mark sits on.
    expect(markRecord({ mark: 4, studentId: '1' }, assignment, '271000528', '590124', undefined, 5)).toMatchObject({ externalId: '357710619@590124', pupilExternalId: '590124' });
  });

  it('passes an empty mark on to the journal, which rejects it with its reason', () => {
    expect(markRecord({ mark: '' }, { id: '1', typeId: 10 }, '2', '3', undefined, 5).value).toBe('');
  });

  it('knows the vendor type ids when the type list lacks the type', () => {
    expect(workCategoryOf(3, undefined)).toBe('homework');
    expect(workCategoryOf(10, undefined)).toBe('oral');
    expect(workCategoryOf(4, undefined)).toBe('control');
    expect(workCategoryOf(68, undefined)).toBe('other');
    const [project, answer] = ASSIGNMENT_TYPES.parse([{ id: 1, name: 'Проект' }, { id: 3, name: 'Ответ на уроке' }]);
    expect(workCategoryOf(1, project)).toBe('other');
    expect(isHomework(3, undefined)).toBe(true);
    expect(isHomework(3, answer)).toBe(false);
  });

  it.each(['---Не указана---', 'Не задано', 'не задано', '-', '---', ' — ', 'не указано', ''])('takes «%s» for no name', (name) => {
    expect(realName(name)).toBeUndefined();
  });

  it.each(['№310, 312', 'повторить формулы §51', '- стр. 5'])('keeps «%s»', (name) => {
    expect(realName(name)).toBe(name);
  });
});
