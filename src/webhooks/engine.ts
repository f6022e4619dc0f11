import type PgBoss from 'pg-boss';
import { startJobQueue } from '../db/job-queue.js';
import type { Pool, PoolClient } from '../db/pool.js';
import type { Clock } from '../lib/clock.js';
import { describeError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import type { TargetPolicy } from '../lib/net-targets.js';
import type { SecretBox } from '../lib/secret-box.js';
import type { Consumer } from '../journal/feed.js';
import { Deliverer, type DeliverySettings } from './deliver.js';
import { webhooksConsumer, type DeliveryJob } from './outbox.js';

export const DELIVER_QUEUE = 'webhook-deliver';

/** How long an idle delivery loop waits before asking the queue again. */
const IDLE_POLL_MS = 1000;

export interface WebhookSettings {
  delivery: DeliverySettings;
  /** Deliveries in flight per process. */
  concurrency: number;
  /** A rotated-out secret keeps signing this long. */
  rotationGraceSeconds: number;
  /** How often the sweeper looks for messages whose worker died or whose job was lost. */
  sweepSeconds: number;
}

/**
 * The webhooks side in one process (src/webhooks): the feed consumer writing the outbox, the delivery
 * queue (pg-boss `webhook-deliver`, one job per due attempt: the schedule's delays are the jobs'
 * `startAfter`) and its workers, and a sweeper for leases that ran out. pg-boss does not retry a job
 * (retryLimit 0): the schedule is ours, written on the message and carried by the next job.
 */
export class WebhookEngine {
  readonly consumer: Consumer;
  readonly deliverer: Deliverer;
  private sweepTimer?: NodeJS.Timeout;
  private stopped = false;

  private constructor(
    private readonly boss: PgBoss,
    private readonly pool: Pool,
    private readonly clock: Clock,
    private readonly logger: Logger,
    readonly settings: WebhookSettings,
    box: SecretBox,
    /** The process-wide target policy (each school's allow-list is added per request). */
    readonly targets: TargetPolicy,
  ) {
    this.consumer = webhooksConsumer(clock, this.enqueue);
    this.deliverer = new Deliverer({ pool, clock, logger, box, targets, enqueue: this.enqueue, settings: settings.delivery });
  }

  static async start(pool: Pool, clock: Clock, logger: Logger, box: SecretBox, targets: TargetPolicy, settings: WebhookSettings): Promise<WebhookEngine> {
    const boss = await startJobQueue(pool, logger, { label: 'webhook queue' }, async (b) => {
      await b.createQueue(DELIVER_QUEUE, {
        name: DELIVER_QUEUE, policy: 'standard', retryLimit: 0, expireInSeconds: Math.max(60, settings.delivery.leaseSeconds * 2),
      });
    });
    return new WebhookEngine(boss, pool, clock, logger, settings, box, targets);
  }

  /** Queues delivery jobs in a transaction (committed with the messages they deliver). */
  readonly enqueue = async (client: Pool | PoolClient, jobs: readonly DeliveryJob[]): Promise<void> => {
    const db: PgBoss.Db = { executeSql: (text, values) => client.query(text, values) };
    await this.boss.insert(jobs.map((j) => ({ name: DELIVER_QUEUE, data: { schoolId: j.schoolId, id: j.id }, startAfter: j.startAfter })), { db });
  };

  private readonly loops: Promise<void>[] = [];

  /** Takes delivery jobs (the worker role): `concurrency` loops in this process, and the sweeper every `sweepSeconds`. */
  async work(): Promise<void> {
    for (let i = 0; i < this.settings.concurrency; i++) this.loops.push(this.loop());
    const sweep = () => {
      void this.sweep().finally(() => {
        if (!this.stopped) this.sweepTimer = setTimeout(sweep, this.settings.sweepSeconds * 1000).unref();
      });
    };
    this.sweepTimer = setTimeout(sweep, this.settings.sweepSeconds * 1000).unref();
  }

  /**
   * One delivery loop: fetch a job, deliver, complete, and straight on to the next while there are any
   * (pg-boss's own `work` pauses its polling interval after every job, which caps a worker at two a second).
   * An error leaves the message to its lease and the sweeper.
   */
  private async loop(): Promise<void> {
    while (!this.stopped) {
      try {
        const [job] = await this.boss.fetch<{ schoolId: string; id: string }>(DELIVER_QUEUE, { batchSize: 1 });
        if (!job) {
          await new Promise((r) => setTimeout(r, IDLE_POLL_MS));
          continue;
        }
        await this.deliverer.deliver(job.data).catch((error: unknown) => this.logger.warn({ message: job.data.id, error: describeError(error) }, 'webhooks: a delivery failed'));
        await this.boss.complete(DELIVER_QUEUE, job.id);
      } catch (error) {
        if (this.stopped) return;
        this.logger.warn({ error: describeError(error) }, 'webhooks: fetching delivery jobs failed (trying again)');
        await new Promise((r) => setTimeout(r, IDLE_POLL_MS * 4));
      }
    }
  }

  /**
   * Every message due by the clock, delivered now in this process (the sweeper's second half, and what a
   * test under a settable clock calls after moving it). Returns the attempts made.
   */
  async deliverDue(schoolId?: string): Promise<number> {
    const { rows } = await this.pool.query<{ school_id: string; id: string }>(
      `SELECT school_id::text, id::text FROM webhook_message
        WHERE ((status = 'pending' AND next_attempt_at <= $1) OR (status = 'sending' AND lease_until <= $1)) AND ($2::uuid IS NULL OR school_id = $2)
        ORDER BY next_attempt_at LIMIT 500`, [this.clock.now(), schoolId ?? null]);
    let made = 0;
    for (const r of rows) if (await this.deliverer.deliver({ schoolId: r.school_id, id: r.id })) made++;
    return made;
  }

  /**
   * Messages whose worker died (lease over) or whose job was lost (due for a while) get a new job; a
   * second job for a message is harmless, the claim lets one attempt through.
   */
  async sweep(): Promise<number> {
    try {
      const now = this.clock.now();
      const { rows } = await this.pool.query<{ school_id: string; id: string }>(
        `SELECT school_id::text, id::text FROM webhook_message
          WHERE (status = 'sending' AND lease_until < $1) OR (status = 'pending' AND next_attempt_at < $2) LIMIT 500`,
        [now, new Date(now.getTime() - this.settings.sweepSeconds * 1000)]);
      if (rows.length > 0) await this.boss.insert(rows.map((r) => ({ name: DELIVER_QUEUE, data: { schoolId: r.school_id, id: r.id } })));
      return rows.length;
    } catch (error) {
      this.logger.warn({ error: describeError(error) }, 'webhooks: the sweep failed (it runs again)');
      return 0;
    }
  }

  /** Nothing on the scheduler role: the delivery schedule is carried by the jobs (a ClockedWork of the sync service). */
  async schedule(): Promise<void> {}

  async stopScheduling(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.sweepTimer);
  }

  private stopping?: Promise<void>;

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.stopped = true;
      clearTimeout(this.sweepTimer);
      // The loops finish the delivery they are in (bounded by the receiver timeout).
      await Promise.allSettled(this.loops);
      await this.boss.stop({ graceful: true, wait: true, timeout: 20_000 });
    })();
    return this.stopping;
  }
}
