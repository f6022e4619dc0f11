import { describe, expect, it } from '@jest/globals';
import { dnevnikru } from '../../adapters/dnevnikru/index.js';
import { WorkTypeIndex, markRecord, workCategory } from '../../adapters/dnevnikru/mapping-journal.js';
import type { WorkType } from '../../adapters/dnevnikru/schemas.js';
import { mapMarkValue } from '../../src/ports/values.js';

/**
 * The mark mapping table of Дневник.ру: every raw value the platform can send → the canonical kind,
 * numeric value and scale (src/ports/values.ts, applied by the journal) and the weight, work category
 * and title the adapter adds from the mark's work type (`kind` one of the platform's work kinds,
 * `title` the school's own name for it).
 */

const type = (id: string, kind: string, title: string, weight?: number): [string, WorkType] => [id, { id, kind, title, weight }];

const TYPES = new WorkTypeIndex([
  type('1', 'DefaultNewLessonWork', 'Ответ на уроке', 1), type('2', 'Homework', 'Домашнее задание', 1), type('3', 'CommonWork', 'Самостоятельная работа', 2),
  type('4', 'CommonWork', 'Тест', 2), type('7', 'LessonTestWork', 'Контрольная работа', 3), type('8', 'LessonComposition', 'Сочинение', 3),
  type('12', 'CreativeWork', 'Олимпиада', 3), type('1831204599018700001', 'LaboratoryWork', 'Лабораторная', 2),
]);

/** [value, workType, kind, numeric, scale, weight, category] — `value` is a string, the weight lives on the work type. */
const MARKS: Array<[string, string | number | undefined, string, number | null, number | null, number | undefined, string | undefined]> = [
  ['5', 1, 'mark', 5, 5, 1, 'oral'],
  ['4', 2, 'mark', 4, 5, 1, 'homework'],
  ['3', 3, 'mark', 3, 5, 2, 'written'],
  ['2', 7, 'mark', 2, 5, 3, 'control'],
  ['1', 4, 'mark', 1, 5, 2, 'test'],
  ['5-', 8, 'mark', 5, 5, 3, 'essay'],
  ['4+', 1, 'mark', 4, 5, 1, 'oral'],
  ['2/5', 8, 'mark', null, 5, 3, 'essay'],
  ['зч', 12, 'pass', null, null, 3, 'other'],
  ['нз', 12, 'fail', null, null, 3, 'other'],
  ['н', 1, 'absence', null, null, 1, 'oral'],
  // A work type id above 2^53, as the lossless parse hands it over: exact, as a string.
  ['5', '1831204599018700001', 'mark', 5, 5, 2, 'lab'],
  // The same id after a plain JSON.parse: rounded, and found by its rounded value (no other id of the school rounds alike).
  ['5', Number('1831204599018700001'), 'mark', 5, 5, 2, 'lab'],
  ['осв', undefined, 'exempt', null, null, undefined, undefined],
  ['н/а', undefined, 'not_assessed', null, null, undefined, undefined],
  ['+', 1, 'other', null, null, 1, 'oral'],
];

describe('Дневник.ру marks', () => {
  it.each(MARKS)('«%s» (work type %s) → %s %s/%s, weight %s, %s', (value, workType, kind, numeric, scale, weight, category) => {
    const record = markRecord({ id_str: '7000000000000000001', value, person_str: '1', lesson_str: '2', workType }, TYPES, new Map(), 'Europe/Moscow', 5);
    expect(record).toMatchObject({ value, weight, workCategory: category });
    expect(mapMarkValue(value, dnevnikru.vocabulary, 5)).toEqual({ kind, numeric, scale });
  });

  it('claims no work type for a rounded id when two of the school\'s ids round alike', () => {
    const types = new WorkTypeIndex([type('1831204599018700001', 'LaboratoryWork', 'Лабораторная', 2), type('1831204599018700002', 'LessonTestWork', 'Контрольная', 3)]);
    expect(types.ambiguous).toBe(true);
    expect(types.find(Number('1831204599018700002'))).toBeUndefined();
    expect(types.find('1831204599018700002')).toMatchObject({ kind: 'LessonTestWork' });
    expect(TYPES.ambiguous).toBe(false);
  });

  it('takes the due date from the mark\'s work and the title from its work type', () => {
    const record = markRecord({ id_str: '7', value: 5, person_str: '1', lesson_str: '2', work_str: '6001', workType: 7 }, TYPES, new Map([['6001', '2025-10-03']]), 'Europe/Moscow', 5);
    expect(record).toMatchObject({ value: '5', dueDate: '2025-10-03', workTitle: 'Контрольная работа' });
  });

  it('maps every work kind the clients list, and the generic kinds by the school\'s title', () => {
    // Under a title that names no category, the kind alone decides: the generic kinds (and PeriodMark) are `other`.
    const kinds: Array<[string, string]> = [
      ['CommonWork', 'other'], ['CreativeWork', 'other'], ['DefaultNewLessonWork', 'other'], ['Homework', 'homework'], ['LaboratoryWork', 'lab'],
      ['LessonByHeart', 'oral'], ['LessonComposition', 'essay'], ['LessonExamination', 'control'], ['LessonTestWork', 'control'], ['PeriodMark', 'other'],
    ];
    expect(kinds.map(([kind]) => [kind, workCategory({ kind, title: 'Проект' })])).toEqual(kinds);
    expect([
      ['LessonExamination', 'Экзамен'], ['LessonByHeart', 'Наизусть'], ['PeriodMark', 'Четвертная'], ['CommonWork', 'Практическая работа'],
      ['CommonWork', 'Диктант'], ['DefaultNewLessonWork', 'Работа на уроке'], ['SomethingNew', 'Контрольная работа'], ['SomethingNew', 'Проект'], [undefined, undefined],
    ].map(([kind, title]) => workCategory({ kind, title }))).toEqual(['control', 'oral', 'other', 'practical', 'written', 'other', 'control', 'other', 'other']);
  });

  it('reads a ten-point instance (Kundelik) on its own scale', () => {
    expect(mapMarkValue('9', dnevnikru.vocabulary, 10)).toEqual({ kind: 'mark', numeric: 9, scale: 10 });
    expect(mapMarkValue('9', dnevnikru.vocabulary, 5)).toEqual({ kind: 'other', numeric: null, scale: null });
  });
});
