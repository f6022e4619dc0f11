import type { Pool } from '../db/pool.js';
import { describeError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import type { BackupReason } from './backup.js';
import { isBackupName } from './backup-manifest.js';
import type { BackupTarget } from './backup-targets.js';

/**
 * Retention: old backups are deleted from each target, or nightly backups of a real school's database
 * (hundreds of MB each) fill the disk within weeks. Conservative by design — what is not clearly ours and
 * clearly surplus stays:
 * - every backup of a period close is kept (archive evidence: 001 §3.4, Инструкция §4.2);
 * - the newest BACKUP_KEEP_NIGHTLY nightly and BACKUP_KEEP_MANUAL manual backups are kept;
 * - a backup this database has no `backup_run` row for (another deployment's, or one from before a restore),
 *   and any name not shaped like backupName's, are never deleted: we do not delete what we did not record;
 * - nothing at all is deleted on a target whose newest backup is not from a succeeded or partial run that
 *   recorded this target as ok, so a broken run never costs the old good copies (the cheap form of "the
 *   newest backup verifies": reading every file back is `backup verify`'s job).
 * Each target is decided on its own (a period's copies may differ between targets), and an error on one
 * target or one backup does not stop the others.
 */
export const DEFAULT_KEEP_NIGHTLY = 14;
export const DEFAULT_KEEP_MANUAL = 5;

export interface RetentionSettings {
  /** Nightly backups kept per target (unset: DEFAULT_KEEP_NIGHTLY). */
  BACKUP_KEEP_NIGHTLY?: number;
  /** Manual backups (`backup run`) kept per target (unset: DEFAULT_KEEP_MANUAL). */
  BACKUP_KEEP_MANUAL?: number;
}

export interface PruneDeps {
  pool: Pool;
  logger: Logger;
  settings: RetentionSettings;
}

export interface PruneResult {
  target: string;
  /** What stays, newest first. */
  kept: string[];
  /** What was deleted (a dry run: what would be), oldest first. */
  removed: string[];
  /** What went wrong, each naming the target or backup and the operation. */
  errors: string[];
  /** Leftovers of earlier removals cut short, deleted now (a directory's `<name>.deleting/`). */
  swept?: string[];
  /** Why nothing is deleted on this target although some backups are past their count, when so. */
  withheld?: string;
}

/** What the database recorded of one backup. */
export interface RunRow {
  reason: BackupReason;
  status: string;
  targets: Array<{ name?: string; ok?: boolean }>;
}

export interface Plan {
  keep: string[];
  remove: string[];
  withheld?: string;
}

/** Decides per target what to delete and (unless a dry run) deletes it; never throws for one target's or one backup's failure. */
export async function pruneBackups(deps: PruneDeps, targets: readonly BackupTarget[], options: { dryRun?: boolean } = {}): Promise<PruneResult[]> {
  const listed = await Promise.all(targets.map((t) => t.list().then((names) => ({ names }), (error: unknown) => ({ error: describeError(error) }))));
  const runs = await recordedRuns(deps.pool, [...new Set(listed.flatMap((l) => ('names' in l ? l.names : [])))]);
  const keep = { nightly: deps.settings.BACKUP_KEEP_NIGHTLY ?? DEFAULT_KEEP_NIGHTLY, manual: deps.settings.BACKUP_KEEP_MANUAL ?? DEFAULT_KEEP_MANUAL };
  const results: PruneResult[] = [];
  for (const [i, target] of targets.entries()) {
    const list = listed[i]!;
    if ('error' in list) {
      deps.logger.error({ target: target.name, error: list.error }, 'retention: cannot list the backup target');
      results.push({ target: target.name, kept: [], removed: [], errors: [`listing the target failed: ${list.error}`] });
      continue;
    }
    const plan = planRetention(target.name, list.names, runs, keep);
    const result: PruneResult = { target: target.name, kept: plan.keep, removed: [], errors: [], ...(plan.withheld ? { withheld: plan.withheld } : {}) };
    if (plan.withheld) deps.logger.warn({ target: target.name, why: plan.withheld }, 'retention: nothing removed on this target');
    if (options.dryRun) result.removed = plan.remove;
    else {
      await removeAll(deps.logger, target, plan.remove, result);
      await sweepLeftovers(deps.logger, target, result);
    }
    results.push(result);
  }
  return results;
}

/**
 * The decision for one target, from its complete backups (newest first) and the database's runs by name.
 * Pure: test/unit/backup-retention.test.ts holds each rule.
 */
export function planRetention(target: string, names: readonly string[], runs: ReadonlyMap<string, RunRow>, keep: { nightly: number; manual: number }): Plan {
  const seen = { nightly: 0, manual: 0 };
  const plan: Plan = { keep: [], remove: [] };
  for (const name of names) {
    const reason = isBackupName(name) ? runs.get(name)?.reason : undefined;
    if (reason === 'nightly' || reason === 'manual') {
      seen[reason] += 1;
      if (seen[reason] > keep[reason]) {
        plan.remove.push(name);
        continue;
      }
    }
    plan.keep.push(name);
  }
  // The newest of ours: only our names sort by age (a hand-made `old-copy` sorts first and means nothing).
  const withheld = plan.remove.length > 0 ? guard(target, names.find(isBackupName), runs) : undefined;
  if (withheld) return { keep: [...names], remove: [], withheld };
  plan.remove.reverse();
  return plan;
}

/** Why nothing may be deleted on the target (its newest backup is not a good copy of a recorded run), or undefined. */
function guard(target: string, newest: string | undefined, runs: ReadonlyMap<string, RunRow>): string | undefined {
  if (newest === undefined) return 'the target holds no backup named as this service names them';
  const run = runs.get(newest);
  if (!run) return `the newest backup ${newest} has no backup_run row in this database`;
  if (run.status !== 'succeeded' && run.status !== 'partial') return `the newest backup ${newest} is from a run that is ${run.status}`;
  if (!run.targets.some((t) => t.name === target && t.ok === true)) return `the newest backup ${newest} is not recorded as written to this target`;
  return undefined;
}

/** A target's leftovers of removals cut short (target.sweep), named in the result; a failure is one more error. */
async function sweepLeftovers(logger: Logger, target: BackupTarget, result: PruneResult): Promise<void> {
  try {
    const swept = (await target.sweep?.()) ?? [];
    if (swept.length > 0) {
      result.swept = swept;
      logger.info({ target: target.name, swept: swept.length }, 'retention: leftovers of removals cut short deleted');
    }
  } catch (error) {
    result.errors.push(`deleting leftovers failed: ${describeError(error)}`);
  }
}

/** Oldest first, each on its own: one that fails is reported and the rest still go. */
async function removeAll(logger: Logger, target: BackupTarget, names: readonly string[], result: PruneResult): Promise<void> {
  for (const backup of names) {
    try {
      await target.remove(backup);
      result.removed.push(backup);
      // `target` and `backup`, never `name`: the logger censors every `name` (people's names).
      logger.info({ target: target.name, backup }, 'retention: old backup removed');
    } catch (error) {
      const message = describeError(error);
      result.errors.push(`removing ${backup} failed: ${message}`);
      result.kept.push(backup);
      logger.error({ target: target.name, backup, error: message }, 'retention: could not remove an old backup');
    }
  }
  result.kept.sort().reverse();
}

/**
 * The recorded runs of these backup names. A name is one run (a random tail per backup); were it ever two, a
 * period close among them wins, and a good copy on a target counts from either.
 */
async function recordedRuns(pool: Pool, names: string[]): Promise<Map<string, RunRow>> {
  const runs = new Map<string, RunRow>();
  if (names.length === 0) return runs;
  const { rows } = await pool.query<{ name: string; reason: BackupReason; status: string; targets: unknown }>(
    `SELECT name, reason, status, targets FROM backup_run WHERE name = ANY($1::text[]) ORDER BY (reason = 'period_close') DESC, (status IN ('succeeded', 'partial')) DESC`, [names]);
  for (const row of rows) {
    const targets = Array.isArray(row.targets) ? (row.targets as RunRow['targets']) : [];
    const known = runs.get(row.name);
    if (known) known.targets.push(...targets);
    else runs.set(row.name, { reason: row.reason, status: row.status, targets: [...targets] });
  }
  return runs;
}
