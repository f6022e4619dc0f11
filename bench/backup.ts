import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { runBackup } from '../src/archive/backup.js';
import { serverMajor, toolConnection, toolMajor } from '../src/archive/backup-dump.js';
import { restoreBackup } from '../src/archive/backup-restore.js';
import { parseBackupTargets, openTargets } from '../src/archive/backup-targets.js';
import { loadDemoSchool } from '../src/demo/load.js';
import { migrate } from '../src/db/migrate.js';
import { createPool, type Pool } from '../src/db/pool.js';
import { fixedClock } from '../src/lib/clock.js';
import { createLogger } from '../src/lib/logger.js';
import type { Metric } from './metrics.js';

const execFileAsync = promisify(execFile);

export interface BackupBenchOptions {
  url: string;
  pool: Pool;
  pupils: number;
  log(message: string): void;
}

/**
 * Our backup (the built-in logical dump, to two directory targets at once) and our restore (migrate a fresh
 * database, COPY back in) against plain `pg_dump -Fc` to one file and `pg_restore` (one job) of the SAME
 * database in the same run. pg_dump must be at least as new as the server: the embedded Postgres is 18 and
 * Debian's pg_dump 15, so when the bench's own database is too new the school is loaded into a database of
 * its own on the PostgreSQL 15 server at BENCH_PG15_URL (default postgresql://postgres@127.0.0.1:5432/postgres,
 * trust auth, created and dropped here) and both sides are timed there. Best of two runs each, alternating.
 */
export async function benchBackup(o: BackupBenchOptions): Promise<Metric[]> {
  const logger = createLogger('warn');
  const place = await chooseDatabase(o);
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'jb-bench-backup-'));
  try {
    const clock = fixedClock(new Date('2026-06-01T12:00:00Z'));
    const loaded = await loadDemoSchool({ pool: place.pool, clock, logger }, { seed: 7, pupils: o.pupils, year: 2025 });
    const rows = await totalRows(place.pool);
    o.log(`school loaded into ${place.label}: ${loaded.created} records, ${rows} rows in all tables`);
    const targets = parseBackupTargets(`a@RU=dir:${path.join(tmp, 'a')},b@RU=dir:${path.join(tmp, 'b')}`);
    const deps = { pool: place.pool, url: place.url, clock, logger, settings: { BACKUP_TARGETS: targets, BACKUP_REQUIRE_TWO: true, DATA_DIR: tmp, BACKUP_METHOD: 'logical' as const } };
    const dumpFile = path.join(tmp, 'plain.pgdump');
    const times = { ours: [] as number[], pgDump: [] as number[], ourRestore: [] as number[], pgRestore: [] as number[] };
    let last: Awaited<ReturnType<typeof runBackup>> | undefined;
    for (let round = 0; round < 2; round += 1) {
      if (place.pgDump) times.pgDump.push(await timed(() => pgDumpTo(place.url, dumpFile)));
      times.ours.push(await timed(async () => { last = await runBackup(deps, { reason: 'manual' }); }));
    }
    const backupS = Math.min(...times.ours);
    o.log(`our backup: ${times.ours.map(s).join(', ')} s (${last!.bytes} bytes per target, two targets)${place.pgDump ? `; pg_dump -Fc: ${times.pgDump.map(s).join(', ')} s (${(await stat(dumpFile)).size} bytes)` : ''}`);
    const metrics: Metric[] = [{ name: 'archive.backup_s', value: Number(backupS.toFixed(2)), unit: 's' }];
    if (place.pgDump) {
      const pgDumpS = Math.min(...times.pgDump);
      metrics.push({ name: 'archive.pg_dump_s', value: Number(pgDumpS.toFixed(2)), unit: 's' }, { name: 'archive.backup_vs_pg_dump', value: Number((backupS / pgDumpS).toFixed(3)), unit: 'ratio' });
    }
    if (place.adminUrl) {
      const [target] = openTargets(targets);
      const manifest = JSON.parse(await target!.readText(last!.name, 'manifest.json')) as Parameters<typeof restoreBackup>[2];
      for (let round = 0; round < 2; round += 1) {
        if (place.pgDump) times.pgRestore.push(await pgRestoreTimed(place.adminUrl, dumpFile));
        // The restored database is dropped after the clock stops (pg_restore's too).
        let restored: Awaited<ReturnType<typeof restoreBackup>> | undefined;
        times.ourRestore.push(await timed(async () => { restored = await restoreBackup(place.adminUrl!, target!, manifest, logger); }));
        await restored!.drop();
      }
      const restoreS = Math.min(...times.ourRestore);
      o.log(`our restore: ${times.ourRestore.map(s).join(', ')} s${place.pgDump ? `; pg_restore: ${times.pgRestore.map(s).join(', ')} s` : ''}`);
      metrics.push({ name: 'archive.restore_s', value: Number(restoreS.toFixed(2)), unit: 's' });
      if (place.pgDump) {
        const pgRestoreS = Math.min(...times.pgRestore);
        metrics.push({ name: 'archive.pg_restore_s', value: Number(pgRestoreS.toFixed(2)), unit: 's' }, { name: 'archive.restore_vs_pg_restore', value: Number((restoreS / pgRestoreS).toFixed(3)), unit: 'ratio' });
      }
    }
    metrics.push({ name: 'archive.backup_rows', value: rows, unit: 'rows' });
    return metrics;
  } finally {
    await place.close();
    await rm(tmp, { recursive: true, force: true });
  }
}

