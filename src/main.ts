import type { Server } from 'node:http';
import { adapters } from '../adapters/index.js';
import type { Config } from './config.js';
import { openDatabase, type Database } from './db/database.js';
import { createSchoolRepository } from './db/repositories/schools.js';
import { DemoRunner } from './demo/runner.js';
import { createApp } from './http/app.js';
import { systemClock, type Clock } from './lib/clock.js';
import { describeError } from './lib/errors.js';
import type { Logger } from './lib/logger.js';
import { startSync, type SyncService } from './sync/service.js';
import { checksAfterRun, checksConsumer } from './checks/consumer.js';
import { ScheduledChecks } from './checks/scheduler.js';
import { loadSecretBox } from './lib/secret-box.js';
import { NotifyEngine, type NotifySettings } from './notify/engine.js';
import type { ClockedWork } from './sync/service.js';
import { createAuth, type AuthSettings } from './auth/index.js';
import type { SendCode } from './auth/one-time-codes.js';
import type { Pool } from './db/pool.js';
import type { Enqueue } from './notify/outbox.js';
import { sendSignInCode } from './notify/sign-in.js';
import { TargetPolicy } from './lib/net-targets.js';
import { WebhookEngine, type WebhookSettings } from './webhooks/engine.js';
import { closeDepsOf } from './archive/service.js';
import { checkBackupTargets } from './archive/backup-jurisdiction.js';
import { backupDepsOf, backupSettingsOf, nightlyOptionsOf } from './archive/backup-config.js';
import { NightlyBackups } from './archive/backup-nightly.js';
import type { BackupDeps } from './archive/backup.js';

export interface Service {
  /** The API's address, when this process has the api role. */
  url?: string;
  db: Database;
  sync: SyncService;
  notify: NotifyEngine;
  webhooks: WebhookEngine;
  demo: DemoRunner;
  /** What runBackup (src/archive/backup.ts) needs: the period close backs up with it. */
  backups: BackupDeps;
  /** Stops everything in order (see closeService); resolves once the embedded Postgres has stopped too. */
  close(): Promise<void>;
}

/**
 * Composition root: config → database (embedded when none is configured) → the sync engine (a worker
 * and a scheduler, per ROLES, also for the scheduled checks) → with the api role, the HTTP API and, when the journal is empty, the demo
 * school loading behind it (/health says how far it is).
 */
