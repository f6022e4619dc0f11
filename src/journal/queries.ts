import type { Pool } from '../db/pool.js';
import { shiftDays, todayIn } from '../lib/dates.js';
import { NotFoundError, ValidationError } from '../lib/errors.js';
import type { WorkCategorySchema } from '../ports/records.js';
import type { AttendanceKind, MarkKind } from '../ports/values.js';
import type { z } from 'zod';

type WorkCategory = z.infer<typeof WorkCategorySchema>;

/** Reads of the canonical journal for the API. Plain SQL: the journal page joins five tables. */

export interface JournalPageQuery {
  classId: string;
  subjectId?: string;
  from?: string;
  to?: string;
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
  lessons: PageLesson[];
  /** One row per pupil; `cells[i]` is the pupil in `lessons[i]`. */
  rows: Array<{
    pupil: { id: string; lastName: string; firstName: string; middleName: string | null };
    cells: Array<{ marks: PageMark[]; absence: PageAbsence | null }>;
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
 * the pupils of the class, and per pupil and lesson the marks and the absence.
 */
export async function readJournalPage(pool: Pool, query: JournalPageQuery): Promise<JournalPage> {
  const cls = await readClass(pool, query.classId);
  if (!query.subjectId) throw await subjectRequired(pool, cls.id);
  const subject = await readSubject(pool, cls.school_id, query.subjectId);
  const to = query.to ?? todayIn(cls.time_zone);
  const from = query.from ?? shiftDays(to, -(DEFAULT_DAYS - 1));
  if (from > to) throw new ValidationError('"from" is after "to"');
  const lessons = await readLessons(pool, cls.id, subject.id, from, to);
  const lessonIds = lessons.map((l) => l.id);
  const [pupils, marks, absences] = await Promise.all([
    readPupils(pool, cls.id, from, to, lessonIds),
    readMarks(pool, lessonIds),
    readAbsences(pool, lessonIds),
  ]);
  const column = new Map(lessonIds.map((id, i) => [id, i]));
  const rows = pupils.map((pupil) => ({ pupil, cells: lessons.map(() => ({ marks: [] as PageMark[], absence: null as PageAbsence | null })) }));
  const rowOf = new Map(pupils.map((p, i) => [p.id, rows[i]!]));
  for (const { pupil_id, lesson_id, ...mark } of marks) rowOf.get(pupil_id)?.cells[column.get(lesson_id)!]!.marks.push(mark);
  for (const { pupil_id, lesson_id, ...absence } of absences) {
    const cell = rowOf.get(pupil_id)?.cells[column.get(lesson_id)!];
    if (cell) cell.absence = absence;
  }
  return { class: { id: cls.id, name: cls.name, grade: cls.grade, schoolId: cls.school_id }, subject, from, to, lessons, rows };
}

async function readClass(pool: Pool, classId: string): Promise<ClassRow> {
  const { rows } = await pool.query<ClassRow>(
    `SELECT c.id::text, c.name, c.grade, c.school_id::text, s.time_zone
       FROM class_group c JOIN school s ON s.id = c.school_id WHERE c.id = $1 AND c.deleted_at IS NULL`,
    [classId],
  );
  if (!rows[0]) throw new NotFoundError(`class ${classId}`);
  return rows[0];
}

async function subjectRequired(pool: Pool, classId: string): Promise<ValidationError> {
  const { rows } = await pool.query<{ id: string; name: string }>(
    `SELECT DISTINCT s.id::text, s.name FROM lesson l JOIN subject s ON s.id = l.subject_id
      WHERE l.class_group_id IN (SELECT id FROM class_group WHERE id = $1 OR parent_id = $1) AND l.deleted_at IS NULL
      ORDER BY s.name`,
    [classId],
  );
  return new ValidationError('"subject" is required: a journal page shows one subject', { subjects: rows });
}

async function readSubject(pool: Pool, schoolId: string, subjectId: string): Promise<{ id: string; name: string }> {
  const { rows } = await pool.query<{ id: string; name: string }>(
    'SELECT id::text, name FROM subject WHERE id = $1 AND school_id = $2 AND deleted_at IS NULL',
    [subjectId, schoolId],
  );
  if (!rows[0]) throw new NotFoundError(`subject ${subjectId}`);
  return rows[0];
}

async function readLessons(pool: Pool, classId: string, subjectId: string, from: string, to: string): Promise<PageLesson[]> {
  const { rows } = await pool.query<PageLesson & { group_id: string; group_name: string }>(
    `SELECT l.id::text, l.date::text, l.slot, g.id::text AS group_id, g.name AS group_name, l.topic, l.homework, l.status,
            l.teacher_id::text AS "teacherId", l.substitute_id::text AS "substituteId"
       FROM lesson l JOIN class_group g ON g.id = l.class_group_id
      WHERE (g.id = $1 OR g.parent_id = $1) AND l.subject_id = $2 AND l.date BETWEEN $3 AND $4 AND l.deleted_at IS NULL
      ORDER BY l.date, l.slot, g.name`,
    [classId, subjectId, from, to],
  );
  return rows.map(({ group_id, group_name, ...lesson }) => ({ ...lesson, group: { id: group_id, name: group_name } }));
}

async function readPupils(pool: Pool, classId: string, from: string, to: string, lessonIds: string[]) {
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

async function readMarks(pool: Pool, lessonIds: string[]) {
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

async function readAbsences(pool: Pool, lessonIds: string[]) {
  const { rows } = await pool.query<PageAbsence & { pupil_id: string; lesson_id: string }>(
    `SELECT a.pupil_id::text, a.lesson_id::text, a.raw, a.kind, a.late_minutes AS "lateMinutes"
       FROM attendance a WHERE a.lesson_id = ANY($1::uuid[]) AND a.deleted_at IS NULL`,
    [lessonIds],
  );
  return rows;
}

/** Row counts for /health. */
export async function readCounts(pool: Pool): Promise<Record<string, number>> {
  const { rows } = await pool.query<Record<string, number>>(
    `SELECT (SELECT count(*) FROM school)::int AS schools,
            (SELECT count(*) FROM class_group WHERE deleted_at IS NULL)::int AS classes,
            (SELECT count(DISTINCT person_id) FROM enrollment WHERE end_date IS NULL)::int AS pupils,
            (SELECT count(*) FROM lesson WHERE deleted_at IS NULL)::int AS lessons,
            (SELECT count(*) FROM mark WHERE deleted_at IS NULL)::int AS marks,
            (SELECT count(*) FROM attendance WHERE deleted_at IS NULL)::int AS absences,
            (SELECT count(*) FROM journal_event)::int AS events`,
  );
  return rows[0]!;
}
