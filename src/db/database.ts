import type { Config } from '../config.js';
import type { Logger } from '../lib/logger.js';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from './embedded.js';
import { migrate } from './migrate.js';
import { createPool, type Pool } from './pool.js';
import { createPrisma, type PrismaClient } from './prisma.js';
import { grantApplicationRole, historyRights } from './roles.js';

export interface Database {
  url: string;
  /** True when this process started its own Postgres. */
  embedded: boolean;
  /** What the application's role could do to history that it must not (empty: history is protected). */
  historyRights: string[];
  pool: Pool;
  /** The most privileged connection this process knows (the restore drill creates databases with it): the embedded superuser, else the owner's, else the application's. */
  adminUrl: string;
  prisma: PrismaClient;
  close(): Promise<void>;
}

/**
 * Opens the database the configuration names — or starts the embedded one — and brings its schema up
 * to date as the owner role (DATABASE_OWNER_URL, or the embedded default's own), granting the
 * application's role what it needs and no more (roles.ts). `close` releases the pools and stops an
 * embedded Postgres.
 */
export async function openDatabase(config: Config, logger: Logger): Promise<Database> {
  let embedded: EmbeddedPostgresHandle | undefined;
  let url = config.DATABASE_URL;
  let ownerUrl = config.DATABASE_OWNER_URL;
  if (!url) {
    embedded = await startEmbeddedPostgres({ dataDir: config.DATA_DIR, port: config.EMBEDDED_PG_PORT, database: 'journal', logger });
    url = embedded.url;
    ownerUrl = embedded.ownerUrl;
  }
  const pool = createPool(url, config.DB_POOL_MAX, {
    onError: (error) => {
      // 57P01: the server is shutting down (on SIGTERM the embedded Postgres may stop before our pool).
      const level = error.code === '57P01' ? 'debug' : 'warn';
      logger[level]({ error: error.message }, 'idle database connection failed');
    },
  });
  let rights: string[];
  try {
    if (ownerUrl && ownerUrl !== url) {
      const owner = createPool(ownerUrl, 2, { applicationName: 'journal-bridge-migrate' });
      try {
        await migrate(owner, logger);
        const { rows } = await pool.query<{ role: string }>('SELECT current_user AS role');
        await grantApplicationRole(owner, rows[0]!.role);
      } finally {
        await owner.end();
      }
    } else {
      await migrate(pool, logger);
    }
    rights = await historyRights(pool);
    if (rights.length > 0) {
      logger.warn({ rights }, 'the application\'s database role can rewrite the journal\'s history: give it a role of its own and the owner DATABASE_OWNER_URL (see the README)');
    }
  } catch (error) {
    await pool.end();
    await embedded?.stop();
    throw error;
  }
  const prisma = createPrisma(url);
  return {
    url,
    adminUrl: embedded?.superuserUrl ?? ownerUrl ?? url,
    embedded: embedded !== undefined,
    historyRights: rights,
    pool,
    prisma,
    close: async () => {
      await prisma.$disconnect();
      await pool.end();
      await embedded?.stop();
    },
  };
}
