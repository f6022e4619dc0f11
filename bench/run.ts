import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmbeddedPostgres } from '../src/db/embedded.js';
import { migrate } from '../src/db/migrate.js';
import { createPool } from '../src/db/pool.js';
import { createPrisma } from '../src/db/prisma.js';
import { createLogger } from '../src/lib/logger.js';
import { benchApi } from './api.js';
import { benchBackup } from './backup.js';
import { benchChecks } from './checks.js';
import { benchJournal } from './journal.js';
import { benchPaper } from './paper.js';
import { benchPush } from './push.js';
import { benchNotify } from './notify.js';
import { benchReads } from './reads.js';
import { benchReports } from './reports.js';
import { benchSync } from './sync.js';
import { benchWebhooks } from './webhooks.js';
import { benchUi } from './ui.js';
import { formatTable, writeResults, type Metric } from './metrics.js';

/**
 * `npm run bench`: every figure measured in one run, on one freshly started embedded Postgres (or
 * BENCH_DATABASE_URL, a database it may fill), so ratios compare like with like. Prints a table and
 * writes bench/results.json. BENCH_PUPILS scales the school (default 1,000); BENCH_ONLY=journal|sync|checks|paper|push|notify|webhooks|api|reports|archive|ui|reads runs one
 * part (`npm run bench -- reads` too). The reads part loads BENCH_READS_SCHOOLS schools (default 5) of
 * BENCH_READS_PUPILS pupils (300) from 1 September to BENCH_READS_UNTIL (2025-12-26) and is not part of a
 * plain run (it takes its own minutes): ask for it by name.
 */
const RESULTS = fileURLToPath(new URL('./results.json', import.meta.url));

async function main(): Promise<void> {
  const logger = createLogger('warn');
  const pupils = Number(process.env.BENCH_PUPILS ?? 1000);
  const tmpDir = await mkdtemp(path.join(os.tmpdir(), 'jb-bench-'));
  await chmod(tmpDir, 0o755);
  const embedded = process.env.BENCH_DATABASE_URL
    ? undefined
    : await startEmbeddedPostgres({ dataDir: tmpDir, port: 0, database: 'bench', logger });
  // The owner's role: the journal part makes scratch tables beside the real ones (the rights checked per
  // statement cost the same for either role).
  const url = process.env.BENCH_DATABASE_URL ?? embedded!.ownerUrl;
  const pool = createPool(url, 4);
  const prisma = createPrisma(url, 2);
  const log = (message: string) => process.stderr.write(`  ${message}\n`);
  try {
    await migrate(pool, logger);
    const only = process.env.BENCH_ONLY ?? process.argv[2];
    const metrics: Metric[] = [];
    if (!only || only === 'journal') {
      process.stderr.write(`journal write path, ${pupils}-pupil full year:\n`);
      metrics.push(...(await benchJournal({ pool, prisma, pupils, tmpDir, log })));
      metrics.push({ name: 'journal.peak_rss_mb', value: Math.round(process.resourceUsage().maxRSS / 1024), unit: 'MB' });
    }
    if (!only || only === 'sync') metrics.push(...(await benchSync({ url, pupils, log })));
    if (!only || only === 'checks') {
      process.stderr.write(`checks, ${pupils}-pupil school, two sources, one term:\n`);
      metrics.push(...(await benchChecks({ pool, pupils, log })));
    }
    if (!only || only === 'paper') {
      process.stderr.write('paper import, a class\'s year of one subject in one file:\n');
      metrics.push(...(await benchPaper({ pool, log })));
    }
    if (!only || only === 'push') {
      process.stderr.write('push API, batches of 1,000 marks over loopback against applyBatch fed directly:\n');
      metrics.push(...(await benchPush({ pool, prisma, log })));
    }
    if (!only || only === 'notify') {
      process.stderr.write(`notifications, ${pupils}-pupil school:\n`);
      metrics.push(...(await benchNotify({ pool, appUrl: process.env.BENCH_DATABASE_URL ?? embedded!.url, pupils, log })));
    }
    if (!only || only === 'webhooks') {
      process.stderr.write('webhooks, signed deliveries to a local receiver:\n');
      metrics.push(...(await benchWebhooks({ pool, appUrl: process.env.BENCH_DATABASE_URL ?? embedded!.url, log })));
    }
    if (!only || only === 'api') {
      process.stderr.write(`API, 200 parents at once reading their child's week, ${pupils}-pupil school:\n`);
      metrics.push(...(await benchApi({ pool, prisma, pupils, log })));
    }
    if (!only || only === 'reports') {
      process.stderr.write(`reports, summary sheets of every class of the ${pupils}-pupil school:\n`);
      metrics.push(...(await benchReports({ pool, pupils, log })));
    }
    if (!only || only === 'archive') {
      process.stderr.write(`backups, ${pupils}-pupil school, a full year: ours against pg_dump / pg_restore of the same database:\n`);
      metrics.push(...(await benchBackup({ url, pool, pupils, log })));
    }
    if (!only || only === 'ui') {
      process.stderr.write(`dashboard in headless Chromium: the inbox's first paint (300-pupil school), the largest journal grid (${pupils}-pupil school):\n`);
      metrics.push(...(await benchUi({ pool, prisma, pupils, log })));
    }
    if (only === 'reads') {
      const schools = Number(process.env.BENCH_READS_SCHOOLS ?? 5);
      const readsPupils = Number(process.env.BENCH_READS_PUPILS ?? 300);
      process.stderr.write(`reads (/health, class journal page), ${schools} schools × ${readsPupils} pupils:\n`);
      metrics.push(...(await benchReads({ pool, prisma, schools, pupils: readsPupils, until: process.env.BENCH_READS_UNTIL ?? '2025-12-26', log })));
    }
    // The baseline of the sync figures: applyBatch fed directly, measured in the same run.
    const apply = metrics.find((m) => m.name === 'journal.apply_rows_per_s');
    const sync = metrics.find((m) => m.name === 'sync.full_year_rows_per_s');
    if (apply && sync) metrics.push({ name: 'sync.full_year_vs_direct_apply', value: Number((sync.value / apply.value).toFixed(3)), unit: 'ratio' });
    process.stdout.write(`\n${formatTable(metrics)}\n`);
    await writeResults(RESULTS, metrics);
    process.stderr.write(`\nwritten to ${path.relative(process.cwd(), RESULTS)}\n`);
  } finally {
    await prisma.$disconnect();
    await pool.end();
    await embedded?.stop();
    await rm(tmpDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
