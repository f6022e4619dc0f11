import { describe, expect, it } from '@jest/globals';
import { readCsv, writeCsv } from '../../src/paper/csv.js';
import { cellAddress, sheetNameOf, type PaperPage } from '../../src/paper/layout.js';
import { interpretTables } from '../../src/paper/read-file.js';
import { formatCell, readCell } from '../../src/paper/tokens.js';

describe('a paper cell', () => {
  it('reads marks and the absence as written', () => {
    expect(readCell('5')).toEqual({ ok: true, tokens: { marks: ['5'], absence: null } });
    expect(readCell(' 4-  5+ ')).toEqual({ ok: true, tokens: { marks: ['4-', '5+'], absence: null } });
    expect(readCell('Н')).toEqual({ ok: true, tokens: { marks: [], absence: 'Н' } });
    expect(readCell('б 3')).toEqual({ ok: true, tokens: { marks: ['3'], absence: 'б' } });
    // A platform's «н» among the marks, beside the absence, comes back as it went out.
    expect(readCell('Б н')).toEqual({ ok: true, tokens: { marks: ['н'], absence: 'Б' } });
    for (const code of ['у', 'оп', 'нб']) expect(readCell(code)).toEqual({ ok: true, tokens: { marks: [], absence: code } });
    for (const word of ['зч', 'зачёт', 'н/а', 'осв']) expect(readCell(word)).toEqual({ ok: true, tokens: { marks: [word], absence: null } });
    expect(readCell('')).toEqual({ ok: true, tokens: { marks: [], absence: null } });
  });

  it('keeps a double mark «2/5» whole and splits other slashes', () => {
    expect(readCell('2/5')).toEqual({ ok: true, tokens: { marks: ['2/5'], absence: null } });
    expect(readCell('5/н')).toEqual({ ok: true, tokens: { marks: ['5'], absence: 'н' } });
    expect(readCell('4 / 5')).toEqual({ ok: true, tokens: { marks: ['4', '5'], absence: null } });
  });

  it('names what is wrong with a bad cell', () => {
    expect(readCell('7')).toEqual({ ok: false, reason: '«7» is not a mark on the 5-point scale' });
    expect(readCell('отлично')).toEqual({ ok: false, reason: '«отлично» is not a mark on the 5-point scale' });
    expect(readCell('н б')).toEqual({ ok: false, reason: '«н» and «б»: a cell holds one absence' });
    expect(readCell('Б у')).toEqual({ ok: false, reason: '«Б» and «у»: a cell holds one absence' });
  });

  it('writes stored values back as the paper shows them', () => {
    expect(formatCell(['5', '4'], 'Б')).toBe('Б 5 4');
    expect(readCell(formatCell(['5', '2/5'], 'н'))).toEqual({ ok: true, tokens: { marks: ['5', '2/5'], absence: 'н' } });
  });
});

describe('the template layout', () => {
  it('names sheets as Excel allows and cells as Excel does', () => {
    expect(sheetNameOf('Алгебра')).toBe('Алгебра');
    expect(sheetNameOf('Физ-ра [девочки]: группа 1/2')).toBe('Физ-ра девочки группа 1 2');
    expect(sheetNameOf('Основы безопасности и защиты Родины')).toHaveLength(31);
    expect([cellAddress(0, 0), cellAddress(11, 5), cellAddress(0, 26), cellAddress(2, 701)]).toEqual(['A1', 'F12', 'AA1', 'ZZ3']);
  });

  it('reads back the CSV it writes (quotes, separators and line breaks in texts)', () => {
    const page: PaperPage = {
      classId: '01a00000-0000-7000-8000-000000000001', subjectId: '01a00000-0000-7000-8000-000000000002', subjectName: 'Алгебра',
      lessons: [{ id: '01a00000-0000-7000-8000-000000000003', date: '2025-09-01', slot: 2, topic: 'Дроби; «сложение»\nи "вычитание"', homework: null }],
      pupils: [{ id: '01a00000-0000-7000-8000-000000000004', fullName: 'Иванов Иван' }],
      cells: [['5 4-']],
    };
    const file = interpretTables(readCsv(writeCsv(page)), null, 'Алгебра');
    expect(file).toMatchObject({ classId: page.classId, subjectId: page.subjectId, lessonIds: [page.lessons[0]!.id], pupilIds: [page.pupils[0]!.id] });
    expect(file.cells).toEqual([{ pupilId: page.pupils[0]!.id, lessonId: page.lessons[0]!.id, address: 'Алгебра!C4', text: '5 4-' }]);
    expect(file.lessonTexts.get(page.lessons[0]!.id)).toEqual({ topic: page.lessons[0]!.topic, homework: '' });
  });
});
