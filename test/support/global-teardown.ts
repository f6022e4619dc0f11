import { rm } from 'node:fs/promises';
import pg from 'pg';
import type { EmbeddedPostgresHandle } from '../../src/db/embedded.js';
import { adminUrl, SERVER_ENV, TEMPLATE_ENV } from './env.js';

export default async function teardown(): Promise<void> {
  const embedded = (globalThis as Record<string, unknown>).__JB_PG__ as { handle: EmbeddedPostgresHandle; dataDir: string } | undefined;
  if (embedded) {
    await embedded.handle.stop();
    await rm(embedded.dataDir, { recursive: true, force: true });
    return;
  }
  const server = process.env[SERVER_ENV];
  if (!server) return;
  // On a shared server, leave no test databases behind.
  const admin = new pg.Client({ connectionString: adminUrl(server) });
  await admin.connect();
  const { rows } = await admin.query<{ datname: string }>(
    `SELECT datname FROM pg_database WHERE datname LIKE 'jb\\_t\\_%' OR datname = $1`, [process.env[TEMPLATE_ENV]],
  );
  for (const row of rows) await admin.query(`DROP DATABASE IF EXISTS "${row.datname}" WITH (FORCE)`);
  await admin.end();
}
