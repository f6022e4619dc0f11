import PgBoss from 'pg-boss';
import type { Logger } from '../lib/logger.js';
import { JOB_QUEUE_SETUP_LOCK, withAdvisoryLock, type Pool, type PoolClient } from './pool.js';

/**
 * A pg-boss instance on the pool (schema `pgboss`), started and its queues created under the set-up lock:
 * pg-boss creates its schema with CREATE SCHEMA IF NOT EXISTS, which still fails ("duplicate key …
 * pg_namespace_nspname_index") when several processes of a fresh deployment start at once. `supervise`:
 * this instance maintains the schema (one per process does: the sync queue's).
 */
export async function startJobQueue(
  pool: Pool, logger: Logger, options: { label: string; supervise?: boolean }, createQueues: (boss: PgBoss) => Promise<void>,
): Promise<PgBoss> {
  const boss = new PgBoss({ db: { executeSql: (text, values) => pool.query(text, values) }, schema: 'pgboss', supervise: options.supervise ?? false, migrate: true });
  boss.on('error', (error) => logger.warn({ error: error.message }, `${options.label} error`));
  await withAdvisoryLock(pool, JOB_QUEUE_SETUP_LOCK, async () => {
    await boss.start();
    await createQueues(boss);
  });
  return boss;
}

/** pg-boss's database on a transaction's client: a job sent with it commits or rolls back with the transaction. */
export function dbOf(client: PoolClient): PgBoss.Db {
  return { executeSql: (text, values) => client.query(text, values) };
}
