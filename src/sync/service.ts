import type { Config } from '../config.js';
import type { Pool } from '../db/pool.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import { TargetPolicy, type Resolve } from '../lib/net-targets.js';
import { loadSecretBox } from '../lib/secret-box.js';
import type { AdapterRegistry } from '../ports/adapter.js';
import { ConnectionService } from './connections.js';
import type { ExecutorDeps } from './executor.js';
import { Limiters } from './http-client.js';
import { DEFAULT_QUEUE_SETTINGS, SyncQueue } from './queue.js';
import { Scheduler } from './scheduler.js';

export interface SyncService {
  connections: ConnectionService;
  queue: SyncQueue;
  executor: ExecutorDeps;
  /** Where this process's connections may point; the demo adds its simulators' origins. */
  targets: TargetPolicy;
  scheduler?: Scheduler;
  stop(): Promise<void>;
}

/**
 * The sync engine of one process: connections, the job queue, and — per the process's roles — a worker
 * and a scheduler. Several processes (api, workers, schedulers) share nothing but Postgres.
 */
export async function startSync(
  config: Config, deps: { pool: Pool; clock: Clock; logger: Logger; adapters: AdapterRegistry; resolve?: Resolve },
  roles: readonly string[] = config.ROLES,
): Promise<SyncService> {
  const limiters = new Limiters();
  const targets = new TargetPolicy(config.CONNECTION_ALLOWED_TARGETS, deps.resolve);
  const box = await loadSecretBox(config.CONNECTION_SECRETS_KEY, config.DATA_DIR, { external: config.DATABASE_URL !== undefined });
  const connections = new ConnectionService({
    ...deps, box, limiters, targets, checkTimeoutMs: config.CONNECTION_CHECK_TIMEOUT_SECONDS * 1000, minIntervalSeconds: config.SYNC_MIN_INTERVAL_SECONDS,
  });
  const queue = await SyncQueue.start(deps.pool, deps.logger, {
    ...DEFAULT_QUEUE_SETTINGS, retryLimit: config.SYNC_RETRY_LIMIT, retryDelaySeconds: config.SYNC_RETRY_DELAY_SECONDS, pollingSeconds: config.SYNC_POLL_SECONDS,
  });
  const executor: ExecutorDeps = {
    ...deps, limiters, connections, targets, lookbackDays: config.SYNC_LOOKBACK_DAYS,
    heartbeatSeconds: config.SYNC_HEARTBEAT_SECONDS, deadAfterSeconds: config.SYNC_DEAD_AFTER_SECONDS,
  };
  if (roles.includes('worker')) await queue.work(executor, config.SYNC_CONCURRENCY);
  const scheduler = roles.includes('scheduler') ? new Scheduler(deps.pool, queue, deps.clock, deps.logger) : undefined;
  await scheduler?.start();
  return {
    connections, queue, executor, targets, scheduler,
    stop: async () => {
      await scheduler?.stop();
      await queue.stop();
      await limiters.stop();
    },
  };
}
