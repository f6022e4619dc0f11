import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, cp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import copyStreams from 'pg-copy-streams';
import { migrate, MIGRATIONS_DIR, readMigrations } from '../db/migrate.js';
import { createPool, quoteIdent, withClient, type Pool, type PoolClient } from '../db/pool.js';
import type { Logger } from '../lib/logger.js';
import { redactUrl, toolConnection } from './backup-dump.js';
import type { Manifest } from './backup-manifest.js';
import { Digest } from './backup-streams.js';
import type { BackupTarget } from './backup-targets.js';

/**
 * Restores a backup into a fresh database on the same server (CREATE DATABASE as `adminUrl`'s role):
 *
 * - logical: the database is migrated to the backup's version (its migrations must be this code's, or a
 *   prefix of them), then every table is truncated and copied back in (COPY … FROM STDIN) in dependency
 *   order, in one transaction (keys, indexes and references built after the rows, as pg_restore does), with `session_replication_role = replica` (a superuser's, or a role granted
 *   SET on it): the statement-level reference triggers and the append-only history's triggers stay quiet
 *   (the rows were consistent in their snapshot), and so do the foreign keys' own triggers (school and
 *   connection refer to each other). Each file's SHA-256 is checked as it is read. Sequences are set last.
 * - pg_dump: `pg_restore --no-owner --no-acl --exit-on-error` from the file on the target.
 */
export interface Restored {
  database: string;
  url: string;
  pool: Pool;
  drop(): Promise<void>;
}

const quote = quoteIdent;

const withAdmin = withClient;

/** Restores `manifest`'s backup from `target` into a new database; the caller drops it (or keeps it). */
export async function restoreBackup(adminUrl: string, target: BackupTarget, manifest: Manifest, logger: Logger, options: { pgRestorePath?: string } = {}): Promise<Restored> {
  const database = `jb_restore_${manifest.name.toLowerCase().replace(/[^a-z0-9]/g, '_')}_${randomBytes(3).toString('hex')}`;
  await withAdmin(adminUrl, (c) => c.query(`CREATE DATABASE ${quote(database)}`));
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  const pool = createPool(url.toString(), 2, { applicationName: 'journal-bridge-restore' });
  const restored: Restored = {
    database, url: url.toString(), pool,
    drop: async () => {
      await pool.end();
      await withAdmin(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${quote(database)} WITH (FORCE)`));
    },
  };
  try {
    if (manifest.method === 'pg_dump') await pgRestore(options.pgRestorePath ?? 'pg_restore', restored.url, target, manifest);
    else await restoreLogical(pool, target, manifest, logger);
    return restored;
  } catch (error) {
    await restored.drop().catch(() => undefined);
    throw error;
  }
}

async function restoreLogical(pool: Pool, target: BackupTarget, manifest: Manifest, logger: Logger): Promise<void> {
  await migrateTo(pool, manifest, logger);
  const client = await pool.connect();
  try {
    await client.query('SET session_replication_role = replica').catch((error: Error) => {
      throw new Error(`the restore's role may not set session_replication_role (${error.message}): restore as a superuser (BACKUP_ADMIN_URL) or GRANT SET ON PARAMETER session_replication_role to it`);
    });
    await client.query('BEGIN');
    await client.query(`TRUNCATE ${manifest.tables.map((t) => quote(t.table)).join(', ')}`);
    const order = await dependencyOrder(client, manifest.tables.map((t) => t.table));
    const rebuild = await deferKeysAndIndexes(client, order);
    const files = new Map(manifest.files.map((f) => [f.file, f]));
    for (const table of order) {
      const entry = manifest.tables.find((t) => t.table === table)!;
      const file = files.get(entry.file ?? '');
      if (!file) throw new Error(`the manifest lists no file for table ${table}`);
      const digest = new Digest();
      const sink = client.query(copyStreams.from(`COPY ${quote(table)} (${entry.columns.map(quote).join(', ')}) FROM STDIN`));
      await pipeline(target.read(manifest.name, file.file), digest, createGunzip(), sink);
      if (digest.hex() !== file.sha256) throw new Error(`${file.file} on target ${target.name} differs from the manifest`);
    }
    // Built once over the loaded rows, as pg_restore does, instead of maintained row by row.
    for (const statement of rebuild) await client.query(statement);
    for (const s of manifest.sequences) await client.query('SELECT setval($1::regclass, $2::bigint, $3)', [quote(s.name), s.value, s.isCalled]);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    await client.query('RESET session_replication_role').catch(() => undefined);
    client.release();
  }
}

