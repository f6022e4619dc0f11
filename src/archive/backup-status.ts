import type { Pool } from '../db/pool.js';
import { NotFoundError } from '../lib/errors.js';
import type { DrillReport } from './backup-drill.js';
import type { BackupTarget } from './backup-targets.js';

/**
 * The backups as an administrator reads them (`GET /v1/backups`, the dashboard's backups page, `backup
 * list`): the recent runs and drills from the database, what each target holds now, and whether the
 * newest good backup is older than a night and a half while a nightly one is scheduled. Names, times,
 * statuses and the targets' places only: nothing of any school's people is in a backup's record.
 */
export interface BackupRunView {
  id: string;
  reason: 'nightly' | 'period_close' | 'manual';
  status: 'queued' | 'running' | 'succeeded' | 'partial' | 'failed';
  name: string | null;
  method: string | null;
  actor: string | null;
  queuedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  targets: Array<{ name: string; region: string; location: string; ok: boolean; error?: string; pruned?: string[]; pruneError?: string }>;
  manifestSha256: string | null;
  error: string | null;
}

export interface DrillView {
  id: string;
  status: 'queued' | 'running' | 'passed' | 'failed';
  actor: string | null;
  onlyTarget: string | null;
  queuedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  backup: string | null;
  target: string | null;
  error: string | null;
  report: DrillReport | null;
}

export interface TargetHolding {
  name: string;
  region: string;
  location: string;
  /** Complete backups on it, newest first (capped at 100 names). */
  backups: string[];
  count: number;
  error?: string;
}

export interface BackupStatus {
  runs: BackupRunView[];
  drills: DrillView[];
  targets: TargetHolding[];
  /** The newest run that left a complete copy on at least one target. */
  lastGood: { id: string; name: string; status: string; finishedAt: string } | null;
  lastDrill: { id: string; status: string; finishedAt: string | null } | null;
  nightly: boolean;
  /** A nightly backup is scheduled and the last good one is older than 36 hours (or there is none). */
  stale: boolean;
}

/** Hours after which, with a nightly schedule, the newest good backup counts as overdue: a missed night and a half. */
export const STALE_HOURS = 36;

const RUN_COLUMNS = `id::text, reason, status, name, method, actor, queued_at, started_at, finished_at, targets, manifest_sha256, error`;
const DRILL_COLUMNS = `id::text, status, actor, only_target, queued_at, started_at, finished_at, backup, target, error`;

interface RunRow {
  id: string; reason: BackupRunView['reason']; status: BackupRunView['status']; name: string | null; method: string | null; actor: string | null;
  queued_at: Date; started_at: Date | null; finished_at: Date | null; targets: BackupRunView['targets']; manifest_sha256: string | null; error: string | null;
}
interface DrillRow {
  id: string; status: DrillView['status']; actor: string | null; only_target: string | null; queued_at: Date; started_at: Date | null; finished_at: Date | null;
  backup: string | null; target: string | null; error: string | null; report?: DrillReport | null;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

function runOf(r: RunRow): BackupRunView {
  return {
    id: r.id, reason: r.reason, status: r.status, name: r.name, method: r.method, actor: r.actor, queuedAt: r.queued_at.toISOString(),
    startedAt: iso(r.started_at), finishedAt: iso(r.finished_at), targets: r.targets ?? [], manifestSha256: r.manifest_sha256, error: r.error,
  };
}

function drillOf(r: DrillRow): DrillView {
  return {
    id: r.id, status: r.status, actor: r.actor, onlyTarget: r.only_target, queuedAt: r.queued_at.toISOString(), startedAt: iso(r.started_at),
    finishedAt: iso(r.finished_at), backup: r.backup, target: r.target, error: r.error, report: r.report ?? null,
  };
}

export async function readBackupStatus(pool: Pool, targets: readonly BackupTarget[], options: { limit?: number; nightly: boolean; now: Date }): Promise<BackupStatus> {
  const limit = Math.max(1, Math.min(200, options.limit ?? 20));
  const [runs, drills, good, holdings] = await Promise.all([
    pool.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM backup_run ORDER BY queued_at DESC, id LIMIT $1`, [limit]),
    pool.query<DrillRow>(`SELECT ${DRILL_COLUMNS} FROM backup_drill ORDER BY queued_at DESC, id LIMIT $1`, [Math.min(limit, 20)]),
    readBackupHealth(pool, options),
    Promise.all(targets.map(async (t): Promise<TargetHolding> => {
      const base = { name: t.name, region: t.region, location: t.describe };
      try {
        const names = await t.list();
        return { ...base, backups: names.slice(0, 100), count: names.length };
      } catch (error) {
        return { ...base, backups: [], count: 0, error: error instanceof Error ? error.message : String(error) };
      }
    })),
  ]);
  const drill = drills.rows[0];
  return {
    runs: runs.rows.map(runOf), drills: drills.rows.map(drillOf), targets: holdings, lastGood: good.lastGood,
    lastDrill: drill ? { id: drill.id, status: drill.status, finishedAt: iso(drill.finished_at) } : null,
    nightly: options.nightly, stale: good.stale,
  };
}

/** The last good backup and whether it is overdue, from the database alone (the IT overview's card; no target is listed). */
export async function readBackupHealth(pool: Pool, options: { nightly: boolean; now: Date }): Promise<Pick<BackupStatus, 'lastGood' | 'stale'>> {
  const { rows } = await pool.query<{ id: string; name: string; status: string; finished_at: Date }>(
    `SELECT id::text, name, status, finished_at FROM backup_run WHERE status IN ('succeeded', 'partial') AND finished_at IS NOT NULL ORDER BY finished_at DESC LIMIT 1`);
  const row = rows[0];
  const lastGood = row ? { id: row.id, name: row.name, status: row.status, finishedAt: row.finished_at.toISOString() } : null;
  const ageHours = lastGood ? (options.now.getTime() - Date.parse(lastGood.finishedAt)) / 3_600_000 : Infinity;
  return { lastGood, stale: options.nightly && ageHours > STALE_HOURS };
}

export async function readBackupRun(pool: Pool, id: string): Promise<BackupRunView> {
  const { rows } = await pool.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM backup_run WHERE id = $1`, [id]);
  if (!rows[0]) throw new NotFoundError(`backup run ${id}`);
  return runOf(rows[0]);
}

/** One drill with its whole report (tables, chains, skipped copies, mismatches). */
export async function readDrill(pool: Pool, id: string): Promise<DrillView> {
  const { rows } = await pool.query<DrillRow>(`SELECT ${DRILL_COLUMNS}, report FROM backup_drill WHERE id = $1`, [id]);
  if (!rows[0]) throw new NotFoundError(`restore drill ${id}`);
  return drillOf(rows[0]);
}
