import type { Pool } from '../db/pool.js';
import { NotFoundError } from '../lib/errors.js';
import { sourcePreference } from './sources.js';
import { renderTablesPdf, renderTablesXlsx, type ReportDocument, type TableColumn } from './table.js';
import type { SummarySheet } from './types.js';

/**
 * «Сводная ведомость учёта успеваемости обучающихся» (seeds 000 §3.10–3.13, 003 Регламент §4.2): per
 * pupil of a class and subject the marks of each reporting period and the year, and the lessons missed.
 * Read from the journal's period marks — where several sources hold one, the school's primary source's
 * (sources.ts), else the first source that has it — and its attendance, the same choice per lesson.
 */

export interface SummaryQuery {
  schoolId: string;
  classId: string;
  academicYearId: string;
}

/** Absence kinds that are a missed lesson (a late arrival is not), and of those the excused ones. */
const MISSED = ['ill', 'valid', 'unexcused', 'unknown'];
const EXCUSED = ['ill', 'valid'];

export async function readSummarySheet(pool: Pool, query: SummaryQuery): Promise<SummarySheet> {
  const head = await pool.query<{ class_name: string; school_name: string; year_title: string; start: string; end: string }>(
    `SELECT c.name AS class_name, s.name AS school_name, y.title AS year_title, y.start_date::text AS start, y.end_date::text AS end
       FROM class_group c JOIN school s ON s.id = c.school_id JOIN academic_year y ON y.id = $3 AND y.school_id = c.school_id
      WHERE c.id = $1 AND c.school_id = $2 AND c.deleted_at IS NULL`,
    [query.classId, query.schoolId, query.academicYearId],
  );
  const cls = head.rows[0];
  if (!cls) throw new NotFoundError(`class ${query.classId} in year ${query.academicYearId}`);
  const preference = await sourcePreference(pool, query.schoolId);
  const pupils = (await pool.query<{ id: string; name: string }>(
    `SELECT p.id::text, concat_ws(' ', p.last_name, p.first_name) AS name
       FROM person p
      WHERE p.id IN (SELECT e.person_id FROM enrollment e WHERE e.class_group_id = $1
                        AND (e.start_date IS NULL OR e.start_date <= $3) AND (e.end_date IS NULL OR e.end_date >= $2))
      ORDER BY p.last_name, p.first_name, p.middle_name NULLS FIRST, p.id`,
    [query.classId, cls.start, cls.end],
  )).rows;
  const pupilIds = pupils.map((p) => p.id);
  const marks = (await pool.query<{ pupil_id: string; subject_id: string; period_id: string; raw: string }>(
    `SELECT DISTINCT ON (pm.pupil_id, pm.subject_id, pm.period_id) pm.pupil_id::text, pm.subject_id::text, pm.period_id::text, pm.raw
       FROM period_mark pm JOIN period pe ON pe.id = pm.period_id AND pe.academic_year_id = $2 AND pe.deleted_at IS NULL
      WHERE pm.school_id = $1 AND pm.pupil_id = ANY($3::uuid[]) AND pm.deleted_at IS NULL
      ORDER BY pm.pupil_id, pm.subject_id, pm.period_id, array_position($4::uuid[], pm.source_id) NULLS LAST, pm.set_at DESC NULLS LAST, pm.id`,
    [query.schoolId, query.academicYearId, pupilIds, preference],
  )).rows;
  const [periods, subjects, absences] = await Promise.all([
    pool.query<{ id: string; title: string; kind: string }>(
      `SELECT pe.id::text, pe.title, pe.kind FROM period pe
        WHERE pe.academic_year_id = $1 AND pe.school_id = $2 AND pe.deleted_at IS NULL
          AND (pe.kind = 'year' AND pe.id = ANY($3::uuid[])
               OR pe.kind <> 'year' AND pe.kind IN (SELECT p2.kind FROM period p2 WHERE p2.id = ANY($3::uuid[])))
        ORDER BY pe.kind = 'year', pe.start_date, pe.end_date, pe.number`,
      [query.academicYearId, query.schoolId, [...new Set(marks.map((m) => m.period_id))]],
    ),
    pool.query<{ id: string; name: string }>(
      `SELECT s.id::text, s.name FROM subject s
        WHERE s.school_id = $1 AND s.deleted_at IS NULL
          AND (s.id = ANY($5::uuid[]) OR EXISTS (
                SELECT 1 FROM lesson l WHERE l.school_id = $1 AND l.subject_id = s.id AND l.deleted_at IS NULL AND l.date BETWEEN $3 AND $4
                   AND l.class_group_id IN (SELECT $2::uuid UNION ALL SELECT c.id FROM class_group c WHERE c.school_id = $1 AND c.parent_id = $2)))
        ORDER BY s.name, s.id`,
      [query.schoolId, query.classId, cls.start, cls.end, [...new Set(marks.map((m) => m.subject_id))]],
    ),
    pool.query<{ pupil_id: string; lessons: number; excused: number }>(
      `SELECT pupil_id::text, count(*)::int AS lessons, count(*) FILTER (WHERE kind = ANY($6::text[]))::int AS excused FROM (
         SELECT DISTINCT ON (a.pupil_id, a.lesson_id) a.pupil_id, a.kind
           FROM attendance a JOIN lesson l ON l.id = a.lesson_id AND l.deleted_at IS NULL
          WHERE a.school_id = $1 AND a.pupil_id = ANY($2::uuid[]) AND a.deleted_at IS NULL AND a.date BETWEEN $3 AND $4
          ORDER BY a.pupil_id, a.lesson_id, array_position($7::uuid[], a.source_id) NULLS LAST, a.id) chosen
        WHERE kind = ANY($5::text[]) GROUP BY pupil_id`,
      [query.schoolId, pupilIds, cls.start, cls.end, MISSED, EXCUSED, preference],
    ),
  ]);
  const columns = periods.rows.map((p) => ({ id: p.id, title: p.title, kind: p.kind }));
  const columnIndex = new Map(columns.map((c, i) => [c.id, i]));
  const subjectIndex = new Map(subjects.rows.map((s, i) => [s.id, i]));
  const pupilIndex = new Map(pupilIds.map((id, i) => [id, i]));
  const grid = pupils.map(() => subjects.rows.map(() => columns.map((): string | null => null)));
  for (const m of marks) {
    const p = pupilIndex.get(m.pupil_id);
    const s = subjectIndex.get(m.subject_id);
    const c = columnIndex.get(m.period_id);
    if (p !== undefined && s !== undefined && c !== undefined) grid[p]![s]![c] = m.raw;
  }
  const missed = new Map(absences.rows.map((a) => [a.pupil_id, { lessons: a.lessons, excused: a.excused }]));
  return {
    school: { name: cls.school_name }, classId: query.classId, className: cls.class_name, yearTitle: cls.year_title,
    columns, subjects: subjects.rows,
    pupils: pupils.map((p, i) => ({ id: p.id, name: p.name, marks: grid[i]!, absences: missed.get(p.id) ?? { lessons: 0, excused: 0 } })),
  };
}

