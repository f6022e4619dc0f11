import type { Adapter, AdapterContext, AdapterStream, SourceBatch } from '../../src/ports/adapter.js';
import { mapLimit } from '../../src/ports/concurrency.js';
import type { LessonRecord, PeriodRecord, SourceRecord } from '../../src/ports/records.js';
import { perRun } from '../../src/ports/session.js';
import { EduTatarClient, EduTatarConfigSchema, type EduTatarConfig } from './client.js';
import { cellTokens, nextPage, parseJournal, type FinalColumn, type LessonColumn, type PupilRow } from './journal.js';
import {
  VOCABULARY, attendanceRecord, averageOf, classRecord, isAbsenceCode, markRecord, parsePupils, periodMarkRecord, pupilRecord, workTypeOf,
  type WorkType,
} from './mapping.js';
import { JOURNAL_PATH, YEAR_PERIOD_ID, school, schoolYear, termMeets, type ClassView, type Course, type SchoolView, type Term } from './school.js';

/**
 * «Электронное образование в Республике Татарстан» (edu.tatar.ru) through its staff pages
 * (platforms.md §3): no API, so a school administrator's session reads HTML — the roster pages, then
 * the class journal per course and term, page by page. One journal page gives lessons, marks, absences
 * and term marks together; they are read once per run and handed to their own streams, so that each
 * stream's deletions are detected. Homework has no page of its own (it is in the lesson's header).
 * See README.md.
 */
type Ctx = AdapterContext<EduTatarConfig>;

/** Roster: classes and their groups, subjects, periods (and the year), pupils with their enrollments. */
const roster: AdapterStream<EduTatarConfig> = {
  granularity: 'school',
  async *read(ctx) {
    const view = await school(ctx);
    const records: SourceRecord[] = [...view.subjects];
    const periods = new Map<string, PeriodRecord>(view.yearPeriod ? [[view.yearPeriod.externalId, view.yearPeriod]] : []);
    for (const cls of view.classes) {
      records.push(classRecord(cls.info, view.year), ...cls.groups);
      for (const term of cls.terms) if (term.period) periods.set(term.periodId, term.period);
    }
    records.push(...periods.values());
    const client = EduTatarClient.of(ctx);
    const pupils = await mapLimit(view.classes, ctx.config.parallelPages, async (cls) => ({
      classId: cls.info.id, pupils: parsePupils(await client.page('school/academic_year/pupils', { id: cls.info.id })),
    }));
    for (const { classId, pupils: list } of pupils) {
      for (const p of list) {
        records.push(pupilRecord(p, classId), {
          type: 'enrollment', externalId: `${p.id}@${classId}`, pupilExternalId: p.id, classExternalId: classId,
          ...(p.enrolledOn ? { startDate: p.enrolledOn } : {}), ...(p.leftOn ? { endDate: p.leftOn } : {}),
        });
      }
    }
    yield { records };
  },
};

/** One course's journal for one term, within the read range; what the later streams need of it, detached from the pages' HTML. */
interface JournalTable {
  course: Course;
  term: Term;
  lessons: Array<{ record: LessonRecord; work: WorkType }>;
  /** Cells aligned with `lessons`. */
  rows: PupilRow[];
  finals: FinalColumn[];
}

interface ClassJournals {
  classId: string;
  tables: JournalTable[];
}

/**
 * The journals of the school, class by class, read once per run: the first stream to ask reads the
 * pages (and keeps compact tables), the others go over what it kept.
 */
async function* journals(ctx: Ctx): AsyncGenerator<ClassJournals> {
  const cache = perRun(ctx, 'edutatar.journals', () => ({ complete: false, classes: [] as ClassJournals[] }));
  if (cache.complete) {
    yield* cache.classes;
    return;
  }
  cache.classes = [];
  const view = await school(ctx);
  for (const cls of view.classes) {
    const jobs = cls.courses.flatMap((course) => cls.terms.filter((t) => termMeets(t, ctx.range)).map((term) => ({ course, term })));
    const tables = await mapLimit(jobs, ctx.config.parallelPages, ({ course, term }) => readTable(ctx, view, cls, course, term));
    ctx.logger.debug({ classId: cls.info.id, tables: tables.length, lessons: tables.reduce((n, t) => n + t.lessons.length, 0) }, 'edu.tatar.ru class journals read');
    const entry = { classId: cls.info.id, tables };
    cache.classes.push(entry);
    yield entry;
  }
  cache.complete = true;
}

/** Every page of a course's journal for a term, merged: lessons side by side, each pupil's cells joined up. */
async function readTable(ctx: Ctx, view: SchoolView, cls: ClassView, course: Course, term: Term): Promise<JournalTable> {
  const client = EduTatarClient.of(ctx);
  const lessons: LessonColumn[] = [];
  const rows = new Map<string, PupilRow>();
  let finals: FinalColumn[] = [];
  for (let page: number | undefined = 1; page !== undefined; ) {
    const html = await client.page(JOURNAL_PATH, { term: term.value, criteria: course.criteria, edu_class_id: cls.info.id, show_moved_pupils: 1, page });
    const parsed = parseJournal(html, view.year);
    for (const row of parsed.rows) mergeRow(rows, row, lessons.length);
    lessons.push(...parsed.lessons);
    if (parsed.finals.length > 0) finals = parsed.finals;
    // Day columns run in date order: a page that reaches past the range is the last one needed.
    page = (parsed.lessons.at(-1)?.date ?? '') > ctx.range.to ? undefined : nextPage(parsed, page);
  }
  const inRange = lessons.map((l, i) => ({ l, i })).filter(({ l }) => l.date >= ctx.range.from && l.date <= ctx.range.to);
  // Strings cut out of a page keep the whole page alive; a copy of what the pages gave keeps only what a year of tables needs.
  const read = structuredClone({
    finals,
    lessons: lessonRecords(ctx, course, inRange.map(({ l }) => l)),
    rows: [...rows.values()].map((row) => ({ ...row, cells: inRange.map(({ i }) => row.cells[i] ?? '') })),
  });
  return { course, term, ...read };
}

