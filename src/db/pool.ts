import pg from 'pg';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

const DATE_OID = 1082;

/**
 * Type parsers of our pools: calendar dates stay ISO strings ('2025-09-01'), since a JS Date would
 * shift them by the process time zone. bigint and numeric stay strings (pg's default).
 */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === DATE_OID && format !== 'binary') return (value: string) => value;
    return pg.types.getTypeParser(oid, format as 'text');
  }) as typeof pg.types.getTypeParser,
};

export type PoolErrorHandler = (error: Error & { code?: string }) => void;

/**
 * A connection pool with the project's type parsers and an application name for pg_stat_activity.
 *
 * An idle connection that the server closes (a restart, `pg_terminate_backend`, `DROP DATABASE … WITH
 * (FORCE)` while `pool.end()` is still closing sockets — pg-pool resolves `end()` before they are
 * closed) makes the pool emit `error`; the pool has already dropped that connection, so it is not
 * fatal, but an `error` event without a listener would crash the process. Every pool therefore has
 * one: `onError`, or by default one that ignores it.
 */
export function createPool(connectionString: string, max = 10, options: { applicationName?: string; onError?: PoolErrorHandler } = {}): Pool {
  const pool = new pg.Pool({ connectionString, max, types, application_name: options.applicationName ?? 'journal-bridge' });
  pool.on('error', options.onError ?? (() => undefined));
  return pool;
}

/**
 * Runs `work` in one transaction on one pooled connection: COMMIT when it resolves, ROLLBACK when it
 * throws (and the error is rethrown). `repeatable read`: every statement sees one snapshot (a seal).
 */
export async function withTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>, isolation?: 'repeatable read'): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query(isolation ? 'BEGIN ISOLATION LEVEL REPEATABLE READ' : 'BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/**
 * Runs `work` while holding a session-level advisory lock on its own pooled connection, so that the
 * processes of one deployment starting together (migrations, the job queue's schema) take turns.
 */
/** The advisory lock under which a process sets up the job queue's schema and queues (pg-boss's own set-up races). */
export const JOB_QUEUE_SETUP_LOCK = 72707370;

export async function withAdvisoryLock<T>(pool: Pool, key: number | string, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1::bigint)', [key]);
    try {
      return await work(client);
    } finally {
      await client.query('SELECT pg_advisory_unlock($1::bigint)', [key]);
    }
  } finally {
    client.release();
  }
}

/**
 * Several reads at once on a pool; one after another on a single connection, which runs one query at a
 * time (pg deprecates queueing on a busy client) — a sealed page is read inside one snapshot's connection.
 */
export async function together<T extends readonly unknown[]>(db: Pool | PoolClient, reads: { [K in keyof T]: () => Promise<T[K]> }): Promise<T> {
  if (db instanceof pg.Pool) return (await Promise.all(reads.map((read) => read()))) as unknown as T;
  const results: unknown[] = [];
  for (const read of reads) results.push(await read());
  return results as unknown as T;
}

/** An SQL identifier quoted ("journal_event", a database's name). */
export const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** One connection outside the pools (the cluster's superuser, a database being created), closed after `work`. */
export async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
