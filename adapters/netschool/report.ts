import * as cheerio from 'cheerio';
import { z } from 'zod';

/**
 * The «studenttotal» report («Отчет об успеваемости и посещаемости ученика»), as the captured 5.56
 * report shows it (freeuser3/netschool-api-plus tests/fixtures/report_studenttotal.html) and lentryd's
 * `Journal.ts` reads it: `table.table-print`, its first header row «Предмет» (rowspan 2), one `th
 * colspan=N` per month, then «Средн. оценка …» / «Итог.оценка …» columns (rowspan 2, one pair per term
 * of the period, or a lone «Средняя оценка»); its second header row the day numbers; then a row per
 * subject: `td.cell-text` the subject, a plain `td` per date column (marks, «.», attendance codes), the
 * totals (`td.cell-num-2`). The legend (`span.legend-label`) lists the attendance codes of the report.
 */

/** Reports a missing part of the page, so that the endpoint's parse names it. */
type Report = (part: string, what: string) => void;

export interface TotalColumn {
  month: number;
  day: number;
}

export interface TotalCell {
  /** The header of the totals column («Средн. оценка 1 триместр»). */
  title: string;
  kind: 'average' | 'final';
  text: string;
}

export interface TotalRow {
  subject: string;
  /** Per date column (same order as `columns`), the whitespace-separated tokens of its cell. */
  cells: string[][];
  totals: TotalCell[];
}

export interface StudentTotal {
  columns: TotalColumn[];
  rows: TotalRow[];
  /** The attendance codes the report's legend explains (empty when it has none). */
  legend: string[];
}

const MONTH_STEMS = ['январ', 'феврал', 'март', 'апрел', 'ма', 'июн', 'июл', 'август', 'сентябр', 'октябр', 'ноябр', 'декабр']
  .map((stem, i) => ({ stem, month: i + 1 }))
  // Longest first: «ма» (май) must not swallow «март».
  .sort((a, b) => b.stem.length - a.stem.length);

function monthOf(title: string): number | undefined {
  const t = title.trim().toLowerCase();
  return MONTH_STEMS.find((m) => t.startsWith(m.stem))?.month;
}

/** An element of a loaded page (cheerio's own node type, without importing its parser's package). */
type AnyNode = Extract<Parameters<typeof cheerio.load>[0], { type: unknown }>;

const textOf = ($: cheerio.CheerioAPI, node: AnyNode) => $(node).text().replace(/\s+/g, ' ').trim();

type Column = { kind: 'subject' | 'date' | 'other' } | { kind: 'total'; total: TotalCell['kind']; title: string };

/** The columns the first header row declares: months expand to their date columns. */
function headerColumns($: cheerio.CheerioAPI, row: AnyNode): { columns: Column[]; months: Array<{ month?: number; span: number }> } {
  const columns: Column[] = [];
  const months: Array<{ month?: number; span: number }> = [];
  for (const th of $(row).children('th').toArray()) {
    $(th).find('br').replaceWith(' ');
    const text = textOf($, th);
    if (Number($(th).attr('rowspan') ?? 1) > 1) {
      if (/предмет/i.test(text)) columns.push({ kind: 'subject' });
      else if (/^средн/i.test(text)) columns.push({ kind: 'total', total: 'average', title: text });
      else if (/^итог/i.test(text)) columns.push({ kind: 'total', total: 'final', title: text });
      else columns.push({ kind: 'other' });
      continue;
    }
    const span = Math.max(1, Number($(th).attr('colspan') ?? 1));
    months.push({ month: monthOf(text), span });
    for (let i = 0; i < span; i++) columns.push({ kind: 'date' });
  }
  return { columns, months };
}

/** Month of each date column, from the month headers' spans. */
function monthsOfColumns(months: Array<{ month?: number; span: number }>): Array<number | undefined> {
  return months.flatMap((m) => Array.from({ length: m.span }, () => m.month));
}

