import * as cheerio from 'cheerio';
import type { Element } from 'domhandler';
import { dated } from './calendar.js';
import { hrefParam, type Report } from './html.js';
import { textOf } from './mapping.js';

/**
 * The class journal page `/school/journal/school_editor` read into a plain object (endpoints.ts checks
 * it): the term and course selectors, the course's teacher (`div.line.last` «Учитель: <full name>»),
 * `table.table` with the «Ученики» header — months (colspan = their lesson columns), day numbers
 * (colspan = that day's lessons), one cell per lesson (its work-type code as text, «Тема: …\n\nЗадание:
 * …» as title) — then a row per pupil `[№, name (td.fio), td.mark × lessons, td.mark average,
 * td.term-mark]` with no pupil id, service rows, and the pager `.pages` (a `p` since 2020).
 */

/** Each token of a cell (a mark, an absence code) is kept behind this mark in one string, so a year of cells stays small. */
const TOKEN = '\u001f';

/** The tokens of a cell as a row keeps it: '' is an empty cell, a lone TOKEN one empty mark element. */
export function cellTokens(cell: string): string[] {
  return cell.split(TOKEN).slice(1);
}

const MONTHS = ['январь', 'февраль', 'март', 'апрель', 'май', 'июнь', 'июль', 'август', 'сентябрь', 'октябрь', 'ноябрь', 'декабрь'];

interface Option {
  value: string;
  text: string;
}

function optionsOf($: cheerio.CheerioAPI, name: string): Option[] {
  const all = $(`select#${name} option, select[name="${name}"] option`).toArray()
    .map((o) => ({ value: $(o).attr('value')?.trim() ?? '', text: textOf($(o)) }))
    .filter((o) => o.value !== '' && o.text !== '');
  return [...new Map(all.map((o) => [o.value, o])).values()];
}

/** «7А англ. гр. 1&nbsp;/&nbsp;Английский язык» → the part before the slash (its meaning has no evidence) and the subject. */
function courseOf({ value, text }: Option): { criteria: string; group: string; subject: string } {
  const slash = text.indexOf('/');
  return slash < 0 ? { criteria: value, group: '', subject: text } : { criteria: value, group: text.slice(0, slash).trim(), subject: text.slice(slash + 1).trim() };
}

/** «Учитель:» is a text node of its own; the rest of `div.line.last` is the teacher's full name. */
function teacherOf($: cheerio.CheerioAPI): string | undefined {
  const text = textOf($('div.line.last').first());
  const name = text.replace(/^Учитель\s*:?/i, '').trim();
  return /^Учитель/i.test(text) && name ? name : undefined;
}

/** A lesson's header cell: the code as its text, the title split at blank lines into «Тема: …», «Задание: …» (and «Урок № N» [I]). */
function lessonOf($: cheerio.CheerioAPI, cell: Element, date: string) {
  const lesson: { date: string; code: string; topic?: string; homework?: string; slot?: number } = { date, code: textOf($(cell)) };
  for (const part of ($(cell).attr('title') ?? '').split(/\n\s*\n/)) {
    const text = part.replace(/\s+/g, ' ').trim();
    const value = text.slice(text.indexOf(':') + 1).trim();
    const slot = /^Урок\s*№\s*(\d{1,2})$/i.exec(text)?.[1];
    if (slot) lesson.slot = Number(slot);
    else if (/^Тема/i.test(text) && value) lesson.topic = value;
    else if (/^(Домашнее )?задание/i.test(text) && value) lesson.homework = value;
  }
  return lesson;
}

/** The header's three rows: months after «Ученики» (with colspan), the day numbers (every cell with colspan), the lesson cells. */
function lessonsOf($: cheerio.CheerioAPI, table: cheerio.Cheerio<Element>, startYear: number, report: Report) {
  const head = table.find('thead tr').length >= 3 ? table.find('thead tr') : table.find('tr');
  const monthCells = head.eq(0).children('td, th').toArray().filter((c) => MONTHS.includes(textOf($(c)).toLowerCase()));
  const columns = monthCells.flatMap((c) => Array<number>(Number($(c).attr('colspan') ?? 1)).fill(MONTHS.indexOf(textOf($(c)).toLowerCase()) + 1));
  const days = head.eq(1).children('td, th').toArray().flatMap((c) => Array<number>(Number($(c).attr('colspan') ?? 1)).fill(Number(textOf($(c)))));
  if (days.length < columns.length || days.slice(0, columns.length).some((d) => !Number.isInteger(d) || d < 1 || d > 31)) {
    report('thead tr[1] (days)', `${days.length} day columns for ${columns.length} month columns`);
    return [];
  }
  const cells = head.eq(2).children('td, th').toArray();
  if (cells.length < columns.length) report('thead tr[2] (lessons)', `${cells.length} lesson cells for ${columns.length} day columns`);
  return columns.map((month, i) => lessonOf($, cells[i] ?? cells[0]!, dated(`${String(month).padStart(2, '0')}-${String(days[i]).padStart(2, '0')}`, startYear)));
}

