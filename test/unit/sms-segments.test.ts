import { describe, expect, test } from '@jest/globals';
import { countSms, fitSms } from '../../src/notify/segments.js';

const cyr = (n: number) => 'ж'.repeat(n);
const lat = (n: number) => 'a'.repeat(n);

describe('countSms', () => {
  test.each([
    [70, 1, 70],
    [71, 2, 67],
    [134, 2, 67],
    [135, 3, 67],
  ])('Cyrillic: %i letters → %i part(s), %i per part', (length, parts, perPart) => {
    expect(countSms(cyr(length))).toEqual({ encoding: 'UCS-2', units: length, parts, perPart });
  });

  test.each([
    [160, 1, 160],
    [161, 2, 153],
    [306, 2, 153],
    [307, 3, 153],
  ])('GSM-7: %i characters → %i part(s), %i per part', (length, parts, perPart) => {
    expect(countSms(lat(length))).toEqual({ encoding: 'GSM-7', units: length, parts, perPart });
  });

  test('one Cyrillic letter makes a Latin text UCS-2', () => {
    expect(countSms(lat(69) + 'я')).toMatchObject({ encoding: 'UCS-2', units: 70, parts: 1 });
    expect(countSms(lat(70) + 'я')).toMatchObject({ encoding: 'UCS-2', units: 71, parts: 2 });
  });

  test('GSM basic-table accents and symbols stay GSM-7', () => {
    expect(countSms('Éé £5 @ ¿ñ? Δ_Ω §ü')).toMatchObject({ encoding: 'GSM-7', units: 18, parts: 1 });
  });

  test('extension characters count 2 each', () => {
    const ext = '^{}[]~\\|€';
    expect(countSms(ext)).toEqual({ encoding: 'GSM-7', units: 18, parts: 1, perPart: 160 });
    expect(countSms(lat(150) + '{}[]~')).toMatchObject({ encoding: 'GSM-7', units: 160, parts: 1 });
    expect(countSms(lat(151) + '{}[]~')).toMatchObject({ encoding: 'GSM-7', units: 161, parts: 2 });
  });

  test('an escape pair is not split across parts', () => {
    // 152 septets, then '€' (2): it does not fit in the first part's 153, so it opens the second one.
    const text = lat(152) + '€' + lat(152);
    expect(countSms(text)).toMatchObject({ units: 306, parts: 3 });
    expect(countSms(lat(151) + '€' + lat(151))).toMatchObject({ units: 304, parts: 2 });
  });

  test('an emoji turns GSM text into UCS-2 and counts 2 units', () => {
    expect(countSms('Hello 👋')).toEqual({ encoding: 'UCS-2', units: 8, parts: 1, perPart: 70 });
    expect(countSms(lat(68) + '👋')).toMatchObject({ units: 70, parts: 1 });
    expect(countSms(lat(69) + '👋')).toMatchObject({ units: 71, parts: 2 });
    // 66 + an emoji: 68 units, the emoji does not fit in part one's 67 → it starts part two.
    expect(countSms(lat(66) + '👋' + lat(66))).toMatchObject({ units: 134, parts: 3 });
  });

  test('empty text takes no SMS', () => {
    expect(countSms('')).toEqual({ encoding: 'GSM-7', units: 0, parts: 0, perPart: 160 });
  });
});

describe('fitSms', () => {
  const words = (word: string, n: number) => Array.from({ length: n }, () => word).join(' ');

  test('a text that fits is returned as it is', () => {
    expect(fitSms('Оценка 5 по алгебре', 1)).toEqual({ text: 'Оценка 5 по алгебре', parts: 1, truncated: false });
  });

  test('a Cyrillic text is cut at a word boundary with … to fit one SMS', () => {
    const text = words('оценка', 20); // 139 characters
    const fitted = fitSms(text, 1);
    expect(fitted.truncated).toBe(true);
    expect(fitted.parts).toBe(1);
    expect(fitted.text.endsWith('оценка…')).toBe(true);
    expect(countSms(fitted.text).units).toBeLessThanOrEqual(70);
    // The longest whole-word prefix: 9 words and a space is 63, 10 words 69 + '…' = 70.
    expect(fitted.text).toBe(words('оценка', 10) + '…');
  });

  test('a GSM text keeps GSM-7, ending in "..."', () => {
    const text = words('mark', 80);
    const fitted = fitSms(text, 2);
    expect(fitted).toMatchObject({ parts: 2, truncated: true });
    expect(countSms(fitted.text).encoding).toBe('GSM-7');
    expect(fitted.text.endsWith('mark...')).toBe(true);
    expect(countSms(fitted.text).units).toBeLessThanOrEqual(306);
  });

  test('with a cap of three parts the text takes three parts', () => {
    const text = words('четверть', 60);
    const fitted = fitSms(text, 3);
    expect(fitted.parts).toBe(3);
    expect(countSms(fitted.text).parts).toBe(3);
    expect(text.startsWith(fitted.text.slice(0, -1))).toBe(true);
  });

  test('a word longer than the room is cut mid-word, never mid-character', () => {
    const fitted = fitSms('😀'.repeat(50), 1);
    expect(fitted.truncated).toBe(true);
    expect(fitted.parts).toBe(1);
    expect(fitted.text).toBe('😀'.repeat(34) + '…');
  });

  test('a bad cap is refused', () => {
    expect(() => fitSms('x', 0)).toThrow(RangeError);
  });
});
