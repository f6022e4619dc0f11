import { AdapterError, type AdapterContext } from '../../src/ports/adapter.js';
import { mapLimit } from '../../src/ports/concurrency.js';
import { mondayOf } from '../../src/ports/ranges.js';
import type { LessonRecord, SourceRecord } from '../../src/ports/records.js';
import { once } from '../../src/ports/session.js';
import { termMeets, type Term } from './calendar.js';
import { EduTatarClient, type EduTatarConfig } from './client.js';
import { TIMETABLE, type JournalPage } from './endpoints.js';
import { nextPage } from './journal.js';
import { staffId, staffRecord, teachingRecord, workTypeOf, type WorkType } from './mapping.js';
import type { Roster } from './roster.js';
import { journalOf, pupilsOf, school, type ClassView, type Course, type SchoolView } from './school.js';
import { assignSlots, fdateOf, type Column, type Timetable } from './timetable.js';

/**
 * The journals of the school, class by class, read once per run: the first stream to ask reads the
 * pages (every page of every course and term meeting the range), matches each row to the class's
 * pupils by name (rows carry no pupil id), places the lessons in their day by the class's timetable,
 * and keeps compact tables that the other streams go over.
 */
type Ctx = AdapterContext<EduTatarConfig>;

export interface TableRow {
  pupilId: string;
  /** Per lesson of the table: the cell's tokens (journal.ts cellTokens). */
  cells: string[];
  average?: string;
  term?: string;
}

export interface Table {
  course: Course;
  term: Term;
  lessons: Array<{ record: LessonRecord; work: WorkType }>;
  rows: TableRow[];
}

export interface ClassJournals {
  classId: string;
  tables: Table[];
  /** The courses' teachers («Учитель:») as staff persons, with their teaching assignments. */
  staff: SourceRecord[];
}

/** A course's term as the pages gave it, before its lessons are placed in their day. */
interface ReadTable {
  course: Course;
  term: Term;
  teacher?: string;
  columns: Array<JournalPage['lessons'][number] & { nth: number }>;
  rows: TableRow[];
}

/** A journal with more pages than this is not what the evidence shows (a pager that never ends). */
const MAX_PAGES = 60;

/** The classes' journals in the school's order; each class is read once per run, by the first stream that asks. */
export async function* journals(ctx: Ctx): AsyncGenerator<ClassJournals> {
  const view = await school(ctx);
  for (const cls of view.classes) yield await once(ctx, `edutatar.journals.${cls.info.id}`, () => readClass(ctx, view, cls));
}

async function readClass(ctx: Ctx, view: SchoolView, cls: ClassView): Promise<ClassJournals> {
  const { roster } = await pupilsOf(ctx, cls.info.id);
  const jobs = cls.courses.flatMap((course) => cls.terms.filter((t) => termMeets(t, ctx.range)).map((term) => ({ course, term })));
  const read = await mapLimit(jobs, ctx.parallelism(ctx.config.parallelPages), ({ course, term }) => readTable(ctx, view, cls, course, term, roster));
  const tables: Table[] = [];
  for (const term of cls.terms) {
    const ofTerm = read.filter((t) => t.term.value === term.value && t.columns.length > 0);
    if (ofTerm.length > 0) tables.push(...await placeLessons(ctx, cls, term, ofTerm));
  }
  ctx.logger.debug({ classId: cls.info.id, tables: tables.length, lessons: tables.reduce((n, t) => n + t.lessons.length, 0) }, 'edu.tatar.ru class journals read');
  // Strings cut out of a page keep the whole page alive; a copy keeps only what a year of tables needs.
  return structuredClone({ classId: cls.info.id, tables, staff: staffOf(read) });
}

