import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createPool, type Pool } from '../../src/db/pool.js';
import { grantApplicationRole } from '../../src/db/roles.js';
import { adminUrl, databaseUrl, SERVER_ENV, TEMPLATE_ENV } from './env.js';

export interface TestDatabase {
  url: string;
  pool: Pool;
  drop(): Promise<void>;
}

function server(): string {
  const url = process.env[SERVER_ENV];
  if (!url) throw new Error('integration tests need test/support/global-setup.ts (run them through jest)');
  return url;
}

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl(server()) });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** A database of its own for one test file: a clone of the migrated template, or empty. */
export async function createTestDatabase(options: { empty?: boolean; poolSize?: number } = {}): Promise<TestDatabase> {
  const name = `jb_t_${randomBytes(6).toString('hex')}`;
  const template = options.empty ? 'template0' : process.env[TEMPLATE_ENV];
  await admin((c) => c.query(`CREATE DATABASE ${name} TEMPLATE ${template}`));
  const url = databaseUrl(server(), name);
  const pool = createPool(url, options.poolSize ?? 5);
  return {
    url,
    pool,
    drop: async () => {
      await pool.end();
      await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

/**
 * Runs statements the way only a superuser could change history: with triggers off
 * (session_replication_role = replica), so the append-only trigger does not stop them.
 */
export async function asSuperuser(pool: Pool, statements: Array<[string, unknown[]?]>): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('SET session_replication_role = replica');
    for (const [sql, values] of statements) await client.query(sql, values);
  } finally {
    await client.query('RESET session_replication_role');
    client.release();
  }
}

/** A fresh role with the application's rights (db/roles.ts grantApplicationRole) on the test database, and a pool connected as it. */
export async function applicationRole(db: TestDatabase): Promise<Pool> {
  const role = `jb_app_${randomBytes(4).toString('hex')}`;
  const password = randomBytes(12).toString('hex');
  await db.pool.query(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`);
  await grantApplicationRole(db.pool, role);
  const url = new URL(db.url);
  url.username = role;
  url.password = password;
  return createPool(url.toString(), 2);
}