/** Migrates to exactly the backup's schema version: its migrations must be the first ones of this code, unchanged. */
async function migrateTo(pool: Pool, manifest: Manifest, logger: Logger): Promise<void> {
  const known = await readMigrations();
  const count = manifest.migrations.length;
  manifest.migrations.forEach((m, i) => {
    const ours = known[i];
    if (!ours || ours.name !== m.name || ours.checksum !== m.checksum) {
      throw new Error(`the backup's schema (migration ${m.name}) is not one this code knows: restore it with the version of the service that made it`);
    }
  });
  if (count === known.length) {
    await migrate(pool, logger);
    return;
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), 'jb-restore-migrations-'));
  try {
    for (const m of known.slice(0, count)) await cp(path.join(MIGRATIONS_DIR, m.name), path.join(dir, m.name), { recursive: true });
    await migrate(pool, logger, dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * What pg_restore does: the rows go in before the keys and indexes are built. Drops the tables' foreign keys,
 * primary and unique constraints and other indexes (exclusion and check constraints stay), and returns the
 * statements that build them again from their own definitions, keys first and references last (each
 * reference is validated over the loaded rows as it is added).
 */
async function deferKeysAndIndexes(client: PoolClient, tables: string[]): Promise<string[]> {
  const { rows: constraints } = await client.query<{ target: string; name: string; kind: 'f' | 'p' | 'u'; definition: string }>(
    `SELECT c.conrelid::regclass::text AS target, quote_ident(c.conname) AS name, c.contype AS kind, pg_get_constraintdef(c.oid) AS definition
       FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace
      WHERE n.nspname = 'public' AND t.relname = ANY($1) AND c.contype IN ('f', 'p', 'u') ORDER BY c.contype = 'f' DESC, 1, 2`, [tables]);
  const { rows: indexes } = await client.query<{ name: string; definition: string }>(
    `SELECT quote_ident(i.relname) AS name, pg_get_indexdef(x.indexrelid) AS definition
       FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace
      WHERE n.nspname = 'public' AND t.relname = ANY($1) AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)`, [tables]);
  // Foreign keys first (they depend on the keys they reference), then the keys, then the plain indexes.
  for (const c of constraints) await client.query(`ALTER TABLE ${c.target} DROP CONSTRAINT ${c.name}`);
  for (const i of indexes) await client.query(`DROP INDEX ${i.name}`);
  const add = (c: (typeof constraints)[number]) => `ALTER TABLE ${c.target} ADD CONSTRAINT ${c.name} ${c.definition}`;
  return [...constraints.filter((c) => c.kind !== 'f').map(add), ...indexes.map((i) => i.definition), ...constraints.filter((c) => c.kind === 'f').map(add)];
}

/** The tables, referenced ones first (foreign keys); a cycle is broken where it is met (replica mode needs no order). */
async function dependencyOrder(client: PoolClient, tables: string[]): Promise<string[]> {
  const { rows } = await client.query<{ child: string; parent: string }>(
    `SELECT c.conrelid::regclass::text AS child, c.confrelid::regclass::text AS parent FROM pg_constraint c
       JOIN pg_namespace n ON n.oid = c.connamespace WHERE c.contype = 'f' AND n.nspname = 'public'`);
  const unquote = (name: string) => name.replace(/^"|"$/g, '');
  const parents = new Map<string, string[]>(tables.map((t) => [t, []]));
  for (const r of rows) if (unquote(r.child) !== unquote(r.parent)) parents.get(unquote(r.child))?.push(unquote(r.parent));
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (table: string) => {
    if (state.has(table)) return;
    state.set(table, 'visiting');
    for (const parent of parents.get(table) ?? []) if (parents.has(parent)) visit(parent);
    state.set(table, 'done');
    order.push(table);
  };
  for (const table of tables) visit(table);
  return order;
}

async function pgRestore(binary: string, url: string, target: BackupTarget, manifest: Manifest): Promise<void> {
  const file = manifest.files[0]!;
  const { dbname, env } = toolConnection(url);
  const child = spawn(binary, ['--no-owner', '--no-acl', '--exit-on-error', '--dbname', dbname], { stdio: ['pipe', 'ignore', 'pipe'], env });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => { stderr = (stderr + text).slice(-2000); });
  const exited = new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(code ?? 1));
  });
  const digest = new Digest();
  await pipeline(target.read(manifest.name, file.file), digest, child.stdin);
  const code = await exited;
  if (code !== 0) throw new Error(`pg_restore exited with ${code}: ${redactUrl(stderr.trim(), dbname)}`);
  if (digest.hex() !== file.sha256) throw new Error(`${file.file} on target ${target.name} differs from the manifest`);
}

/** The schema's keys, references, checks and indexes as text: a restored database's must equal its source's. */
export async function schemaSignature(pool: Pool): Promise<string[]> {
  const { rows } = await pool.query<{ line: string }>(
    `SELECT t.relname || ' ' || c.conname || ' ' || pg_get_constraintdef(c.oid) AS line
       FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace WHERE n.nspname = 'public'
     UNION ALL
     SELECT pg_get_indexdef(x.indexrelid) FROM pg_index x JOIN pg_class t ON t.oid = x.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace WHERE n.nspname = 'public'
     ORDER BY 1`);
  return rows.map((r) => r.line);
}