/** Every page of a course's journal for a term, merged: lessons side by side, each pupil's cells joined up. */
async function readTable(ctx: Ctx, view: SchoolView, cls: ClassView, course: Course, term: Term, roster: Roster): Promise<ReadTable> {
  const client = EduTatarClient.of(ctx);
  const columns: JournalPage['lessons'] = [];
  const rows = new Map<string, TableRow>();
  const unmatched = new Set<number>();
  let teacher: string | undefined;
  for (let page: number | undefined = 1; page !== undefined;) {
    if (page > MAX_PAGES) throw new AdapterError('permanent', `edu.tatar.ru GET /school/journal/school_editor: .pages: more than ${MAX_PAGES} pages (class ${cls.info.name})`);
    const parsed: JournalPage = await client.read(journalOf(ctx, view.year), { term: term.value, criteria: course.criteria, edu_class_id: cls.info.id, show_moved_pupils: 1, page });
    teacher ??= parsed.teacher;
    const onPage = new Set<string>();
    for (const row of parsed.rows) {
      const pupilId = roster.find(row.name);
      // Two rows of one page for one pupil (a full and a short name) are not guessed either.
      if (!pupilId || onPage.has(pupilId)) unmatched.add(row.number);
      else mergeRow(rows, { pupilId, cells: row.cells, ...(row.average ? { average: row.average } : {}), ...(row.term ? { term: row.term } : {}) }, columns.length);
      if (pupilId) onPage.add(pupilId);
    }
    columns.push(...parsed.lessons);
    // Day columns run in date order: a page that reaches past the range is the last one needed.
    page = parsed.lessons.length === 0 || (parsed.lessons.at(-1)?.date ?? '') > ctx.range.to ? undefined : nextPage(parsed, page);
  }
  if (unmatched.size > 0) {
    ctx.logger.warn({ classId: cls.info.id, criteria: course.criteria, term: term.value, rows: [...unmatched].sort((a, b) => a - b) },
      'edu.tatar.ru journal rows that match no pupil or several pupils of the class list by name: skipped');
  }
  const nth = new Map<string, number>();
  const numbered = columns.map((c) => ({ ...c, nth: nth.set(c.date, (nth.get(c.date) ?? 0) + 1).get(c.date)! }));
  const inRange = numbered.map((c, i) => ({ c, i })).filter(({ c }) => c.date >= ctx.range.from && c.date <= ctx.range.to);
  return {
    course, term, ...(teacher ? { teacher } : {}), columns: inRange.map(({ c }) => c),
    rows: [...rows.values()].map((row) => ({ ...row, cells: inRange.map(({ i }) => row.cells[i] ?? '') })),
  };
}

/** A pupil's row of a later page continues the row of the earlier pages (padded where the pupil had none). */
function mergeRow(rows: Map<string, TableRow>, row: TableRow, before: number): void {
  const known = rows.get(row.pupilId);
  if (!known) {
    rows.set(row.pupilId, { ...row, cells: [...Array<string>(before).fill(''), ...row.cells] });
    return;
  }
  known.cells.push(...Array<string>(before - known.cells.length).fill(''), ...row.cells);
  known.average ||= row.average;
  known.term ||= row.term;
}

/** The lessons of a class's term, placed in their day (timetable.ts), as lesson records. */
async function placeLessons(ctx: Ctx, cls: ClassView, term: Term, tables: ReadTable[]): Promise<Table[]> {
  const columns: Column[] = tables.flatMap((t) => t.columns.map((c) => ({ groupId: t.course.groupId, subject: t.course.subject, date: c.date, nth: c.nth, ...(c.slot ? { slot: c.slot } : {}) })));
  const timetable = columns.some((c) => c.slot === undefined) ? await timetableOf(ctx, cls, term) : undefined;
  const { slots, unplaced } = assignSlots(columns, timetable);
  if (unplaced > 0) {
    ctx.logger.warn({ classId: cls.info.id, term: term.value, lessons: unplaced }, 'edu.tatar.ru timetable does not place some lessons: they take the first free slots of their day');
  }
  let k = 0;
  return tables.map((t): Table => {
    const teacher = t.teacher ? { teacherExternalId: staffId(t.teacher) } : {};
    return {
      course: t.course, term: t.term, rows: t.rows,
      lessons: t.columns.map((c) => {
        const record: LessonRecord = {
          type: 'lesson', externalId: `${t.course.classId}/${t.course.criteria}@${c.date}#${c.nth}`, classExternalId: t.course.groupId,
          subjectExternalId: t.course.subjectId, date: c.date, slot: slots[k++]!,
          ...(c.topic ? { topic: c.topic } : {}), ...(c.homework ? { homework: c.homework } : {}), ...teacher,
        };
        return { record, work: workTypeOf(c.code) };
      }),
    };
  });
}

/** The class's timetable for the term, from the week the read starts in; none (every lesson placed by its day) when the page is missing. */
async function timetableOf(ctx: Ctx, cls: ClassView, term: Term): Promise<Timetable | undefined> {
  const from = term.startDate > ctx.range.from ? term.startDate : ctx.range.from;
  try {
    return await EduTatarClient.of(ctx).read(TIMETABLE, { edu_class_id: cls.info.id, fdate: fdateOf(mondayOf(from)), term_number: term.number });
  } catch (error) {
    if (error instanceof AdapterError && error.kind === 'not_found') return undefined;
    throw error;
  }
}

/** The courses' teachers and what they teach. */
function staffOf(tables: ReadTable[]): SourceRecord[] {
  const records = new Map<string, SourceRecord>();
  for (const { teacher, course } of tables) {
    if (!teacher) continue;
    const person = staffRecord(teacher);
    const teaching = teachingRecord(teacher, course.groupId, course.subjectId);
    records.set(`person ${person.externalId}`, person).set(`teaching ${teaching.externalId}`, teaching);
  }
  return [...records.values()];
}