function readRow($: cheerio.CheerioAPI, tr: AnyNode, columns: Column[], dateCount: number): TotalRow | undefined {
  const row: TotalRow = { subject: '', cells: Array.from({ length: dateCount }, () => []), totals: [] };
  let date = 0;
  $(tr).children('td').toArray().forEach((td, i) => {
    const column = columns[i];
    const text = textOf($, td);
    if (!column || column.kind === 'other') return;
    if (column.kind === 'subject') row.subject = text;
    else if (column.kind === 'date') row.cells[date++] = text === '' ? [] : text.split(' ');
    else if (column.kind === 'total' && text !== '') row.totals.push({ title: column.title, kind: column.total, text });
  });
  return row.subject ? row : undefined;
}

/** Reads the report; reports the parts a studenttotal report must have (the table, its header). */
function readStudentTotal(html: string, report: Report): StudentTotal | undefined {
  const $ = cheerio.load(html);
  const table = $('table.table-print').first();
  if (table.length === 0) return void report('table.table-print', 'not found (not a studenttotal report)');
  const headRows = table.find('tr').filter((_, tr) => $(tr).children('th').length > 0).toArray();
  if (headRows.length === 0) return void report('table.table-print header', 'no header row');
  const { columns, months } = headerColumns($, headRows[0]!);
  if (!columns.some((c) => c.kind === 'subject')) return void report('table.table-print header «Предмет»', 'not found');
  const monthOfColumn = monthsOfColumns(months);
  const days = headRows[1] ? $(headRows[1]).children('th').toArray().map((th) => Number(textOf($, th))) : [];
  const dated: TotalColumn[] = monthOfColumn.map((month, i) => ({ month: month ?? 0, day: days[i] ?? 0 }));
  const rows = table.find('tr').toArray().filter((tr) => $(tr).children('td').length > 0)
    .map((tr) => readRow($, tr, columns, dated.length)).filter((r): r is TotalRow => r !== undefined);
  const legend = $('span.legend-label').toArray().map((s) => textOf($, s)).filter(Boolean);
  return { columns: dated, rows, legend };
}

/** The report as its endpoint's schema: the page read, then checked. */
export const StudentTotalSchema = z.string().transform((html, ctx): StudentTotal => {
  let failed = false;
  const value = readStudentTotal(html, (part, what) => {
    failed = true;
    ctx.issues.push({ code: 'custom', message: what, input: undefined, path: [part] });
  });
  return failed || !value ? z.NEVER : value;
});

/**
 * Dates of the date columns: months from August on are the school year's start year, the others the
 * next (lentryd's `Journal.ts` MONTH_NUMBERS splits the same way but counts August to the next year;
 * README.md "Fields", inferred); a column without a month or day gets no date.
 */
export function columnDates(columns: readonly TotalColumn[], startYear: number): Array<string | undefined> {
  return columns.map(({ month, day }) => {
    if (!month || !Number.isInteger(day) || day < 1 || day > 31) return undefined;
    const year = month >= 8 ? startYear : startYear + 1;
    return `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
  });
}

/**
 * The average and the term mark of a row for one term: the totals column naming the term («… 1
 * триместр»), else the only one of its kind, else the last (lentryd's `totalMarksFormat`).
 */
export function totalsFor(row: TotalRow, term: string): { average?: number; final?: string } {
  const pick = (kind: TotalCell['kind']) => {
    const all = row.totals.filter((t) => t.kind === kind);
    return all.find((t) => t.title.toLowerCase().includes(term.trim().toLowerCase())) ?? (all.length === 1 ? all[0] : all[all.length - 1]);
  };
  const averageText = pick('average')?.text;
  const average = Number(averageText?.replace(',', '.'));
  const final = pick('final')?.text;
  return { ...(averageText !== undefined && Number.isFinite(average) ? { average } : {}), ...(final ? { final } : {}) };
}
