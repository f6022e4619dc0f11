import pLimit from 'p-limit';
import type { Pool } from '../db/pool.js';
import { shiftDays, todayIn } from '../lib/dates.js';
import { mondayOf } from '../ports/ranges.js';
import { NotFoundError } from '../lib/errors.js';
import { RULES } from './rules/index.js';

/**
 * The deputy's monitoring view (001 Инструкция §3.5; 003 §3.8, §6.2; 004 §3.4): per class, subject and
 * teacher over a period, the shares the regulations ask about twice a month — pupils with no marks and
 * with one mark, lessons without topics — and the open findings per rule; then the same by rule and by
 * teacher. Marks are counted in the electronic journal (every source but paper); a pupil's count is the
 * best-filled source's, so four platforms holding the same marks do not count them four times.
 */

export interface ComplianceQuery {
  schoolId: string;
  periodId?: string;
  from?: string;
  to?: string;
}

/** One class × subject's figures (ComplianceTotals: the same figures summed over rows). */
export interface ComplianceRow extends ComplianceTotals {
  classId: string;
  className: string;
  subjectId: string;
  subjectName: string;
  teacher: { id: string; name: string } | null;
  /** Findings not resolved or dismissed, by rule. */
  open: Record<string, number>;
}

export interface ComplianceView {
  schoolId: string;
  period: { id: string; title: string } | null;
  from: string;
  to: string;
  rows: ComplianceRow[];
  byRule: Array<{ rule: string; title: string | null; open: number; acknowledged: number; resolved: number; dismissed: number }>;
  byTeacher: Array<{ teacher: { id: string; name: string } | null; open: number; acknowledged: number; resolved: number; dismissed: number }>;
}

/** Rules whose findings are late entries (entered after the regulation's deadline). */
const isLateRule = (rule: string) => /(_late|_backdated)$/.test(rule);

export async function readCompliance(pool: Pool, query: ComplianceQuery, now = new Date()): Promise<ComplianceView> {
  const window = await windowOf(pool, query, now);
  const lateRules = RULES.map((r) => r.id).filter(isLateRule);
  const { rows } = await pool.query<ComplianceRow & { teacher_id: string | null; teacher_name: string | null }>(
    `WITH lessons AS (
       SELECT l.id, l.class_group_id, l.subject_id, COALESCE(l.substitute_id, l.teacher_id) AS teacher_id, l.topic
         FROM lesson l
        WHERE l.school_id = $1 AND l.date BETWEEN $2 AND LEAST($3, $4::date) AND l.deleted_at IS NULL AND l.status <> 'cancelled'
     ), pairs AS (
       SELECT class_group_id, subject_id, count(*)::int AS lessons,
              count(*) FILTER (WHERE topic IS NULL OR btrim(topic) = '')::int AS no_topic,
              mode() WITHIN GROUP (ORDER BY teacher_id) AS teacher_id
         FROM lessons GROUP BY class_group_id, subject_id
     ), members AS (
       SELECT p.class_group_id, p.subject_id, e.person_id
         FROM pairs p JOIN enrollment e ON e.class_group_id = p.class_group_id
        WHERE (e.start_date IS NULL OR e.start_date <= $3) AND (e.end_date IS NULL OR e.end_date > $2)
     ), counts AS (
       SELECT pupil_id, class_group_id, subject_id, max(n)::int AS n FROM (
         SELECT m.pupil_id, l.class_group_id, l.subject_id, m.source_id, count(*) AS n
           FROM mark m JOIN lessons l ON l.id = m.lesson_id JOIN connection c ON c.id = m.source_id AND c.platform <> 'paper'
          WHERE m.school_id = $1 AND m.deleted_at IS NULL AND m.kind IN ('mark', 'pass', 'fail')
          GROUP BY m.pupil_id, l.class_group_id, l.subject_id, m.source_id) per_source
        GROUP BY pupil_id, class_group_id, subject_id
     ), pupils AS (
       SELECT mb.class_group_id, mb.subject_id, count(*)::int AS pupils,
              count(*) FILTER (WHERE COALESCE(c.n, 0) = 0)::int AS none, count(*) FILTER (WHERE c.n = 1)::int AS one
         FROM members mb LEFT JOIN counts c ON c.pupil_id = mb.person_id AND c.class_group_id = mb.class_group_id AND c.subject_id = mb.subject_id
        GROUP BY mb.class_group_id, mb.subject_id
     ), findings AS (
       SELECT class_group_id, subject_id, sum(late)::int AS late,
              COALESCE(json_object_agg(rule, open_n) FILTER (WHERE open_n > 0), '{}') AS open
         FROM (SELECT class_group_id, subject_id, rule,
                      count(*) FILTER (WHERE rule = ANY($5::text[]) AND status <> 'dismissed') AS late,
                      count(*) FILTER (WHERE status IN ('open', 'acknowledged')) AS open_n
                 FROM discrepancy WHERE school_id = $1 AND day BETWEEN $2 AND $3
                GROUP BY class_group_id, subject_id, rule) x
        GROUP BY class_group_id, subject_id
     )
     SELECT p.class_group_id::text AS "classId", cg.name AS "className", p.subject_id::text AS "subjectId", sj.name AS "subjectName",
            t.id::text AS teacher_id, concat_ws(' ', t.last_name, t.first_name, t.middle_name) AS teacher_name,
            COALESCE(pu.pupils, 0) AS pupils, COALESCE(pu.none, 0) AS "pupilsWithoutMarks", COALESCE(pu.one, 0) AS "pupilsWithOneMark",
            p.lessons, p.no_topic AS "lessonsWithoutTopic", COALESCE(f.late, 0) AS "lateEntries", COALESCE(f.open, '{}') AS open
       FROM pairs p
       JOIN class_group cg ON cg.id = p.class_group_id
       JOIN subject sj ON sj.id = p.subject_id
       LEFT JOIN person t ON t.id = p.teacher_id
       LEFT JOIN pupils pu ON pu.class_group_id = p.class_group_id AND pu.subject_id = p.subject_id
       LEFT JOIN findings f ON f.class_group_id = p.class_group_id AND f.subject_id = p.subject_id
      ORDER BY cg.name, sj.name`,
    [query.schoolId, window.from, window.to, window.today, lateRules],
  );
  return {
    schoolId: query.schoolId, period: window.period, from: window.from, to: window.to,
    rows: rows.map(({ teacher_id, teacher_name, ...row }) => ({
      ...row, teacher: teacher_id ? { id: teacher_id, name: teacher_name ?? '' } : null,
      shareWithoutMarks: share(row.pupilsWithoutMarks, row.pupils), shareWithOneMark: share(row.pupilsWithOneMark, row.pupils),
      shareWithoutTopic: share(row.lessonsWithoutTopic, row.lessons),
    })),
    ...(await totals(pool, query.schoolId, window)),
  };
}

