import * as cheerio from 'cheerio';
import type { AnyNode, Element } from 'domhandler';
import type {
  AttendanceRecord, ClassRecord, MarkRecord, PeriodMarkRecord, PeriodRecord, PersonRecord, SubjectRecord,
} from '../../src/ports/records.js';
import { mapAttendanceCode, mapMarkValue, normalizeCode, type MarkKind, type Vocabulary } from '../../src/ports/values.js';

/**
 * edu.tatar.ru staff pages (platforms.md §3.2) → source records. Pure: HTML strings in, records out.
 * Everything is parsed with cheerio; regular expressions only ever see a cell's text, never HTML.
 */

/** A cell's or element's text with every run of whitespace (non-breaking spaces included) made one space. */
/** edu.tatar.ru shows «з» for зачёт in term columns (and «н» only in attendance cells). */
export const VOCABULARY: Vocabulary = { marks: { з: 'pass' } };

export function textOf(node: cheerio.Cheerio<AnyNode>): string {
  return node.text().replace(/\s+/g, ' ').trim();
}

const LINK_BASE = 'http://edu.invalid/';

/** A query parameter of a link's href («/school/academic_year/pupils?id=123» → «123»). */
export function hrefParam(href: string | undefined, name: string): string | undefined {
  if (!href || !URL.canParse(href, LINK_BASE)) return undefined;
  return new URL(href, LINK_BASE).searchParams.get(name)?.trim() || undefined;
}

/** «01.09.2025» → «2025-09-01»; undefined when the text holds no such date. */
export function isoDate(text: string | undefined): string | undefined {
  const match = /(\d{1,2})\.(\d{1,2})\.(\d{4})/.exec(text ?? '');
  return match ? `${match[3]}-${match[2]!.padStart(2, '0')}-${match[1]!.padStart(2, '0')}` : undefined;
}

type Row = Map<string, cheerio.Cheerio<Element>>;

/**
 * A `thead`/`tbody` table as rows keyed by the header's texts (the last header row names the columns;
 * edu.tatar.ru writes them as `td`, some pages as `th`).
 */
function tableRows($: cheerio.CheerioAPI, table: cheerio.Cheerio<Element>): Row[] {
  const header = table.find('thead tr').last().children('td, th').toArray().map((cell) => textOf($(cell)).toLowerCase());
  return table.find('tbody tr').toArray().map((tr) => {
    const row: Row = new Map();
    $(tr).children('td, th').toArray().forEach((cell, i) => {
      if (header[i]) row.set(header[i]!, $(cell));
    });
    return row;
  });
}

/** The text of a row's cell under the header `column` ('' when the table has no such column). */
function cellText(row: Row, column: string): string {
  const cell = row.get(column);
  return cell ? textOf(cell) : '';
}

/** The value of the first link in a row that carries the query parameter `name`. */
function rowLinkParam($: cheerio.CheerioAPI, row: Row, name: string): string | undefined {
  for (const cell of row.values()) {
    for (const a of cell.find('a[href]').toArray()) {
      const value = hrefParam($(a).attr('href'), name);
      if (value) return value;
    }
  }
  return undefined;
}

/** The start year of the school year from `/school` (its `h3` reads «2025/2026 учебный год»). */
export function parseSchoolYear(html: string): number | undefined {
  const $ = cheerio.load(html);
  for (const h3 of $('h3').toArray()) {
    const year = /(20\d{2})\s*\/\s*20\d{2}/.exec(textOf($(h3)))?.[1];
    if (year) return Number(year);
  }
  return undefined;
}

export interface ClassInfo {
  id: string;
  grade: number;
  letter: string;
  name: string;
}

/** `/school/academic_year/classes`: «Номер класса», «Литера» and a link to the class's pupils (`?id=`). */
export function parseClasses(html: string): ClassInfo[] {
  const $ = cheerio.load(html);
  const classes: ClassInfo[] = [];
  for (const row of tableRows($, $('table#dataTable, table.table').first())) {
    const id = rowLinkParam($, row, 'id');
    const grade = Number(cellText(row, 'номер класса'));
    const letter = cellText(row, 'литера').toUpperCase();
    if (!id || !Number.isInteger(grade)) continue;
    classes.push({ id, grade, letter, name: `${grade}${letter}` });
  }
  return classes;
}

export interface PupilInfo {
  id: string;
  lastName: string;
  firstName: string;
  middleName?: string;
  birthDate?: string;
  sex?: 'm' | 'f';
  enrolledOn?: string;
  leftOn?: string;
}

/** «Иванов Иван Иванович» → last, first, middle; a single word is taken as both. */
export function splitName(fullName: string): { lastName: string; firstName: string; middleName?: string } {
  const [lastName = fullName, firstName, ...rest] = fullName.split(' ');
  return { lastName, firstName: firstName ?? lastName, ...(rest.length > 0 ? { middleName: rest.join(' ') } : {}) };
}

const PUPIL_DATES = { birthDate: 'дата рождения', enrolledOn: 'дата зачисления', leftOn: 'дата выбытия' } as const;

/** `/school/academic_year/pupils?id=<class>`: «ФИО» (a link with `pupil_id`), birth date, sex, dates in and out [I]. */
export function parsePupils(html: string): PupilInfo[] {
  const $ = cheerio.load(html);
  const pupils: PupilInfo[] = [];
  for (const row of tableRows($, $('table.table').first())) {
    const id = rowLinkParam($, row, 'pupil_id');
    const name = cellText(row, 'фио');
    if (!id || !name) continue;
    const sex = normalizeCode(cellText(row, 'пол'));
    const pupil: PupilInfo = { id, ...splitName(name), ...(sex === 'м' ? { sex: 'm' } : sex === 'ж' ? { sex: 'f' } : {}) };
    for (const [key, column] of Object.entries(PUPIL_DATES)) {
      const date = isoDate(cellText(row, column));
      if (date) pupil[key as keyof typeof PUPIL_DATES] = date;
    }
    pupils.push(pupil);
  }
  return pupils;
}

