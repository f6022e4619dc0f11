import { primarySourceOf } from '../checks/rules/sources.js';
import { readSources } from '../checks/service.js';
import type { CheckSource } from '../checks/types.js';
import { together, type Pool, type PoolClient } from '../db/pool.js';
import { shiftDays, todayIn } from '../lib/dates.js';
import { NotFoundError, ValidationError } from '../lib/errors.js';
import type { WorkCategorySchema } from '../ports/records.js';
import type { AttendanceKind, MarkKind } from '../ports/values.js';
import type { z } from 'zod';
import { assembleCells, type Cell, type CellDiscrepancy } from './page-cells.js';

type WorkCategory = z.infer<typeof WorkCategorySchema>;

/** Reads of the canonical journal for the API. Plain SQL: the journal page joins five tables. */

/** A pool, or one connection (a sealed page is read inside the seal's snapshot). */
type Queryable = Pool | PoolClient;

export interface JournalPageQuery {
  /** The school the class must belong to; a class of another school answers like an unknown one. */
  schoolId?: string;
  classId: string;
  subjectId?: string;
  from?: string;
  to?: string;
  /** Widest range (days, both ends included) a page may cover; wider → 400 naming the maximum. */
  maxDays: number;
  /** The source whose values the cells show instead of the school's primary (a printout shows its electronic journal). */
  shownSourceId?: string;
}

export interface PageMark {
  id: string;
  raw: string;
  kind: MarkKind;
  numeric: number | null;
  weight: number | null;
  workCategory: WorkCategory;
  workTitle: string | null;
  enteredAt: string | null;
  sourceId: string;
}

export interface PageAbsence {
  raw: string;
  kind: AttendanceKind;
  lateMinutes: number | null;
}

export interface PageLesson {
  id: string;
  date: string;
  slot: number;
  group: { id: string; name: string };
  topic: string | null;
  homework: string | null;
  status: 'planned' | 'held' | 'cancelled';
  teacherId: string | null;
  substituteId: string | null;
}

export interface JournalPage {
  class: { id: string; name: string; grade: number; schoolId: string };
  subject: { id: string; name: string };
  from: string;
  to: string;
  /** The source whose values the cells show (page-cells.ts), and every source of the school, the primary first. */
  primarySourceId: string | null;
  sources: Array<{ id: string; platform: string; title: string }>;
  lessons: PageLesson[];
  /** One row per pupil; `cells[i]` is the pupil in `lessons[i]`: one value per cell, with the other sources' agreement. */
  rows: Array<{
    pupil: { id: string; lastName: string; firstName: string; middleName: string | null };
    cells: Array<Cell<PageMark, PageAbsence>>;
  }>;
}

interface ClassRow {
  id: string;
  name: string;
  grade: number;
  school_id: string;
  time_zone: string;
}

const DEFAULT_DAYS = 28;

/**
 * The class journal page: the lessons of one subject in a date range (the class's and its subgroups'),
 * the pupils of the class, and per pupil and lesson one value (the primary source's, page-cells.ts) with the
 * other sources' agreement and the discrepancies about the cell.
 */
export async function readJournalPage(pool: Queryable, query: JournalPageQuery): Promise<JournalPage> {
  const cls = await readClass(pool, query.classId, query.schoolId);
  if (!query.subjectId) throw await subjectRequired(pool, cls);
  const subject = await readSubject(pool, cls.school_id, query.subjectId);
  const { from, to } = pageRange(query, cls.time_zone);
  const lessons = await readLessons(pool, cls, subject.id, from, to);
  const lessonIds = lessons.map((l) => l.id);
  const [pupils, marks, absences, discrepancies, sources] = await together(pool, [
    () => readPupils(pool, cls.id, from, to, lessonIds),
    () => readMarks(pool, lessonIds),
    () => readAbsences(pool, lessonIds),
    () => readCellDiscrepancies(pool, cls.school_id, lessonIds),
    () => readSchoolSources(pool, cls.school_id),
  ] as const);
  const primarySourceId = query.shownSourceId ?? primarySourceOf(sources.list, sources.named)?.id ?? null;
  const cells = assembleCells({
    lessonIds, pupilIds: pupils.map((p) => p.id), marks, absences, discrepancies, primary: primarySourceId,
    sourceOrder: sources.list.map((s) => s.id),
    showMark: ({ pupil_id: _p, lesson_id: _l, ...mark }): PageMark => mark,
    showAbsence: ({ pupil_id: _p, lesson_id: _l, sourceId: _s, ...absence }): PageAbsence => absence,
  });
  const rows = pupils.map((pupil, i) => ({ pupil, cells: cells[i]! }));
  const pageSources = [...sources.list].sort((x, y) => Number(y.id === primarySourceId) - Number(x.id === primarySourceId))
    .map(({ id, platform, title }) => ({ id, platform, title }));
  return {
    class: { id: cls.id, name: cls.name, grade: cls.grade, schoolId: cls.school_id }, subject, from, to,
    primarySourceId, sources: pageSources, lessons, rows,
  };
}

