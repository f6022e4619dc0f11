import * as cheerio from 'cheerio';
import type { Element } from 'domhandler';
import { hrefParam, isoDate, textOf } from './mapping.js';

/**
 * The class journal page `/school/journal/school_editor` (platforms.md §3.2): the term and subject
 * selectors, then `table.table` — a header of three rows (months with colspan, day numbers with colspan,
 * one cell per lesson with its work-type code and a `title` of «Тема: …», «Задание: …»), a row per pupil
 * of `td.mark` cells (the lessons, then the average) and `td.term-mark` cells, two service rows, and the
 * page links in `div.pages`.
 */

export interface TermOption {
  /** The `term` parameter: the period's number in the class's system (quarters 1–4, half-years 1–2). */
  value: string;
  title: string;
  startDate?: string;
  endDate?: string;
}

export interface CourseOption {
  /** The `criteria` parameter. */
  criteria: string;
  /** Who the course is for: «Весь класс» or a group of the class («англ. гр. 1») [I]. */
  group: string;
  subject: string;
}

export interface JournalFilters {
  terms: TermOption[];
  courses: CourseOption[];
}

export interface LessonColumn {
  date: string;
  /** The lesson's number in the day («Урок № 3» in the header's title) [I]; undefined when the page does not say. */
  slot?: number;
  code: string;
  /** The work type's full title (the code's own `title`). */
  codeTitle?: string;
  topic?: string;
  homework?: string;
}

/** Each token of a cell (a mark, an absence code) is kept behind this mark in one string, so a year of cells stays small. */
const TOKEN = '\u001f';

/** The tokens of a cell as PupilRow.cells keeps it: '' is an empty cell, a lone TOKEN one empty mark element. */
export function cellTokens(cell: string): string[] {
  return cell.split(TOKEN).slice(1);
}

export interface PupilRow {
  pupilId: string;
  /** Per lesson column: the cell's tokens, each behind a separator (read them with `cellTokens`). */
  cells: string[];
  /** The average column as written («4,25»). */
  average?: string;
  /** Per final column of the page (see JournalPage.finals): the value, '' when none. */
  finals: string[];
}

export type FinalColumn = 'term' | 'year';

export interface JournalPage extends JournalFilters {
  lessons: LessonColumn[];
  finals: FinalColumn[];
  rows: PupilRow[];
  /** The page numbers `div.pages` links to. */
  pages: number[];
}

const MONTHS = ['январь', 'февраль', 'март', 'апрель', 'май', 'июнь', 'июль', 'август', 'сентябрь', 'октябрь', 'ноябрь', 'декабрь'];

/** The term and subject selectors: enough to list what a class has (the first page of a class). */
export function parseFilters(html: string): JournalFilters {
  return filtersOf(cheerio.load(html));
}

function filtersOf($: cheerio.CheerioAPI): JournalFilters {
  const options = (name: string) => $(`select#${name} option, select[name="${name}"] option`).toArray()
    .map((o) => ({ value: $(o).attr('value')?.trim() ?? '', text: textOf($(o)) }))
    .filter((o) => o.value !== '' && o.text !== '');
  const unique = <T extends { value: string }>(list: T[]) => [...new Map(list.map((o) => [o.value, o])).values()];
  const terms = unique(options('term')).map(({ value, text }): TermOption => {
    const [startDate, endDate] = [...text.matchAll(/\d{1,2}\.\d{1,2}\.\d{4}/g)].map((m) => isoDate(m[0]));
    return { value, title: text.split('(')[0]!.trim(), ...(startDate ? { startDate } : {}), ...(endDate ? { endDate } : {}) };
  });
  const courses = unique(options('criteria')).map(({ value, text }): CourseOption => {
    const slash = text.indexOf('/');
    return slash < 0
      ? { criteria: value, group: '', subject: text }
      : { criteria: value, group: text.slice(0, slash).trim(), subject: text.slice(slash + 1).trim() };
  });
  return { terms, courses };
}

/** Parses one page of a class's journal for one subject and term; `startYear` dates the day columns. */
export function parseJournal(html: string, startYear: number): JournalPage {
  const $ = cheerio.load(html);
  const table = $('table.table').filter((_, t) => $(t).find('td, th').toArray().some((c) => textOf($(c)) === 'Ученики')).first();
  const head = table.find('thead tr').length >= 3 ? table.find('thead tr') : table.find('tr');
  const [months, days, lessonCells] = [0, 1, 2].map((i) => head.eq(i).children('td, th').toArray());
  const header = headerOf($, months ?? []);
  const dates = datesOf($, header.months, days ?? [], startYear);
  const lessons = (lessonCells ?? []).slice(0, dates.length).map((cell, i) => lessonOf($, cell, dates[i]!));
  const rows = table.find('tbody tr').toArray().flatMap((tr) => rowOf($, tr, lessons.length));
  const pages = $('div.pages a[href]').toArray().map((a) => Number(hrefParam($(a).attr('href'), 'page'))).filter((n) => Number.isInteger(n) && n > 0);
  return { ...filtersOf($), lessons, finals: header.finals, rows, pages };
}

