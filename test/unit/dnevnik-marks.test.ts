import { describe, expect, it } from '@jest/globals';
import { markRecord as dnevnikMark, WORK_CATEGORY, type WorkType } from '../../adapters/dnevnikru/mapping.js';
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
