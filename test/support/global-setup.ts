import { chmod, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '../../src/db/embedded.js';
import { migrate } from '../../src/db/migrate.js';
import { createPool } from '../../src/db/pool.js';
import { createLogger } from '../../src/lib/logger.js';
import { adminUrl, TEMPLATE_ENV, SERVER_ENV } from './env.js';

/**
 * Integration tests run against a real Postgres: TEST_DATABASE_URL when given, otherwise an embedded
 * one started here in a temporary directory. The schema is migrated once into a template database;
 * each test file clones it (see db.ts).
 */
export default async function setup(): Promise<void> {
  const logger = createLogger('warn');
  let serverUrl = process.env.TEST_DATABASE_URL;
  if (!serverUrl) {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'jb-test-pg-'));
    // mkdtemp makes it private; Postgres runs as its own user when tests run as root.
    await chmod(dataDir, 0o755);
    const handle = await startEmbeddedPostgres({ dataDir, port: 0, database: 'journal', logger });
    (globalThis as Record<string, unknown>).__JB_PG__ = { handle, dataDir };
    serverUrl = handle.superuserUrl;
  }
  const template = `jb_template_${process.pid}`;
  const admin = new pg.Client({ connectionString: adminUrl(serverUrl) });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${template}`);
  await admin.query(`CREATE DATABASE ${template}`);
  await admin.end();
  const pool = createPool(withDatabase(serverUrl, template), 2);
  await migrate(pool, logger);
  await pool.end();
  process.env[SERVER_ENV] = serverUrl;
  process.env[TEMPLATE_ENV] = template;
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}
