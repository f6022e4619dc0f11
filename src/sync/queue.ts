import type PgBoss from 'pg-boss';
import { dbOf, startJobQueue } from '../db/job-queue.js';
import { withTransaction, type Pool, type PoolClient } from '../db/pool.js';
import type { Logger } from '../lib/logger.js';
import { executeRun, type ExecutorDeps } from './executor.js';
import { getRun, getRuns, insertRun, retryRunOf, type RunMode, type RunPlan, type RunTrigger, type RunView } from './runs.js';

/**
 * Sync jobs on Postgres (pg-boss 10). One run per connection at a time is kept by the connection's lease
 * (taken by the executor, with a fencing token), not by pg-boss's "singleton" policy: that policy fetches
 * the oldest job of the whole queue and gives up when its key is busy, so one connection's waiting run
 * would stall every other school's. A job that finds its connection busy is deferred (a new job for the
 * same run a few seconds later, no retry spent), and so is one whose platform's circuit breaker is open
 * (a new job for when the breaker lets a probe through). A run row and its
 * job are inserted in one transaction; scheduled runs are unique per (connection, period); a manual
 * trigger while a run of the connection is still waiting returns that run instead of queueing another. Retryable
 * failures back off exponentially; a run out of retries lands in `sync-dead` for `sync redrive`.
 * Workers whose heartbeat stops are noticed by the monitor of any other worker, which fails their job
 * so that it is retried; the lease's fence keeps the presumed-dead one from writing if it wakes up.
 */
export const SYNC_QUEUE = 'sync';
export const DEAD_QUEUE = 'sync-dead';
const BUSY_DEFER_SECONDS = 3;

export interface QueueSettings {
  retryLimit: number;
  retryDelaySeconds: number;
  /** pg-boss's own expiry of an active job: a backstop far above any sync; dead workers are found sooner by heartbeat. */
  expireSeconds: number;
  pollingSeconds: number;
}

export const DEFAULT_QUEUE_SETTINGS: QueueSettings = { retryLimit: 4, retryDelaySeconds: 30, expireSeconds: 12 * 3600, pollingSeconds: 2 };

interface SyncJob {
  runId: string;
  /** Sent by `redrive`: the attempt gets a new run. */
  redriven?: boolean;
}

export interface DeadLetters {
  count: number;
  oldestAt: string | null;
}

/** A dead-lettered sync: its job, since when it waits, and the run it was for. */
export interface DeadLetterView {
  jobId: string;
  deadAt: string;
  run: RunView;
}

export interface EnqueueResult {
  run: RunView;
  /** False when an equal run was already waiting (coalesced) or already made for this period. */
  created: boolean;
}

export class SyncQueue {
  private monitorTimer?: NodeJS.Timeout;

  private constructor(
    private readonly boss: PgBoss,
    private readonly pool: Pool,
    private readonly logger: Logger,
    private readonly pollingSeconds: number,
  ) {}

  static async start(pool: Pool, logger: Logger, settings: QueueSettings = DEFAULT_QUEUE_SETTINGS): Promise<SyncQueue> {
    const options = {
      name: SYNC_QUEUE, policy: 'standard' as const, retryLimit: settings.retryLimit, retryDelay: settings.retryDelaySeconds,
      retryBackoff: true, expireInSeconds: settings.expireSeconds, deadLetter: DEAD_QUEUE,
    };
    const boss = await startJobQueue(pool, logger, { label: 'job queue', supervise: true }, async (boss) => {
      await boss.createQueue(DEAD_QUEUE);
      await boss.createQueue(SYNC_QUEUE, options);
      await boss.updateQueue(SYNC_QUEUE, options);
    });
    return new SyncQueue(boss, pool, logger, settings.pollingSeconds);
  }

  /** Queues a run for a connection (or returns the one already waiting / made for this period). */
  async enqueue(connectionId: string, trigger: RunTrigger, mode: RunMode = 'incremental', plan: RunPlan = {}): Promise<EnqueueResult> {
    if ((mode === 'range') !== (plan.range !== undefined)) throw new Error('a range run names its days, and only a range run does');
    // The transaction's client is released before the run is read back: holding it while taking a
    // second connection would exhaust the pool under a burst of triggers.
    const runId = await this.insertQueued(connectionId, trigger, mode, plan);
    if (runId) return { run: (await getRun(this.pool, runId))!, created: true };
    return { run: await this.existing(connectionId, mode, plan), created: false };
  }

  /** The new run's id, or null when an equal run is already waiting or this period's run exists. */
  private insertQueued(connectionId: string, trigger: RunTrigger, mode: RunMode, plan: RunPlan): Promise<string | null> {
    return withTransaction(this.pool, async (client) => {
      // Serializes the triggers of one connection, so two "sync now" never both see no waiting run.
      await client.query(`SELECT pg_advisory_xact_lock(hashtextextended('sync:' || $1, 0))`, [connectionId]);
      if (!plan.scheduledFor && (await waitingRun(client, connectionId, mode, plan.range))) return null;
      const runId = await insertRun(client, connectionId, trigger, mode, plan);
      if (!runId) return null;
      await this.sendJob(client, runId, connectionId);
      return runId;
    });
  }

