import PgBoss from 'pg-boss';
import type { Pool, PoolClient } from '../db/pool.js';
import type { Logger } from '../lib/logger.js';
import { executeRun, type ExecutorDeps } from './executor.js';
import { getRun, insertRun, type RunMode, type RunTrigger, type RunView } from './runs.js';

/**
 * Sync jobs on Postgres (pg-boss 10). The `sync` queue has the "singleton" policy with the connection as
 * singleton key: per connection one job runs at a time, the others wait their turn. A run row and its
 * job are inserted in one transaction; scheduled runs are unique per (connection, period); a manual
 * trigger while a run of the connection is still waiting returns that run instead of queueing another. Retryable
 * failures back off exponentially; a run out of retries lands in `sync-dead` for `sync redrive`.
 * Workers whose heartbeat stops are noticed by the monitor of any other worker, which fails their job
 * so that it is retried; the lease's fence keeps the presumed-dead one from writing if it wakes up.
 */
export const SYNC_QUEUE = 'sync';
export const DEAD_QUEUE = 'sync-dead';

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
  ) {}

  static async start(pool: Pool, logger: Logger, settings: QueueSettings = DEFAULT_QUEUE_SETTINGS): Promise<SyncQueue> {
    const boss = new PgBoss({ db: { executeSql: (text, values) => pool.query(text, values) }, schema: 'pgboss', supervise: true, migrate: true });
    boss.on('error', (error) => logger.warn({ error: error.message }, 'job queue error'));
    await boss.start();
    await boss.createQueue(DEAD_QUEUE);
    const options = {
      name: SYNC_QUEUE, policy: 'singleton' as const, retryLimit: settings.retryLimit, retryDelay: settings.retryDelaySeconds,
      retryBackoff: true, expireInSeconds: settings.expireSeconds, deadLetter: DEAD_QUEUE,
    };
    await boss.createQueue(SYNC_QUEUE, options);
    await boss.updateQueue(SYNC_QUEUE, options);
    const queue = new SyncQueue(boss, pool, logger);
    queue.pollingSeconds = settings.pollingSeconds;
    return queue;
  }

  private pollingSeconds = DEFAULT_QUEUE_SETTINGS.pollingSeconds;

  /** Queues a run for a connection (or returns the one already waiting / made for this period). */
  async enqueue(connectionId: string, trigger: RunTrigger, mode: RunMode = 'incremental', scheduledFor?: Date): Promise<EnqueueResult> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      // Serializes the triggers of one connection, so two "sync now" never both see no waiting run.
      await client.query(`SELECT pg_advisory_xact_lock(hashtextextended('sync:' || $1, 0))`, [connectionId]);
      if (!scheduledFor && (await waitingRun(client, connectionId, mode))) {
        await client.query('ROLLBACK');
        return { run: await this.existing(connectionId, undefined), created: false };
      }
      const runId = await insertRun(client, connectionId, trigger, mode, scheduledFor);
      const jobId = runId ? await this.boss.send(SYNC_QUEUE, { runId } satisfies SyncJob, { singletonKey: connectionId, db: dbOf(client) }) : null;
      if (!runId || !jobId) {
        await client.query('ROLLBACK');
        return { run: await this.existing(connectionId, scheduledFor), created: false };
      }
      await client.query('UPDATE sync_run SET job_id = $2 WHERE id = $1', [runId, jobId]);
      await client.query('COMMIT');
      return { run: (await getRun(this.pool, runId))!, created: true };
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  private async existing(connectionId: string, scheduledFor: Date | undefined): Promise<RunView> {
    const { rows } = await this.pool.query<{ id: string }>(
      `SELECT id::text FROM sync_run WHERE connection_id = $1 AND ($2::timestamptz IS NULL AND status = 'queued' OR scheduled_for = $2)
        ORDER BY queued_at LIMIT 1`,
      [connectionId, scheduledFor ?? null],
    );
    if (!rows[0]) throw new Error(`no waiting run for connection ${connectionId}, yet the queue refused a new one`);
    return (await getRun(this.pool, rows[0].id))!;
  }

  /** Works sync jobs in this process, and watches for workers that died mid-run. */
  async work(deps: ExecutorDeps, concurrency = 1): Promise<void> {
    for (let i = 0; i < concurrency; i++) {
      await this.boss.work<SyncJob>(SYNC_QUEUE, { batchSize: 1, pollingIntervalSeconds: this.pollingSeconds, includeMetadata: true }, async ([job]) => {
        if (!job) return;
        const final = job.retryCount >= job.retryLimit;
        const result = await executeRun(deps, job.data.runId, { jobId: job.id, number: job.retryCount + 1, final });
        if (result.outcome === 'retry') throw result.error;
        if (result.outcome === 'busy') throw new Error('another run holds this connection; retrying later');
        if (result.outcome === 'done' && result.run.status === 'failed' && final && result.run.errorKind !== 'auth' && result.run.errorKind !== 'permanent') {
          // Out of retries: fail the job so pg-boss moves it to the dead letters for `sync redrive`.
          throw new Error(result.run.error ?? 'sync failed');
        }
      });
    }
    this.monitorTimer = setInterval(() => void this.reapDeadWorkers(deps.deadAfterSeconds).catch(() => undefined), deps.heartbeatSeconds * 1000);
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
      await this.pool.query(`UPDATE sync_run SET status = 'queued', error = 'the worker stopped (no heartbeat)', error_kind = 'transient' WHERE id = $1 AND status = 'running'`, [row.run_id]);
      await this.boss.fail(SYNC_QUEUE, row.job_id, { message: 'worker stopped heart-beating' });
    }
    return rows.length;
  }

  /** Moves every dead-lettered sync back to the queue; returns the runs queued again. */
  async redrive(): Promise<string[]> {
    const runs: string[] = [];
    for (;;) {
      const jobs = await this.boss.fetch<SyncJob>(DEAD_QUEUE, { batchSize: 50 });
      if (jobs.length === 0) return runs;
      for (const job of jobs) {
        const run = await getRun(this.pool, job.data.runId);
        if (run) {
          await this.pool.query(`UPDATE sync_run SET status = 'queued', trigger = 'retry', finished_at = NULL WHERE id = $1`, [run.id]);
          await this.boss.send(SYNC_QUEUE, { runId: run.id } satisfies SyncJob, { singletonKey: run.connectionId });
          runs.push(run.id);
        }
        await this.boss.complete(DEAD_QUEUE, job.id);
      }
    }
  }

  async deadLetters(): Promise<number> {
    return this.boss.getQueueSize(DEAD_QUEUE);
  }

  async stop(): Promise<void> {
    clearInterval(this.monitorTimer);
    await this.boss.stop({ graceful: true, wait: true, timeout: 30_000, close: false });
  }
}

async function waitingRun(client: PoolClient, connectionId: string, mode: string): Promise<boolean> {
  const { rowCount } = await client.query(
    `SELECT 1 FROM sync_run WHERE connection_id = $1 AND status = 'queued' AND started_at IS NULL AND mode = $2`,
    [connectionId, mode],
  );
  return (rowCount ?? 0) > 0;
}

function dbOf(client: PoolClient): PgBoss.Db {
  return { executeSql: (text, values) => client.query(text, values) };
}