/**
 * A cell's tokens: the words of its text (a mark, an absence code, «оп 4»). Cells with `div`/`span`
 * children [I] give one token per element, so an empty mark element is kept and the journal reports it.
 */
function tokensOf($: cheerio.CheerioAPI, td: Element): string {
  const elements = $(td).children('div, span').toArray();
  const tokens = elements.length > 0 ? elements.map((e) => textOf($(e))) : textOf($(td)).split(' ').filter(Boolean);
  return tokens.map((token) => TOKEN + token).join('');
}

/** A pupil's row: `td.fio` (or the cell before the first mark) names the pupil; the title may hold `login=…`. */
function rowOf($: cheerio.CheerioAPI, tr: Element, index: number, lessons: number, report: Report) {
  const marks = $(tr).children('td.mark').toArray();
  if (marks.length === 0) return []; // the service rows at the bottom
  const tds = $(tr).children('td').toArray();
  const fio = $(tr).children('td.fio').first();
  const nameCell = fio.length > 0 ? fio : $(tds[Math.max(0, tds.indexOf(marks[0]!) - 1)]!);
  const number = Number(textOf($(tds[0]!)));
  const login = (fio.attr('title') ?? '').split(/\s+/).find((t) => t.includes('login='))?.split('login=')[1];
  if (marks.length < lessons) report(`tbody tr[${index}]`, `${marks.length} td.mark cells for ${lessons} lessons`);
  const average = marks.length > lessons ? textOf($(marks[lessons]!)) : '';
  const termCell = $(tr).children('td.term-mark').first();
  const term = termCell.children('div').length > 0 ? textOf(termCell.children('div').first()) : textOf(termCell);
  return [{
    number: Number.isInteger(number) && number > 0 ? number : index + 1, name: textOf(nameCell),
    cells: marks.slice(0, lessons).map((td) => tokensOf($, td)),
    ...(login ? { login } : {}), ...(average ? { average } : {}), ...(term ? { term } : {}),
  }];
}

/** The pager: page numbers are the texts of `.pages` (links and the current page), `>>` links the next window. */
function pagerOf($: cheerio.CheerioAPI): { pages: number[]; next?: number } {
  const pager = $('p.pages, div.pages, .pages').first();
  const words = textOf(pager).split(' ');
  const pages = [...new Set([...words.filter((w) => /^\d+$/.test(w)).map(Number),
    ...pager.find('a[href]').toArray().map((a) => Number(hrefParam($(a).attr('href'), 'page'))).filter((n) => Number.isInteger(n) && n > 0)])];
  const more = pager.find('a').toArray().find((a) => textOf($(a)) === '>>');
  const next = Number(hrefParam($(more).attr('href'), 'page'));
  return { pages, ...(more ? { next: Number.isInteger(next) && next > 0 ? next : Math.max(0, ...pages) + 1 } : {}) };
}

/** Reads one page of a class's journal for one course and term; `startYear` dates the day columns. */
export function readJournal(html: string, startYear: number, report: Report) {
  const $ = cheerio.load(html);
  const terms = optionsOf($, 'term');
  const courses = optionsOf($, 'criteria').map(courseOf);
  const table = $('table.table').filter((_, t) => $(t).find('td, th').toArray().some((c) => textOf($(c)) === 'Ученики')).first();
  if (table.length === 0) {
    // A course without lessons or pupils may show no table (the school tool skips «Нет учителя и учеников»); a page without selectors is not a journal.
    if (courses.length === 0) report('table «Ученики»', 'not found (nor select#criteria): not a class journal page');
    return { terms, courses, lessons: [], rows: [], pages: [] };
  }
  const teacher = teacherOf($);
  const lessons = lessonsOf($, table, startYear, report);
  const rows = table.find('tbody tr').toArray().flatMap((tr, i) => rowOf($, tr, i, lessons.length, report));
  return { terms, courses, ...(teacher ? { teacher } : {}), lessons, rows, ...pagerOf($) };
}

/** The page after `current` the pager points to: the next number shown, else the `>>` window. */
export function nextPage(page: { pages: number[]; next?: number }, current: number): number | undefined {
  const later = page.pages.filter((p) => p > current);
  if (later.length > 0) return Math.min(...later);
  return page.next !== undefined && page.next > current ? page.next : undefined;
}
