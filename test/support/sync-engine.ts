import { createHash } from 'node:crypto';
import { adapters } from '../../adapters/index.js';
import { loadConfig } from '../../src/config.js';
import type { Clock } from '../../src/lib/clock.js';
import { createLogger } from '../../src/lib/logger.js';
import type { Resolve } from '../../src/lib/net-targets.js';
import type { SyncService } from '../../src/sync/service.js';
import { startSync } from '../../src/sync/service.js';
import type { TestDatabase } from './db.js';
import { tempDataDir } from './processes.js';

/** The sync engine of one process, on a test database, with shrunk retry and heartbeat times. */
export async function startTestEngine(db: TestDatabase, clock: Clock, env: Record<string, string> = {}, resolve?: Resolve): Promise<SyncService> {
  const config = loadConfig({
    DATABASE_URL: db.url, DATA_DIR: await tempDataDir(), CONNECTION_SECRETS_KEY: keyOf(db), CONNECTION_ALLOWED_TARGETS: LOOPBACK_TARGETS,
    ROLES: 'worker', SYNC_RETRY_LIMIT: '1', SYNC_RETRY_DELAY_SECONDS: '1', SYNC_HEARTBEAT_SECONDS: '1', SYNC_DEAD_AFTER_SECONDS: '4',
    SYNC_POLL_SECONDS: '0.5', ...env,
  });
  return startSync(config, { pool: db.pool, clock, logger: createLogger('silent'), adapters, resolve });
}

/** The simulators of the tests listen on loopback http, which only an allow-list opens (CONNECTION_ALLOWED_TARGETS). */
export const LOOPBACK_TARGETS = '127.0.0.0/8';

/** The engines of one database share its secrets key, as the processes of one deployment do. */
export function keyOf(db: TestDatabase): string {
  return createHash('sha256').update(`secrets of ${db.url}`).digest('base64');
}
