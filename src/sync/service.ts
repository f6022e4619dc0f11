import type { Config } from '../config.js';
import type { Pool } from '../db/pool.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import { loadSecretBox } from '../lib/secret-box.js';
import type { AdapterRegistry } from '../ports/adapter.js';
import { ConnectionService } from './connections.js';
import type { ExecutorDeps } from './executor.js';
import { Limiters } from './host-limits.js';
import { DEFAULT_QUEUE_SETTINGS, SyncQueue } from './queue.js';
import { Scheduler } from './scheduler.js';

export interface SyncService {
  connections: ConnectionService;
  queue: SyncQueue;
  executor: ExecutorDeps;
  scheduler?: Scheduler;
  stop(): Promise<void>;
}

/**
 * The sync engine of one process: connections, the job queue, and — per the process's roles — a worker
 * and a scheduler. Several processes (api, workers, schedulers) share nothing but Postgres.
 */
export async function startSync(
  config: Config, deps: { pool: Pool; clock: Clock; logger: Logger; adapters: AdapterRegistry },
  roles: readonly string[] = config.ROLES,
): Promise<SyncService> {
  // Request slots and breakers in Postgres: every process of the deployment keeps one platform's rate.
  const limiters = new Limiters({
    pool: deps.pool, breaker: { failures: config.PLATFORM_BREAKER_FAILURES, openMs: config.PLATFORM_BREAKER_OPEN_SECONDS * 1000 },
  });
  const box = await loadSecretBox(config.CONNECTION_SECRETS_KEY, config.DATA_DIR);
  const connections = new ConnectionService({ ...deps, box, limiters });
  const queue = await SyncQueue.start(deps.pool, deps.logger, {
    ...DEFAULT_QUEUE_SETTINGS, retryLimit: config.SYNC_RETRY_LIMIT, retryDelaySeconds: config.SYNC_RETRY_DELAY_SECONDS, pollingSeconds: config.SYNC_POLL_SECONDS,
  });
  const executor: ExecutorDeps = {
    ...deps, limiters, connections, lookbackDays: config.SYNC_LOOKBACK_DAYS,
    heartbeatSeconds: config.SYNC_HEARTBEAT_SECONDS, deadAfterSeconds: config.SYNC_DEAD_AFTER_SECONDS,
  };
  if (roles.includes('worker')) await queue.work(executor, config.SYNC_CONCURRENCY);
  const scheduler = roles.includes('scheduler') ? new Scheduler(deps.pool, queue, deps.clock, deps.logger) : undefined;
  await scheduler?.start();
  return {
    connections, queue, executor, scheduler,
    stop: async () => {
      await scheduler?.stop();
      await queue.stop();
      await limiters.stop();
    },
  };
}
