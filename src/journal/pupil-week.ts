import { primarySourceOf } from '../checks/rules/sources.js';
import { together, type Pool } from '../db/pool.js';
import { shiftDays, todayIn } from '../lib/dates.js';
import { NotFoundError, ValidationError } from '../lib/errors.js';
import { mondayOf } from '../ports/ranges.js';
import { assembleCells } from './page-cells.js';
import { readSchoolSources, type PageAbsence, type PageLesson, type PageMark } from './queries.js';

/**
 * One pupil's week as a parent reads it (the diary): the lessons of the pupil's classes and subgroups from
 * Monday to Sunday, each with its subject, topic, homework and the pupil's marks and absence — one value
 * per lesson, the school's primary source's, chosen exactly as the class journal page chooses it
 * (page-cells.ts), without the other sources' versions.
 */

export interface WeekLesson extends PageLesson {
  subject: { id: string; name: string };
  marks: PageMark[];
  absence: PageAbsence | null;
}

export interface PupilWeek {
  pupil: { id: string; lastName: string; firstName: string; middleName: string | null; schoolId: string };
  /** The classes (and subgroups) the pupil is in during the week. */
  classes: Array<{ id: string; name: string }>;
  /** Monday and Sunday of the week; the Mondays before and after it. */
  from: string;
  to: string;
  previous: string;
  next: string;
  /** Seven days, Monday first, each with its lessons in bell order. */
  days: Array<{ date: string; lessons: WeekLesson[] }>;
}

const ISO_WEEK = /^(\d{4})-W(\d{2})$/;
const ISO_DAY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * The Monday of the week asked for: a day (any day of the week: `2025-10-22`) or an ISO week (`2025-W43`);
 * without one, this week in the school's time zone. Anything else is a 400.
 */
export function weekStart(asked: string | undefined, timeZone: string, now: Date): string {
  if (asked === undefined || asked === '') return mondayOf(todayIn(timeZone, now));
  if (ISO_DAY.test(asked) && !Number.isNaN(Date.parse(`${asked}T00:00:00Z`)) && new Date(`${asked}T00:00:00Z`).toISOString().startsWith(asked)) return mondayOf(asked);
  const iso = ISO_WEEK.exec(asked);
  if (iso) {
    const week = Number(iso[2]);
    // ISO 8601: week 1 holds 4 January; the year's last week holds 28 December.
    const monday = shiftDays(mondayOf(`${iso[1]}-01-04`), (week - 1) * 7);
    if (week >= 1 && monday <= mondayOf(`${iso[1]}-12-28`)) return monday;
  }
  throw new ValidationError('"week" is a day (YYYY-MM-DD) or an ISO week (YYYY-Www)');
}

interface PupilRow { id: string; lastName: string; firstName: string; middleName: string | null; schoolId: string }

/** The pupil's week asked for (`week`: weekStart; none: this week in the school's time zone at `now`). */
export async function readPupilWeek(pool: Pool, input: { schoolId: string; pupilId: string; week?: string; now: Date }): Promise<PupilWeek> {
  const { schoolId, pupilId } = input;
  const zone = await pool.query<{ time_zone: string }>('SELECT time_zone FROM school WHERE id = $1', [schoolId]);
  if (!zone.rows[0]) throw new NotFoundError(`pupil ${pupilId}`);
  const monday = weekStart(input.week, zone.rows[0].time_zone, input.now);
  const sunday = shiftDays(monday, 6);
  const [pupil, classes, lessons, sources] = await together(pool, [
    () => pool.query<PupilRow>(
      `SELECT id::text, last_name AS "lastName", first_name AS "firstName", middle_name AS "middleName", school_id::text AS "schoolId"
         FROM person WHERE id = $1 AND school_id = $2 AND deleted_at IS NULL`, [pupilId, schoolId]),
    () => pool.query<{ id: string; name: string }>(
      `SELECT g.id::text, g.name FROM enrollment e JOIN class_group g ON g.id = e.class_group_id
        WHERE e.person_id = $1 AND e.school_id = $2 AND g.deleted_at IS NULL
          AND (e.start_date IS NULL OR e.start_date <= $4) AND (e.end_date IS NULL OR e.end_date >= $3)
        ORDER BY g.parent_id NULLS FIRST, g.name`, [pupilId, schoolId, monday, sunday]),
    () => pool.query<PageLesson & { group_id: string; group_name: string; subject_id: string; subject_name: string }>(WEEK_LESSONS_SQL, [schoolId, pupilId, monday, sunday]),
    () => readSchoolSources(pool, schoolId),
  ] as const);
  if (!pupil.rows[0]) throw new NotFoundError(`pupil ${pupilId}`);
  const lessonIds = lessons.rows.map((l) => l.id);
  const [marks, absences] = await together(pool, [
    () => pool.query<PageMark & { pupil_id: string; lesson_id: string }>(
      `SELECT m.pupil_id::text, m.lesson_id::text, m.id::text, m.raw, m.kind, m.numeric::float8 AS numeric, m.weight::float8 AS weight,
              m.work_category AS "workCategory", m.work_title AS "workTitle",
              to_char(m.entered_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS "enteredAt", m.source_id::text AS "sourceId"
         FROM mark m WHERE m.school_id = $1 AND m.pupil_id = $2 AND m.lesson_id = ANY($3::uuid[]) AND m.deleted_at IS NULL
        ORDER BY m.entered_at NULLS LAST, m.id`, [schoolId, pupilId, lessonIds]),
    () => pool.query<PageAbsence & { pupil_id: string; lesson_id: string; sourceId: string }>(
      `SELECT a.pupil_id::text, a.lesson_id::text, a.raw, a.kind, a.late_minutes AS "lateMinutes", a.source_id::text AS "sourceId"
         FROM attendance a WHERE a.school_id = $1 AND a.pupil_id = $2 AND a.lesson_id = ANY($3::uuid[]) AND a.deleted_at IS NULL
        ORDER BY a.id`, [schoolId, pupilId, lessonIds]),
  ] as const);
  const primary = primarySourceOf(sources.list, sources.named)?.id ?? null;
  const cells = assembleCells({
    lessonIds, pupilIds: [pupilId], marks: marks.rows, absences: absences.rows, discrepancies: [], primary,
    sourceOrder: sources.list.map((s) => s.id),
    showMark: ({ pupil_id: _p, lesson_id: _l, ...mark }): PageMark => mark,
    showAbsence: ({ pupil_id: _p, lesson_id: _l, sourceId: _s, ...absence }): PageAbsence => absence,
  })[0]!;
  const week: WeekLesson[] = lessons.rows.map(({ group_id, group_name, subject_id, subject_name, ...lesson }, i) => ({
    ...lesson, group: { id: group_id, name: group_name }, subject: { id: subject_id, name: subject_name }, marks: cells[i]!.marks, absence: cells[i]!.absence,
  }));
  const days = Array.from({ length: 7 }, (_, i) => shiftDays(monday, i)).map((date) => ({ date, lessons: week.filter((l) => l.date === date) }));
  return { pupil: pupil.rows[0], classes: classes.rows, from: monday, to: sunday, previous: shiftDays(monday, -7), next: shiftDays(monday, 7), days };
}

