import type { Pool } from '../db/pool.js';
import { NotFoundError, ValidationError } from '../lib/errors.js';
import { PAGE_LESSONS_SQL } from '../journal/queries.js';
import type { PaperPage } from './layout.js';
import { formatCell } from './tokens.js';
import { MAX_COLUMNS } from './xlsx.js';

/** The class and subject a page is of, within the class's school. */
export interface PageTarget {
  schoolId: string;
  classId: string;
  subjectId: string;
  subjectName: string;
}

export interface PageLesson {
  id: string;
  date: string;
  slot: number;
  groupId: string;
  topic: string | null;
  homework: string | null;
}

/** One source's records of one cell, in the order the page shows them. */
export interface SourceCell {
  marks: Array<{ externalId: string; raw: string }>;
  absences: Array<{ externalId: string; raw: string }>;
}

const FIRST_DAY = '1900-01-01';
const LAST_DAY = '2999-12-31';

/** The class (of `schoolId` when given: another school's answers like an unknown one) and the subject. */
export async function readTarget(pool: Pool, q: { classId: string; subjectId: string; schoolId?: string }): Promise<PageTarget> {
  const { rows } = await pool.query<{ school_id: string }>(
    `SELECT school_id::text FROM class_group WHERE id = $1 AND ($2::uuid IS NULL OR school_id = $2) AND deleted_at IS NULL`,
    [q.classId, q.schoolId ?? null],
  );
  if (!rows[0]) throw new NotFoundError(`class ${q.classId}`);
  const schoolId = rows[0].school_id;
  const subject = await pool.query<{ name: string }>('SELECT name FROM subject WHERE id = $1 AND school_id = $2 AND deleted_at IS NULL', [q.subjectId, schoolId]);
  if (!subject.rows[0]) throw new NotFoundError(`subject ${q.subjectId}`);
  return { schoolId, classId: q.classId, subjectId: q.subjectId, subjectName: subject.rows[0].name };
}

/** The subject's lessons of the class and its subgroups, in a range of days (the whole year by default). */
export async function readLessons(pool: Pool, target: PageTarget, from = FIRST_DAY, to = LAST_DAY): Promise<PageLesson[]> {
  const { rows } = await pool.query<PageLesson & { group_id: string }>(PAGE_LESSONS_SQL, [target.classId, target.schoolId, target.subjectId, from, to]);
  return rows.map((r) => ({ id: r.id, date: r.date, slot: r.slot, groupId: r.group_id, topic: r.topic, homework: r.homework }));
}

/** The pupils enrolled in the class or its subgroups at some time in the range, in the journal's order. */
export async function readPupils(pool: Pool, target: PageTarget, from = FIRST_DAY, to = LAST_DAY): Promise<Array<{ id: string; fullName: string }>> {
  const { rows } = await pool.query<{ id: string; full_name: string }>(
    `SELECT p.id::text, concat_ws(' ', p.last_name, p.first_name, p.middle_name) AS full_name
       FROM person p
      WHERE p.school_id = $2 AND p.id IN (
              SELECT e.person_id FROM enrollment e
               WHERE e.class_group_id IN (SELECT $1::uuid UNION ALL SELECT c.id FROM class_group c WHERE c.school_id = $2 AND c.parent_id = $1)
                 AND (e.start_date IS NULL OR e.start_date <= $4) AND (e.end_date IS NULL OR e.end_date >= $3))
      ORDER BY p.last_name, p.first_name, p.middle_name NULLS FIRST, p.id`,
    [target.classId, target.schoolId, from, to],
  );
  return rows.map((r) => ({ id: r.id, fullName: r.full_name }));
}

/**
 * One source's marks and absences of the given lessons and pupils, by `pupil|lesson`: two set-based
 * reads. Ordered by the source's id (shortest first, so «…:2» comes before «…:10»), never by entry time:
 * a paper import rewrites values, not times, and the order must survive it.
 */
export async function readSourceCells(pool: Pool, sourceId: string, lessonIds: string[], pupilIds: string[]): Promise<Map<string, SourceCell>> {
  const cells = new Map<string, SourceCell>();
  const cellOf = (pupil: string, lesson: string) => {
    const key = `${pupil}|${lesson}`;
    let cell = cells.get(key);
    if (!cell) cells.set(key, (cell = { marks: [], absences: [] }));
    return cell;
  };
  for (const table of ['mark', 'attendance'] as const) {
    const { rows } = await pool.query<{ pupil_id: string; lesson_id: string; external_id: string; raw: string }>(
      `SELECT t.pupil_id::text, t.lesson_id::text, t.external_id, t.raw FROM ${table} t
        WHERE t.source_id = $1 AND t.lesson_id = ANY($2::uuid[]) AND t.pupil_id = ANY($3::uuid[]) AND t.deleted_at IS NULL
        ORDER BY length(t.external_id), t.external_id`,
      [sourceId, lessonIds, pupilIds],
    );
    for (const r of rows) cellOf(r.pupil_id, r.lesson_id)[table === 'mark' ? 'marks' : 'absences'].push({ externalId: r.external_id, raw: r.raw });
  }
  return cells;
}

/**
 * The template's content: blank cells, or (`prefill`) what that source of the same school says —
 * marks as written, the absence code — with the lessons' topics and homework.
 */
export async function readPaperPage(pool: Pool, q: { classId: string; subjectId: string; schoolId?: string; from?: string; to?: string; prefill?: string }): Promise<PaperPage> {
  if (q.from && q.to && q.from > q.to) throw new ValidationError('"from" is after "to"');
  const target = await readTarget(pool, q);
  const lessons = await readLessons(pool, target, q.from, q.to);
  if (lessons.length > MAX_COLUMNS - 2) throw new ValidationError(`${lessons.length} lessons: a template holds at most ${MAX_COLUMNS - 2}; ask for a range of days`);
  const pupils = await readPupils(pool, target, q.from, q.to);
  let source = new Map<string, SourceCell>();
  if (q.prefill) {
    const found = await pool.query('SELECT 1 FROM connection WHERE id = $1 AND school_id = $2', [q.prefill, target.schoolId]);
    if (found.rowCount === 0) throw new NotFoundError(`connection ${q.prefill}`);
    source = await readSourceCells(pool, q.prefill, lessons.map((l) => l.id), pupils.map((p) => p.id));
  }
  const cells = pupils.map((p) => lessons.map((l) => {
    const cell = source.get(`${p.id}|${l.id}`);
    return cell ? formatCell(cell.marks.map((m) => m.raw), cell.absences[0]?.raw ?? null) : '';
  }));
  return {
    classId: target.classId, subjectId: target.subjectId, subjectName: target.subjectName,
    lessons: lessons.map((l) => ({ id: l.id, date: l.date, slot: l.slot, topic: q.prefill ? l.topic : null, homework: q.prefill ? l.homework : null })),
    pupils, cells,
  };
}
