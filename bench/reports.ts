import type { Pool } from '../src/db/pool.js';
import { loadDemoSchool } from '../src/demo/load.js';
import { fixedClock } from '../src/lib/clock.js';
import { createLogger } from '../src/lib/logger.js';
import { readSummarySheet, renderSummaryPdf, renderSummaryXlsx } from '../src/reports/summary.js';
import type { Metric } from './metrics.js';

export interface ReportsBenchOptions {
  pool: Pool;
  pupils: number;
  log(message: string): void;
  /** The last day loaded (default: the first half-year's end, so that two quarters and a half-year have marks). */
  until?: string;
}

const clock = fixedClock(new Date('2025-12-29T12:00:00Z'));

/**
 * The summary sheets of a whole school: every class's sheet read from the journal and printed as PDF
 * and XLSX (`reports.school_summary_s`), against reading the same sheets only (the baseline, in the
 * same run); the ratio is what the printing costs on top of the reading.
 */
export async function benchReports(o: ReportsBenchOptions): Promise<Metric[]> {
  const until = o.until ?? '2025-12-28';
  const loaded = await loadDemoSchool({ pool: o.pool, clock, logger: createLogger('warn') }, { seed: 11, pupils: o.pupils, year: 2025, until });
  const schoolId = loaded.schoolId;
  const classes = (await o.pool.query<{ id: string; year: string }>(
    'SELECT id::text, academic_year_id::text AS year FROM class_group WHERE school_id = $1 AND parent_id IS NULL AND deleted_at IS NULL ORDER BY grade, name', [schoolId],
  )).rows;
  const read = () => Promise.all(classes.map((c) => readSummarySheet(o.pool, { schoolId, classId: c.id, academicYearId: c.year })));
  await read(); // warm: plans, caches
  const t0 = performance.now();
  const sheets = await read();
  const readS = (performance.now() - t0) / 1000;
  await renderSummaryPdf(sheets[0]!, clock.now().toISOString()); // warm: fonts
  let bytes = 0;
  const t1 = performance.now();
  for (const c of classes) {
    const sheet = await readSummarySheet(o.pool, { schoolId, classId: c.id, academicYearId: c.year });
    bytes += (await renderSummaryPdf(sheet, clock.now().toISOString())).length + (await renderSummaryXlsx(sheet, clock.now().toISOString())).length;
  }
  const totalS = (performance.now() - t1) / 1000;
  const pupils = sheets.reduce((n, s) => n + s.pupils.length, 0);
  o.log(`${classes.length} classes, ${pupils} pupils up to ${until}: read ${readS.toFixed(2)} s, read + PDF + XLSX ${totalS.toFixed(2)} s (${Math.round(bytes / 1024)} KiB)`);
  return [
    { name: 'reports.school_summary_s', value: Number(totalS.toFixed(2)), unit: 's' },
    { name: 'reports.school_summary_read_only_s', value: Number(readS.toFixed(3)), unit: 's' },
    { name: 'reports.school_summary_vs_read', value: Number((totalS / readS).toFixed(1)), unit: 'ratio' },
  ];
}
