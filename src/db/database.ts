import type { Config } from '../config.js';
import type { Logger } from '../lib/logger.js';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from './embedded.js';
import { migrate } from './migrate.js';
import { createPool, type Pool } from './pool.js';
import { createPrisma, type PrismaClient } from './prisma.js';

export interface Database {
  url: string;
  /** True when this process started its own Postgres. */
  embedded: boolean;
  pool: Pool;
  prisma: PrismaClient;
  close(): Promise<void>;
}

/**
 * Opens the database the configuration names — or starts the embedded one — and brings its schema up
 * to date. `close` releases the pools and stops an embedded Postgres.
 */
export async function openDatabase(config: Config, logger: Logger): Promise<Database> {
  let embedded: EmbeddedPostgresHandle | undefined;
  let url = config.DATABASE_URL;
  if (!url) {
    embedded = await startEmbeddedPostgres({ dataDir: config.DATA_DIR, port: config.EMBEDDED_PG_PORT, database: 'journal', logger });
    url = embedded.url;
  }
  const pool = createPool(url, config.DB_POOL_MAX, {
    onError: (error) => {
      // 57P01: the server is shutting down (on SIGTERM the embedded Postgres may stop before our pool).
      const level = error.code === '57P01' ? 'debug' : 'warn';
      logger[level]({ error: error.message }, 'idle database connection failed');
    },
  });
  try {
    await migrate(pool, logger);
  } catch (error) {
    await pool.end();
    await embedded?.stop();
    throw error;
  }
  const prisma = createPrisma(url);
  return {
    url,
    embedded: embedded !== undefined,
    pool,
    prisma,
    close: async () => {
      await prisma.$disconnect();
      await pool.end();
      await embedded?.stop();
    },
  };
}