export const SUMMARY_TITLE = 'Сводная ведомость учёта успеваемости обучающихся';

/** The sheet as one table: №, pupil, per subject its columns, then the lessons missed (all, excused). */
export function summaryDocument(sheet: SummarySheet, date: string): ReportDocument {
  const columns: TableColumn[] = [
    { title: '№', weight: 0.6 },
    { title: 'Фамилия, имя обучающегося', weight: 4 },
    ...sheet.subjects.flatMap((s) => sheet.columns.map((c) => ({ title: shortTitle(c.title), group: s.name }))),
    { title: 'всего', group: 'Пропущено уроков', weight: 1 },
    { title: 'по уважит. причине', group: 'Пропущено уроков', weight: 1 },
  ];
  const rows = sheet.pupils.map((p, i) => [i + 1, p.name, ...p.marks.flatMap((perSubject) => perSubject), p.absences.lessons, p.absences.excused]);
  return {
    title: SUMMARY_TITLE,
    subtitle: [sheet.school.name, `Класс ${sheet.className} · ${sheet.yearTitle}`],
    date,
    tables: [{ title: `${sheet.className} · ${sheet.yearTitle}`, columns, rows, keyColumns: 2 }],
  };
}

/** «1 четверть» → «1 ч.», «Год» stays: the column heads of a narrow sheet. */
function shortTitle(title: string): string {
  return title.replace(/четверть/i, 'ч.').replace(/полугодие/i, 'пол.').replace(/триместр/i, 'тр.');
}

export function renderSummaryPdf(sheet: SummarySheet, date = new Date().toISOString()): Promise<Buffer> {
  return renderTablesPdf(summaryDocument(sheet, date));
}

export function renderSummaryXlsx(sheet: SummarySheet, date = new Date().toISOString()): Promise<Buffer> {
  return renderTablesXlsx(summaryDocument(sheet, date));
}