/** The first header row: «Ученики», the months (colspan = their lesson columns), then «Ср.», the term, «Год». */
function headerOf($: cheerio.CheerioAPI, cells: Element[]): { months: Array<{ month: number; span: number }>; finals: FinalColumn[] } {
  const months: Array<{ month: number; span: number }> = [];
  const finals: FinalColumn[] = [];
  for (const cell of cells) {
    const text = textOf($(cell)).toLowerCase();
    const month = MONTHS.indexOf(text);
    if (month >= 0) months.push({ month: month + 1, span: Number($(cell).attr('colspan') ?? 1) });
    else if (text !== 'ученики' && !/^ср/.test(text)) finals.push(text.startsWith('год') ? 'year' : 'term');
  }
  return { months, finals };
}

/** Day numbers (colspan = that day's lessons) under the months; months from August on are the start year's. */
function datesOf($: cheerio.CheerioAPI, months: Array<{ month: number; span: number }>, dayCells: Element[], startYear: number): string[] {
  const days = dayCells.flatMap((cell) => Array<number>(Number($(cell).attr('colspan') ?? 1)).fill(Number(textOf($(cell)))));
  const monthOfColumn = months.flatMap(({ month, span }) => Array<number>(span).fill(month));
  const dates: string[] = [];
  for (const [i, month] of monthOfColumn.entries()) {
    const day = days[i];
    if (!day || !Number.isInteger(day)) break;
    const year = month >= 8 ? startYear : startYear + 1;
    dates.push(`${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`);
  }
  return dates;
}

/** A lesson's header cell: the code as text, the code's title, and the cell's title split at blank lines [I for «Урок №»]. */
function lessonOf($: cheerio.CheerioAPI, cell: Element, date: string): LessonColumn {
  const lesson: LessonColumn = { date, code: textOf($(cell)) };
  const codeTitle = $(cell).find('[title]').first().attr('title')?.replace(/\s+/g, ' ').trim();
  if (codeTitle) lesson.codeTitle = codeTitle;
  for (const part of ($(cell).attr('title') ?? '').split(/\n\s*\n/)) {
    const text = part.replace(/\s+/g, ' ').trim();
    const value = text.slice(text.indexOf(':') + 1).trim();
    const slot = /^Урок\s*№\s*(\d{1,2})/i.exec(text)?.[1];
    if (slot) lesson.slot = Number(slot);
    else if (/^Тема/i.test(text) && value) lesson.topic = value;
    else if (/^(Домашнее )?задание/i.test(text) && value) lesson.homework = value;
  }
  return lesson;
}

/** A pupil's row; rows without a pupil link (the service rows at the bottom) are none. */
function rowOf($: cheerio.CheerioAPI, tr: Element, lessons: number): PupilRow[] {
  const pupilId = $(tr).find('a[href]').toArray().map((a) => hrefParam($(a).attr('href'), 'pupil_id')).find(Boolean);
  if (!pupilId) return [];
  const marks = $(tr).children('td.mark').toArray();
  const average = marks.length > lessons ? textOf($(marks[lessons]!)) : '';
  const finals = $(tr).children('td.term-mark').toArray().map((td) => textOf($(td)));
  return [{ pupilId, cells: marks.slice(0, lessons).map((td) => tokensOf($, td)), finals, ...(average ? { average } : {}) }];
}

/**
 * A cell's tokens: one per mark element (an empty element is kept, so the journal reports it), or the
 * words of the cell's text when it has no elements.
 */
function tokensOf($: cheerio.CheerioAPI, td: Element): string {
  const elements = $(td).children('div, span').toArray();
  const tokens = elements.length > 0 ? elements.map((e) => textOf($(e))) : textOf($(td)).split(' ').filter(Boolean);
  return tokens.map((token) => TOKEN + token).join('');
}

/** The page after `current` that the page links to, if any (a windowed pager links the next window's first page). */
export function nextPage(page: JournalPage, current: number): number | undefined {
  const later = page.pages.filter((p) => p > current);
  return later.length > 0 ? Math.min(...later) : undefined;
}
