import express, { type Express } from 'express';
import { pinoHttp } from 'pino-http';
import { ConfigSchema } from '../config.js';
import type { Pool } from '../db/pool.js';
import type { SchoolRepository } from '../db/repositories/schools.js';
import type { Logger } from '../lib/logger.js';
import { errorHandler, notFound } from './errors.js';
import { healthRouter, type DemoStatus } from './routes/health.js';
import { journalRouter } from './routes/journal.js';
import { schoolsRouter } from './routes/schools.js';
import { connectionsRouter } from './routes/connections.js';
import { discrepanciesRouter } from './routes/discrepancies.js';
import { paperRouter } from './routes/paper.js';
import { notifyRouter, type NotifyRouterDeps } from './routes/notify.js';
import { pushRouter } from './routes/push.js';
import { pupilsRouter } from './routes/pupils.js';
import { recordsRouter } from './routes/records.js';
import { reportsRouter } from './routes/reports.js';
import { webhooksRouter, type WebhooksRouterDeps } from './routes/webhooks.js';
import { systemClock, type Clock } from '../lib/clock.js';
import type { ConnectionService } from '../sync/connections.js';
import { readSyncHealth } from '../sync/alerts.js';
import type { SyncQueue } from '../sync/queue.js';
import type { Auth } from '../auth/index.js';
import type { WakeHook } from '../journal/feed.js';
import { authenticate } from './auth.js';
import { authRouter } from './routes/auth.js';
import { archiveRouter, type ArchiveRouterDeps } from './routes/archive.js';
import { dashboardRouter } from './dashboard/router.js';
import { backupsRouter, type BackupsRouterDeps } from './routes/backups.js';

export interface AppDeps {
  pool: Pool;
  /** Who may call: every /v1 route but sign-in and the Telegram webhook needs a session or an API key. */
  auth: Auth;
  /** Requests per minute per key or session, and per address before signing in (defaults from the config schema). */
  rates?: { perCallerPerMinute: number; perAddressPerMinute: number };
  schools: SchoolRepository;
  logger: Logger;
  embedded: boolean;
  demoStatus(): DemoStatus;
  /** The sync engine's parts the API exposes; without them the connection routes are absent. */
  sync?: { connections: ConnectionService; queue: SyncQueue };
  /** JOURNAL_PAGE_MAX_DAYS; its default when left out. */
  journalPageMaxDays?: number;
  /** The clock of the checks' deadlines and of writes made through the API (paper imports); the system's by default. */
  clock?: Clock;
  /** The event feed's wake-up, so that records pushed through the API reach the checks, notifications and webhooks at once (else on the feed's slow poll). */
  wake?: WakeHook;
  /** The notify engine's parts the API exposes (the secret box for providers' secrets, the send queue, the demo's mailbox); without them the notification routes are absent. */
  notify?: Omit<NotifyRouterDeps, 'pool' | 'clock'>;
  /** The webhook engine's parts the API exposes; without them the webhook routes are absent. */
  webhooks?: Omit<WebhooksRouterDeps, 'pool' | 'clock'>;
  /** The period close's parts (the secret box that signs seal manifests, the printer, the backup); without them the close and archive routes are absent. */
  archive?: Omit<ArchiveRouterDeps, 'pool' | 'clock'>;
  /** The backup queue and targets; without them the backup routes and page are absent. */
  backups?: Omit<BackupsRouterDeps, 'pool' | 'clock'>;
}

/** The HTTP API (openapi/openapi.yaml): one router per resource, one error envelope; and the dashboard at `/`. */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(
    pinoHttp({
      logger: deps.logger,
      // Paths carry ids only; query strings and headers are left out of the log.
      serializers: {
        req: (req: { method: string; url: string }) => ({ method: req.method, path: req.url.split('?')[0] }),
        res: (res: { statusCode: number }) => ({ status: res.statusCode }),
      },
      autoLogging: { ignore: (req) => req.url === '/health' },
    }),
  );
  const rates = deps.rates ?? { perCallerPerMinute: ConfigSchema.shape.API_RATE_PER_MINUTE.parse(undefined), perAddressPerMinute: ConfigSchema.shape.API_ANONYMOUS_RATE_PER_MINUTE.parse(undefined) };
  // Before the body parser: a request without credentials is refused before its body is read.
  app.use(authenticate({ keys: deps.auth.keys, sessions: deps.auth.sessions, ...rates }));
  app.use(express.json({ limit: '1mb' }));
  const sync = deps.sync;
  const syncHealth = sync ? () => readSyncHealth(deps.pool, sync.queue) : undefined;
  app.use(healthRouter({ pool: deps.pool, embedded: deps.embedded, demoStatus: deps.demoStatus, syncHealth }));
  app.use(authRouter(deps.auth));
  app.use(schoolsRouter(deps.schools, deps.pool));
  app.use(journalRouter(deps.pool, { maxDays: deps.journalPageMaxDays ?? ConfigSchema.shape.JOURNAL_PAGE_MAX_DAYS.parse(undefined), clock: deps.clock ?? systemClock }));
  app.use(discrepanciesRouter(deps.pool, deps.clock ?? systemClock));
  app.use(paperRouter(deps.pool, deps.clock ?? systemClock));
  if (sync) app.use(connectionsRouter({ pool: deps.pool, ...sync }));
  app.use(pushRouter({ pool: deps.pool, clock: deps.clock ?? systemClock, wake: deps.wake }));
  if (deps.notify) app.use(notifyRouter({ pool: deps.pool, clock: deps.clock ?? systemClock, ...deps.notify }));
  if (deps.webhooks) app.use(webhooksRouter({ pool: deps.pool, clock: deps.clock ?? systemClock, ...deps.webhooks }));
  app.use(recordsRouter(deps.pool, deps.clock ?? systemClock));
  app.use(pupilsRouter(deps.pool, deps.clock ?? systemClock));
  if (deps.archive) app.use(archiveRouter({ pool: deps.pool, clock: deps.clock ?? systemClock, ...deps.archive }));
  app.use(reportsRouter(deps.pool, deps.clock ?? systemClock));
  if (deps.backups) app.use(backupsRouter({ pool: deps.pool, clock: deps.clock ?? systemClock, ...deps.backups }));
  // The web interface at / (src/http/dashboard), on the same services.
  app.use(dashboardRouter(deps));
  app.use(notFound);
  app.use(errorHandler(deps.logger));
  return app;
}