/** A pupil's row of a later page continues the row of the earlier pages (padded where the pupil had none). */
function mergeRow(rows: Map<string, PupilRow>, row: PupilRow, before: number): void {
  const known = rows.get(row.pupilId);
  if (!known) {
    rows.set(row.pupilId, { ...row, cells: [...Array<string>(before).fill(''), ...row.cells] });
    return;
  }
  known.cells.push(...Array<string>(before - known.cells.length).fill(''), ...row.cells);
  known.average ||= row.average;
  known.finals = Array.from({ length: Math.max(known.finals.length, row.finals.length) }, (_, i) => known.finals[i] || row.finals[i] || '');
}

/** Lesson records of a course's columns; a column without its lesson number gets its place among the course's lessons that day. */
function lessonRecords(ctx: Ctx, course: Course, columns: LessonColumn[]): Array<{ record: LessonRecord; work: WorkType }> {
  const perDay = new Map<string, number>();
  const warned = perRun(ctx, 'edutatar.slotsWarned', () => ({ done: false }));
  return columns.map((column) => {
    const ordinal = (perDay.get(column.date) ?? 0) + 1;
    perDay.set(column.date, ordinal);
    if (column.slot === undefined && !warned.done) {
      warned.done = true;
      ctx.logger.warn({ criteria: course.criteria }, 'edu.tatar.ru journal shows no lesson numbers; lessons are numbered within their course and day');
    }
    const slot = column.slot ?? ordinal;
    const record: LessonRecord = {
      type: 'lesson', externalId: `${course.classId}/${course.criteria}@${column.date}#${slot}`, classExternalId: course.groupId,
      subjectExternalId: course.subjectId, date: column.date, slot,
      ...(column.topic ? { topic: column.topic } : {}), ...(column.homework ? { homework: column.homework } : {}),
    };
    return { record, work: workTypeOf(column.code, column.codeTitle) };
  });
}

/** A stream of the records one kind of fact makes of the journals, a batch per class. */
function journalStream(recordsOf: (table: JournalTable) => SourceRecord[]): AdapterStream<EduTatarConfig> {
  return {
    granularity: 'class',
    async *read(ctx): AsyncGenerator<SourceBatch> {
      for await (const { tables } of journals(ctx)) {
        const records = tables.flatMap(recordsOf);
        if (records.length > 0) yield { records };
      }
    },
  };
}

/** Each cell of a table with its lesson, as pupil × lesson. */
function* cells(table: JournalTable): Generator<{ pupilId: string; lessonId: string; work: WorkType; tokens: string[] }> {
  for (const row of table.rows) {
    for (const [i, { record, work }] of table.lessons.entries()) {
      const cell = row.cells[i];
      if (cell) yield { pupilId: row.pupilId, lessonId: record.externalId, work, tokens: cellTokens(cell) };
    }
  }
}

function marksOf(table: JournalTable): SourceRecord[] {
  return [...cells(table)].flatMap(({ pupilId, lessonId, work, tokens }) => tokens
    .filter((token) => !isAbsenceCode(token))
    .map((value, k) => markRecord(pupilId, lessonId, k + 1, value, work)));
}

function attendanceOf(table: JournalTable): SourceRecord[] {
  return [...cells(table)].flatMap(({ pupilId, lessonId, tokens }) => {
    const code = tokens.find(isAbsenceCode);
    return code ? [attendanceRecord(pupilId, lessonId, code)] : [];
  });
}

function periodMarksOf(table: JournalTable): SourceRecord[] {
  return table.rows.flatMap((row) => table.finals.flatMap((column, i) => {
    const value = row.finals[i];
    if (!value) return [];
    return column === 'year'
      ? [periodMarkRecord(row.pupilId, table.course.subjectId, YEAR_PERIOD_ID, value)]
      : [periodMarkRecord(row.pupilId, table.course.subjectId, table.term.periodId, value, averageOf(row.average))];
  }));
}

export const edutatar: Adapter<EduTatarConfig> = {
  id: 'edutatar',
  title: 'Электронное образование в РТ (edu.tatar.ru)',
  configSchema: EduTatarConfigSchema,
  secretKeys: ['password'],
  endpoints: [],
  vocabulary: VOCABULARY,
  simulator: () => import('./simulator.js').then((m) => m.simulator),
  streams: {
    roster,
    schedule: journalStream((table) => table.lessons.map((l) => l.record)),
    marks: journalStream(marksOf),
    attendance: journalStream(attendanceOf),
    periodMarks: journalStream(periodMarksOf),
  },
  async checkConnection(ctx) {
    await schoolYear(ctx);
  },
};
