import { withTransaction, type Pool } from '../db/pool.js';
import type { Clock } from '../lib/clock.js';
import { shiftDays, todayIn } from '../lib/dates.js';
import { describeError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { produceReport, type ReportKind, type ReportRequest } from '../reports/produce.js';
import { readSummarySheet } from '../reports/summary.js';
import { summaryFilings } from './printouts.js';
import { fileInArchive } from './store.js';

/**
 * The reports the regulations ask deputies for, filed in the archive on a schedule (001 Инструкция §6;
 * 002 §6; 004 §3.2): each night, after the school's nightly checks, whatever has come due is produced
 * and filed once — the last completed week's user activity, the last completed month's journal fill,
 * a period's progress, attendance and missing final marks after it ends, and every class's summary sheet
 * after the year ends. "Once" is a `report_filing` row per school and report (its key names the window),
 * inserted in the transaction that files it, so two processes or a retried job file nothing twice. Only
 * what came due lately is filed (a period within the last CATCH_UP_DAYS): a first start does not file a
 * school's whole past.
 */
const CATCH_UP_DAYS = 14;
const PERIOD_REPORTS: ReportKind[] = ['progress', 'attendance', 'missing_final_marks'];

export interface DueReport {
  key: string;
  request?: ReportRequest;
  /** A summary sheet instead of a report. */
  summary?: { classId: string; academicYearId: string };
}

/** What is due for a school on `today` (school-local), filed or not. */
export async function dueReports(pool: Pool, schoolId: string, today: string): Promise<DueReport[]> {
  const due: DueReport[] = [];
  // The last completed week, Monday to Sunday.
  const weekday = (new Date(`${today}T00:00:00Z`).getUTCDay() + 6) % 7;
  const monday = shiftDays(today, -weekday - 7);
  due.push({ key: `user_activity:${monday}`, request: { kind: 'user_activity', schoolId, from: monday, to: shiftDays(monday, 6) } });
  // The last completed month.
  const firstOfMonth = `${today.slice(0, 7)}-01`;
  const lastMonthEnd = shiftDays(firstOfMonth, -1);
  due.push({ key: `journal_fill:${lastMonthEnd.slice(0, 7)}`, request: { kind: 'journal_fill', schoolId, from: `${lastMonthEnd.slice(0, 7)}-01`, to: lastMonthEnd } });
  const { rows: periods } = await pool.query<{ id: string }>(
    `SELECT id::text FROM period WHERE school_id = $1 AND deleted_at IS NULL AND end_date < $2::date AND end_date >= $2::date - $3::int ORDER BY end_date, kind`,
    [schoolId, today, CATCH_UP_DAYS],
  );
  for (const p of periods) for (const kind of PERIOD_REPORTS) due.push({ key: `${kind}:${p.id}`, request: { kind, schoolId, periodId: p.id } });
  const { rows: classes } = await pool.query<{ class_id: string; year_id: string }>(
    `SELECT c.id::text AS class_id, y.id::text AS year_id FROM academic_year y JOIN class_group c ON c.academic_year_id = y.id AND c.kind = 'class' AND c.deleted_at IS NULL
      WHERE y.school_id = $1 AND y.end_date < $2::date AND y.end_date >= $2::date - $3::int ORDER BY c.grade, c.name`,
    [schoolId, today, CATCH_UP_DAYS],
  );
  for (const c of classes) due.push({ key: `summary:${c.year_id}:${c.class_id}`, summary: { classId: c.class_id, academicYearId: c.year_id } });
  return due;
}

/** Files what is due and not filed yet; the number filed. */
export async function fileDueReports(deps: { pool: Pool; clock: Clock; logger: Logger }, schoolId: string): Promise<number> {
  const { rows } = await deps.pool.query<{ time_zone: string }>('SELECT time_zone FROM school WHERE id = $1', [schoolId]);
  if (!rows[0]) return 0;
  const today = todayIn(rows[0].time_zone, deps.clock.now());
  const due = await dueReports(deps.pool, schoolId, today);
  const { rows: filed } = await deps.pool.query<{ key: string }>('SELECT key FROM report_filing WHERE school_id = $1 AND key = ANY($2::text[])', [schoolId, due.map((d) => d.key)]);
  const done = new Set(filed.map((f) => f.key));
  let count = 0;
  for (const item of due.filter((d) => !done.has(d.key))) {
    try {
      const files = await produce(deps, schoolId, item);
      count += await withTransaction(deps.pool, async (client) => {
        const claimed = await client.query('INSERT INTO report_filing (school_id, key, filed_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [schoolId, item.key, deps.clock.now()]);
        if (claimed.rowCount !== 1) return 0;
        for (const file of files) await fileInArchive(client, deps.clock, { schoolId, actor: 'schedule', ...file });
        return files.length;
      });
    } catch (error) {
      deps.logger.warn({ schoolId, report: item.key, error: describeError(error) }, 'a scheduled report was not filed');
    }
  }
  return count;
}

type Filing = Omit<Parameters<typeof fileInArchive>[2], 'schoolId' | 'actor'>;

async function produce(deps: { pool: Pool; clock: Clock }, schoolId: string, item: DueReport): Promise<Filing[]> {
  if (item.request) {
    const report = await produceReport(deps.pool, item.request, 'pdf', deps.clock.now());
    const { window } = report.data;
    return [{
      kind: 'report', title: `${item.request.kind}: ${window.period?.title ?? `${window.from} — ${window.to}`}`, filename: report.filename,
      mediaType: report.mediaType, bytes: report.bytes, periodId: item.request.periodId ?? null, classGroupId: item.request.classId ?? null,
    }];
  }
  const { classId, academicYearId } = item.summary!;
  const sheet = await readSummarySheet(deps.pool, { schoolId, classId, academicYearId });
  return (await summaryFilings(sheet, deps.clock.now().toISOString())).map((file) => ({ ...file, classGroupId: classId }));
}
