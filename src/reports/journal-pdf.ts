import type { Content, TableCell } from 'pdfmake/interfaces.js';
import { CONTENT_WIDTH, renderPdf, sealedSection } from './pdf.js';
import type { JournalDocument, PageContent } from './types.js';

/**
 * The sealed class journal of one period as the paper class journal a teacher knows: the title page,
 * then per subject the left page (pupils × lesson dates, the period mark) and the right page (date, what
 * was covered, homework, the teacher's signature), continued on further spreads when the lessons do not
 * fit one. Every physical page carries its page's seal in the footer (pdf.ts sealedSection); a page that
 * overflows (a long class list, long topics) continues with the same seal.
 */

/** Date columns on one left page: the paper journal's spread holds about 25. */
export const LESSONS_PER_SPREAD = 25;

const NUMBER_WIDTH = 16;
const NAME_WIDTH = 140;
const PERIOD_MARK_WIDTH = 40;
/** pdfmake's widths exclude the cells' padding (1.5 + 1.5) and the rule (0.5): the page's width minus those, shared by the dates. */
const CELL_EXTRA = 3.5;
const DATE_WIDTH = Math.floor(((CONTENT_WIDTH - NUMBER_WIDTH - NAME_WIDTH - PERIOD_MARK_WIDTH - (LESSONS_PER_SPREAD + 3) * CELL_EXTRA - 1) / LESSONS_PER_SPREAD) * 10) / 10;

export async function renderJournalPdf(doc: JournalDocument): Promise<Buffer> {
  const content: Content[] = [sealedSection(titlePage(doc), doc.titleSeal, `${doc.className} · титульный лист`)];
  for (const { content: page, seal } of doc.pages) {
    const spreads = chunks(page.lessons.map((_, i) => i), LESSONS_PER_SPREAD);
    if (spreads.length === 0) spreads.push([]);
    spreads.forEach((lessonIndexes, s) => {
      const where = spreads.length > 1 ? `, разворот ${s + 1} из ${spreads.length}` : '';
      const last = s === spreads.length - 1;
      content.push(sealedSection(leftPage(page, lessonIndexes, last, where), seal, `${page.className} · ${page.subjectName} · левая страница${where}`));
      content.push(sealedSection(rightPage(page, lessonIndexes, last, where), seal, `${page.className} · ${page.subjectName} · правая страница${where}`));
    });
  }
  return renderPdf(content, { title: `Классный журнал ${doc.className}, ${doc.periodTitle}`, date: doc.sealedAt });
}

function titlePage(doc: JournalDocument): Content {
  const signature = (role: string) => ({ text: `${role} ______________________`, margin: [0, 18, 0, 0] as [number, number, number, number] });
  const subjects = doc.pages.map((p) => [p.content.subjectName, p.content.teachers.join(', ') || '—', p.seal.code]);
  return [
    { text: doc.school.name, alignment: 'center', fontSize: 12, margin: [0, 20, 0, 0] },
    { text: 'Классный журнал', alignment: 'center', fontSize: 28, bold: true, margin: [0, 28, 0, 0] },
    { text: `${doc.className} класс`, alignment: 'center', fontSize: 18, margin: [0, 12, 0, 0] },
    { text: doc.yearTitle, alignment: 'center', fontSize: 12, margin: [0, 8, 0, 0] },
    { text: doc.periodTitle, alignment: 'center', fontSize: 12, margin: [0, 4, 0, 0] },
    { text: `Классный руководитель: ${doc.classTeacher ?? '—'}`, alignment: 'center', fontSize: 11, margin: [0, 14, 0, 0] },
    {
      margin: [0, 18, 0, 0],
      columns: [
        {
          width: '*',
          table: {
            headerRows: 1,
            widths: ['*', '*', 90],
            body: [[th('Предмет'), th('Учитель'), th('Печать')], ...subjects.map((row) => row.map((text) => ({ text, fontSize: 8 })))],
          },
          layout: 'lightHorizontalLines',
        },
        {
          width: 260,
          margin: [30, 0, 0, 0],
          stack: [
            signature('Классный руководитель'),
            signature('Директор'),
            { text: 'М.П.', margin: [0, 18, 0, 0] },
            { text: `Опечатано ${doc.sealedAt.slice(0, 10).split('-').reverse().join('.')}`, fontSize: 8, margin: [0, 18, 0, 0] },
          ],
        },
      ],
    },
  ];
}

