import { isPaper, primarySourceOf } from '../checks/rules/sources.js';
import type { CheckSource } from '../checks/types.js';
import { together, type Pool, type PoolClient } from '../db/pool.js';
import { NotFoundError } from '../lib/errors.js';
import { readJournalPage, readSchoolSources } from '../journal/queries.js';
import type { PageContent } from '../reports/types.js';
import type { AttendanceKind, MarkKind } from '../ports/values.js';

/**
 * What a printout of the electronic journal holds, read from the journal: per class and subject of a
 * period the page the journal API shows (src/journal/queries.ts readJournalPage, over the period's days),
 * reduced to what is printed — each cell's text, the lessons' topics and homework, the period marks. The
 * same function reads the page at the seal and again when a printout is verified, so "changed" means
 * "would print differently".
 *
 * The printed source is the school's electronic journal of record: the source the school named as its
 * primary when that is a platform, else its first platform connection; paper only when there is no
 * platform at all (printing the paper journal's own transcription would check nothing against it).
 */

type Queryable = Pool | PoolClient;

export interface PeriodInfo {
  id: string;
  schoolId: string;
  schoolName: string;
  timeZone: string;
  title: string;
  kind: string;
  number: number;
  startDate: string;
  endDate: string;
  academicYearId: string;
  yearTitle: string;
}

export async function readPeriod(db: Queryable, schoolId: string, periodId: string): Promise<PeriodInfo> {
  const { rows } = await db.query<PeriodInfo>(
    `SELECT p.id::text, p.school_id::text AS "schoolId", s.name AS "schoolName", s.time_zone AS "timeZone", p.title, p.kind, p.number,
            p.start_date::text AS "startDate", p.end_date::text AS "endDate", p.academic_year_id::text AS "academicYearId", y.title AS "yearTitle"
       FROM period p JOIN school s ON s.id = p.school_id JOIN academic_year y ON y.id = p.academic_year_id
      WHERE p.id = $1 AND p.school_id = $2 AND p.deleted_at IS NULL`,
    [periodId, schoolId],
  );
  if (!rows[0]) throw new NotFoundError(`period ${periodId}`);
  return rows[0];
}

/** The source a printout shows (see the module's comment). */
export function printedSourceOf(sources: readonly CheckSource[], named: string | null): CheckSource | undefined {
  const namedSource = sources.find((s) => s.id === named);
  if (namedSource && !isPaper(namedSource)) return namedSource;
  return sources.find((s) => !isPaper(s) && s.enabled && s.platform !== 'push') ?? sources.find((s) => !isPaper(s)) ?? primarySourceOf(sources, named);
}

export async function readPrintedSource(db: Queryable, schoolId: string): Promise<CheckSource | undefined> {
  const { list, named } = await readSchoolSources(db, schoolId);
  return printedSourceOf(list, named);
}

export interface PeriodClass {
  id: string;
  name: string;
  grade: number;
  classTeacher: string | null;
  /** The subjects with lessons in the period (the class's or a subgroup's), by name. */
  subjects: Array<{ id: string; name: string }>;
}

/** The classes (not subgroups) of the period's year that had lessons in it, each with its subjects and class teacher. */
export async function readPeriodClasses(db: Queryable, period: PeriodInfo, classIds?: readonly string[]): Promise<PeriodClass[]> {
  const { rows } = await db.query<{ id: string; name: string; grade: number; class_teacher: string | null; subjects: Array<{ id: string; name: string }> }>(
    `WITH taught AS (
       SELECT DISTINCT COALESCE(g.parent_id, g.id) AS class_id, l.subject_id
         FROM lesson l JOIN class_group g ON g.id = l.class_group_id
        WHERE l.school_id = $1 AND l.date BETWEEN $2 AND $3 AND l.deleted_at IS NULL)
     SELECT c.id::text, c.name, c.grade,
            (SELECT concat_ws(' ', p.last_name, p.first_name, p.middle_name) FROM staff_role r JOIN person p ON p.id = r.person_id
              WHERE r.school_id = $1 AND r.class_group_id = c.id AND r.role = 'class_teacher' AND r.deleted_at IS NULL
              ORDER BY r.created_at LIMIT 1) AS class_teacher,
            json_agg(json_build_object('id', s.id::text, 'name', s.name) ORDER BY s.name, s.id) AS subjects
       FROM taught t JOIN class_group c ON c.id = t.class_id JOIN subject s ON s.id = t.subject_id
      WHERE c.school_id = $1 AND c.academic_year_id = $4 AND c.kind = 'class' AND c.deleted_at IS NULL
        AND ($5::uuid[] IS NULL OR c.id = ANY($5::uuid[]))
      GROUP BY c.id, c.name, c.grade
      ORDER BY c.grade, c.name, c.id`,
    [period.schoolId, period.startDate, period.endDate, period.academicYearId, classIds ?? null],
  );
  return rows.map((r) => ({ id: r.id, name: r.name, grade: r.grade, classTeacher: r.class_teacher, subjects: r.subjects }));
}

/** The widest page a printout asks the journal for: a whole year, with room to spare. */
const PRINT_MAX_DAYS = 400;