/**
 * The page's days: `to` defaults to the school's today, `from` to 27 days before it; a range wider than
 * `maxDays` is refused rather than answered with a year-sized (or unbounded) page.
 */
function pageRange(query: JournalPageQuery, timeZone: string): { from: string; to: string } {
  const to = query.to ?? todayIn(timeZone);
  const from = query.from ?? shiftDays(to, -(Math.min(DEFAULT_DAYS, query.maxDays) - 1));
  if (from > to) throw new ValidationError('"from" is after "to"');
  const days = Math.round((Date.parse(to) - Date.parse(from)) / 86_400_000) + 1;
  if (days > query.maxDays) {
    throw new ValidationError(`the range ${from}…${to} spans ${days} days; a journal page covers at most ${query.maxDays} days: ask for the range in parts`, { maxDays: query.maxDays });
  }
  return { from, to };
}

async function readClass(pool: Queryable, classId: string, schoolId: string | undefined): Promise<ClassRow> {
  const { rows } = await pool.query<ClassRow>(
    `SELECT c.id::text, c.name, c.grade, c.school_id::text, s.time_zone
       FROM class_group c JOIN school s ON s.id = c.school_id
      WHERE c.id = $1 AND ($2::uuid IS NULL OR c.school_id = $2) AND c.deleted_at IS NULL`,
    [classId, schoolId ?? null],
  );
  if (!rows[0]) throw new NotFoundError(`class ${classId}`);
  return rows[0];
}

/**
 * The class ($1) and its subgroups, within the class's school ($2): `(school_id, parent_id)` is indexed
 * (class_group_school_id_parent_id_idx), so the cost does not grow with the other schools' classes. No
 * `id = $1 OR parent_id = $1`: an OR across two columns is not served by either index.
 */
const GROUPS_OF_CLASS = 'SELECT $1::uuid UNION ALL SELECT c.id FROM class_group c WHERE c.school_id = $2 AND c.parent_id = $1';

async function subjectRequired(pool: Queryable, cls: ClassRow): Promise<ValidationError> {
  const subjects = await subjectsOfClass(pool, cls.id, cls.school_id);
  return new ValidationError('"subject" is required: a journal page shows one subject', { subjects });
}

/** The subjects a class (or one of its subgroups) has lessons in, by name; none for an unknown class. */
export async function readClassSubjects(pool: Queryable, classId: string): Promise<Array<{ id: string; name: string }>> {
  const { rows } = await pool.query<{ school_id: string }>('SELECT school_id::text FROM class_group WHERE id = $1 AND deleted_at IS NULL', [classId]);
  return rows[0] ? subjectsOfClass(pool, classId, rows[0].school_id) : [];
}

async function subjectsOfClass(pool: Queryable, classId: string, schoolId: string): Promise<Array<{ id: string; name: string }>> {
  const { rows } = await pool.query<{ id: string; name: string }>(
    `SELECT DISTINCT s.id::text, s.name FROM lesson l JOIN subject s ON s.id = l.subject_id
      WHERE l.class_group_id IN (${GROUPS_OF_CLASS}) AND l.deleted_at IS NULL
      ORDER BY s.name`,
    [classId, schoolId],
  );
  return rows;
}

async function readSubject(pool: Queryable, schoolId: string, subjectId: string): Promise<{ id: string; name: string }> {
  const { rows } = await pool.query<{ id: string; name: string }>(
    'SELECT id::text, name FROM subject WHERE id = $1 AND school_id = $2 AND deleted_at IS NULL',
    [subjectId, schoolId],
  );
  if (!rows[0]) throw new NotFoundError(`subject ${subjectId}`);
  return rows[0];
}