  /** A job for the run, in the caller's transaction, recorded on the run. */
  private async sendJob(client: PoolClient, runId: string, connectionId: string, startAfterSeconds?: number): Promise<void> {
    const jobId = await this.boss.send(SYNC_QUEUE, { runId } satisfies SyncJob, { singletonKey: connectionId, startAfter: startAfterSeconds, db: dbOf(client) });
    if (!jobId) throw new Error(`the queue refused a job for sync run ${runId}`);
    await client.query('UPDATE sync_run SET job_id = $2 WHERE id = $1', [runId, jobId]);
  }

  private async existing(connectionId: string, mode: RunMode, plan: RunPlan): Promise<RunView> {
    const { rows } = await this.pool.query<{ id: string }>(
      `SELECT id::text FROM sync_run
        WHERE connection_id = $1
          AND ($2::timestamptz IS NULL AND mode = $3 AND range_from IS NOT DISTINCT FROM $4::date AND range_to IS NOT DISTINCT FROM $5::date OR scheduled_for = $2)
        ORDER BY queued_at DESC LIMIT 1`,
      [connectionId, plan.scheduledFor ?? null, mode, plan.range?.from ?? null, plan.range?.to ?? null],
    );
    // The waiting run, or the one it became if a worker started it meanwhile.
    if (!rows[0]) throw new Error(`no waiting run for connection ${connectionId}, yet the queue refused a new one`);
    return (await getRun(this.pool, rows[0].id))!;
  }

  /** Works sync jobs in this process, and watches for workers that died mid-run. */
  async work(deps: ExecutorDeps, concurrency = 1): Promise<void> {
    for (let i = 0; i < concurrency; i++) {
      await this.boss.work<SyncJob>(SYNC_QUEUE, { batchSize: 1, pollingIntervalSeconds: this.pollingSeconds, includeMetadata: true }, async ([job]) => {
        if (!job) return;
        const final = job.retryCount >= job.retryLimit;
        const runId = job.retryCount === 0 && !job.data.redriven ? job.data.runId : await retryRunOf(this.pool, job.id, job.data.runId);
        const result = await executeRun(deps, runId, { jobId: job.id, number: job.retryCount + 1, final });
        this.logger.debug({ runId, jobId: job.id, outcome: result.outcome }, 'sync job handled');
        if (result.outcome === 'retry') throw result.error;
        // Busy: another run holds the connection; interrupted: this process is stopping. Either way the same
        // run waits for a later job, no retry spent (a stopping process's job is then done).
        if (result.outcome === 'busy' || result.outcome === 'interrupted') await this.requeue(job, runId, BUSY_DEFER_SECONDS, result.outcome);
        if (result.outcome === 'rescheduled') await this.requeue(job, runId, Math.max(1, Math.ceil(result.retryInMs / 1000)), 'platform unavailable');
        if (result.outcome === 'done' && result.run.status === 'failed' && final && result.run.errorKind !== 'auth' && result.run.errorKind !== 'permanent') {
          // Out of retries: fail the job so pg-boss moves it to the dead letters for `sync redrive`.
          throw new Error(result.run.error ?? 'sync failed');
        }
      });
    }
    this.monitorTimer = setInterval(() => void this.reapDeadWorkers(deps.deadAfterSeconds).catch(() => undefined), deps.heartbeatSeconds * 1000);
  }

  /**
   * The same run waits for a later job, and this job completes: no retry is spent and nothing reaches the
   * dead letters. For a busy connection (another run holds it), a stopping process, or a platform whose
   * breaker is open (the job comes when it lets a probe through).
   */
  private async requeue(job: PgBoss.JobWithMetadata<SyncJob>, runId: string, afterSeconds: number, why: string): Promise<void> {
    const connectionId = job.singletonKey!;
    await withTransaction(this.pool, (client) => this.sendJob(client, runId, connectionId, afterSeconds));
    this.logger[why === 'platform unavailable' ? 'info' : 'debug']({ runId, connectionId, after: job.id, afterSeconds, why }, 'sync run queued again');
  }

  /** Jobs whose worker stopped heart-beating are failed, hence retried (the lease fences the old one). */
  async reapDeadWorkers(deadAfterSeconds: number): Promise<number> {
    const { rows } = await this.pool.query<{ run_id: string; job_id: string; connection_id: string }>(
      `SELECT r.id::text AS run_id, r.job_id::text AS job_id, c.id::text AS connection_id FROM sync_run r
         JOIN connection c ON c.lease_run_id = r.id
        WHERE r.status = 'running' AND r.job_id IS NOT NULL AND c.lease_heartbeat_at < now() - make_interval(secs => $1)`,
      [deadAfterSeconds],
    );
    for (const row of rows) {
      this.logger.warn({ runId: row.run_id, connectionId: row.connection_id }, 'sync worker stopped heart-beating: retrying its run');
      await this.pool.query(
        `UPDATE sync_run SET status = 'failed', error = 'the worker stopped (no heartbeat)', error_kind = 'transient', finished_at = now()
          WHERE id = $1 AND status = 'running'`,
        [row.run_id],
      );
      await this.boss.fail(SYNC_QUEUE, row.job_id, { message: 'worker stopped heart-beating' });
    }
    return rows.length;
  }

