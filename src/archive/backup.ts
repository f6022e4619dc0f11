import { randomBytes } from 'node:crypto';
import type { Pool, PoolClient } from '../db/pool.js';
import type { Clock } from '../lib/clock.js';
import { describeError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { applicationTables, dumpTable, pgDump, sequenceValues, serverMajor, toolMajor, type TableFile } from './backup-dump.js';
import { checkBackupTargets, type BackupTargetSettings } from './backup-jurisdiction.js';
import { backupName, manifestBytes, MANIFEST_DIGEST_FILE, MANIFEST_FILE, MANIFEST_FORMAT, sha256Hex, type Manifest } from './backup-manifest.js';
import { pruneBackups, type RetentionSettings } from './backup-retention.js';
import type { Sink } from './backup-streams.js';
import type { BackupTarget, TargetWriter } from './backup-targets.js';

/**
 * A backup of the whole database to every configured target (issue 14; reliability.md 16): made at each
 * period close (001 Инструкция §4.2; the close calls runBackup at its step 4), nightly
 * (backup-nightly.ts) and by hand (`backup run`). The targets are checked against the schools' regions
 * first; each target gets the same files, written at once; one failing target does not stop the others,
 * and the backup is then `partial`. Each run is recorded in `backup_run`. After a succeeded or partial run the
 * targets that took it are pruned (backup-retention.ts); what each lost is recorded in its entry of the run's
 * `targets`, and a pruning failure never fails the backup.
 */
export type BackupReason = 'nightly' | 'period_close' | 'manual';

export interface BackupSettings extends BackupTargetSettings, RetentionSettings {
  /** auto: pg_dump when one at least as new as the server is found, else the built-in logical dump. */
  BACKUP_METHOD: 'auto' | 'logical' | 'pg_dump';
  PG_DUMP_PATH?: string;
}

export interface BackupDeps {
  pool: Pool;
  /** The database's connection string (pg_dump connects with it). */
  url: string;
  clock: Clock;
  logger: Logger;
  settings: BackupSettings;
}

export interface TargetResult {
  name: string;
  region: string;
  location: string;
  ok: boolean;
  error?: string;
  /** Old backups retention deleted from this target after this run (none when the target did not take it). */
  pruned?: string[];
  /** Why pruning this target failed, in part or whole (the backup itself stands). */
  pruneError?: string;
}

export interface BackupResult {
  runId: string;
  name: string;
  status: 'succeeded' | 'partial' | 'failed';
  method: 'logical' | 'pg_dump';
  manifestSha256?: string;
  targets: TargetResult[];
  tables: number;
  rows: number;
  bytes: number;
}

/**
 * Makes one backup; resolves with its result also when some targets failed (status partial), and when all
 * did (status failed). Throws when it could not begin (a target outside the jurisdiction, no database).
 * `runId`: a queued `backup_run` row to fill (a nightly slot), else a new row is made.
 */
export async function runBackup(deps: BackupDeps, options: { reason: BackupReason; runId?: string }): Promise<BackupResult> {
  const runId = options.runId ?? (await newBackupRun(deps.pool, options.reason));
  const started = deps.clock.now();
  const name = backupName(started, randomBytes(3).toString('hex'));
  await deps.pool.query(`UPDATE backup_run SET status = 'running', started_at = $2, name = $3 WHERE id = $1`, [runId, started, name]);
  try {
    const targets = await checkBackupTargets(deps.settings, deps.pool, deps.logger);
    const result = await writeBackup(deps, targets, name, options.reason);
    await deps.pool.query(
      `UPDATE backup_run SET status = $2, method = $3, finished_at = $4, targets = $5, manifest_sha256 = $6, error = $7 WHERE id = $1`,
      [runId, result.status, result.method, deps.clock.now(), JSON.stringify(result.targets), result.manifestSha256 ?? null,
        result.status === 'succeeded' ? null : result.targets.filter((t) => !t.ok).map((t) => `${t.name}: ${t.error}`).join('; ')]);
    // `target`, not `name`: the logger censors every `name` (people's names).
    deps.logger[result.status === 'succeeded' ? 'info' : 'error']({ runId, backup: name, status: result.status, reason: options.reason, targets: result.targets.map((t) => ({ target: t.name, ok: t.ok, error: t.error })), rows: result.rows, bytes: result.bytes }, 'backup finished');
    if (result.status !== 'failed') result.targets = await pruneAfter(deps, runId, targets, result.targets);
    return { ...result, runId };
  } catch (error) {
    await deps.pool.query(`UPDATE backup_run SET status = 'failed', finished_at = $2, error = $3 WHERE id = $1`, [runId, deps.clock.now(), describeError(error)]).catch(() => undefined);
    throw error;
  }
}

/** A queued `backup_run` row (a backup asked for by hand carries who asked, and when by the service's clock); its id. */
export async function newBackupRun(db: Pool | PoolClient, reason: BackupReason, options: { at?: Date; actor?: string } = {}): Promise<string> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO backup_run (reason, status, actor, queued_at) VALUES ($1, 'queued', $2, COALESCE($3, CURRENT_TIMESTAMP)) RETURNING id::text`, [reason, options.actor ?? null, options.at ?? null]);
  return rows[0]!.id;
}

/**
 * Retention on the targets that took this backup (not on one that failed: its newest copy is an older run's),
 * recorded in the run's row: every entry gets `pruned`, and an error (one backup, a target's listing, the
 * database) is the entry's `pruneError`. Never throws: the backup stands whatever pruning does.
 */
async function pruneAfter(deps: BackupDeps, runId: string, targets: BackupTarget[], results: TargetResult[]): Promise<TargetResult[]> {
  const took = targets.filter((t) => results.some((r) => r.name === t.name && r.ok));
  let entries: TargetResult[];
  try {
    const pruned = await pruneBackups(deps, took);
    entries = results.map((r) => {
      const mine = pruned.find((p) => p.target === r.name);
      return { ...r, pruned: mine?.removed ?? [], ...(mine && mine.errors.length > 0 ? { pruneError: mine.errors.join('; ') } : {}) };
    });
  } catch (error) {
    const message = describeError(error);
    deps.logger.error({ runId, targets: took.map((t) => t.name), error: message }, 'retention after the backup failed');
    entries = results.map((r) => ({ ...r, pruned: [], ...(r.ok ? { pruneError: `retention failed: ${message}` } : {}) }));
  }
  try {
    await deps.pool.query('UPDATE backup_run SET targets = $2 WHERE id = $1', [runId, JSON.stringify(entries)]);
  } catch (error) {
    deps.logger.error({ runId, error: describeError(error) }, 'could not record what retention removed');
  }
  return entries;
}

async function writeBackup(deps: BackupDeps, targets: BackupTarget[], name: string, reason: BackupReason): Promise<Omit<BackupResult, 'runId'>> {
  const failed = new Map<string, string>();
  const writers = new Map<string, TargetWriter>();
  for (const target of targets) {
    try {
      writers.set(target.name, await target.begin(name));
    } catch (error) {
      failed.set(target.name, describeError(error));
    }
  }
  const live = () => [...writers].filter(([t]) => !failed.has(t));
  const sinksFor = (file: string): Sink[] => live().map(([target, writer]) => ({ target, stream: writer.file(file) }));
  const client = await deps.pool.connect();
  let manifest: Manifest;
  try {
    if (live().length === 0) throw new Error('no backup target could be opened');
    manifest = await dumpInSnapshot(deps, client, { name, reason, sinksFor, failed });
  } catch (error) {
    await Promise.all([...writers.values()].map((w) => w.abort().catch(() => undefined)));
    if (live().length === 0 && failed.size > 0) return failedResult(targets, failed, name, deps.settings.BACKUP_METHOD === 'pg_dump' ? 'pg_dump' : 'logical');
    throw error;
  } finally {
    client.release();
  }
  const bytes = manifestBytes(manifest);
  const digest = sha256Hex(bytes);
  for (const [target, writer] of live()) {
    try {
      await writeSmall(writer, MANIFEST_FILE, bytes);
      await writeSmall(writer, MANIFEST_DIGEST_FILE, Buffer.from(`${digest}  ${MANIFEST_FILE}\n`));
      await writer.commit();
    } catch (error) {
      failed.set(target, describeError(error));
    }
  }
  for (const [target, writer] of writers) if (failed.has(target)) await writer.abort().catch(() => undefined);
  const results = targetResults(targets, failed);
  const okCount = results.filter((t) => t.ok).length;
  return {
    name, method: manifest.method, manifestSha256: okCount > 0 ? digest : undefined, targets: results,
    status: okCount === targets.length ? 'succeeded' : okCount > 0 ? 'partial' : 'failed',
    tables: manifest.tables.length, rows: manifest.tables.reduce((n, t) => n + t.rows, 0), bytes: manifest.files.reduce((n, f) => n + f.bytes, 0),
  };
}

interface DumpContext {
  name: string;
  reason: BackupReason;
  sinksFor: (file: string) => Sink[];
  failed: Map<string, string>;
}

/** The dump and everything the manifest says of the database, all in one snapshot. */
async function dumpInSnapshot(deps: BackupDeps, client: PoolClient, context: DumpContext): Promise<Manifest> {
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    const method = await methodFor(deps.settings, client);
    const snapshot = method === 'pg_dump' ? (await client.query<{ id: string }>('SELECT pg_export_snapshot() AS id')).rows[0]!.id : undefined;
    const version = (await client.query<{ v: string }>(`SELECT current_setting('server_version') AS v`)).rows[0]!.v;
    const migrations = (await client.query<{ name: string; checksum: string }>(
      `SELECT migration_name AS name, checksum FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL ORDER BY migration_name`)).rows;
    const heads = (await client.query<{ schoolId: string; seq: string; hash: string }>(
      `SELECT school_id::text AS "schoolId", seq::text AS seq, encode(hash, 'hex') AS hash FROM journal_head ORDER BY school_id`)).rows;
    const tables = await applicationTables(client);
    let files: TableFile[];
    let counted: Manifest['tables'];
    if (method === 'pg_dump') {
      files = [await pgDump(deps.settings.PG_DUMP_PATH ?? 'pg_dump', deps.url, snapshot!, context.sinksFor('database.pgdump'), context.failed)];
      counted = [];
      for (const t of tables) counted.push({ table: t.table, columns: t.columns, rows: Number((await client.query<{ n: string }>(`SELECT count(*) AS n FROM "${t.table}"`)).rows[0]!.n) });
    } else {
      files = [];
      for (const t of tables) files.push(await dumpTable(client, t, context.sinksFor(`${t.table}.copy.gz`), context.failed));
      counted = files.map((f) => ({ table: f.table, file: f.file, columns: f.columns, rows: f.rows }));
    }
    const sequences = await sequenceValues(client);
    await client.query('COMMIT');
    return {
      format: MANIFEST_FORMAT, name: context.name, method, reason: context.reason, createdAt: deps.clock.now().toISOString(), serverVersion: version,
      migrations, files: files.map((f) => ({ file: f.file, bytes: f.bytes, sha256: f.sha256 })), tables: counted, sequences, heads,
    };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** pg_dump when asked, or (auto) when one at least as new as the server runs here; else the logical dump. */
async function methodFor(settings: BackupSettings, client: PoolClient): Promise<'logical' | 'pg_dump'> {
  if (settings.BACKUP_METHOD === 'logical') return 'logical';
  const tool = await toolMajor(settings.PG_DUMP_PATH ?? 'pg_dump');
  const server = await serverMajor(client);
  if (tool !== undefined && tool >= server) return 'pg_dump';
  if (settings.BACKUP_METHOD === 'pg_dump') {
    throw new Error(`BACKUP_METHOD=pg_dump, but ${tool === undefined ? 'no pg_dump runs here' : `pg_dump ${tool} is older than the server (${server})`}: set PG_DUMP_PATH or BACKUP_METHOD=auto`);
  }
  return 'logical';
}

function writeSmall(writer: TargetWriter, file: string, bytes: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const stream = writer.file(file);
    stream.once('error', reject);
    stream.once('close', () => resolve());
    stream.end(bytes);
  });
}

function targetResults(targets: BackupTarget[], failed: Map<string, string>): TargetResult[] {
  return targets.map((t) => ({ name: t.name, region: t.region, location: t.describe, ok: !failed.has(t.name), ...(failed.has(t.name) ? { error: failed.get(t.name) } : {}) }));
}

function failedResult(targets: BackupTarget[], failed: Map<string, string>, name: string, method: 'logical' | 'pg_dump'): Omit<BackupResult, 'runId'> {
  return { name, method, status: 'failed', targets: targetResults(targets, failed), tables: 0, rows: 0, bytes: 0 };
}
