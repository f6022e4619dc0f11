import { createHash } from 'node:crypto';
import { appendFile, cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { migrate, MIGRATIONS_DIR, readMigrations } from '../../src/db/migrate.js';
import { createLogger } from '../../src/lib/logger.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { readDeclaredColumns } from '../support/prisma-schema.js';

const logger = createLogger('silent');
const SCHEMA = fileURLToPath(new URL('../../prisma/schema.prisma', import.meta.url));

async function addMigration(dir: string, name: string, sql: string): Promise<void> {
  await mkdir(path.join(dir, name));
  await writeFile(path.join(dir, name, 'migration.sql'), sql);
}

describe('migration runner', () => {
  let db: TestDatabase;
  let dir: string;

  beforeAll(async () => {
    db = await createTestDatabase({ empty: true });
    dir = await mkdtemp(path.join(os.tmpdir(), 'jb-migrations-'));
    await cp(MIGRATIONS_DIR, dir, { recursive: true });
  });
  afterAll(async () => {
    await db.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('applies every migration on an empty database and records it as Prisma does', async () => {
    const migrations = await readMigrations(dir);
    const result = await migrate(db.pool, logger, dir);
    expect(result.applied).toEqual(migrations.map((m) => m.name));
    const { rows } = await db.pool.query(
      'SELECT migration_name, checksum, finished_at IS NOT NULL AS finished, applied_steps_count FROM "_prisma_migrations" ORDER BY migration_name',
    );
    expect(rows).toEqual(
      migrations.map((m) => ({
        migration_name: m.name,
        checksum: createHash('sha256').update(m.sql).digest('hex'),
        finished: true,
        applied_steps_count: 1,
      })),
    );
  });

  it('is a no-op the second time', async () => {
    const result = await migrate(db.pool, logger, dir);
    expect(result.applied).toEqual([]);
    expect(result.alreadyApplied).toBe((await readMigrations(dir)).length);
  });

  it('applies a new migration, and rolls back a failing one entirely', async () => {
    await addMigration(dir, '29990101000000_ok', `CREATE TABLE "probe" ("note" TEXT DEFAULT 'a;b');`);
    expect((await migrate(db.pool, logger, dir)).applied).toEqual(['29990101000000_ok']);
    await addMigration(dir, '29990102000000_bad', 'CREATE TABLE "half" (x int); SELECT no_such_function();');
    await expect(migrate(db.pool, logger, dir)).rejects.toThrow(/29990102000000_bad failed and was rolled back/);
    const half = await db.pool.query(`SELECT to_regclass('half') AS t`);
    expect(half.rows[0].t).toBeNull();
    const recorded = await db.pool.query(`SELECT count(*)::int AS n FROM "_prisma_migrations" WHERE migration_name = '29990102000000_bad'`);
    expect(recorded.rows[0].n).toBe(0);
    await rm(path.join(dir, '29990102000000_bad'), { recursive: true });
  });

  it('refuses an applied migration that was edited afterwards', async () => {
    const first = (await readMigrations(dir))[0]!;
    await appendFile(path.join(dir, first.name, 'migration.sql'), '\n-- edited\n');
    await expect(migrate(db.pool, logger, dir)).rejects.toThrow(/was edited after it was applied/);
  });
});

describe('the migrated schema', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  it('has every table and column of schema.prisma with a compatible type and nullability', async () => {
    const declared = readDeclaredColumns(SCHEMA);
    expect(declared.length).toBeGreaterThan(150);
    const { rows } = await db.pool.query<{ table_name: string; column_name: string; data_type: string; is_nullable: string }>(
      `SELECT table_name, column_name,
              CASE WHEN data_type LIKE 'timestamp%' AND datetime_precision = 3 AND data_type NOT LIKE '%with time zone'
                   THEN 'timestamp(3) without time zone' ELSE data_type END AS data_type, is_nullable
         FROM information_schema.columns WHERE table_schema = 'public'`,
    );
    const actual = new Map(rows.map((r) => [`${r.table_name}.${r.column_name}`, r]));
    const mismatches = declared.flatMap((c) => {
      const found = actual.get(`${c.table}.${c.column}`);
      if (!found) return [`${c.table}.${c.column} is missing`];
      const problems: string[] = [];
      if (found.data_type !== c.dataType) problems.push(`${c.table}.${c.column} is ${found.data_type}, schema says ${c.dataType}`);
      if ((found.is_nullable === 'YES') !== c.nullable) problems.push(`${c.table}.${c.column} nullability differs`);
      return problems;
    });
    expect(mismatches).toEqual([]);
  });

  it('stores every instant as timestamptz', () => {
    const naive = readDeclaredColumns(SCHEMA).filter((c) => c.dataType.startsWith('timestamp') && !c.dataType.includes('with time zone'));
    expect(naive).toEqual([]);
  });
});