const share = (part: number, whole: number) => (whole === 0 ? 0 : Math.round((part / whole) * 1000) / 1000);

async function totals(pool: Pool, schoolId: string, window: { from: string; to: string }): Promise<Pick<ComplianceView, 'byRule' | 'byTeacher'>> {
  const statusCounts = `count(*) FILTER (WHERE d.status = 'open')::int AS open, count(*) FILTER (WHERE d.status = 'acknowledged')::int AS acknowledged,
       count(*) FILTER (WHERE d.status = 'resolved')::int AS resolved, count(*) FILTER (WHERE d.status = 'dismissed')::int AS dismissed`;
  const where = `d.school_id = $1 AND (d.day IS NULL OR d.day BETWEEN $2 AND $3)`;
  const byRule = await pool.query<{ rule: string; open: number; acknowledged: number; resolved: number; dismissed: number }>(
    `SELECT d.rule, ${statusCounts} FROM discrepancy d WHERE ${where} GROUP BY d.rule ORDER BY d.rule`, [schoolId, window.from, window.to],
  );
  const byTeacher = await pool.query<{ id: string | null; name: string | null; open: number; acknowledged: number; resolved: number; dismissed: number }>(
    `SELECT a.id::text, concat_ws(' ', a.last_name, a.first_name, a.middle_name) AS name, ${statusCounts}
       FROM discrepancy d LEFT JOIN person a ON a.id = d.assignee_id WHERE ${where}
      GROUP BY a.id ORDER BY name`, [schoolId, window.from, window.to],
  );
  return {
    byRule: byRule.rows.map((r) => ({ ...r, title: RULES.find((x) => x.id === r.rule)?.title ?? null })),
    byTeacher: byTeacher.rows.map(({ id, name, ...r }) => ({ ...r, teacher: id ? { id, name: name ?? '' } : null })),
  };
}

interface Window {
  from: string;
  to: string;
  today: string;
  period: { id: string; title: string } | null;
}

