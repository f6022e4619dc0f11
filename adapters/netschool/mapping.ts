import * as cheerio from 'cheerio';
import type {
  AttendanceRecord, ClassRecord, MarkRecord, PeriodMarkRecord, PeriodRecord, PersonRecord,
} from '../../src/ports/records.js';
import { localInstant } from '../../src/ports/time.js';
import { mapAttendanceCode, mapMarkValue, type Vocabulary } from '../../src/ports/values.js';

/** NetSchool `/webapi` shapes (platforms.md §2.3–2.5), as far as the adapter reads them. */

export interface DiaryInit {
  students?: Array<{ studentId: number; nickName: string; classId?: number; iupGrade?: number }>;
  currentStudentId?: number;
  weight?: boolean;
  maxMark?: number;
}

export interface AssignmentType {
  id: number;
  name: string;
  abbr?: string;
}

export interface DiaryMark {
  id: number | string;
  studentId: number;
  mark: number | string | null;
  resultScore?: number | null;
  dutyMark?: boolean;
  assignmentId: number | string;
}

export interface Assignment {
  id: number | string;
  typeId: number;
  assignmentName?: string | null;
  weight?: number | null;
  dueDate?: string;
  classAssignment?: boolean;
  classMeetingId: number | string;
  mark?: DiaryMark | null;
}

export interface DiaryLesson {
  classmeetingId: number | string;
  day: string;
  number: number;
  relay?: number;
  room?: string | null;
  startTime?: string;
  endTime?: string;
  subjectName: string;
  assignments?: Assignment[] | null;
}

export interface Diary {
  weekStart: string;
  weekEnd: string;
  termName?: string;
  className?: string;
  weekDays?: Array<{ date: string; lessons?: DiaryLesson[] | null }>;
}

export interface FilterSource {
  filterId: string;
  items?: Array<{ title: string; value: string | number }> | null;
  defaultValue?: string | number | null;
  range?: { start: string; end: string } | null;
}

/** Assignment names teachers leave unset. */
const PLACEHOLDER_NAMES = /^(-+\s*не указана\s*-+|не задано|не указано)$/i;

/** NetSchool writes the generic codes («Н», «Б», «УП», «ОП») and integer marks: nothing of its own. */
export const VOCABULARY: Vocabulary = {};

export function realName(name: string | null | undefined): string | undefined {
  const trimmed = name?.trim();
  return trimmed && !PLACEHOLDER_NAMES.test(trimmed) ? trimmed : undefined;
}

/** Assignment (work) types by name → work category; unknown names are `other`. */
const CATEGORY_BY_NAME: Array<[RegExp, MarkRecord['workCategory']]> = [
  [/контрольн|диктант|зач[её]т/i, 'control'],
  [/самостоят|письменн|проверочн/i, 'written'],
  [/лаборатор/i, 'lab'],
  [/практическ/i, 'practical'],
  [/сочинен|изложен|эссе/i, 'essay'],
  [/тест/i, 'test'],
  [/домашн/i, 'homework'],
  [/ответ на уроке|устн|работа на уроке/i, 'oral'],
];

export function workCategoryOf(type: AssignmentType | undefined): NonNullable<MarkRecord['workCategory']> {
  if (!type) return 'other';
  return CATEGORY_BY_NAME.find(([pattern]) => pattern.test(type.name))?.[1] ?? 'other';
}

export function isHomeworkType(type: AssignmentType | undefined): boolean {
  return Boolean(type && /домашн/i.test(type.name));
}

/** «Иванов Иван Иванович» → last, first, middle; a single word is taken as both (and flagged by the journal's checks). */
export function splitName(nickName: string): { lastName: string; firstName: string; middleName?: string } {
  const [lastName = nickName.trim(), firstName, ...rest] = nickName.trim().split(/\s+/);
  return { lastName, firstName: firstName ?? lastName, ...(rest.length > 0 ? { middleName: rest.join(' ') } : {}) };
}

/** «5А», «10 Б», «11-в» → grade and letter. */
export function classRecord(id: string, title: string, year: number): ClassRecord {
  const match = /^\s*(\d{1,2})\s*[-–]?\s*(.*?)\s*$/.exec(title);
  const grade = match ? Number(match[1]) : 0;
  const letter = match?.[2] ? match[2].toUpperCase() : undefined;
  return { type: 'class', externalId: id, year, name: title.trim(), grade: grade <= 12 ? grade : 0, ...(letter ? { letter } : {}) };
}