export async function startService(config: Config, logger: Logger, clock: Clock = systemClock): Promise<Service> {
  const db = await openDatabase(config, logger);
  let sync: SyncService | undefined;
  let notify: NotifyEngine | undefined;
  let webhooks: WebhookEngine | undefined;
  let demo: DemoRunner | undefined;
  let server: Server | undefined;
  let backupJobs: NightlyBackups | undefined;
  try {
    // Backup targets outside a school's jurisdiction refuse the start (reliability.md 16).
    await checkBackupTargets(backupSettingsOf(config), db.pool, logger);
    const backups = backupDepsOf(config, db, clock, logger);
    // The backup queue: the nightly backup (unless BACKUP_NIGHTLY_AT=off) and the backups and drills asked for by hand.
    const jobs = (backupJobs = await NightlyBackups.start(backups, nightlyOptionsOf(config), { adminUrl: config.BACKUP_ADMIN_URL ?? db.adminUrl, pgRestorePath: config.PG_RESTORE_PATH }));
    // Jobs are taken only once the demo's simulators are back (on a restart they listen on new ports,
    // and a run started before would read from the old ones).
    const box = await loadSecretBox(config.CONNECTION_SECRETS_KEY, config.DATA_DIR, { external: config.DATABASE_URL !== undefined });
    const engine = (notify = await NotifyEngine.start(db.pool, clock, logger, box, notifySettingsOf(config)));
    const auth = createAuth(db.pool, box, clock, authSettingsOf(config), codeSender(db.pool, clock, engine.enqueue));
    // The webhooks' own policy object: the demo's allowed origins are the school's allow-list, not process-wide.
    const hooks = (webhooks = await WebhookEngine.start(db.pool, clock, logger, box, new TargetPolicy(config.CONNECTION_ALLOWED_TARGETS), webhookSettingsOf(config)));
    const clocked = async () => bothOf(await ScheduledChecks.start(db.pool, clock, logger, {
      defaults: { times: { after_lessons: config.CHECKS_AFTER_LESSONS_AT, nightly: config.CHECKS_NIGHTLY_AT }, lookbackDays: config.CHECKS_LOOKBACK_DAYS },
      refreshSeconds: 300, pollingSeconds: 5,
      afterNightly: async (schoolId) => {
        const { fileDueReports } = await import('./archive/scheduled-reports.js');
        const filed = await fileDueReports({ pool: db.pool, clock, logger }, schoolId);
        if (filed > 0) logger.info({ schoolId, filed }, 'scheduled reports filed in the archive');
      },
    }), bothOf(bothOf(engine, hooks), jobs));
    sync = await startSync(config, { pool: db.pool, clock, logger, adapters }, config.ROLES, {
      deferStart: true, consumers: [checksConsumer(clock), engine.consumer, hooks.consumer], afterRun: checksAfterRun(db.pool, clock), clocked,
    });
    let url: string | undefined;
    const accounts = { users: auth.users, dataDir: config.DATA_DIR, url: () => url };
    demo = new DemoRunner({ pool: db.pool, clock, logger, adapters, sync, box, notify: engine, webhooks: true, accounts }, { mode: config.DEMO, seed: config.DEMO_SEED, pupils: config.DEMO_PUPILS });
    if (config.ROLES.includes('api')) {
      await demo.start();
      const app = createApp({
        pool: db.pool, auth, rates: { perCallerPerMinute: config.API_RATE_PER_MINUTE, perAddressPerMinute: config.API_ANONYMOUS_RATE_PER_MINUTE },
        schools: createSchoolRepository(db.prisma), logger, embedded: db.embedded, demoStatus: () => demo!.state(),
        sync: { connections: sync.connections, queue: sync.queue }, wake: sync.feed.wake, journalPageMaxDays: config.JOURNAL_PAGE_MAX_DAYS, clock,
        notify: { box, enqueue: engine.enqueue, targets: sync.targets, demoOutbox: () => demo!.outbox() },
        webhooks: { box, enqueue: hooks.enqueue, targets: hooks.targets, rotationGraceSeconds: config.WEBHOOK_ROTATION_GRACE_SECONDS },
        archive: closeDepsOf(db, config, clock, box, logger, () => url),
        backups: { jobs, targets: () => checkBackupTargets(backupSettingsOf(config), db.pool) },
      });
      server = await listen(app, config.HOST, config.PORT);
      const address = server.address();
      url = `http://${config.HOST}:${typeof address === 'object' && address ? address.port : config.PORT}`;
      logger.info({ url, dashboard: `${url}/` }, `journal bridge is listening; the dashboard is at ${url}/`);
    }
    // The demo's simulators are up (or there is no demo) before a job is taken.
    const begin = sync.begin.bind(sync);
    void (demo.loaded() ?? Promise.resolve()).then(begin).catch((error: unknown) => logger.error({ error: describeError(error) }, 'the sync worker did not start'));
    logger.info({ roles: config.ROLES, pid: process.pid }, 'journal bridge started');
    const running = { sync, notify, webhooks, demo, server, backupJobs };
    return { url, db, sync, notify: engine, webhooks: hooks, demo, backups, close: () => closeService(db, running) };
  } catch (error) {
    // Whatever started is stopped again, the embedded Postgres last.
    await closeService(db, { sync, notify, webhooks, demo, server, backupJobs }).catch(() => undefined);
    throw error;
  }
}

/**
 * The one way the service stops (cli.ts calls it for every signal): the API takes no new requests, the
 * sync engine drains (scheduler, then the queue; running syncs end after their current batch and give
 * their leases back), the demo's simulators stop (the draining syncs read from them until then), open
 * API connections close, then the pools, then the embedded Postgres.
 */