/** One class × subject page of the period as printed. */
export async function readPageContent(db: Queryable, page: { period: PeriodInfo; classId: string; subjectId: string; source: Pick<CheckSource, 'id' | 'title'> | null | undefined }): Promise<PageContent> {
  const { period, source } = page;
  const journal = await readJournalPage(db, {
    schoolId: period.schoolId, classId: page.classId, subjectId: page.subjectId, from: period.startDate, to: period.endDate,
    maxDays: PRINT_MAX_DAYS, shownSourceId: source?.id,
  });
  const pupilIds = journal.rows.map((r) => r.pupil.id);
  const teacherIds = [...new Set(journal.lessons.flatMap((l) => (l.teacherId ? [l.teacherId] : [])))];
  const [teachers, periodMarks, groups] = await together(db, [
    () => db.query<{ name: string }>(
      `SELECT concat_ws(' ', last_name, first_name, middle_name) AS name FROM person WHERE id = ANY($1::uuid[]) AND school_id = $2 ORDER BY last_name, first_name, id`,
      [teacherIds, period.schoolId]),
    () => readPeriodMarks(db, period, page.subjectId, pupilIds, source?.id ?? null),
    () => db.query<{ id: string }>('SELECT id::text FROM class_group WHERE school_id = $1 AND parent_id = $2', [period.schoolId, page.classId]),
  ] as const);
  const subgroups = new Set(groups.rows.map((g) => g.id));
  return {
    classId: journal.class.id,
    className: journal.class.name,
    subjectId: journal.subject.id,
    subjectName: journal.subject.name,
    periodId: period.id,
    periodTitle: period.title,
    from: period.startDate,
    to: period.endDate,
    source: source ? { id: source.id, title: source.title } : null,
    teachers: teachers.rows.map((t) => t.name),
    lessons: journal.lessons.map((l) => ({
      id: l.id, date: l.date, slot: l.slot, group: subgroups.has(l.group.id) ? l.group.name : null, topic: l.topic, homework: l.homework, status: l.status,
    })),
    pupils: journal.rows.map((r) => ({ id: r.pupil.id, name: `${r.pupil.lastName} ${r.pupil.firstName}` })),
    cells: journal.rows.map((r) => r.cells.map((c) => [...c.marks.map((m) => markText(m.kind, m.raw)), ...(c.absence ? [ABSENCE_TEXT[c.absence.kind]] : [])].join(' '))),
    periodMarks: pupilIds.map((id) => periodMarks.get(id) ?? null),
  };
}

/**
 * A cell as the paper journal writes it, whatever the platform's own spelling (Дневник.ру's log statuses
 * are «Absent», «Ill», «Pass», «Late»): a mark as the teacher wrote it («5-», «4»), a pass or fail «зч» /
 * «нз», an absence by its kind — «н» (no reason or unknown), «б» (illness), «уп» (a valid reason), «оп» (late).
 */
const ABSENCE_TEXT: Record<AttendanceKind, string> = { unexcused: 'н', unknown: 'н', ill: 'б', valid: 'уп', late: 'оп' };
const MARK_TEXT: Partial<Record<MarkKind, string>> = { pass: 'зч', fail: 'нз', absence: 'н', late: 'оп', exempt: 'осв', not_assessed: 'н/а' };
const markText = (kind: MarkKind, raw: string) => MARK_TEXT[kind] ?? raw;

/** Per pupil the period mark of the subject: the printed source's, else the first other source's (in creation order). */
async function readPeriodMarks(db: Queryable, period: PeriodInfo, subjectId: string, pupilIds: string[], sourceId: string | null): Promise<Map<string, string>> {
  const { rows } = await db.query<{ pupil_id: string; raw: string }>(
    `SELECT DISTINCT ON (pm.pupil_id) pm.pupil_id::text, pm.raw
       FROM period_mark pm JOIN connection c ON c.id = pm.source_id
      WHERE pm.school_id = $1 AND pm.period_id = $2 AND pm.subject_id = $3 AND pm.pupil_id = ANY($4::uuid[]) AND pm.deleted_at IS NULL
      ORDER BY pm.pupil_id, (pm.source_id = $5::uuid) DESC NULLS LAST, c.created_at, c.id, pm.set_at DESC NULLS LAST, pm.id`,
    [period.schoolId, period.id, subjectId, pupilIds, sourceId],
  );
  return new Map(rows.map((r) => [r.pupil_id, r.raw]));
}

/** A school's reporting periods (quarters, half-years, the year), by start date: the dashboard's period selectors. */
export async function listPeriods(db: Queryable, schoolId: string): Promise<Array<Pick<PeriodInfo, 'id' | 'title' | 'kind' | 'number' | 'startDate' | 'endDate' | 'academicYearId'>>> {
  const { rows } = await db.query<Pick<PeriodInfo, 'id' | 'title' | 'kind' | 'number' | 'startDate' | 'endDate' | 'academicYearId'>>(
    `SELECT id::text, title, kind, number, start_date::text AS "startDate", end_date::text AS "endDate", academic_year_id::text AS "academicYearId"
       FROM period WHERE school_id = $1 AND deleted_at IS NULL ORDER BY start_date, end_date - start_date, number, id`,
    [schoolId],
  );
  return rows;
}
