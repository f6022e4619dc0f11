import { AppError } from '../lib/errors.js';

/**
 * The paper template's layout, shared by its XLSX and CSV forms: a table of texts (row-major). The left
 * page: a hidden first row (the marker, then one lesson id per column), the date and slot rows, then one
 * row per pupil (hidden pupil id, full name, one cell per lesson). The right page: one row per lesson
 * (hidden lesson id, date, slot, topic, homework); the CSV, which has one sheet, carries it as a topic
 * row and a homework row under the pupils instead.
 */

/** What a paper page holds, read from the journal (template) or to be compared with it (import). */
export interface PaperPage {
  classId: string;
  subjectId: string;
  subjectName: string;
  lessons: Array<{ id: string; date: string; slot: number; topic: string | null; homework: string | null }>;
  pupils: Array<{ id: string; fullName: string }>;
  /** `cells[p][l]`: what pupil p's cell of lesson l shows ('' when blank). */
  cells: string[][];
}

/** A table read from a file: texts, plus the cells whose value cannot be a mark (a date Excel made of «5/4»). */
export interface Table {
  rows: string[][];
  problems: Map<string, string>;
}

export const HEADER_ROWS = 3;
export const FIRST_CELL_COLUMN = 2;
export const RIGHT_SHEET = 'Темы и ДЗ';
const DATE_TAG = '#date';
const SLOT_TAG = '#slot';
export const TOPIC_TAG = '#topic';
export const HOMEWORK_TAG = '#homework';
export const LESSON_TAG = '#lesson';
const MARKER = /^journal-bridge paper v1; class=([0-9a-f-]{36}); subject=([0-9a-f-]{36})$/i;

export function markerOf(page: Pick<PaperPage, 'classId' | 'subjectId'>): string {
  return `journal-bridge paper v1; class=${page.classId}; subject=${page.subjectId}`;
}

/** The class and subject a table's marker names, or null when it has none (not our template). */
export function readMarker(text: string | undefined): { classId: string; subjectId: string } | null {
  const match = MARKER.exec((text ?? '').trim());
  return match ? { classId: match[1]!.toLowerCase(), subjectId: match[2]!.toLowerCase() } : null;
}

/** Excel's sheet names: at most 31 characters, none of []:*?/\ and no apostrophe at either end. */
export function sheetNameOf(subjectName: string): string {
  const clean = subjectName.replace(/[[\]:*?/\\]/g, ' ').replace(/\s+/g, ' ').trim().replace(/^'+|'+$/g, '');
  return clean.slice(0, 31).trim() || 'Предмет';
}

/** «2026-09-01» → «01.09.2026», as the paper journal writes it. */
export function paperDate(iso: string): string {
  const [y, m, d] = iso.split('-');
  return `${d}.${m}.${y}`;
}

/** The left page as a table; with `rightRows`, the topic and homework rows under the pupils (the CSV). */
export function leftTable(page: PaperPage, rightRows: boolean): string[][] {
  const rows: string[][] = [
    [markerOf(page), '', ...page.lessons.map((l) => l.id)],
    [DATE_TAG, 'Ученик', ...page.lessons.map((l) => paperDate(l.date))],
    [SLOT_TAG, 'Урок №', ...page.lessons.map((l) => String(l.slot))],
    ...page.pupils.map((p, i) => [p.id, p.fullName, ...page.cells[i]!]),
  ];
  if (rightRows) {
    rows.push([TOPIC_TAG, 'Тема урока', ...page.lessons.map((l) => l.topic ?? '')]);
    rows.push([HOMEWORK_TAG, 'Домашнее задание', ...page.lessons.map((l) => l.homework ?? '')]);
  }
  return rows;
}

/** The right page: date, topic and homework per lesson. */
export function rightTable(page: PaperPage): string[][] {
  return [
    [LESSON_TAG, 'Дата', 'Урок №', 'Тема урока', 'Домашнее задание'],
    ...page.lessons.map((l) => [l.id, paperDate(l.date), String(l.slot), l.topic ?? '', l.homework ?? '']),
  ];
}

/** «F12»: the address of a cell of a table (0-based row and column). */
export function cellAddress(row: number, column: number): string {
  let letters = '';
  for (let n = column + 1; n > 0; n = Math.floor((n - 1) / 26)) letters = String.fromCharCode(65 + ((n - 1) % 26)) + letters;
  return `${letters}${row + 1}`;
}

/** A file that is not a filled paper template (or cannot be read as one): refused whole, nothing written. */
export class PaperFileError extends AppError {
  constructor(message: string, status = 422, code = 'not_paper_template') {
    super(code, message, status);
  }
}
