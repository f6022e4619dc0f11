import { describe, expect, it } from '@jest/globals';
import { LESSONS_PER_SPREAD, renderJournalPdf } from '../../src/reports/journal-pdf.js';
import { renderPdf } from '../../src/reports/pdf.js';
import type { JournalDocument, PageContent, PageSeal } from '../../src/reports/types.js';
import { pdfPages, pdfQrCodes, pdfWords } from '../support/pdf-text.js';

/**
 * The sealed journal as printed: pdftotext (poppler) reads the pupils' names — Russian and Kyrgyz
 * letters — back, each mark sits in its pupil's row under its lesson's date, every page carries its
 * seal's code, and its QR code (rasterised by pdftoppm, decoded by jsQR) is the seal's verify URL.
 */

const seal = (n: number): PageSeal => {
  const digest = `${n}`.padStart(2, '0').repeat(32);
  const code = `JB-7K3Q-${String(n).padStart(4, '0')}`;
  return { code, digest, sealId: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`, verifyUrl: `https://journal.example/v1/seals/${code}?d=${digest}` };
};

const pupils = [
  { id: 'p1', name: 'Абдыкадыров Ңурбек' },
  { id: 'p2', name: 'Иванова Мария' },
  { id: 'p3', name: 'Өмүрбекова Үмүтай' },
  { id: 'p4', name: 'Константинопольский-Задунайский Александр' },
];

/** 30 lessons (two spreads), September and October; lesson 4 a subgroup's. */
const lessons: PageContent['lessons'] = Array.from({ length: 30 }, (_, i) => ({
  id: `l${i}`, date: i < 20 ? `2025-09-${String(i + 1).padStart(2, '0')}` : `2025-10-${String(i - 19).padStart(2, '0')}`, slot: 1,
  group: i === 4 ? 'Группа 2' : null,
  topic: i === 2 ? 'Решение текстовых задач на движение по реке: скорость течения, собственная скорость лодки. '.repeat(3) : `Тема урока ${i + 1}`,
  homework: `§${i + 1}, № ${100 + i}`, status: 'held',
}));

/** Marks placed on a diagonal so that each is in its own row and column. */
const marks: Record<string, string> = { 'p1/l0': '5', 'p2/l1': '4', 'p3/l2': 'н', 'p4/l3': '3', 'p1/l26': '2', 'p3/l28': '5' };
const cells = pupils.map((p) => lessons.map((l) => marks[`${p.id}/${l.id}`] ?? ''));

const page = (subjectName: string, n: number): { content: PageContent; seal: PageSeal } => ({
  content: {
    classId: 'c', className: '7Б', subjectId: `s${n}`, subjectName, periodId: 'q1', periodTitle: '1 четверть', from: '2025-09-01', to: '2025-10-26',
    teachers: ['Жээнбекова Гүлнара Асанбековна'], lessons, pupils, cells, periodMarks: ['5', '4', null, 'н/а'],
  },
  seal: seal(n),
});

const doc: JournalDocument = {
  school: { name: 'Средняя школа № 12 им. Ч. Айтматова' }, className: '7Б', yearTitle: '2025/2026 учебный год', periodTitle: '1 четверть',
  classTeacher: 'Сыдыкова Айгүл Төлөгөновна', sealedAt: '2025-10-31T09:00:00.000Z', titleSeal: seal(0),
  pages: [page('Математика', 1), page('Кыргызский язык и литература', 2)],
};

describe('the sealed journal PDF', () => {
  let pdf: Buffer;
  let pages: string[];

  it('renders the title page, then per subject two spreads of left and right pages', async () => {
    pdf = await renderJournalPdf(doc);
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    pages = await pdfPages(pdf);
    expect(Math.ceil(lessons.length / LESSONS_PER_SPREAD)).toBe(2);
    expect(pages).toHaveLength(1 + 2 * 2 * 2);
    expect(pages[0]).toContain('Классный журнал');
    expect(pages[0]).toContain('Средняя школа № 12 им. Ч. Айтматова');
    expect(pages[0]).toMatch(/Классный руководитель\s+_{5,}/);
    expect(pages[0]).toMatch(/Директор\s+_{5,}/);
    expect(pages[0]).toContain('М.П.');
    expect(pages[1]).toContain('Фамилия, имя обучающегося');
    expect(pages[2]).toContain('Что пройдено на уроке');
    expect(pages[2]).toContain('Домашнее задание');
    expect(pages[4]).toMatch(/Учитель\s+_{5,}\s+\(Жээнбекова Гүлнара Асанбековна\)/);
  });

  it('prints the pupils in Cyrillic, Kyrgyz letters Ң Ө Ү included, and long names and topics whole', () => {
    const left = pages[1]!;
    for (const name of ['Абдыкадыров Ңурбек', 'Иванова Мария', 'Өмүрбекова Үмүтай']) expect(left).toContain(name);
    // Wrapped in its cell, not cut: both lines are there.
    expect(left).toContain('Константинопольский-Задунайский');
    expect(left).toMatch(/^\s+Александр\s*$/m);
    expect(pages[2]!.replace(/\s+/g, ' ')).toContain('собственная скорость лодки');
  });

  it('puts each mark in its pupil\'s row and its lesson\'s date column', async () => {
    const words = await pdfWords(pdf);
    const check = (pageNo: number, pupilWord: string, date: string, mark: string) => {
      const onPage = words.filter((w) => w.page === pageNo);
      const name = onPage.find((w) => w.text === pupilWord)!;
      const header = onPage.find((w) => w.text === date)!;
      expect({ name: !!name, header: !!header }).toEqual({ name: true, header: true });
      const firstDate = Math.min(...onPage.filter((w) => /^\d\d\.\d\d$/.test(w.text)).map((w) => w.x));
      const inRow = onPage.filter((w) => Math.abs(w.y - name.y) < 3 && w.x > firstDate - 3);
      const cell = inRow.filter((w) => w.x < header.xMax + 2 && w.xMax > header.x - 2);
      expect({ date, pupilWord, cell: cell.map((w) => w.text) }).toEqual({ date, pupilWord, cell: [mark] });
      // Nothing else in the row but this spread's marks and the period mark.
      return inRow.sort((a, b) => a.x - b.x).map((w) => w.text);
    };
    expect(check(2, 'Абдыкадыров', '01.09', '5')).toEqual(['5']);
    expect(check(2, 'Иванова', '02.09', '4')).toEqual(['4']);
    expect(check(2, 'Өмүрбекова', '03.09', 'н')).toEqual(['н']);
    // The second spread: lesson 27 is 07.10, lesson 29 is 09.10; the period marks are on the last spread.
    expect(check(4, 'Абдыкадыров', '07.10', '2')).toEqual(['2', '5']);
    expect(check(4, 'Өмүрбекова', '09.10', '5')).toEqual(['5']);
  });

  it('carries the seal on every page: the code, the digest\'s first 16 hex digits, the page number and the QR code of the verify URL', async () => {
    const expected = [doc.titleSeal, ...doc.pages.flatMap((p) => Array(4).fill(p.seal) as PageSeal[])];
    pages.forEach((text, i) => {
      expect(text).toContain(expected[i]!.code);
      expect(text).toContain(expected[i]!.digest.slice(0, 16));
      expect(text).toContain(`стр. ${i + 1} из ${pages.length}`);
    });
    expect(await pdfQrCodes(pdf)).toEqual(expected.map((s) => s.verifyUrl));
  });

  it('continues a class longer than a page on a further page with the same seal', async () => {
    const many = Array.from({ length: 70 }, (_, i) => ({ id: `m${i}`, name: `Ученикова${i} Алтынай` }));
    const long = page('Физика', 3);
    long.content = { ...long.content, pupils: many, cells: many.map(() => lessons.slice(0, 10).map(() => '4')), lessons: lessons.slice(0, 10), periodMarks: many.map(() => '4') };
    const texts = await pdfPages(await renderJournalPdf({ ...doc, pages: [long] }));
    // Title, then the left page over several sheets (70 rows; about 33 fit one), then the right page.
    expect(texts.length).toBeGreaterThanOrEqual(4);
    expect(texts.slice(1).every((t) => t.includes(long.seal.code))).toBe(true);
    expect(texts[1]).not.toContain('Ученикова69 Алтынай');
    const continued = texts.slice(2, -1);
    expect(continued.some((t) => t.includes('Ученикова69 Алтынай'))).toBe(true);
    // The header row repeats on each continued sheet.
    expect(continued.every((t) => t.includes('Фамилия, имя обучающегося'))).toBe(true);
    expect(texts.at(-1)).toContain('Что пройдено на уроке');
  });

  it('never reads a local file or fetches a URL a document names', async () => {
    const date = '2025-10-31T00:00:00Z';
    await expect(renderPdf([{ image: '/etc/hostname' }], { title: 'x', date })).rejects.toThrow(/denied by resource access policy/);
    await expect(renderPdf([{ image: 'http://127.0.0.1:9/x.png' }], { title: 'x', date })).rejects.toThrow(/denied by resource access policy/);
  });
});
