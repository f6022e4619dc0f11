import type { Pool, PoolClient } from '../db/pool.js';

/**
 * The fortnightly progress and attendance report («Отчет об успеваемости и посещаемости», seed 004 §3.2;
 * the class teacher informs parents at least every two weeks, seed 001 Инструкция 5.2 в): per pupil, the
 * marks of each subject in the window with their average, the subjects with lessons but no mark, and the
 * lessons missed by kind — from one source (the school's legal record), for the whole school in three
 * queries.
 */
export interface ProgressReport {
  pupilId: string;
  pupilFirstName: string;
  className: string;
  from: string;
  to: string;
  subjects: Array<{ subjectId: string; subject: string; marks: string[]; count: number; average: number | null }>;
  absences: { ill: number; valid: number; unexcused: number; unknown: number; late: number; total: number };
  /** Subjects with lessons in the window and no mark. */
  noMarks: string[];
}

/**
 * Every pupil's report (or those given), inclusive dates. The average is of the numeric marks of kind
 * `mark` (a 5-point value; «зч», «н/а» are listed but not averaged), weighted by the source's weights where
 * it gives them (NetSchool), plainly otherwise; 2 decimals.
 */
export async function progressReports(
  db: Pool | PoolClient, o: { schoolId: string; sourceId: string; from: string; to: string; pupilIds?: string[] },
): Promise<Map<string, ProgressReport>> {
  const pupilFilter = o.pupilIds ? 'AND e.person_id = ANY($4::uuid[])' : '';
  const args = o.pupilIds ? [o.schoolId, o.from, o.to, o.pupilIds] : [o.schoolId, o.from, o.to];
  const { rows: pupils } = await db.query<{ pupil_id: string; first_name: string; class_name: string }>(
    `SELECT DISTINCT ON (e.person_id) e.person_id::text AS pupil_id, p.first_name, cg.name AS class_name
       FROM enrollment e JOIN class_group cg ON cg.id = e.class_group_id AND cg.kind = 'class' AND cg.deleted_at IS NULL
       JOIN academic_year y ON y.id = cg.academic_year_id AND $3::date BETWEEN y.start_date AND y.end_date
       JOIN person p ON p.id = e.person_id AND p.deleted_at IS NULL
      WHERE cg.school_id = $1 AND (e.end_date IS NULL OR e.end_date >= $2::date) AND (e.start_date IS NULL OR e.start_date <= $3::date) ${pupilFilter}
      ORDER BY e.person_id, e.start_date DESC NULLS LAST`, args);
  const reports = new Map<string, ProgressReport>();
  for (const p of pupils) {
    reports.set(p.pupil_id, {
      pupilId: p.pupil_id, pupilFirstName: p.first_name, className: p.class_name, from: o.from, to: o.to, subjects: [],
      absences: { ill: 0, valid: 0, unexcused: 0, unknown: 0, late: 0, total: 0 }, noMarks: [],
    });
  }
  if (reports.size === 0) return reports;
  const ids = [...reports.keys()];
  // One after the other: `db` may be a transaction's client.
  const marks = await db.query<{ pupil_id: string; subject_id: string; subject: string; raw: string; kind: string; numeric: string | null; weight: string | null }>(
      `SELECT m.pupil_id::text, m.subject_id::text, s.name AS subject, m.raw, m.kind, m.numeric::text, m.weight::text
         FROM mark m JOIN subject s ON s.id = m.subject_id LEFT JOIN lesson l ON l.id = m.lesson_id
        WHERE m.school_id = $1 AND m.source_id = $2 AND m.date BETWEEN $3 AND $4 AND m.deleted_at IS NULL AND m.pupil_id = ANY($5::uuid[])
        ORDER BY m.pupil_id, m.date, l.slot NULLS LAST, m.created_at, m.external_id`, [o.schoolId, o.sourceId, o.from, o.to, ids]);
  const absences = await db.query<{ pupil_id: string; kind: string; n: number }>(
      `SELECT a.pupil_id::text, a.kind, count(*)::int AS n FROM attendance a
        WHERE a.school_id = $1 AND a.source_id = $2 AND a.date BETWEEN $3 AND $4 AND a.deleted_at IS NULL AND a.pupil_id = ANY($5::uuid[])
        GROUP BY a.pupil_id, a.kind`, [o.schoolId, o.sourceId, o.from, o.to, ids]);
  const taught = await db.query<{ pupil_id: string; subject_id: string; subject: string }>(
      `SELECT DISTINCT e.person_id::text AS pupil_id, l.subject_id::text, s.name AS subject
         FROM lesson l JOIN enrollment e ON e.class_group_id = l.class_group_id JOIN subject s ON s.id = l.subject_id
        WHERE l.school_id = $1 AND l.date BETWEEN $2 AND $3 AND l.deleted_at IS NULL AND l.status <> 'cancelled' AND e.person_id = ANY($4::uuid[])`,
      [o.schoolId, o.from, o.to, ids]);
  const bySubject = new Map<string, Map<string, { subject: string; marks: string[]; sum: number; weights: number }>>();
  for (const m of marks.rows) {
    const subjects = bySubject.get(m.pupil_id) ?? new Map();
    const entry = subjects.get(m.subject_id) ?? { subject: m.subject, marks: [], sum: 0, weights: 0 };
    entry.marks.push(m.raw);
    if (m.kind === 'mark' && m.numeric !== null) {
      const weight = m.weight === null ? 1 : Number(m.weight);
      entry.sum += Number(m.numeric) * weight;
      entry.weights += weight;
    }
    subjects.set(m.subject_id, entry);
    bySubject.set(m.pupil_id, subjects);
  }
  for (const [pupilId, report] of reports) {
    const subjects = bySubject.get(pupilId) ?? new Map();
    report.subjects = [...subjects].map(([subjectId, e]) => ({
      subjectId, subject: e.subject, marks: e.marks, count: e.marks.length, average: e.weights > 0 ? Math.round((e.sum / e.weights) * 100) / 100 : null,
    })).sort((a, b) => a.subject.localeCompare(b.subject, 'ru'));
  }
  for (const t of taught.rows) {
    const report = reports.get(t.pupil_id);
    if (report && !bySubject.get(t.pupil_id)?.has(t.subject_id) && !report.noMarks.includes(t.subject)) report.noMarks.push(t.subject);
  }
  for (const report of reports.values()) report.noMarks.sort((a, b) => a.localeCompare(b, 'ru'));
  for (const a of absences.rows) {
    const report = reports.get(a.pupil_id);
    if (!report) continue;
    const kind = a.kind as keyof ProgressReport['absences'];
    if (kind in report.absences && kind !== 'total') report.absences[kind] += a.n;
    if (a.kind !== 'late' && a.kind !== 'present') report.absences.total += a.n;
  }
  return reports;
}