/**
 * The week's lessons of the pupil ($2) in the school ($1), $3–$4 the days: of every class or subgroup the
 * pupil is enrolled in on the lesson's day, and any other lesson the pupil has a mark or an absence on.
 */
const WEEK_LESSONS_SQL = `SELECT l.id::text, l.date::text, l.slot, g.id::text AS group_id, g.name AS group_name, s.id::text AS subject_id, s.name AS subject_name,
            l.topic, l.homework, l.status, l.teacher_id::text AS "teacherId", l.substitute_id::text AS "substituteId"
       FROM lesson l JOIN class_group g ON g.id = l.class_group_id JOIN subject s ON s.id = l.subject_id
      WHERE l.school_id = $1 AND l.date BETWEEN $3 AND $4 AND l.deleted_at IS NULL
        AND (EXISTS (SELECT 1 FROM enrollment e WHERE e.school_id = $1 AND e.person_id = $2 AND e.class_group_id = l.class_group_id
                        AND (e.start_date IS NULL OR e.start_date <= l.date) AND (e.end_date IS NULL OR e.end_date >= l.date))
             OR l.id IN (SELECT m.lesson_id FROM mark m WHERE m.school_id = $1 AND m.pupil_id = $2 AND m.date BETWEEN $3 AND $4 AND m.deleted_at IS NULL)
             OR l.id IN (SELECT a.lesson_id FROM attendance a WHERE a.school_id = $1 AND a.pupil_id = $2 AND a.date BETWEEN $3 AND $4 AND a.deleted_at IS NULL))
      ORDER BY l.date, l.slot, s.name, g.name`;

/** A parent's children in a school (their guardianships), with the classes they are in today (the school's day at `now`). */
export interface Child { id: string; lastName: string; firstName: string; middleName: string | null; classes: Array<{ id: string; name: string }> }

export async function readChildren(pool: Pool, schoolId: string, guardianId: string, now: Date): Promise<Child[]> {
  const { rows } = await pool.query<Omit<Child, 'classes'> & { classes: Array<{ id: string; name: string }> | null }>(
    `SELECT DISTINCT ON (p.last_name, p.first_name, p.id) p.id::text, p.last_name AS "lastName", p.first_name AS "firstName", p.middle_name AS "middleName",
            (SELECT json_agg(json_build_object('id', c.id::text, 'name', c.name) ORDER BY c.parent_id NULLS FIRST, c.name)
               FROM enrollment e JOIN class_group c ON c.id = e.class_group_id
              WHERE e.school_id = $1 AND e.person_id = p.id AND c.deleted_at IS NULL
                AND (e.start_date IS NULL OR e.start_date <= d.today) AND (e.end_date IS NULL OR e.end_date >= d.today)) AS classes
       FROM guardianship g JOIN person p ON p.id = g.pupil_id AND p.deleted_at IS NULL
       CROSS JOIN LATERAL (SELECT ($3::timestamptz AT TIME ZONE s.time_zone)::date AS today FROM school s WHERE s.id = $1) d
      WHERE g.school_id = $1 AND g.guardian_id = $2 AND g.deleted_at IS NULL
      ORDER BY p.last_name, p.first_name, p.id`, [schoolId, guardianId, now]);
  return rows.map((r) => ({ ...r, classes: r.classes ?? [] }));
}