/** `/school/subject/index`: the school's subjects are the checked boxes of its form; the label is the name. */
export function parseSubjects(html: string): SubjectRecord[] {
  const $ = cheerio.load(html);
  return $('form input[type="checkbox"]:checked').toArray().flatMap((input): SubjectRecord[] => {
    const id = $(input).attr('value')?.trim();
    const name = textOf($(input).closest('label, td'));
    return id && name ? [{ type: 'subject', externalId: id, name }] : [];
  });
}

export function classRecord(cls: ClassInfo, year: number): ClassRecord {
  return { type: 'class', externalId: cls.id, year, name: cls.name, grade: cls.grade <= 12 ? cls.grade : 0, ...(cls.letter ? { letter: cls.letter } : {}) };
}

export function pupilRecord(pupil: PupilInfo, classId: string): PersonRecord {
  const { id, enrolledOn: _in, leftOn: _out, ...person } = pupil;
  return { type: 'person', externalId: id, role: 'pupil', ...person, classExternalId: classId };
}

/** «1 четверть», «2 полугодие», «3 триместр» → the kind of period. */
export function periodKindOf(title: string): PeriodRecord['kind'] {
  const t = title.toLowerCase();
  if (t.includes('полугод')) return 'half_year';
  if (t.includes('триместр')) return 'trimester';
  if (t.includes('четверт')) return 'quarter';
  return 'year';
}

// ---------------------------------------------------------------------------------------------------
// Work types: the code in a lesson's header (platforms.md §3.2 lists the codes, not their meaning [I]).

type WorkCategory = NonNullable<MarkRecord['workCategory']>;

export interface WorkType {
  category: WorkCategory;
  /** edu.tatar.ru shows no weights; the adapter weighs control work like the usual school regulation [I]. */
  weight: number;
  title?: string;
}

export const WORK_TYPES: Readonly<Record<string, WorkType>> = {
  КР: { category: 'control', weight: 2, title: 'Контрольная работа' },
  Д: { category: 'control', weight: 2, title: 'Диктант' },
  З: { category: 'control', weight: 2, title: 'Зачёт' },
  С: { category: 'essay', weight: 2, title: 'Сочинение' },
  И: { category: 'essay', weight: 2, title: 'Изложение' },
  ЛР: { category: 'lab', weight: 1.5, title: 'Лабораторная работа' },
  СР: { category: 'written', weight: 1.5, title: 'Самостоятельная работа' },
  СД: { category: 'written', weight: 1.5, title: 'Словарный диктант' },
  Т: { category: 'test', weight: 1.5, title: 'Тест' },
  ПР: { category: 'practical', weight: 1, title: 'Практическая работа' },
};

/** A lesson without a code is an ordinary lesson: its marks are answers in class [I]. */
const ORDINARY: WorkType = { category: 'oral', weight: 1 };

/** The work type of a lesson's code; an unknown code is `other`, titled by the page's title or the code itself. */
export function workTypeOf(code: string, title?: string): WorkType {
  const key = code.trim().toUpperCase();
  if (!key) return ORDINARY;
  return WORK_TYPES[key] ?? { category: 'other', weight: 1, title: title || code.trim() };
}

// ---------------------------------------------------------------------------------------------------
// Facts of a journal cell.

/** Attendance codes written into a mark cell, lower-case [I]; «н» is always an absence here, never a mark. */
const ABSENCE_CODES = new Set(['н', 'б', 'у', 'уп', 'оп']);

export function isAbsenceCode(token: string): boolean {
  return ABSENCE_CODES.has(normalizeCode(token));
}

/** A mark value's kind, and its scale when it is a points mark (edu.tatar.ru marks 1–5: values.ts's default scale). */
function valueFields(value: string): { kind: MarkKind; scale?: number } {
  const { kind, scale } = mapMarkValue(value, VOCABULARY);
  return { kind, ...(scale !== null ? { scale } : {}) };
}

export function markRecord(pupilId: string, lessonId: string, index: number, value: string, work: WorkType): MarkRecord {
  return {
    type: 'mark', externalId: `${pupilId}@${lessonId}#${index}`, pupilExternalId: pupilId, lessonExternalId: lessonId,
    value: value.trim(), ...valueFields(value),
    weight: work.weight, workCategory: work.category, ...(work.title ? { workTitle: work.title } : {}),
  };
}

export function attendanceRecord(pupilId: string, lessonId: string, code: string): AttendanceRecord {
  return { type: 'attendance', externalId: `${pupilId}@${lessonId}`, pupilExternalId: pupilId, lessonExternalId: lessonId, code, kind: mapAttendanceCode(code, VOCABULARY) };
}

export function periodMarkRecord(
  pupilId: string, subjectId: string, periodId: string, value: string, average?: number,
): PeriodMarkRecord {
  return {
    type: 'period_mark', externalId: `${pupilId}/${periodId}/${subjectId}`, pupilExternalId: pupilId, subjectExternalId: subjectId,
    periodExternalId: periodId, value, ...valueFields(value),
    ...(average !== undefined ? { average } : {}),
  };
}

/** «4,25» → 4.25; undefined for anything that is not a number. */
export function averageOf(text: string | undefined): number | undefined {
  if (!text) return undefined;
  const n = Number(text.replace(',', '.'));
  return Number.isFinite(n) ? n : undefined;
}