export function pupilRecord(student: { studentId: number; nickName: string; classId?: number }): PersonRecord {
  return {
    type: 'person', externalId: String(student.studentId), role: 'pupil', ...splitName(student.nickName),
    ...(student.classId !== undefined ? { classExternalId: String(student.classId) } : {}),
  };
}

/** «1 четверть», «2 полугодие», «3 триместр», «Год» → a period. */
export function periodRecord(id: string, title: string, range: { start: string; end: string }, year: number): PeriodRecord {
  const kind = /полугод/i.test(title) ? 'half_year' : /триместр/i.test(title) ? 'trimester' : /четверт/i.test(title) ? 'quarter' : 'year';
  const number = Math.min(Number(/^\s*(\d{1,2})(?!\d)/.exec(title)?.[1] ?? 1), 12);
  return { type: 'period', externalId: id, year, kind, number, title: title.trim(), startDate: range.start.slice(0, 10), endDate: range.end.slice(0, 10) };
}

export function lessonTimes(lesson: DiaryLesson, timeZone: string): { startsAt?: string; endsAt?: string } {
  const date = lesson.day.slice(0, 10);
  const ok = (t: string | undefined) => t !== undefined && /^\d{2}:\d{2}/.test(t);
  return {
    ...(ok(lesson.startTime) ? { startsAt: localInstant(date, lesson.startTime!, timeZone) } : {}),
    ...(ok(lesson.endTime) ? { endsAt: localInstant(date, lesson.endTime!, timeZone) } : {}),
  };
}

/**
 * A mark of a diary assignment. `mark` is an int or a string («зч»); `dutyMark` is the «точка» (a
 * debt, value «.»). The weight is the assignment's, in NetSchool's own units.
 */
export function markRecord(mark: DiaryMark, assignment: Assignment, type: AssignmentType | undefined, scale: number): MarkRecord {
  const value = mark.dutyMark && (mark.mark === null || mark.mark === undefined || mark.mark === '') ? '.' : String(mark.mark ?? '').trim();
  const mapped = mapMarkValue(value, VOCABULARY, scale);
  const title = realName(assignment.assignmentName) ?? type?.name;
  return {
    type: 'mark', externalId: String(mark.id), pupilExternalId: String(mark.studentId), lessonExternalId: String(assignment.classMeetingId),
    value, kind: mark.dutyMark ? 'debt' : mapped.kind, ...(mapped.kind === 'mark' ? { scale } : {}),
    ...(typeof assignment.weight === 'number' ? { weight: assignment.weight } : {}),
    workCategory: workCategoryOf(type), ...(title ? { workTitle: title } : {}),
  };
}

// ---------------------------------------------------------------------------------------------------
// The «studenttotal» report: one pupil, one term; a row per subject, a column per day under month
// headers, then «Средняя» and «Итоговая» (platforms.md §2.5).

export interface TotalRow {
  subject: string;
  /**
   * Day → per lesson of the subject that day (a double lesson has two columns under the same day
   * number), the tokens of its cell: marks, «.», attendance codes.
   */
  days: Map<string, string[][]>;
  average?: number;
  final?: string;
}

const MONTHS = ['январ', 'феврал', 'март', 'апрел', 'ма', 'июн', 'июл', 'август', 'сентябр', 'октябр', 'ноябр', 'декабр'];

/** Month stems, longest first: «ма» (май, мая) must not swallow «март». */
const MONTH_STEMS = MONTHS.map((stem, i) => ({ stem, month: i + 1 })).sort((a, b) => b.stem.length - a.stem.length);

function monthOf(title: string): number | undefined {
  const t = title.trim().toLowerCase();
  return MONTH_STEMS.find((m) => t.startsWith(m.stem))?.month;
}

/**
 * Parses the report table. Day columns get their year from the term: months from August on belong to
 * the term's start year, the others to the next. Unknown columns are ignored; a row without a subject
 * is skipped.
 */
