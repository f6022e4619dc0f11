import { createHash } from 'node:crypto';
import cron, { type ScheduledTask } from 'node-cron';
import type PgBoss from 'pg-boss';
import { cronOf, latestSlot } from '../checks/scheduler.js';
import { dbOf, startJobQueue } from '../db/job-queue.js';
import { withTransaction } from '../db/pool.js';
import { describeError } from '../lib/errors.js';
import type { ClockedWork } from '../sync/service.js';
import { runBackup, type BackupDeps } from './backup.js';

/**
 * The nightly backup, as the scheduled checks run (checks/scheduler.ts): a node-cron tick at
 * BACKUP_NIGHTLY_AT (this process's local time) only queues; a worker makes the backup. A slot is queued
 * once — a `backup_run` row with that slot (unique), inserted in the transaction that sends its pg-boss job
 * (whose id derives from the slot) — so any number of schedulers, and restarts, make one backup a night. At
 * start the latest slot is queued if nobody did (a service down at 02:30 backs up when it is back), unless
 * the database had no school yet then.
 */
export const BACKUP_QUEUE = 'backup-nightly';

interface BackupJob {
  runId: string;
}

export interface NightlyOptions {
  /** HH:MM, local. */
  at: string;
  /** The zone `at` is in (this process's). */
  timeZone: string;
  pollingSeconds: number;
}

export class NightlyBackups implements ClockedWork {
  private task?: ScheduledTask;

  private constructor(private readonly boss: PgBoss, private readonly deps: BackupDeps, private readonly options: NightlyOptions) {}

  static async start(deps: BackupDeps, options: NightlyOptions): Promise<NightlyBackups> {
    const boss = await startJobQueue(deps.pool, deps.logger, { label: 'backup queue' }, async (b) => {
      // A backup of a large database takes a while; a failed one is recorded, not retried blindly.
      await b.createQueue(BACKUP_QUEUE, { name: BACKUP_QUEUE, policy: 'standard', retryLimit: 1, retryDelay: 600, expireInSeconds: 6 * 3600 });
    });
    return new NightlyBackups(boss, deps, options);
  }

  async schedule(): Promise<void> {
    this.task = cron.schedule(cronOf(this.options.at), (ctx) => void this.queueLatest(new Date(ctx.date.getTime() + 30_000)),
      { timezone: this.options.timeZone, name: 'backup:nightly', noOverlap: false });
    await this.queueLatest(this.deps.clock.now());
  }

  async work(): Promise<void> {
    await this.boss.work<BackupJob>(BACKUP_QUEUE, { batchSize: 1, pollingIntervalSeconds: this.options.pollingSeconds }, async ([job]) => {
      if (job) await runBackup(this.deps, { reason: 'nightly', runId: job.data.runId });
    });
  }

  /** Queues the slot at or before `at` unless it is queued already (by any scheduler) or precedes every school; true when this call queued it. */
  async queueLatest(at: Date): Promise<boolean> {
    const slot = latestSlot(this.options.timeZone, at, { nightly: this.options.at });
    if (!slot) return false;
    try {
      return await this.enqueue(slot.at);
    } catch (error) {
      this.deps.logger.error({ error: describeError(error) }, 'could not queue the nightly backup');
      return false;
    }
  }

  private enqueue(slot: Date): Promise<boolean> {
    return withTransaction(this.deps.pool, async (client) => {
      const inserted = await client.query<{ id: string }>(
        `INSERT INTO backup_run (reason, slot, status) SELECT 'nightly', $1, 'queued' WHERE EXISTS (SELECT 1 FROM school WHERE created_at < $1)
         ON CONFLICT (slot) DO NOTHING RETURNING id::text`, [slot]);
      const runId = inserted.rows[0]?.id;
      if (!runId) return false;
      await this.boss.send(BACKUP_QUEUE, { runId } satisfies BackupJob, { id: slotJobId(slot), db: dbOf(client) });
      this.deps.logger.info({ slot: slot.toISOString(), runId }, 'nightly backup queued');
      return true;
    });
  }

  async stopScheduling(): Promise<void> {
    await this.task?.destroy();
    this.task = undefined;
  }

  async stop(): Promise<void> {
    await this.stopScheduling();
    await this.boss.stop({ graceful: true, wait: true, timeout: 20_000 });
  }
}

/** The job id of a night's slot: the same for every scheduler (a v4-shaped uuid from a digest). */
function slotJobId(slot: Date): string {
  const hex = createHash('sha256').update(`backup|${slot.toISOString()}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