interface Place {
  label: string;
  url: string;
  pool: Pool;
  /** A superuser on the same server (restores create databases), when there is one. */
  adminUrl?: string;
  pgDump: boolean;
  close(): Promise<void>;
}

/** The bench's own database when pg_dump can dump it; else a database of our own on the PostgreSQL 15 server. */
async function chooseDatabase(o: BackupBenchOptions): Promise<Place> {
  const tool = await toolMajor('pg_dump');
  const client = await o.pool.connect();
  const own = await serverMajor(client).finally(() => client.release());
  if (tool !== undefined && tool >= own) return { label: `the bench database (PostgreSQL ${own})`, url: o.url, pool: o.pool, pgDump: true, close: async () => undefined };
  const adminUrl = process.env.BENCH_PG15_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
  const database = `jb_bench_backup_${process.pid}`;
  try {
    await admin(adminUrl, `DROP DATABASE IF EXISTS ${database}`);
    await admin(adminUrl, `CREATE DATABASE ${database}`);
  } catch (error) {
    o.log(`pg_dump ${tool ?? '(none)'} cannot dump PostgreSQL ${own} and ${adminUrl.replace(/:[^@/]*@/, '@')} is not reachable (${(error as Error).message}): our backup only, no ratio`);
    return { label: `the bench database (PostgreSQL ${own})`, url: o.url, pool: o.pool, pgDump: false, close: async () => undefined };
  }
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  const pool = createPool(url.toString(), 4);
  await migrate(pool, createLogger('warn'));
  const version = (await pool.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]!.v;
  return {
    label: `${database} on PostgreSQL ${version} (pg_dump ${tool})`, url: url.toString(), pool, adminUrl, pgDump: tool !== undefined,
    close: async () => {
      await pool.end();
      await admin(adminUrl, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    },
  };
}

async function admin(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function totalRows(pool: Pool): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(
    `SELECT sum((xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %I', c.relname), false, true, '')))[1]::text::bigint)::text AS n
       FROM pg_class c JOIN pg_namespace ns ON ns.oid = c.relnamespace WHERE ns.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition`);
  return Number(rows[0]!.n);
}

async function pgDumpTo(url: string, file: string): Promise<void> {
  const { dbname, env } = toolConnection(url);
  await execFileAsync('pg_dump', ['-Fc', '--no-owner', '--no-acl', '-f', file, '--dbname', dbname], { env, maxBuffer: 16 * 1024 * 1024 });
}

/** pg_restore of the plain dump into a fresh database, timed as ours is: from CREATE DATABASE to the last row and index in. */
async function pgRestoreTimed(adminUrl: string, file: string): Promise<number> {
  const database = `jb_bench_pgrestore_${process.pid}`;
  await admin(adminUrl, `DROP DATABASE IF EXISTS ${database}`);
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  const { dbname, env } = toolConnection(url.toString());
  const seconds = await timed(async () => {
    await admin(adminUrl, `CREATE DATABASE ${database}`);
    await execFileAsync('pg_restore', ['--no-owner', '--no-acl', '--exit-on-error', '--dbname', dbname, file], { env, maxBuffer: 16 * 1024 * 1024 });
  });
  await admin(adminUrl, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  return seconds;
}

async function timed(work: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await work();
  return (performance.now() - t0) / 1000;
}

const s = (v: number) => v.toFixed(2);
