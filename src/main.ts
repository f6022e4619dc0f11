import type { Server } from 'node:http';
import type { Config } from './config.js';
import { openDatabase, type Database } from './db/database.js';
import { createSchoolRepository } from './db/repositories/schools.js';
import { adapters } from '../adapters/index.js';
import { startSync, type SyncService } from './sync/service.js';
import { hasSchools, loadDemoSchool } from './demo/load.js';
import { createApp } from './http/app.js';
import type { DemoStatus } from './http/routes/health.js';
import { systemClock, type Clock } from './lib/clock.js';
import { describeError } from './lib/errors.js';
import type { Logger } from './lib/logger.js';

export interface Service {
  url: string;
  db: Database;
  sync: SyncService;
  /** Resolves when the demo school (if any) has finished loading. */
  demoLoaded: Promise<void>;
  close(): Promise<void>;
}

/**
 * Composition root: config → database (embedded when none is configured) → the demo school when the
 * journal is empty → HTTP API. The server listens at once; the demo loads behind it and /health says
 * how far it is.
 */
export async function startService(config: Config, logger: Logger, clock: Clock = systemClock): Promise<Service> {
  const db = await openDatabase(config, logger);
  let demo: DemoStatus = { status: 'off' };
  const abort = new AbortController();
  const wantDemo = config.DEMO === 'on' || (config.DEMO === 'auto' && !(await hasSchools(db.pool)));
  const demoLoaded = wantDemo ? runDemo() : Promise.resolve();

  async function runDemo(): Promise<void> {
    demo = { status: 'loading' };
    const started = performance.now();
    const now = clock.now();
    const year = now.getUTCMonth() >= 8 ? now.getUTCFullYear() : now.getUTCFullYear() - 1;
    try {
      const result = await loadDemoSchool({ pool: db.pool, clock, logger }, {
        seed: config.DEMO_SEED, pupils: config.DEMO_PUPILS, year, until: now.toISOString().slice(0, 10),
      }, { signal: abort.signal });
      demo = { status: 'ready' };
      logger.info({ ...result, seconds: Math.round(performance.now() - started) / 1000 }, 'demo school loaded');
    } catch (error) {
      demo = { status: 'failed', error: describeError(error) };
      if (!abort.signal.aborted) logger.error({ error: describeError(error) }, 'loading the demo school failed');
    }
  }

  const sync = await startSync(config, { pool: db.pool, clock, logger, adapters });
  const app = createApp({
    pool: db.pool, schools: createSchoolRepository(db.prisma), logger, embedded: db.embedded, demoStatus: () => demo,
    sync: { connections: sync.connections, queue: sync.queue },
  });
  const server = await listen(app, config.HOST, config.PORT);
  const address = server.address();
  const url = `http://${config.HOST}:${typeof address === 'object' && address ? address.port : config.PORT}`;
  logger.info({ url }, 'journal bridge is listening');
  return {
    url,
    db,
    sync,
    demoLoaded,
    close: async () => {
      abort.abort();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await demoLoaded;
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
