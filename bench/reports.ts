import type { Pool } from '../src/db/pool.js';
import { loadDemoSchool } from '../src/demo/load.js';
import { fixedClock } from '../src/lib/clock.js';
import { createLogger } from '../src/lib/logger.js';
import { readSummarySheet, renderSummaryPdf, renderSummaryXlsx } from '../src/reports/summary.js';
import { readPageContent, readPeriod, readPeriodClasses, readPrintedSource } from '../src/archive/content.js';
import { pageDigest } from '../src/archive/digest.js';
import { createSeal } from '../src/archive/seal.js';
import { renderJournalPdf } from '../src/reports/journal-pdf.js';
import type { JournalDocument } from '../src/reports/types.js';
import type { Metric } from './metrics.js';

export interface ReportsBenchOptions {
  pool: Pool;
  pupils: number;
  log(message: string): void;
  /** The last day loaded (default: the year's end, so that every period has its marks). */
  until?: string;
}

const clock = fixedClock(new Date('2026-06-01T12:00:00Z'));

/**
 * The summary sheets of a whole school: every class's sheet read from the journal and printed as PDF
 * and XLSX (`reports.school_summary_s`), against reading the same sheets only (the baseline, in the
 * same run); the ratio is what the printing costs on top of the reading.
 */
export async function benchReports(o: ReportsBenchOptions): Promise<Metric[]> {
  const until = o.until ?? '2026-05-31';
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
  const year = await classYearPdf(o.pool, schoolId, o.log);
  const seal = await sealSchool(o.pool, schoolId, o.log);
  return [
    ...year,
    ...seal,
    { name: 'reports.school_summary_s', value: Number(totalS.toFixed(2)), unit: 's' },
    { name: 'reports.school_summary_read_only_s', value: Number(readS.toFixed(3)), unit: 's' },
    { name: 'reports.school_summary_vs_read', value: Number((totalS / readS).toFixed(1)), unit: 'ratio' },
  ];
}

/**
 * `reports.class_year_pdf_s`: every subject's pages of the largest class over the whole year loaded, as
 * the close prints them (content read from the journal as sealed, then the PDF), against reading the same
 * pages' content only (the baseline, in the same run).
 */
async function classYearPdf(pool: Pool, schoolId: string, log: (m: string) => void): Promise<Metric[]> {
  const { rows: [year] } = await pool.query<{ id: string }>(`SELECT id::text FROM period WHERE school_id = $1 AND kind = 'year' ORDER BY start_date DESC LIMIT 1`, [schoolId]);
  if (!year) return [];
  const period = await readPeriod(pool, schoolId, year.id);
  const classes = await readPeriodClasses(pool, period);
  // The largest printout: the class with the most lessons × pupils over the year.
  const { rows: [largest] } = await pool.query<{ id: string }>(
    `SELECT c.id::text FROM class_group c
      WHERE c.id = ANY($1::uuid[])
      ORDER BY (SELECT count(*) FROM lesson l JOIN class_group g ON g.id = l.class_group_id WHERE COALESCE(g.parent_id, g.id) = c.id)
             * (SELECT count(*) FROM enrollment e WHERE e.class_group_id = c.id) DESC, c.id LIMIT 1`, [classes.map((c) => c.id)]);
  const cls = classes.find((c) => c.id === largest!.id)!;
  const source = await readPrintedSource(pool, schoolId);
  const read = () => Promise.all(cls.subjects.map((s) => readPageContent(pool, { period, classId: cls.id, subjectId: s.id, source })));
  await read();
  const t0 = performance.now();
  const pages = await read();
  const readS = (performance.now() - t0) / 1000;
  const seal = (digest: string) => ({ code: 'JB-BNCH-0000', digest, sealId: '00000000-0000-0000-0000-000000000000', verifyUrl: `https://journal.example/v1/seals/JB-BNCH-0000?d=${digest}` });
  const doc = (contents: typeof pages): JournalDocument => ({
    school: { name: 'bench' }, className: cls.name, yearTitle: period.yearTitle, periodTitle: period.title, classTeacher: cls.classTeacher,
    sealedAt: '2026-06-01T00:00:00.000Z', titleSeal: seal('0'.repeat(64)), pages: contents.map((content) => ({ content, seal: seal(pageDigest(content)) })),
  });
  await renderJournalPdf(doc(pages.slice(0, 1))); // warm: fonts
  const t1 = performance.now();
  const pdf = await renderJournalPdf(doc(await read()));
  const totalS = (performance.now() - t1) / 1000;
  const lessons = pages.reduce((n, p) => n + p.lessons.length, 0);
  log(`class ${cls.name}, ${pages.length} subjects, ${lessons} lessons, ${pages[0]?.pupils.length ?? 0} pupils, ${period.startDate}…${period.endDate}: read ${readS.toFixed(2)} s, read + PDF ${totalS.toFixed(2)} s (${Math.round(pdf.length / 1024)} KiB)`);
  return [
    { name: 'reports.class_year_pdf_s', value: Number(totalS.toFixed(2)), unit: 's' },
    { name: 'reports.class_year_read_only_s', value: Number(readS.toFixed(3)), unit: 's' },
    { name: 'reports.class_year_pdf_vs_read', value: Number((totalS / readS).toFixed(1)), unit: 'ratio' },
  ];
}

/** `archive.seal_school_s`: the seal of the school's first quarter — every class × subject page read in one snapshot, digested and stored. */
async function sealSchool(pool: Pool, schoolId: string, log: (m: string) => void): Promise<Metric[]> {
  const { rows: [q1] } = await pool.query<{ id: string }>(`SELECT id::text FROM period WHERE school_id = $1 AND kind <> 'year' ORDER BY start_date LIMIT 1`, [schoolId]);
  if (!q1) return [];
  const { rows: [close] } = await pool.query<{ id: string }>(
    `INSERT INTO period_close (school_id, period_id, status, started_by, started_at, locked_by, locked_at, lock_seq) VALUES ($1, $2, 'locked', 'bench', now(), 'bench', now(), 0) RETURNING id::text`,
    [schoolId, q1.id]);
  const t0 = performance.now();
  const { seal } = await createSeal(pool, clock, { schoolId, closeId: close!.id, periodId: q1.id, actor: 'bench' });
  const s = (performance.now() - t0) / 1000;
  log(`seal of the first quarter: ${seal.pages} pages in ${s.toFixed(2)} s`);
  return [{ name: 'archive.seal_school_s', value: Number(s.toFixed(2)), unit: 's' }, { name: 'archive.seal_pages', value: seal.pages, unit: 'pages' }];
}
