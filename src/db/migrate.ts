import { createHash, randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../lib/logger.js';
import { withAdvisoryLock, type Pool, type PoolClient } from './pool.js';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../prisma/migrations', import.meta.url));

/** The advisory lock key Prisma Migrate itself takes, so this runner and `prisma migrate deploy` exclude each other. */
const PRISMA_MIGRATE_LOCK = 72707369;

/** Prisma's bookkeeping table, column for column, so both tools read each other's records. */
const CREATE_MIGRATIONS_TABLE = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
  "id"                  VARCHAR(36) PRIMARY KEY NOT NULL,
  "checksum"            VARCHAR(64) NOT NULL,
  "finished_at"         TIMESTAMPTZ,
  "migration_name"      VARCHAR(255) NOT NULL,
  "logs"                TEXT,
  "rolled_back_at"      TIMESTAMPTZ,
  "started_at"          TIMESTAMPTZ NOT NULL DEFAULT now(),
  "applied_steps_count" INTEGER NOT NULL DEFAULT 0
)`;

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

interface AppliedRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
}

export interface MigrateResult {
  applied: string[];
  alreadyApplied: number;
}

/** Reads `<dir>/*\/migration.sql` in name order (Prisma's timestamp prefixes make it chronological). */
export async function readMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
  return Promise.all(
    names.map(async (name) => {
      const sql = await readFile(path.join(dir, name, 'migration.sql'), 'utf8');
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    }),
  );
}

/**
 * Applies pending migrations in order, each in its own transaction, under Prisma's advisory lock, and
 * records them in `_prisma_migrations` as Prisma does. Refuses to continue when an applied migration
 * was edited (checksum differs) or a previous attempt is recorded as unfinished.
 */
export async function migrate(pool: Pool, logger: Logger, dir = MIGRATIONS_DIR): Promise<MigrateResult> {
  const migrations = await readMigrations(dir);
  return withAdvisoryLock(pool, PRISMA_MIGRATE_LOCK, async (client) => {
    // Only when missing: the application's role (no CREATE on the schema) then reads the records without DDL.
    const { rows } = await client.query<{ found: string | null }>(`SELECT to_regclass('"_prisma_migrations"')::text AS found`);
    if (!rows[0]?.found) await client.query(CREATE_MIGRATIONS_TABLE);
    return applyPending(client, migrations, logger);
  });
}

async function applyPending(client: PoolClient, migrations: Migration[], logger: Logger): Promise<MigrateResult> {
  const { rows } = await client.query<AppliedRow>(
    'SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations" WHERE rolled_back_at IS NULL',
  );
  const applied = new Map(rows.map((row) => [row.migration_name, row]));
  warnAboutUnknown(rows, migrations, logger);
  const result: MigrateResult = { applied: [], alreadyApplied: 0 };
  for (const migration of migrations) {
    const row = applied.get(migration.name);
    if (row) {
      assertUnchanged(row, migration);
      result.alreadyApplied += 1;
      continue;
    }
    await applyOne(client, migration);
    logger.info({ migration: migration.name }, 'migration applied');
    result.applied.push(migration.name);
  }
  return result;
}

function assertUnchanged(row: AppliedRow, migration: Migration): void {
  if (row.finished_at === null) {
    throw new Error(
      `migration ${migration.name} is recorded as started but not finished; resolve it before migrating again`,
    );
  }
  if (row.checksum !== migration.checksum) {
    throw new Error(
      `migration ${migration.name} was edited after it was applied (checksum ${row.checksum} in the database, ` +
        `${migration.checksum} on disk); add a new migration instead of editing an applied one`,
    );
  }
}

function warnAboutUnknown(rows: AppliedRow[], migrations: Migration[], logger: Logger): void {
  const local = new Set(migrations.map((m) => m.name));
  for (const row of rows) {
    if (!local.has(row.migration_name)) {
      logger.warn({ migration: row.migration_name }, 'the database has a migration this code does not know');
    }
  }
}

async function applyOne(client: PoolClient, migration: Migration): Promise<void> {
  await client.query('BEGIN');
  try {
    const id = randomUUID();
    await client.query(
      'INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at) VALUES ($1, $2, $3, now())',
      [id, migration.checksum, migration.name],
    );
    // Simple-query protocol: the whole file runs as one multi-statement batch, semicolons in strings included.
    await client.query(migration.sql);
    await client.query(
      'UPDATE "_prisma_migrations" SET finished_at = clock_timestamp(), applied_steps_count = 1 WHERE id = $1',
      [id],
    );
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw new Error(`migration ${migration.name} failed and was rolled back: ${(error as Error).message}`);
  }
}
