import type { Pool, PoolClient } from '../db/pool.js';
import type { Clock } from '../lib/clock.js';
import { describeError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { checkBackupTargets, type BackupTargetSettings } from './backup-jurisdiction.js';
import { verifyChains } from '../journal/verify.js';
import type { Manifest } from './backup-manifest.js';
import { restoreBackup, schemaSignature } from './backup-restore.js';
import type { BackupTarget } from './backup-targets.js';
import { recordedDigests, verifyBackup } from './backup-verify.js';

/**
 * `backup restore-drill`: the newest backup that verifies (a corrupted copy on one target is skipped and the
 * same backup, or an older one, taken from another) is restored into a fresh database on the same server,
 * and the restored database is compared with the manifest, i.e. with the source as it stood in the
 * backup's snapshot: row counts per table, each school's history chain recomputed (journal/verify.ts) and
 * its head (seq and hash). The database is dropped afterwards unless kept.
 */
export interface DrillReport {
  ok: boolean;
  backup?: string;
  target?: string;
  /** Copies that did not verify, newest first, with why. */
  skipped: Array<{ target: string; backup: string; problems: string[] }>;
  tables: Array<{ table: string; expected: number; restored: number }>;
  chains: Array<{ schoolId: string; ok: boolean; events: number; headSeq?: string; expectedSeq?: string; headMatches: boolean }>;
  mismatches: string[];
  database?: string;
  kept: boolean;
}

export interface DrillDeps {
  /** The source database (the manifests' digests it recorded). */
  pool: Pool;
  targets: BackupTarget[];
  /** A role on the same server that may create databases and set session_replication_role. */
  adminUrl: string;
  logger: Logger;
  pgRestorePath?: string;
}

export async function restoreDrill(deps: DrillDeps, options: { target?: string; keep?: boolean } = {}): Promise<DrillReport> {
  const report: DrillReport = { ok: false, skipped: [], tables: [], chains: [], mismatches: [], kept: false };
  const targets = options.target ? deps.targets.filter((t) => t.name === options.target) : deps.targets;
  if (targets.length === 0) {
    report.mismatches.push(`no backup target named ${options.target}`);
    return report;
  }
  const recorded = await recordedDigests(deps.pool);
  for (const { target, backup } of await candidates(targets)) {
    const verified = await verifyBackup(target, backup, recorded.get(backup));
    if (!verified.ok || !verified.manifest) {
      report.skipped.push({ target: target.name, backup, problems: verified.problems });
      continue;
    }
    report.backup = backup;
    report.target = target.name;
    await restoreAndCompare(deps, target, verified.manifest, report, options.keep ?? false);
    return report;
  }
  report.mismatches.push('no backup on the targets verifies');
  return report;
}

/** Where a drill restores to: a role that may create databases (BACKUP_ADMIN_URL, else the database's own admin URL). */
export interface DrillSettings {
  adminUrl?: string;
  pgRestorePath?: string;
}

export interface RecordedDrillDeps extends DrillSettings {
  pool: Pool;
  clock: Clock;
  logger: Logger;
  settings: BackupTargetSettings;
}

/**
 * Runs the drill of a `backup_drill` row (queued by the API, the dashboard or the CLI) and records its
 * outcome there: passed or failed, the backup and target restored, the whole report. A drill that cannot
 * begin (a target outside the jurisdiction, no admin URL) is recorded as failed with why.
 */
export async function runRecordedDrill(deps: RecordedDrillDeps, drillId: string, options: { keep?: boolean } = {}): Promise<{ report?: DrillReport; error?: string }> {
  const { rows } = await deps.pool.query<{ only_target: string | null }>(
    `UPDATE backup_drill SET status = 'running', started_at = $2 WHERE id = $1 RETURNING only_target`, [drillId, deps.clock.now()]);
  if (!rows[0]) return { error: `no restore drill ${drillId}` };
  try {
    if (!deps.adminUrl) throw new Error('the restore drill needs a role that may create databases: set BACKUP_ADMIN_URL');
    const targets = await checkBackupTargets(deps.settings, deps.pool, deps.logger);
    const report = await restoreDrill({ pool: deps.pool, targets, adminUrl: deps.adminUrl, logger: deps.logger, pgRestorePath: deps.pgRestorePath }, { target: rows[0].only_target ?? undefined, keep: options.keep });
    await deps.pool.query(
      `UPDATE backup_drill SET status = $2, finished_at = $3, backup = $4, target = $5, report = $6, error = $7 WHERE id = $1`,
      [drillId, report.ok ? 'passed' : 'failed', deps.clock.now(), report.backup ?? null, report.target ?? null, JSON.stringify(report), report.ok ? null : report.mismatches.join('; ').slice(0, 2000)]);
    deps.logger[report.ok ? 'info' : 'error']({ drillId, backup: report.backup, target: report.target, ok: report.ok, mismatches: report.mismatches.length }, 'restore drill finished');
    return { report };
  } catch (error) {
    const why = describeError(error);
    await deps.pool.query(`UPDATE backup_drill SET status = 'failed', finished_at = $2, error = $3 WHERE id = $1`, [drillId, deps.clock.now(), why]);
    deps.logger.error({ drillId, error: why }, 'restore drill could not run');
    return { error: why };
  }
}

/** A drill row for a drill run here and now (the CLI's), so every drill is on record wherever it ran. */
export async function newDrill(pool: Pool | PoolClient, clock: Clock, actor: string, target?: string): Promise<string> {
  const { rows } = await pool.query<{ id: string }>(`INSERT INTO backup_drill (status, actor, only_target, queued_at) VALUES ('queued', $1, $2, $3) RETURNING id::text`, [actor, target ?? null, clock.now()]);
  return rows[0]!.id;
}

/** Every copy on the targets, newest backup first, in the targets' order within one backup. */
async function candidates(targets: BackupTarget[]): Promise<Array<{ target: BackupTarget; backup: string }>> {
  const all: Array<{ target: BackupTarget; backup: string; order: number }> = [];
  for (const [order, target] of targets.entries()) {
    const names = await target.list().catch(() => [] as string[]);
    for (const backup of names) all.push({ target, backup, order });
  }
  return all.sort((a, b) => (a.backup === b.backup ? a.order - b.order : a.backup < b.backup ? 1 : -1));
}

async function restoreAndCompare(deps: DrillDeps, target: BackupTarget, manifest: Manifest, report: DrillReport, keep: boolean): Promise<void> {
  let restored;
  try {
    restored = await restoreBackup(deps.adminUrl, target, manifest, deps.logger, { pgRestorePath: deps.pgRestorePath });
  } catch (error) {
    report.mismatches.push(`the restore failed: ${describeError(error)}`);
    return;
  }
  report.database = restored.database;
  try {
    for (const table of manifest.tables) {
      const { rows } = await restored.pool.query<{ n: string }>(`SELECT count(*) AS n FROM "${table.table.replace(/"/g, '""')}"`);
      const count = Number(rows[0]!.n);
      report.tables.push({ table: table.table, expected: table.rows, restored: count });
      if (count !== table.rows) report.mismatches.push(`${table.table}: ${count} rows restored, ${table.rows} in the backup`);
    }
    await compareChains(restored.pool, manifest, report);
    await compareSchema(deps.pool, restored.pool, manifest, report);
  } finally {
    if (keep) report.kept = true;
    else await restored.drop();
  }
  report.ok = report.mismatches.length === 0;
}

/** When the source is still at the backup's schema version, the restored keys and indexes must be its own. */
async function compareSchema(source: Pool, restored: Pool, manifest: Manifest, report: DrillReport): Promise<void> {
  const { rows } = await source.query<{ n: number }>(`SELECT count(*)::int AS n FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`);
  if (rows[0]!.n !== manifest.migrations.length) return;
  const [want, got] = [await schemaSignature(source), await schemaSignature(restored)];
  const missing = want.filter((line) => !got.includes(line));
  const extra = got.filter((line) => !want.includes(line));
  for (const line of missing) report.mismatches.push(`schema: the restored database lacks ${line}`);
  for (const line of extra) report.mismatches.push(`schema: the restored database has ${line}, the source does not`);
}

async function compareChains(pool: Pool, manifest: Manifest, report: DrillReport): Promise<void> {
  const chains = await verifyChains(pool);
  const heads = new Map((await pool.query<{ school_id: string; seq: string; hash: string }>(
    `SELECT school_id::text, seq::text, encode(hash, 'hex') AS hash FROM journal_head`)).rows.map((r) => [r.school_id, r]));
  const expected = new Map(manifest.heads.map((h) => [h.schoolId, h]));
  for (const chain of chains) {
    const head = heads.get(chain.schoolId);
    const want = expected.get(chain.schoolId);
    const headMatches = head?.seq === want?.seq && head?.hash === want?.hash;
    report.chains.push({ schoolId: chain.schoolId, ok: chain.ok, events: chain.checked, headSeq: head?.seq, expectedSeq: want?.seq, headMatches });
    if (!chain.ok) report.mismatches.push(`school ${chain.schoolId}: the restored history chain breaks at event ${chain.firstBreak?.seq} (${chain.firstBreak?.reason})`);
    if (!headMatches) report.mismatches.push(`school ${chain.schoolId}: the restored chain head (seq ${head?.seq ?? 'none'}) differs from the backup's (seq ${want?.seq ?? 'none'})`);
  }
  for (const schoolId of expected.keys()) {
    if (!heads.has(schoolId)) report.mismatches.push(`school ${schoolId}: its chain head is in the backup but not restored`);
  }
}

/** The drill's report as text, for the CLI. */
export function formatDrillReport(report: DrillReport): string {
  const lines = [`restore drill: ${report.ok ? 'PASSED' : 'FAILED'}${report.backup ? ` — backup ${report.backup} from target ${report.target}` : ''}`];
  for (const s of report.skipped) lines.push(`  skipped ${s.backup} on ${s.target}: ${s.problems.join('; ')}`);
  for (const t of report.tables) lines.push(`  ${t.table.padEnd(32)} ${String(t.restored).padStart(10)} / ${String(t.expected).padStart(10)}${t.restored === t.expected ? '' : '  MISMATCH'}`);
  for (const c of report.chains) lines.push(`  chain ${c.schoolId}: ${c.events} events, ${c.ok ? 'intact' : 'BROKEN'}, head ${c.headSeq ?? 'none'} ${c.headMatches ? '= backup' : `≠ backup ${c.expectedSeq ?? 'none'}`}`);
  for (const m of report.mismatches) lines.push(`  ! ${m}`);
  if (report.database) lines.push(`  database ${report.database} ${report.kept ? 'kept' : 'dropped'}`);
  return `${lines.join('\n')}\n`;
}
