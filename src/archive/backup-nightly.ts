import { createHash } from 'node:crypto';
import cron, { type ScheduledTask } from 'node-cron';
import type PgBoss from 'pg-boss';
import { cronOf, latestSlot } from '../checks/scheduler.js';
import { dbOf, startJobQueue } from '../db/job-queue.js';
import { withTransaction } from '../db/pool.js';
import { describeError } from '../lib/errors.js';
import type { ClockedWork } from '../sync/service.js';
import { newBackupRun, runBackup, type BackupDeps } from './backup.js';
import { newDrill, runRecordedDrill, type DrillSettings } from './backup-drill.js';

/**
 * The backup queue: the nightly backup, and the backups and restore drills asked for by hand (the API,
 * the dashboard), each a pg-boss job taken by whichever process works the queue — so a request made to
 * one process of a region is done by a worker, survives that process's restart (the job is retried once),
 * and two drills never run in one process at once (batchSize 1).
 *
 * The nightly backup is queued as the scheduled checks are (checks/scheduler.ts): a node-cron tick at
 * BACKUP_NIGHTLY_AT (this process's local time) only queues; a worker makes the backup. A slot is queued
 * once — a `backup_run` row with that slot (unique), inserted in the transaction that sends its pg-boss job
 * (whose id derives from the slot) — so any number of schedulers, and restarts, make one backup a night. At
 * start the latest slot is queued if nobody did (a service down at 02:30 backs up when it is back), unless
 * the database had no school yet then.
 */
export const BACKUP_QUEUE = 'backup-nightly';

/** A backup to make (its `backup_run` row) or a drill to run (its `backup_drill` row). */
type BackupJob = { runId: string; reason?: 'nightly' | 'manual' } | { drillId: string };

export interface NightlyOptions {
  /** HH:MM, local. */
  at: string;
  /** The zone `at` is in (this process's). */
  timeZone: string;
  pollingSeconds: number;
}

/** What the API and the dashboard ask of the queue. */
export interface BackupRequests {
  /** Queues a backup by hand; its run's id. */
  requestBackup(actor: string): Promise<string>;
  /** Queues a restore drill (from one target, or the newest copy that verifies); its id. */
  requestDrill(actor: string, target?: string): Promise<string>;
  /** Whether a nightly backup is scheduled. */
  readonly nightly: boolean;
}

export class NightlyBackups implements ClockedWork, BackupRequests {
  private task?: ScheduledTask;

  private constructor(
    private readonly boss: PgBoss, private readonly deps: BackupDeps, private readonly options: NightlyOptions | undefined, private readonly drill: DrillSettings,
  ) {}

  get nightly(): boolean {
    return this.options !== undefined;
  }

  /** `options` undefined: no nightly schedule (BACKUP_NIGHTLY_AT=off), the queue still takes requests. */
  static async start(deps: BackupDeps, options: NightlyOptions | undefined, drill: DrillSettings = {}): Promise<NightlyBackups> {
    const boss = await startJobQueue(deps.pool, deps.logger, { label: 'backup queue' }, async (b) => {
      // A backup of a large database takes a while; a failed one is recorded, not retried blindly.
      await b.createQueue(BACKUP_QUEUE, { name: BACKUP_QUEUE, policy: 'standard', retryLimit: 1, retryDelay: 600, expireInSeconds: 6 * 3600 });
    });
    return new NightlyBackups(boss, deps, options, drill);
  }

  async schedule(): Promise<void> {
    const options = this.options;
    if (!options) return;
    this.task = cron.schedule(cronOf(options.at), (ctx) => void this.queueLatest(new Date(ctx.date.getTime() + 30_000)),
      { timezone: options.timeZone, name: 'backup:nightly', noOverlap: false });
    await this.queueLatest(this.deps.clock.now());
  }

  async work(): Promise<void> {
    await this.boss.work<BackupJob>(BACKUP_QUEUE, { batchSize: 1, pollingIntervalSeconds: this.options?.pollingSeconds ?? 5 }, async ([job]) => {
      if (!job) return;
      if ('drillId' in job.data) await runRecordedDrill({ ...this.drill, pool: this.deps.pool, clock: this.deps.clock, logger: this.deps.logger, settings: this.deps.settings }, job.data.drillId);
      else await runBackup(this.deps, { reason: job.data.reason ?? 'nightly', runId: job.data.runId });
    });
  }

  async requestBackup(actor: string): Promise<string> {
    return withTransaction(this.deps.pool, async (client) => {
      const runId = await newBackupRun(client, 'manual', { at: this.deps.clock.now(), actor });
      await this.boss.send(BACKUP_QUEUE, { runId, reason: 'manual' } satisfies BackupJob, { db: dbOf(client) });
      this.deps.logger.info({ runId, actor }, 'backup queued by hand');
      return runId;
    });
  }

  async requestDrill(actor: string, target?: string): Promise<string> {
    return withTransaction(this.deps.pool, async (client) => {
      const drillId = await newDrill(client, this.deps.clock, actor, target);
      await this.boss.send(BACKUP_QUEUE, { drillId } satisfies BackupJob, { db: dbOf(client) });
      this.deps.logger.info({ drillId, actor }, 'restore drill queued');
      return drillId;
    });
  }

  /** Queues the slot at or before `at` unless it is queued already (by any scheduler) or precedes every school; true when this call queued it. */
  async queueLatest(at: Date): Promise<boolean> {
    if (!this.options) return false;
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

  private stopping?: Promise<void>;

  /** Stops scheduling and the queue (once: the sync service's shutdown and the composition root may both ask). */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.stopScheduling();
      await this.boss.stop({ graceful: true, wait: true, timeout: 20_000 });
    })();
    return this.stopping;
  }
}

/** The job id of a night's slot: the same for every scheduler (a v4-shaped uuid from a digest). */
function slotJobId(slot: Date): string {
  const hex = createHash('sha256').update(`backup|${slot.toISOString()}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