  /** Moves every dead-lettered sync back to the queue (each gets a new run when it starts); returns the new jobs. */
  async redrive(): Promise<string[]> {
    const runs: string[] = [];
    for (;;) {
      const jobs = await this.boss.fetch<SyncJob>(DEAD_QUEUE, { batchSize: 50 });
      if (jobs.length === 0) return runs;
      for (const job of jobs) {
        const run = await getRun(this.pool, job.data.runId);
        const jobId = run ? await this.resend(run.id, run.connectionId) : null;
        if (jobId) runs.push(jobId);
        await this.boss.complete(DEAD_QUEUE, job.id);
      }
    }
  }

  /**
   * The dead-lettered syncs of these schools' connections, oldest first: the run each job was for (its
   * connection, its error). What the dashboard lists before a school's redrive.
   */
  async deadLetterRuns(schoolIds: string[], limit = 200): Promise<DeadLetterView[]> {
    const dead = await this.deadJobsOf(schoolIds, limit);
    const runs = new Map((await getRuns(this.pool, dead.map((d) => d.runId))).map((r) => [r.id, r]));
    return dead.flatMap((d) => {
      const run = runs.get(d.runId);
      return run ? [{ jobId: d.jobId, deadAt: d.deadAt.toISOString(), run }] : [];
    });
  }

  /**
   * Moves the dead-lettered syncs of these schools' connections back to the queue (each gets a new run
   * when it starts), leaving other schools' where they are; returns the new jobs. `redrive` does all.
   */
  async redriveSchools(schoolIds: string[]): Promise<string[]> {
    const jobs: string[] = [];
    for (;;) {
      const dead = await this.deadJobsOf(schoolIds, 50);
      if (dead.length === 0) return jobs;
      for (const item of dead) {
        const jobId = await this.resend(item.runId, item.connectionId);
        if (jobId) jobs.push(jobId);
        await this.boss.cancel(DEAD_QUEUE, item.jobId);
      }
    }
  }

  /** A dead-lettered run's sync queued again (one per connection at a time, as every sync job). */
  private resend(runId: string, connectionId: string): Promise<string | null> {
    return this.boss.send(SYNC_QUEUE, { runId, redriven: true } satisfies SyncJob, { singletonKey: connectionId });
  }

  /** The dead-letter jobs waiting of these schools' connections, oldest first, with their runs' ids. */
  private async deadJobsOf(schoolIds: string[], limit: number): Promise<Array<{ jobId: string; runId: string; connectionId: string; deadAt: Date }>> {
    const { rows } = await this.pool.query<{ job_id: string; run_id: string; connection_id: string; dead_at: Date }>(
      `SELECT j.id::text AS job_id, r.id::text AS run_id, r.connection_id::text AS connection_id, j.created_on AS dead_at
         FROM pgboss.job j JOIN sync_run r ON r.id::text = j.data->>'runId' JOIN connection c ON c.id = r.connection_id
        WHERE j.name = $1 AND j.state IN ('created', 'retry') AND c.school_id = ANY($2::uuid[])
        ORDER BY j.created_on, j.id LIMIT $3`,
      [DEAD_QUEUE, schoolIds, limit],
    );
    return rows.map((r) => ({ jobId: r.job_id, runId: r.run_id, connectionId: r.connection_id, deadAt: r.dead_at }));
  }

  /** Syncs waiting in the dead letters for `redrive`, and since when the oldest has waited (pg-boss counts, not ages). */
  async deadLetters(): Promise<DeadLetters> {
    const { rows } = await this.pool.query<{ n: number; oldest: Date | null }>(
      `SELECT count(*)::int AS n, min(created_on) AS oldest FROM pgboss.job WHERE name = $1 AND state IN ('created', 'retry')`,
      [DEAD_QUEUE],
    );
    return { count: rows[0]!.n, oldestAt: rows[0]!.oldest?.toISOString() ?? null };
  }

  /** Stops fetching jobs and waits (up to `timeoutMs`) for the running ones; pg-boss fails what is still running then. */
  async stop(timeoutMs = 30_000): Promise<void> {
    clearInterval(this.monitorTimer);
    await this.boss.stop({ graceful: true, wait: true, timeout: timeoutMs, close: false });
  }
}

async function waitingRun(client: PoolClient, connectionId: string, mode: string, range: RunPlan['range']): Promise<boolean> {
  const { rowCount } = await client.query(
    `SELECT 1 FROM sync_run WHERE connection_id = $1 AND status = 'queued' AND started_at IS NULL AND mode = $2
        AND range_from IS NOT DISTINCT FROM $3::date AND range_to IS NOT DISTINCT FROM $4::date`,
    [connectionId, mode, range?.from ?? null, range?.to ?? null],
  );
  return (rowCount ?? 0) > 0;
}