export function parseStudentTotal(html: string, termStart: string): TotalRow[] {
  const $ = cheerio.load(html);
  const table = $('table').filter((_, t) => $(t).find('th').toArray().some((th) => /итог/i.test($(th).text()))).first();
  if (table.length === 0) return [];
  const headRows = table.find('tr').filter((_, tr) => $(tr).children('th').length > 0).toArray();
  if (headRows.length < 2) return [];
  const startYear = Number(termStart.slice(0, 4));
  // The first header row: «Предмет» (rowspan 2), months (colspan = days), «Средняя», «Итоговая» (rowspan 2).
  const columns: Array<{ kind: 'subject' | 'day' | 'average' | 'final' | 'other'; date?: string; lesson?: number }> = [];
  const months: Array<{ month: number | undefined; span: number }> = [];
  for (const th of $(headRows[0]).children('th').toArray()) {
    const text = $(th).text().replace(/\s+/g, ' ').trim();
    const span = Number($(th).attr('colspan') ?? 1);
    const rowspan = Number($(th).attr('rowspan') ?? 1);
    if (rowspan > 1) {
      const kind = /предмет/i.test(text) ? 'subject' : /средн/i.test(text) ? 'average' : /итог/i.test(text) ? 'final' : 'other';
      columns.push({ kind });
    } else {
      months.push({ month: monthOf(text), span });
      for (let i = 0; i < span; i++) columns.push({ kind: 'day' });
    }
  }
  const days = $(headRows[1]).children('th').toArray().map((th) => Number($(th).text().trim()));
  let dayIndex = 0;
  let monthIndex = 0;
  let usedInMonth = 0;
  for (const column of columns) {
    if (column.kind !== 'day') continue;
    while (monthIndex < months.length && usedInMonth >= months[monthIndex]!.span) {
      monthIndex += 1;
      usedInMonth = 0;
    }
    const month = months[monthIndex]?.month;
    const day = days[dayIndex];
    dayIndex += 1;
    usedInMonth += 1;
    if (!month || !day || !Number.isInteger(day)) continue;
    const year = month >= 8 ? startYear : startYear + 1;
    column.date = `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
    column.lesson = columns.filter((c) => c.date === column.date).length - 1;
  }
  const rows: TotalRow[] = [];
  for (const tr of table.find('tr').toArray()) {
    const cells = $(tr).children('td').toArray();
    if (cells.length === 0) continue;
    const row: TotalRow = { subject: '', days: new Map() };
    cells.forEach((td, i) => {
      const column = columns[i];
      const text = $(td).text().replace(/\s+/g, ' ').trim();
      if (!column || text === '') return;
      if (column.kind === 'subject') row.subject = text;
      else if (column.kind === 'day' && column.date) {
        const lessons = row.days.get(column.date) ?? [];
        lessons[column.lesson ?? 0] = text.split(' ');
        row.days.set(column.date, lessons);
      }
      else if (column.kind === 'average') {
        const n = Number(text.replace(',', '.'));
        if (Number.isFinite(n)) row.average = n;
      } else if (column.kind === 'final') row.final = text;
    });
    if (row.subject) rows.push(row);
  }
  return rows;
}

/** Attendance codes in a cell are upper-case Cyrillic words («Н», «Б», «УП», «ОП»); marks are digits, «.» or lower-case words. */
export function attendanceCodes(tokens: string[]): string[] {
  return tokens.filter((t) => /^[А-ЯЁ]{1,4}$/.test(t));
}

export function attendanceRecord(pupilId: string, lessonId: string, code: string): AttendanceRecord {
  return { type: 'attendance', externalId: `${pupilId}@${lessonId}`, pupilExternalId: pupilId, lessonExternalId: lessonId, code, kind: mapAttendanceCode(code, VOCABULARY) };
}

export function periodMarkRecord(pupilId: string, subjectId: string, termId: string, row: TotalRow, scale: number): PeriodMarkRecord | undefined {
  if (!row.final) return undefined;
  const mapped = mapMarkValue(row.final, VOCABULARY, scale);
  return {
    type: 'period_mark', externalId: `${pupilId}/${termId}/${subjectId}`, pupilExternalId: pupilId, subjectExternalId: subjectId, periodExternalId: termId,
    value: row.final, kind: mapped.kind, ...(mapped.kind === 'mark' ? { scale } : {}), ...(row.average !== undefined ? { average: row.average } : {}),
  };
}

/** Subjects are known by name only: the name is the id (trimmed, inner spaces collapsed). */
export function subjectId(name: string): string {
  return name.trim().replace(/\s+/g, ' ');
}

