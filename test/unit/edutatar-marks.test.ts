import { describe, expect, it } from '@jest/globals';
import {
  WORK_TYPES, attendanceRecord, averageOf, isAbsenceCode, markRecord, periodMarkRecord, workTypeOf,
} from '../../adapters/edutatar/mapping.js';
import { edutatar } from '../../adapters/edutatar/index.js';
import { mapMarkValue } from '../../src/ports/values.js';

/**
 * edu.tatar.ru's values: the text of a mark cell (1–5 as integer strings, anything else kept raw) → the
 * canonical kind, numeric value and scale (src/ports/values.ts, vocabulary `edutatar`); the work-type
 * code of the lesson's header → the mark's category, weight and title; the absence codes of a cell
 * («н» has evidence on the pupil pages; «б», «у», «уп», «оп» are inferred).
 */

/** [cell text, kind, numeric, scale] */
const VALUES: Array<[string, string, number | null, number | null]> = [
  ['5', 'mark', 5, 5],
  ['4', 'mark', 4, 5],
  ['3', 'mark', 3, 5],
  ['2', 'mark', 2, 5],
  ['1', 'mark', 1, 5],
  [' 4 ', 'mark', 4, 5],
  ['5-', 'mark', 5, 5],
  ['4+', 'mark', 4, 5],
  ['2/5', 'mark', null, 5],
  ['6', 'other', null, null],
  ['0', 'other', null, null],
  ['зч', 'pass', null, null],
  ['з', 'pass', null, null],
  ['Зачёт', 'pass', null, null],
  ['нз', 'fail', null, null],
  ['осв', 'exempt', null, null],
  ['н/а', 'not_assessed', null, null],
  ['✓', 'other', null, null],
];

describe(`${edutatar.title}: mark values`, () => {
  it.each(VALUES)('«%s» → %s %s/%s', (value, kind, numeric, scale) => {
    expect(mapMarkValue(value, edutatar.vocabulary, 5)).toEqual({ kind, numeric, scale });
    const record = markRecord('51234', 'lesson-1', 1, value, workTypeOf(''));
    expect(record).toMatchObject({ value: value.trim(), kind });
    expect(record.scale).toBe(kind === 'mark' ? 5 : undefined);
  });

  it('writes term marks the same way, with the journal\'s average (decimal comma)', () => {
    expect(periodMarkRecord('51234', 'Математика', '2025/quarter-1', '4', averageOf('4,33'))).toMatchObject({ kind: 'mark', scale: 5, average: 4.33 });
    expect(periodMarkRecord('51234', 'Математика', '2025/quarter-1', 'н/а')).toMatchObject({ kind: 'not_assessed' });
    expect(periodMarkRecord('51234', 'Математика', '2025/quarter-1', 'н/а')).not.toHaveProperty('scale');
    expect(averageOf('')).toBeUndefined();
  });
});

/** [code in the lesson's header, category, weight, workTitle] */
const CODES: Array<[string, string, number, string | undefined]> = [
  ['КР', 'control', 2, 'Контрольная работа'],
  ['Д', 'control', 2, 'Диктант'],
  ['З', 'control', 2, 'Зачёт'],
  ['С', 'essay', 2, 'Сочинение'],
  ['И', 'essay', 2, 'Изложение'],
  ['ЛР', 'lab', 1.5, 'Лабораторная работа'],
  ['СР', 'written', 1.5, 'Самостоятельная работа'],
  ['СД', 'written', 1.5, 'Словарный диктант'],
  ['Т', 'test', 1.5, 'Тест'],
  ['ПР', 'practical', 1, 'Практическая работа'],
  [' кр ', 'control', 2, 'Контрольная работа'],
  // Р and П: the school tool checks them like lessons without a code (ordinary lessons).
  ['', 'oral', 1, undefined],
  ['Р', 'oral', 1, undefined],
  ['П', 'oral', 1, undefined],
  // РО must follow КР or Д: «работа над ошибками».
  ['РО', 'other', 1, 'Работа над ошибками'],
  ['ВПР', 'other', 1, 'ВПР'],
];

describe(`${edutatar.title}: work-type codes`, () => {
  it.each(CODES)('«%s» → %s, weight %s, «%s»', (code, category, weight, workTitle) => {
    const record = markRecord('51234', 'lesson-1', 1, '5', workTypeOf(code));
    expect(record).toMatchObject({ weight, workCategory: category });
    expect(record.workTitle).toBe(workTitle);
  });

  it('knows every code of the evidence (the school tool\'s MARKS_COLUMN_TYPES, КР/Д → РО, Р/П)', () => {
    expect(Object.keys(WORK_TYPES).sort()).toEqual(['Д', 'З', 'И', 'КР', 'ЛР', 'П', 'ПР', 'Р', 'РО', 'С', 'СД', 'СР', 'Т']);
  });
});

/** [token of a mark cell, is an absence, attendance kind] */
const ABSENCES: Array<[string, boolean, string | undefined]> = [
  ['н', true, 'unexcused'],
  ['Н', true, 'unexcused'],
  ['б', true, 'ill'],
  ['у', true, 'valid'],
  ['уп', true, 'valid'],
  ['оп', true, 'late'],
  ['5', false, undefined],
  ['зч', false, undefined],
  ['осв', false, undefined],
  ['н/а', false, undefined],
];

describe(`${edutatar.title}: absences in mark cells`, () => {
  it.each(ABSENCES)('«%s» → absence %s, %s', (token, absence, kind) => {
    expect(isAbsenceCode(token)).toBe(absence);
    if (kind) expect(attendanceRecord('51234', 'lesson-1', token)).toMatchObject({ code: token, kind });
  });
});