function leftPage(page: PageContent, lessonIndexes: number[], withPeriodMarks: boolean, where: string): Content {
  const dateCells = lessonIndexes.map((i) => dateHeader(page.lessons[i]!));
  const blanks = Array.from({ length: LESSONS_PER_SPREAD - lessonIndexes.length }, () => ({ text: '' }));
  const header: TableCell[] = [th('№'), th('Фамилия, имя обучающегося'), ...dateCells, ...blanks, th(withPeriodMarks ? page.periodTitle : '')];
  const rows: TableCell[][] = page.pupils.map((pupil, p) => [
    { text: String(p + 1), fontSize: 7.5, alignment: 'right' },
    { text: pupil.name, fontSize: 8 },
    ...lessonIndexes.map((i) => ({ text: page.cells[p]?.[i] ?? '', fontSize: 7.5, alignment: 'center' as const })),
    ...blanks,
    { text: withPeriodMarks ? (page.periodMarks[p] ?? '') : '', fontSize: 8.5, bold: true, alignment: 'center' },
  ]);
  return [
    heading(page, 'левая страница', where),
    {
      table: {
        headerRows: 1,
        dontBreakRows: true,
        widths: [NUMBER_WIDTH, NAME_WIDTH, ...Array<number>(LESSONS_PER_SPREAD).fill(DATE_WIDTH), PERIOD_MARK_WIDTH],
        body: [header, ...rows],
      },
      layout: { hLineWidth: () => 0.5, vLineWidth: () => 0.5, paddingLeft: () => 1.5, paddingRight: () => 1.5, paddingTop: () => 1.5, paddingBottom: () => 1.5 },
    },
  ];
}

function rightPage(page: PageContent, lessonIndexes: number[], last: boolean, where: string): Content {
  const rows: TableCell[][] = lessonIndexes.map((i) => {
    const lesson = page.lessons[i]!;
    return [
      { text: `${ddmm(lesson.date)}${lesson.group ? `\n${lesson.group}` : ''}`, fontSize: 8 },
      { text: lesson.status === 'cancelled' ? `(урок не проведён) ${lesson.topic ?? ''}` : (lesson.topic ?? ''), fontSize: 8 },
      { text: lesson.homework ?? '', fontSize: 8 },
      { text: '' },
    ];
  });
  const teachers = page.teachers.join(', ') || '—';
  return [
    heading(page, 'правая страница', where),
    {
      table: { headerRows: 1, dontBreakRows: true, widths: [44, '*', '*', 80], body: [[th('Дата'), th('Что пройдено на уроке'), th('Домашнее задание'), th('Подпись учителя')], ...rows] },
      layout: { hLineWidth: () => 0.5, vLineWidth: () => 0.5 },
    },
    ...(last ? [{ text: `Учитель ______________________ (${teachers})`, margin: [0, 14, 0, 0] as [number, number, number, number] }] : []),
  ];
}

function heading(page: PageContent, side: string, where: string): Content {
  return {
    margin: [0, 0, 0, 6],
    columns: [
      { width: '*', text: [{ text: page.subjectName, bold: true, fontSize: 12 }, { text: `   ${page.className} · ${page.periodTitle} (${ddmm(page.from)}–${ddmm(page.to)})`, fontSize: 9 }] },
      { width: 'auto', text: `${side}${where}`, fontSize: 8, color: '#555555' },
    ],
  };
}

/** «дд.мм», and the subgroup's name under it for a subgroup's lesson. */
function dateHeader(lesson: PageContent['lessons'][number]): TableCell {
  const parts: Array<{ text: string; fontSize?: number }> = [{ text: ddmm(lesson.date) }];
  if (lesson.group) parts.push({ text: `\n${groupLabel(lesson.group)}`, fontSize: 5.5 });
  if (lesson.status === 'cancelled') parts.push({ text: '\nотм.', fontSize: 5.5 });
  return { text: parts, fontSize: 6.5, alignment: 'center', bold: true };
}

/** A subgroup's mark under a date column: «гр. 1» for «Группа 1» / «1 группа», else its first letters. */
export function groupLabel(name: string): string {
  const digits = /\d+/.exec(name);
  return digits ? `гр.${digits[0]}` : name.slice(0, 5);
}

const th = (text: string): TableCell => ({ text, bold: true, fontSize: 7.5, alignment: 'center' });
export const ddmm = (iso: string) => `${iso.slice(8, 10)}.${iso.slice(5, 7)}`;

function chunks<T>(list: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}
