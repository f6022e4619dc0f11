import path from 'node:path';
import { z } from 'zod';
import { TIME_OF_DAY } from './lib/dates.js';
import { ConfigError } from './lib/errors.js';
import { parseTargetEntry } from './lib/net-targets.js';
import { DEFAULT_KEEP_MANUAL, DEFAULT_KEEP_NIGHTLY } from './archive/backup-retention.js';
import { parseBackupTargets } from './archive/backup-targets.js';

const postgresUrl = z
  .string()
  .regex(/^postgres(ql)?:\/\/.+/, 'must be a postgres:// or postgresql:// URL');

const intInRange = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** BACKUP_TARGETS, parsed with the environment its S3 targets' `BACKUP_S3_<NAME>_*` settings come from. */
const backupTargetsField = (env: NodeJS.ProcessEnv) => z.string().default('').transform((v, ctx) => {
  try {
    return parseBackupTargets(v, env);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});

/**
 * The environment, parsed once at boot. Nothing else in src/ reads process.env.
 * Empty strings count as unset, so `FOO= npm start` behaves like leaving FOO out.
 */
export const ConfigSchema = z.object({
  /** Postgres to use; when unset an embedded Postgres is started with its data under DATA_DIR. */
  DATABASE_URL: postgresUrl.optional(),
  /**
   * The schema's owner, which runs the migrations; DATABASE_URL is then the application's own role,
   * without UPDATE, DELETE or TRUNCATE on history (README: "Database roles"). Unset: DATABASE_URL does both.
   */
  DATABASE_OWNER_URL: postgresUrl.optional(),
  /** Where local state lives: the embedded Postgres cluster, generated keys. */
  DATA_DIR: z.string().min(1).default('.data'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: intInRange(0, 65535).default(3000),
  /**
   * The address people reach the service at (https://journal.school.example): the QR code on every sealed
   * printout opens {PUBLIC_URL}/v1/seals/{code}. Unset: the address the service listens on (the CLI:
   * http://HOST:PORT).
   */
  PUBLIC_URL: z.url().optional(),
  /** Port of the embedded Postgres; 0 picks a free one at each start. */
  EMBEDDED_PG_PORT: intInRange(0, 65535).default(0),
  DB_POOL_MAX: intInRange(1, 200).default(10),
  /**
   * base64 of 32 random bytes sealing connection secrets (`openssl rand -base64 32`). Required with
   * DATABASE_URL; without it (embedded default) a key file is generated in DATA_DIR.
   */
  CONNECTION_SECRETS_KEY: z
    .string()
    .refine((v) => Buffer.from(v, 'base64').length === 32, 'must be base64 of exactly 32 bytes')
    .optional(),
  /**
   * Where the history chains' heads are anchored, signed, outside the database (journal/anchors.ts);
   * default `<DATA_DIR>/anchors`. Keep it on storage the database's administrators cannot rewrite.
   */
  ANCHOR_DIR: z.string().min(1).optional(),
  /** Heads are anchored at every sync's end and, besides, this often. */
  ANCHOR_INTERVAL_SECONDS: intInRange(5, 86_400).default(300),
  /** On SIGTERM/SIGINT, running syncs get this long to finish their current batch before they are aborted. */
  SHUTDOWN_GRACE_SECONDS: intInRange(0, 600).default(20),
  /**
   * Where connections may point besides public https hosts: comma-separated exact origins
   * (`http://127.0.0.1:8080`) and CIDR ranges (`10.20.0.0/16`, `fd00::/8`) of on-premises platforms.
   * Default none: a connection's baseUrl must be https on a public address.
   */
  CONNECTION_ALLOWED_TARGETS: z
    .string()
    .default('')
    .transform((v) => v.split(',').map((t) => t.trim()).filter(Boolean))
    .pipe(z.array(z.string().refine((t) => parseTargetEntry(t) !== undefined, 'each entry must be an origin (http://host:port) or a CIDR (10.0.0.0/8)'))),
  /** One deadline for the whole connection check (login and every request it makes). */
  CONNECTION_CHECK_TIMEOUT_SECONDS: intInRange(1, 600).default(20),
  /** The shortest gap a connection's schedule may leave between two runs. */
  SYNC_MIN_INTERVAL_SECONDS: intInRange(1, 86_400).default(300),
  /** Days before a stream's cursor that an incremental sync reads again (marks arrive late). */
  SYNC_LOOKBACK_DAYS: intInRange(0, 120).default(14),
  /** Attempts after the first for a sync failing transiently, and the first back-off (doubling). */
  SYNC_RETRY_LIMIT: intInRange(0, 20).default(4),
  SYNC_RETRY_DELAY_SECONDS: intInRange(1, 3600).default(30),
  /** A running sync renews its lease this often; a worker silent for SYNC_DEAD_AFTER_SECONDS is presumed dead. */
  SYNC_HEARTBEAT_SECONDS: intInRange(1, 300).default(10),
  SYNC_DEAD_AFTER_SECONDS: intInRange(3, 3600).default(60),
  /** Sync jobs one worker process runs at once (different connections). */
  SYNC_CONCURRENCY: intInRange(1, 32).default(2),
  /** How often an idle worker asks the queue for work. */
  SYNC_POLL_SECONDS: z.coerce.number().min(0.5).max(60).default(2),
  /** How often the event feed is polled for schools a consumer is behind on (wake-up jobs are the fast path). */
  FEED_POLL_SECONDS: z.coerce.number().min(1).max(3600).default(60),
  /**
   * Scheduled checks (src/checks/scheduler.ts), in each school's time zone: after the day's lessons and
   * nightly (HH:MM, school-local; a school's profile may set its own under `scheduled_checks`), over the
   * last CHECKS_LOOKBACK_DAYS lesson days plus the school-wide rules.
   */
  CHECKS_AFTER_LESSONS_AT: z.string().regex(TIME_OF_DAY, 'must be HH:MM').default('18:00'),
  CHECKS_NIGHTLY_AT: z.string().regex(TIME_OF_DAY, 'must be HH:MM').default('02:00'),
  CHECKS_LOOKBACK_DAYS: intInRange(0, 120).default(14),
  /**
   * Circuit breaker per platform host (src/sync/host-gate.ts), shared by every process: this many
   * consecutive transient failures (timeouts, refused connections, 5xx; never 4xx) open it; it then
   * refuses every request to the host for PLATFORM_BREAKER_OPEN_SECONDS, and the syncs it refused are
   * rescheduled for then (no retry spent), when one probe request may try the host again.
   */
  PLATFORM_BREAKER_FAILURES: intInRange(1, 1000).default(5),
  PLATFORM_BREAKER_OPEN_SECONDS: intInRange(1, 86_400).default(120),
  /**
   * Notifications (src/notify): sends in flight per worker process, attempts after the first for a
   * temporary failure (back-off doubling from NOTIFY_RETRY_DELAY_SECONDS), how often the clocked work runs
   * (digests, reports, teachers' alerts, delivery statuses, the sweeper), how long a sender owns a message
   * it is sending (past it, a crashed send goes again with the same client id), provider call timeout.
   */
  NOTIFY_CONCURRENCY: intInRange(1, 64).default(8),
  NOTIFY_RETRY_LIMIT: intInRange(0, 20).default(6),
  NOTIFY_RETRY_DELAY_SECONDS: intInRange(1, 3600).default(30),
  NOTIFY_TICK_SECONDS: z.coerce.number().min(0.5).max(3600).default(30),
  NOTIFY_LEASE_SECONDS: intInRange(2, 3600).default(120),
  NOTIFY_TIMEOUT_SECONDS: intInRange(1, 300).default(20),
  /**
   * Telegram limits, shared by every process (src/notify/rate.ts): messages per second per bot (Telegram
   * allows about 30; the default keeps a margin) and the least gap between two messages to one chat.
   */
  NOTIFY_TELEGRAM_PER_SECOND: z.coerce.number().min(0.1).max(30).default(29),
  NOTIFY_TELEGRAM_CHAT_INTERVAL_MS: intInRange(1000, 60_000).default(1100),
  /** polling: this process's scheduler long-polls the schools' bots (getUpdates); webhook: Telegram posts to /v1/telegram/{providerId}/webhook. */
  NOTIFY_TELEGRAM_UPDATES: z.enum(['polling', 'webhook']).default('polling'),
  /**
   * Outgoing webhooks (src/webhooks): receiver timeout, how long an endpoint may fail without one success
   * before it is disabled (5 days), how long a rotated-out secret keeps signing (24 h), deliveries in
   * flight per worker process, how long a worker owns a message it is sending, and how often the sweeper
   * requeues messages whose worker died.
   */
  WEBHOOK_TIMEOUT_SECONDS: intInRange(1, 60).default(15),
  WEBHOOK_DISABLE_AFTER_SECONDS: intInRange(1, 90 * 86_400).default(432_000),
  WEBHOOK_ROTATION_GRACE_SECONDS: intInRange(0, 30 * 86_400).default(86_400),
  WEBHOOK_CONCURRENCY: intInRange(1, 64).default(4),
  WEBHOOK_LEASE_SECONDS: intInRange(5, 3600).default(60),
  WEBHOOK_SWEEP_SECONDS: intInRange(1, 3600).default(30),
  /** Roles of this process: api, worker, scheduler (comma-separated); npm start runs all three. */
  ROLES: z
    .string()
    .default('api,worker,scheduler')
    .transform((v) => v.split(',').map((r) => r.trim()).filter(Boolean))
    .pipe(z.array(z.enum(['api', 'worker', 'scheduler'])).min(1)),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** auto: load the demo school when the database has no school; on: always ensure it; off: never. */
  DEMO: z.enum(['auto', 'on', 'off']).default('auto'),
  DEMO_SEED: intInRange(0, 2 ** 31 - 1).default(1),
  DEMO_PUPILS: intInRange(25, 5000).default(300),
  /** Widest date range (days, both ends included) one class journal page may ask for: 366 = one academic year. */
  JOURNAL_PAGE_MAX_DAYS: intInRange(1, 366).default(366),
  /**
   * Sign-in (src/auth): how long a session lives (absolute), requests per minute per key or session and
   * per address before signing in (per process); one-time codes: lifetime, and how many may be asked per
   * login (phone or e-mail) and per address within OTP_WINDOW_SECONDS (shared by every process).
   */
  SESSION_TTL_SECONDS: intInRange(300, 30 * 86400).default(12 * 3600),
  API_RATE_PER_MINUTE: intInRange(10, 1_000_000).default(6000),
  API_ANONYMOUS_RATE_PER_MINUTE: intInRange(5, 1_000_000).default(120),
  OTP_TTL_SECONDS: intInRange(60, 3600).default(300),
  OTP_PER_LOGIN: intInRange(1, 100).default(5),
  OTP_PER_ADDRESS: intInRange(1, 10_000).default(30),
  OTP_WINDOW_SECONDS: intInRange(60, 86400).default(3600),
  /**
   * Backups (src/archive/backup.ts): comma-separated targets `name@REGION=dir:/path` (REGION: ISO 3166, e.g.
   * RU, RU-MOW, KG; each must lie within every school's allowed regions, or the service does not start).
   * Unset: `<DATA_DIR>/backups/a` and `/b` in the schools' own region — one disk: set real, separate media
   * in production. An `s3://bucket/prefix` target reads its endpoint and credentials from
   * `BACKUP_S3_<NAME>_*` (archive/backup-s3-spec.ts; loadConfig passes the whole environment for them).
   */
  BACKUP_TARGETS: backupTargetsField({}),
  /** true: fewer than two backup places refuses the start (a warning otherwise). */
  BACKUP_REQUIRE_TWO: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
  /** The nightly backup, local time of this process (HH:MM), or off. */
  BACKUP_NIGHTLY_AT: z.string().regex(new RegExp(`${TIME_OF_DAY.source}|^off$`), 'must be HH:MM or off').default('02:30'),
  /**
   * Retention (archive/backup-retention.ts), per target after each backup: the newest this many nightly
   * backups are kept and older ones deleted. Period-close backups are never deleted (archive evidence).
   */
  BACKUP_KEEP_NIGHTLY: intInRange(1, 100_000).default(DEFAULT_KEEP_NIGHTLY),
  /** The newest this many manual backups (`backup run`) are kept per target. */
  BACKUP_KEEP_MANUAL: intInRange(1, 100_000).default(DEFAULT_KEEP_MANUAL),
  /** auto: pg_dump -Fc when one at least as new as the server is found, else the built-in logical dump. */
  BACKUP_METHOD: z.enum(['auto', 'logical', 'pg_dump']).default('auto'),
  PG_DUMP_PATH: z.string().min(1).optional(),
  PG_RESTORE_PATH: z.string().min(1).optional(),
  /**
   * The restore drill's role on the database's server: may CREATE DATABASE and set session_replication_role
   * (a superuser). Unset: the embedded Postgres's superuser, else DATABASE_OWNER_URL, else DATABASE_URL.
   */
  BACKUP_ADMIN_URL: postgresUrl.optional(),
});

export type Config = z.infer<typeof ConfigSchema>;

/** The directory of the chain anchors (ANCHOR_DIR, else `<DATA_DIR>/anchors`). */
export function anchorDirOf(config: Pick<Config, 'ANCHOR_DIR' | 'DATA_DIR'>): string {
  return path.resolve(config.ANCHOR_DIR ?? path.join(config.DATA_DIR, 'anchors'));
}

/**
 * Parses the environment; on failure throws one ConfigError that lists every bad key at once.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const known = Object.keys(ConfigSchema.shape);
  const input = Object.fromEntries(
    known.map((key) => [key, env[key] === '' ? undefined : env[key]]),
  );
  // The S3 targets' settings have names made of the targets' names: the only keys read outside the schema.
  const result = ConfigSchema.extend({ BACKUP_TARGETS: backupTargetsField(env) }).safeParse(input);
  if (result.success) {
    return { ...result.data, DATA_DIR: path.resolve(result.data.DATA_DIR) };
  }
  const problems = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`, problems);
}