/** The page's lessons: $1 class, $2 its school, $3 subject, $4–$5 the days. Exported for the plan test and the bench. */
export const PAGE_LESSONS_SQL = `SELECT l.id::text, l.date::text, l.slot, g.id::text AS group_id, g.name AS group_name, l.topic, l.homework, l.status,
            l.teacher_id::text AS "teacherId", l.substitute_id::text AS "substituteId"
       FROM lesson l JOIN class_group g ON g.id = l.class_group_id
      WHERE l.class_group_id IN (${GROUPS_OF_CLASS}) AND g.school_id = $2 AND l.school_id = $2
        AND l.subject_id = $3 AND l.date BETWEEN $4 AND $5 AND l.deleted_at IS NULL
      ORDER BY l.date, l.slot, g.name`;

async function readLessons(pool: Queryable, cls: ClassRow, subjectId: string, from: string, to: string): Promise<PageLesson[]> {
  const { rows } = await pool.query<PageLesson & { group_id: string; group_name: string }>(PAGE_LESSONS_SQL, [cls.id, cls.school_id, subjectId, from, to]);
  return rows.map(({ group_id, group_name, ...lesson }) => ({ ...lesson, group: { id: group_id, name: group_name } }));
}

async function readPupils(pool: Queryable, classId: string, from: string, to: string, lessonIds: string[]) {
  const { rows } = await pool.query<{ id: string; lastName: string; firstName: string; middleName: string | null }>(
    `SELECT p.id::text, p.last_name AS "lastName", p.first_name AS "firstName", p.middle_name AS "middleName"
       FROM person p
      WHERE p.id IN (SELECT e.person_id FROM enrollment e WHERE e.class_group_id = $1
                        AND (e.start_date IS NULL OR e.start_date <= $3) AND (e.end_date IS NULL OR e.end_date >= $2)
                     UNION SELECT m.pupil_id FROM mark m WHERE m.lesson_id = ANY($4::uuid[]) AND m.deleted_at IS NULL)
      ORDER BY p.last_name, p.first_name, p.middle_name NULLS FIRST, p.id`,
    [classId, from, to, lessonIds],
  );
  return rows;
}

async function readMarks(pool: Queryable, lessonIds: string[]) {
  const { rows } = await pool.query<PageMark & { pupil_id: string; lesson_id: string }>(
    `SELECT m.pupil_id::text, m.lesson_id::text, m.id::text, m.raw, m.kind, m.numeric::float8 AS numeric,
            m.weight::float8 AS weight, m.work_category AS "workCategory", m.work_title AS "workTitle",
            to_char(m.entered_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS "enteredAt", m.source_id::text AS "sourceId"
       FROM mark m WHERE m.lesson_id = ANY($1::uuid[]) AND m.deleted_at IS NULL
      ORDER BY m.entered_at NULLS LAST, m.id`,
    [lessonIds],
  );
  return rows;
}

async function readAbsences(pool: Queryable, lessonIds: string[]) {
  const { rows } = await pool.query<PageAbsence & { pupil_id: string; lesson_id: string; sourceId: string }>(
    `SELECT a.pupil_id::text, a.lesson_id::text, a.raw, a.kind, a.late_minutes AS "lateMinutes", a.source_id::text AS "sourceId"
       FROM attendance a WHERE a.lesson_id = ANY($1::uuid[]) AND a.deleted_at IS NULL
      ORDER BY a.id`,
    [lessonIds],
  );
  return rows;
}

/** Open and acknowledged paper and cross-source discrepancies about the page's cells (pupil × lesson). */
async function readCellDiscrepancies(pool: Queryable, schoolId: string, lessonIds: string[]): Promise<CellDiscrepancy[]> {
  const { rows } = await pool.query<CellDiscrepancy>(
    `SELECT d.id::text, d.lesson_id::text, d.pupil_id::text, d.source_ids::text[] AS source_ids
       FROM discrepancy d
      WHERE d.school_id = $1 AND d.status IN ('open', 'acknowledged') AND d.kind IN ('paper', 'cross_source')
        AND d.lesson_id = ANY($2::uuid[]) AND d.pupil_id IS NOT NULL
      ORDER BY d.first_seen_at, d.id`,
    [schoolId, lessonIds],
  );
  return rows;
}

/** The school's sources as the checks read them (checks/service.ts readSources) and the one it named. */
export async function readSchoolSources(pool: Queryable, schoolId: string): Promise<{ list: CheckSource[]; named: string | null }> {
  const [list, school] = await together(pool, [
    () => readSources(pool, schoolId),
    () => pool.query<{ named: string | null }>('SELECT primary_source_id::text AS named FROM school WHERE id = $1', [schoolId]),
  ] as const);
  return { list, named: school.rows[0]?.named ?? null };
}
