import cron, { type ScheduledTask } from 'node-cron';
import type { Pool } from '../db/pool.js';
import type { Clock } from '../lib/clock.js';
import { describeError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import type { SyncQueue } from './queue.js';

/**
 * Runs the connections' schedules: one node-cron task per enabled connection with a schedule, in its
 * school's time zone. A tick only enqueues a run named after its period (the tick's time), so any
 * number of schedulers make one run per period. At start and on every refresh the scheduler also
 * enqueues the latest period it may have missed while it was down (the same name, so never twice).
 */
export interface SchedulerOptions {
  /** How often the list of connections is read again (schedules edited through the API). */
  refreshSeconds: number;
  /** How far back a missed period is looked for. */
  catchUpHours: number;
}

interface Planned {
  schedule: string;
  timeZone: string;
  task: ScheduledTask;
}

export class Scheduler {
  private readonly tasks = new Map<string, Planned>();
  private refreshTimer?: NodeJS.Timeout;

  constructor(
    private readonly pool: Pool,
    private readonly queue: SyncQueue,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly options: SchedulerOptions = { refreshSeconds: 60, catchUpHours: 24 },
    /** Whether a platform is read by an adapter: the others (paper, the demo's source) are never synced (ConnectionService.assertSyncable). */
    private readonly syncable: (platform: string) => boolean = () => true,
  ) {}

  async start(): Promise<void> {
    await this.refresh();
    this.refreshTimer = setInterval(() => void this.refresh().catch((e: unknown) => this.logger.warn({ error: describeError(e) }, 'schedule refresh failed')), this.options.refreshSeconds * 1000);
  }

  async stop(): Promise<void> {
    clearInterval(this.refreshTimer);
    for (const planned of this.tasks.values()) await planned.task.destroy();
    this.tasks.clear();
  }

  /** Brings the tasks in line with the connections table. */
  async refresh(): Promise<void> {
    const { rows } = await this.pool.query<{ id: string; schedule: string; time_zone: string; platform: string }>(
      `SELECT c.id::text, c.schedule, s.time_zone, c.platform FROM connection c JOIN school s ON s.id = c.school_id
        WHERE c.enabled AND c.schedule IS NOT NULL`,
    );
    const wanted = new Map(rows.filter((r) => this.syncable(r.platform)).map((r) => [r.id, r]));
    for (const [id, planned] of this.tasks) {
      const row = wanted.get(id);
      if (!row || row.schedule !== planned.schedule || row.time_zone !== planned.timeZone) {
        await planned.task.destroy();
        this.tasks.delete(id);
      }
    }
    for (const row of rows) {
      if (this.tasks.has(row.id)) continue;
      const task = cron.schedule(row.schedule, (ctx) => this.tick(row.id, ctx.date), { timezone: row.time_zone, name: `sync:${row.id}`, noOverlap: false });
      this.tasks.set(row.id, { schedule: row.schedule, timeZone: row.time_zone, task });
      await this.catchUp(row.id, task);
    }
  }

  private async tick(connectionId: string, at: Date): Promise<void> {
    const period = truncateToSecond(at);
    try {
      const { created } = await this.queue.enqueue(connectionId, 'schedule', 'incremental', { scheduledFor: period });
      if (created) this.logger.info({ connectionId, period: period.toISOString() }, 'scheduled sync queued');
    } catch (error) {
      this.logger.error({ connectionId, error: describeError(error) }, 'could not queue a scheduled sync');
    }
  }

  /** The latest due period within the catch-up horizon, queued if nobody queued it yet. */
  private async catchUp(connectionId: string, task: ScheduledTask): Promise<void> {
    const now = this.clock.now();
    const step = task.getPattern().trim().split(/\s+/).length === 6 ? 1000 : 60_000;
    const horizon = Math.min(this.options.catchUpHours * 3600_000, step * 100_000);
    for (let t = Math.floor(now.getTime() / step) * step; t > now.getTime() - horizon; t -= step) {
      const at = new Date(t);
      if (!task.match(at)) continue;
      const last = await this.pool.query('SELECT 1 FROM sync_run WHERE connection_id = $1 AND scheduled_for >= $2 LIMIT 1', [connectionId, at]);
      if (last.rowCount === 0) await this.tick(connectionId, at);
      return;
    }
  }
}

function truncateToSecond(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 1000) * 1000);
}
