import { describe, expect, it } from '@jest/globals';
import { adapters } from '../../adapters/index.js';
import { mapAttendanceCode, mapMarkValue, type Vocabulary } from '../../src/ports/values.js';

/** The generic tables, or a registered platform's vocabulary on top of them. */
const vocabularyOf = (name: string): Vocabulary => adapters.get(name)?.vocabulary ?? {};

/** [vocabulary, raw value, kind, numeric, scale] */
const MARKS: Array<[string, string, string, number | null, number | null]> = [
  ['generic', '5', 'mark', 5, 5],
  ['generic', '1', 'mark', 1, 5],
  ['generic', '5-', 'mark', 5, 5],
  ['generic', '4+', 'mark', 4, 5],
  ['generic', '3−', 'mark', 3, 5],
  ['generic', ' 4 ', 'mark', 4, 5],
  ['generic', '0', 'other', null, null],
  ['generic', '6', 'other', null, null],
  ['generic', '2/5', 'mark', null, 5],
  ['generic', '5/4', 'mark', null, 5],
  ['generic', 'зч', 'pass', null, null],
  ['generic', 'Зачёт', 'pass', null, null],
  ['generic', 'зачтено', 'pass', null, null],
  ['generic', 'нз', 'fail', null, null],
  ['generic', 'незачёт', 'fail', null, null],
  ['generic', 'н', 'absence', null, null],
  ['generic', 'Н', 'absence', null, null],
  ['generic', 'оп', 'late', null, null],
  ['generic', 'ОП', 'late', null, null],
  ['generic', 'осв', 'exempt', null, null],
  ['generic', 'н/а', 'not_assessed', null, null],
  ['generic', '•', 'debt', null, null],
  ['generic', 'точка', 'debt', null, null],
  ['generic', '?!', 'other', null, null],
  ['dnevnikru', '5', 'mark', 5, 5],
  ['dnevnikru', 'зч', 'pass', null, null],
  ['netschool', '4', 'mark', 4, 5],
  ['netschool', 'зачёт', 'pass', null, null],
  ['edutatar', 'з', 'pass', null, null],
  ['kundoluk', '5', 'mark', 5, 5],
  ['kundoluk', 'Н', 'absence', null, null],
];

describe('mark values', () => {
  it.each(MARKS)('%s «%s» → %s', (vocabulary, raw, kind, numeric, scale) => {
    expect(mapMarkValue(raw, vocabularyOf(vocabulary))).toEqual({ kind, numeric, scale });
  });

  it('respects a ten-point scale (Kundelik)', () => {
    expect(mapMarkValue('9', vocabularyOf('dnevnikru'), 10)).toEqual({ kind: 'mark', numeric: 9, scale: 10 });
    expect(mapMarkValue('9', vocabularyOf('dnevnikru'), 5)).toEqual({ kind: 'other', numeric: null, scale: null });
  });
});

/** [vocabulary, raw code, late minutes, kind] */
const ABSENCES: Array<[string, string, number | undefined, string]> = [
  ['generic', 'Б', undefined, 'ill'],
  ['generic', 'У', undefined, 'valid'],
  ['generic', 'УП', undefined, 'valid'],
  ['generic', 'Н', undefined, 'unexcused'],
  ['generic', 'н', undefined, 'unexcused'],
  ['generic', 'О', undefined, 'late'],
  ['generic', 'ОП', undefined, 'late'],
  ['generic', 'оп', undefined, 'late'],
  ['generic', 'П', undefined, 'unknown'],
  ['generic', 'xyz', undefined, 'unknown'],
  ['generic', 'xyz', 10, 'late'],
  ['demo', 'Б', undefined, 'ill'],
  ['dnevnikru', 'Absent', undefined, 'unexcused'],
  ['dnevnikru', 'Ill', undefined, 'ill'],
  ['dnevnikru', 'Late', undefined, 'late'],
  ['dnevnikru', 'Pass', undefined, 'valid'],
  ['netschool', 'Н', undefined, 'unexcused'],
  ['netschool', 'УП', undefined, 'valid'],
  ['netschool', 'Б', undefined, 'ill'],
  ['netschool', 'ОП', undefined, 'late'],
  ['kundoluk', 'absent', undefined, 'unknown'],
  ['kundoluk', 'late', undefined, 'late'],
  ['kundoluk', 'Н', undefined, 'unknown'],
  ['kundoluk', '', 15, 'late'],
];

describe('attendance codes', () => {
  it.each(ABSENCES)('%s «%s» (%s min) → %s', (vocabulary, raw, late, kind) => {
    expect(mapAttendanceCode(raw, vocabularyOf(vocabulary), late)).toBe(kind);
  });
});