async function closeService(db: Database, parts: { sync?: SyncService; notify?: NotifyEngine; webhooks?: WebhookEngine; demo?: DemoRunner; server?: Server; backupJobs?: NightlyBackups }): Promise<void> {
  const closed = parts.server ? new Promise<void>((resolve) => parts.server!.close(() => resolve())) : Promise.resolve();
  parts.server?.closeIdleConnections();
  await parts.sync?.stop();
  // The sync engine stopped the notify engine's clocked work with its own; a process that never began still has its queue.
  await parts.notify?.stop();
  await parts.webhooks?.stop();
  await parts.backupJobs?.stop();
  await parts.demo?.stop();
  parts.server?.closeAllConnections();
  await closed;
  await db.close();
}

/** Sign-in settings from the environment. */
export function authSettingsOf(config: Config): AuthSettings {
  return {
    sessionTtlSeconds: config.SESSION_TTL_SECONDS,
    codes: { ttlSeconds: config.OTP_TTL_SECONDS, perLogin: config.OTP_PER_LOGIN, perAddress: config.OTP_PER_ADDRESS, windowSeconds: config.OTP_WINDOW_SECONDS },
  };
}

/** One-time codes go out through the notify outbox to the person the user is in each of their schools. */
export function codeSender(pool: Pool, clock: Clock, enqueue: Enqueue): SendCode {
  return async (codeId, user, code) => {
    const { rows } = await pool.query<{ school_id: string; person_id: string }>(
      'SELECT school_id::text, person_id::text FROM app_membership WHERE user_id = $1 AND person_id IS NOT NULL ORDER BY created_at', [user.id]);
    return sendSignInCode(pool, clock, enqueue, codeId, rows.map((r) => ({ schoolId: r.school_id, personId: r.person_id })), code);
  };
}

/** The notify engine's settings from the environment. */
export function notifySettingsOf(config: Config): NotifySettings {
  return {
    sender: {
      leaseSeconds: config.NOTIFY_LEASE_SECONDS, telegramPerSecond: config.NOTIFY_TELEGRAM_PER_SECOND, telegramChatIntervalMs: config.NOTIFY_TELEGRAM_CHAT_INTERVAL_MS,
      smsPerSecond: 10, emailPerSecond: 20, pauseSeconds: 1800, timeoutMs: config.NOTIFY_TIMEOUT_SECONDS * 1000,
    },
    concurrency: config.NOTIFY_CONCURRENCY, retryLimit: config.NOTIFY_RETRY_LIMIT, retryDelaySeconds: config.NOTIFY_RETRY_DELAY_SECONDS,
    tickSeconds: config.NOTIFY_TICK_SECONDS, telegramPolling: config.NOTIFY_TELEGRAM_UPDATES === 'polling',
  };
}

/** The webhook engine's settings from the environment. */
export function webhookSettingsOf(config: Config): WebhookSettings {
  return {
    delivery: { timeoutMs: config.WEBHOOK_TIMEOUT_SECONDS * 1000, leaseSeconds: config.WEBHOOK_LEASE_SECONDS, disableAfterSeconds: config.WEBHOOK_DISABLE_AFTER_SECONDS },
    concurrency: config.WEBHOOK_CONCURRENCY, rotationGraceSeconds: config.WEBHOOK_ROTATION_GRACE_SECONDS, sweepSeconds: config.WEBHOOK_SWEEP_SECONDS,
  };
}

/** Two pieces of clocked work as one (the scheduled checks, the notify and webhook engines, the nightly backup). */
function bothOf(a: ClockedWork, b: ClockedWork): ClockedWork {
  return {
    schedule: async () => { await a.schedule(); await b.schedule(); },
    work: async () => { await a.work(); await b.work(); },
    stopScheduling: async () => { await a.stopScheduling(); await b.stopScheduling(); },
    stop: async () => { await a.stop(); await b.stop(); },
  };
}

function listen(app: ReturnType<typeof createApp>, host: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host, () => resolve(server));
    server.once('error', reject);
  });
}
