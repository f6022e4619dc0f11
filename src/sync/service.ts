import { anchorDirOf, type Config } from '../config.js';
import { ChainAnchors } from '../journal/anchors.js';
import { FeedQueue, type Consumer } from '../journal/feed.js';
import { describeError } from '../lib/errors.js';
import type { Pool } from '../db/pool.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import { TargetPolicy, type Resolve } from '../lib/net-targets.js';
import { loadSecretBox } from '../lib/secret-box.js';
import type { AdapterRegistry } from '../ports/adapter.js';
import { ConnectionService } from './connections.js';
import type { ExecutorDeps } from './executor.js';
import { Limiters } from './host-limits.js';
import { DEFAULT_QUEUE_SETTINGS, SyncQueue } from './queue.js';
import { Scheduler } from './scheduler.js';

/**
 * Work on a clock besides the syncs (the scheduled checks, src/checks/scheduler.ts), started with the
 * sync engine's job queue: the scheduler role ticks, the worker role works, and both stop with it.
 */
export interface ClockedWork {
  schedule(): Promise<void>;
  work(): Promise<void>;
  stopScheduling(): Promise<void>;
  stop(): Promise<void>;
}

export interface SyncService {
  connections: ConnectionService;
  queue: SyncQueue;
  executor: ExecutorDeps;
  /** Where this process's connections may point; the demo adds its simulators' origins. */
  targets: TargetPolicy;
  scheduler?: Scheduler;
  /** The scheduled checks, with the worker or scheduler role. */
  clocked?: ClockedWork;
  anchors: ChainAnchors;
  /** The event feed's wake-ups and (with the worker role) its consumers (checks, …). */
  feed: FeedQueue;
  /**
   * The sync part of the shutdown: the schedulers (syncs, scheduled checks) stop, no job is taken any more, running syncs end after
   * their current batch (released lease, run queued again) — aborted when SHUTDOWN_GRACE_SECONDS are
   * over — then the queues stop (a running scheduled evaluation ends first) and the chain heads are anchored a last time.
   */
  stop(): Promise<void>;
  /** Starts the worker and the scheduler (per the roles), when startSync was told to defer them. */
  begin(): Promise<void>;
  /** Cuts the grace short: running syncs are aborted now (a second Ctrl-C). */
  halt(): void;
}

/**
 * The sync engine of one process: connections, the job queue, and — per the process's roles — a worker
 * and a scheduler. Several processes (api, workers, schedulers) share nothing but Postgres.
 */
export async function startSync(
  config: Config, deps: { pool: Pool; clock: Clock; logger: Logger; adapters: AdapterRegistry; resolve?: Resolve },
  roles: readonly string[] = config.ROLES,
  options: { deferStart?: boolean; consumers?: readonly Consumer[]; afterRun?: ExecutorDeps['afterRun']; clocked?: () => Promise<ClockedWork> } = {},
): Promise<SyncService> {
  // Request slots and breakers in Postgres: every process of the deployment keeps one platform's rate.
  const limiters = new Limiters({
    pool: deps.pool, breaker: { failures: config.PLATFORM_BREAKER_FAILURES, openMs: config.PLATFORM_BREAKER_OPEN_SECONDS * 1000 },
  });
  const draining = new AbortController();
  const halting = new AbortController();
  const anchors = await ChainAnchors.open(anchorDirOf(config));
  const targets = new TargetPolicy(config.CONNECTION_ALLOWED_TARGETS, deps.resolve);
  const box = await loadSecretBox(config.CONNECTION_SECRETS_KEY, config.DATA_DIR, { external: config.DATABASE_URL !== undefined });
  const connections = new ConnectionService({
    ...deps, box, limiters, targets, checkTimeoutMs: config.CONNECTION_CHECK_TIMEOUT_SECONDS * 1000, minIntervalSeconds: config.SYNC_MIN_INTERVAL_SECONDS,
  });
  const queue = await SyncQueue.start(deps.pool, deps.logger, {
    ...DEFAULT_QUEUE_SETTINGS, retryLimit: config.SYNC_RETRY_LIMIT, retryDelaySeconds: config.SYNC_RETRY_DELAY_SECONDS, pollingSeconds: config.SYNC_POLL_SECONDS,
  });
  const feed = await FeedQueue.start(deps.pool, deps.logger, options.consumers ?? []);
  const clocked = options.clocked && (roles.includes('worker') || roles.includes('scheduler')) ? await options.clocked() : undefined;
  const executor: ExecutorDeps = {
    ...deps, limiters, wake: feed.wake, afterRun: options.afterRun, connections, targets, lookbackDays: config.SYNC_LOOKBACK_DAYS,
    heartbeatSeconds: config.SYNC_HEARTBEAT_SECONDS, deadAfterSeconds: config.SYNC_DEAD_AFTER_SECONDS,
    anchors, draining: draining.signal, halting: halting.signal,
  };
  const anchor = () => anchors.write(deps.pool).catch((error: unknown) => deps.logger.warn({ error: describeError(error) }, 'could not anchor the chain heads'));
  const anchorTimer = setInterval(() => void anchor(), config.ANCHOR_INTERVAL_SECONDS * 1000);
  anchorTimer.unref();
  const scheduler = roles.includes('scheduler') ? new Scheduler(deps.pool, queue, deps.clock, deps.logger, undefined, (platform) => deps.adapters.has(platform)) : undefined;
  let begun = false;
  const begin = async () => {
    if (begun || draining.signal.aborted) return;
    begun = true;
    if (roles.includes('worker')) {
      await queue.work(executor, config.SYNC_CONCURRENCY);
      await feed.work(config.FEED_POLL_SECONDS);
      await clocked?.work();
    }
    await scheduler?.start();
    if (roles.includes('scheduler')) await clocked?.schedule();
  };
  if (!options.deferStart) await begin();
  return {
    connections, queue, executor, targets, scheduler, clocked, anchors, feed, begin,
    stop: async () => {
      await scheduler?.stop();
      await clocked?.stopScheduling();
      deps.logger.debug('sync engine draining');
      draining.abort();
      const grace = setTimeout(() => halting.abort(), config.SHUTDOWN_GRACE_SECONDS * 1000);
      try {
        await queue.stop((config.SHUTDOWN_GRACE_SECONDS + 15) * 1000);
      } finally {
        clearTimeout(grace);
      }
      await feed.stop();
      await clocked?.stop();
      deps.logger.debug('job queue stopped');
      clearInterval(anchorTimer);
      await anchor();
      await limiters.stop();
    },
    halt: () => halting.abort(),
  };
}