/** The period asked for, or the dates, or the shortest period that contains today. */
async function windowOf(pool: Pool, query: ComplianceQuery, now: Date): Promise<Window> {
  const school = await pool.query<{ time_zone: string }>('SELECT time_zone FROM school WHERE id = $1', [query.schoolId]);
  if (!school.rows[0]) throw new NotFoundError(`school ${query.schoolId}`);
  const today = todayIn(school.rows[0].time_zone, now);
  if (!query.periodId && query.from && query.to) return { from: query.from, to: query.to, today, period: null };
  const { rows } = await pool.query<{ id: string; title: string; from: string; to: string }>(
    `SELECT id::text, title, start_date::text AS from, end_date::text AS to FROM period
      WHERE school_id = $1 AND deleted_at IS NULL AND ${query.periodId ? 'id = $2' : '$2::date BETWEEN start_date AND end_date'}
      ORDER BY end_date - start_date LIMIT 1`,
    [query.schoolId, query.periodId ?? today],
  );
  const period = rows[0];
  if (!period) {
    if (query.periodId) throw new NotFoundError(`period ${query.periodId}`);
    return { from: query.from ?? today, to: query.to ?? today, today, period: null };
  }
  return { from: period.from, to: period.to, today, period: { id: period.id, title: period.title } };
}

/** The school-wide sums of a view's rows (every class × subject): the figures a trend's point shows. */
export interface ComplianceTotals {
  pupils: number;
  pupilsWithoutMarks: number;
  pupilsWithOneMark: number;
  shareWithoutMarks: number;
  shareWithOneMark: number;
  lessons: number;
  lessonsWithoutTopic: number;
  shareWithoutTopic: number;
  /** Findings of the entry-deadline rules (late and back-dated entries), any status but dismissed. */
  lateEntries: number;
}

export function complianceTotals(rows: readonly ComplianceRow[]): ComplianceTotals {
  const sum = (f: (r: ComplianceRow) => number) => rows.reduce((n, r) => n + f(r), 0);
  const pupils = sum((r) => r.pupils);
  const lessons = sum((r) => r.lessons);
  const none = sum((r) => r.pupilsWithoutMarks);
  const one = sum((r) => r.pupilsWithOneMark);
  const noTopic = sum((r) => r.lessonsWithoutTopic);
  return {
    pupils, pupilsWithoutMarks: none, pupilsWithOneMark: one, shareWithoutMarks: share(none, pupils), shareWithOneMark: share(one, pupils),
    lessons, lessonsWithoutTopic: noTopic, shareWithoutTopic: share(noTopic, lessons), lateEntries: sum((r) => r.lateEntries),
  };
}

/** The weeks (Monday to Sunday) of a window, the first and last cut to it. */
export function weeksOf(from: string, to: string): Array<{ from: string; to: string }> {
  const weeks: Array<{ from: string; to: string }> = [];
  for (let monday = mondayOf(from); monday <= to; monday = shiftDays(monday, 7)) {
    const sunday = shiftDays(monday, 6);
    weeks.push({ from: monday < from ? from : monday, to: sunday > to ? to : sunday });
  }
  return weeks;
}

export interface ComplianceTrendPoint extends ComplianceTotals { from: string; to: string }

/**
 * The trend over a window: readCompliance evaluated week by week (from/to of each week, up to today),
 * each week's rows summed over the school (or over `filter`'s rows: one class, say).
 */
export async function readComplianceTrend(
  pool: Pool, query: { schoolId: string; from: string; to: string }, now = new Date(), filter: (row: ComplianceRow) => boolean = () => true,
): Promise<ComplianceTrendPoint[]> {
  const school = await pool.query<{ time_zone: string }>('SELECT time_zone FROM school WHERE id = $1', [query.schoolId]);
  if (!school.rows[0]) throw new NotFoundError(`school ${query.schoolId}`);
  const today = todayIn(school.rows[0].time_zone, now);
  const last = query.to < today ? query.to : today;
  // A few weeks at a time (each is one read of its own; the pool has room for them beside the API's requests).
  const limit = pLimit(3);
  return Promise.all(weeksOf(query.from, last).map((week) => limit(async () => {
    const view = await readCompliance(pool, { schoolId: query.schoolId, from: week.from, to: week.to }, now);
    return { ...week, ...complianceTotals(view.rows.filter(filter)) };
  })));
}
