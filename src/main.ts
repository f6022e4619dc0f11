import type { Server } from 'node:http';
import { adapters } from '../adapters/index.js';
import type { Config } from './config.js';
import { openDatabase, type Database } from './db/database.js';
import { createSchoolRepository } from './db/repositories/schools.js';
import { DemoRunner } from './demo/runner.js';
import { createApp } from './http/app.js';
import { systemClock, type Clock } from './lib/clock.js';
import type { Logger } from './lib/logger.js';
import { startSync, type SyncService } from './sync/service.js';

export interface Service {
  /** The API's address, when this process has the api role. */
  url?: string;
  db: Database;
  sync: SyncService;
  demo: DemoRunner;
  close(): Promise<void>;
}

/**
 * Composition root: config → database (embedded when none is configured) → the sync engine (a worker
 * and a scheduler, per ROLES) → with the api role, the HTTP API and, when the journal is empty, the demo
 * school loading behind it (/health says how far it is).
 */
export async function startService(config: Config, logger: Logger, clock: Clock = systemClock): Promise<Service> {
  const db = await openDatabase(config, logger);
  const sync = await startSync(config, { pool: db.pool, clock, logger, adapters });
  const demo = new DemoRunner({ pool: db.pool, clock, logger, adapters, sync }, { mode: config.DEMO, seed: config.DEMO_SEED, pupils: config.DEMO_PUPILS });
  let server: Server | undefined;
  let url: string | undefined;
  if (config.ROLES.includes('api')) {
    await demo.start();
    const app = createApp({
      pool: db.pool, schools: createSchoolRepository(db.prisma), logger, embedded: db.embedded, demoStatus: () => demo.state(),
      sync: { connections: sync.connections, queue: sync.queue }, journalPageMaxDays: config.JOURNAL_PAGE_MAX_DAYS,
    });
    server = await listen(app, config.HOST, config.PORT);
    const address = server.address();
    url = `http://${config.HOST}:${typeof address === 'object' && address ? address.port : config.PORT}`;
    logger.info({ url }, 'journal bridge is listening');
  }
  logger.info({ roles: config.ROLES }, 'journal bridge started');
  return {
    url, db, sync, demo,
    close: async () => {
      await demo.stop();
      if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
      await sync.stop();
      await db.close();
    },
  };
}

function listen(app: ReturnType<typeof createApp>, host: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host, () => resolve(server));
    server.once('error', reject);
  });
}
