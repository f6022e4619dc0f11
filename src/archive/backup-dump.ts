import { spawn, execFile } from 'node:child_process';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { createGzip } from 'node:zlib';
import copyStreams from 'pg-copy-streams';
import { quoteIdent, type PoolClient } from '../db/pool.js';
import { Digest, FanOut, LineCounter, type Sink } from './backup-streams.js';

/**
 * The dump itself, in one of two ways:
 *
 * - `logical` (always available): in one REPEATABLE READ READ ONLY transaction, every table of the
 *   application's schema is copied out (COPY … TO STDOUT, text format: portable across server versions)
 *   through gzip into one file per table, with its column list; the schema is named by the applied
 *   migrations, so a restore migrates a fresh database to that version and copies the rows back in.
 *   The embedded Postgres (18) ships no pg_dump, and Debian's (15) refuses a newer server.
 * - `pg_dump`: `pg_dump -Fc` on the same snapshot (`--snapshot`, exported by our transaction), when a pg_dump
 *   whose major version is at least the server's is found (PG_DUMP_PATH, else PATH).
 *
 * Either way the row counts and chain heads of the manifest come from that same snapshot.
 */
export interface TableFile {
  table: string;
  file: string;
  columns: string[];
  rows: number;
  bytes: number;
  sha256: string;
}

export interface SequenceValue {
  name: string;
  value: string;
  isCalled: boolean;
}

const execFileAsync = promisify(execFile);

const quote = quoteIdent;

/** Tables of the application's schema (the migrations' bookkeeping is rebuilt by migrating), with their columns in order. */
export async function applicationTables(client: PoolClient): Promise<Array<{ table: string; columns: string[] }>> {
  const { rows } = await client.query<{ table: string; columns: string[] }>(
    `SELECT c.relname AS table, array_agg(a.attname::text ORDER BY a.attnum) AS columns
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
      WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition AND c.relname <> '_prisma_migrations'
      GROUP BY c.relname ORDER BY c.relname`);
  return rows;
}

/** The sequences of the schema and where they stand (a restore sets them so new rows get fresh ids). */
export async function sequenceValues(client: PoolClient): Promise<SequenceValue[]> {
  const { rows } = await client.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'S' ORDER BY 1`);
  const values: SequenceValue[] = [];
  for (const { name } of rows) {
    const seq = await client.query<{ last_value: string; is_called: boolean }>(`SELECT last_value::text, is_called FROM ${quote(name)}`);
    values.push({ name, value: seq.rows[0]!.last_value, isCalled: seq.rows[0]!.is_called });
  }
  return values;
}

/** Copies one table out through gzip into every sink; the sinks that fail are marked in `failed`. */
export async function dumpTable(client: PoolClient, table: { table: string; columns: string[] }, sinks: Sink[], failed: Map<string, string>): Promise<TableFile> {
  const file = `${table.table}.copy.gz`;
  const lines = new LineCounter();
  const digest = new Digest();
  // COPY (SELECT …) reads a partitioned table as well as a plain one.
  const columns = table.columns.map(quote).join(', ');
  const source = client.query(copyStreams.to(`COPY (SELECT ${columns} FROM ${quote(table.table)}) TO STDOUT`));
  await pipeline(source, lines, createGzip(), digest, new FanOut(sinks, failed));
  return { table: table.table, file, columns: table.columns, rows: lines.lines, bytes: digest.bytes, sha256: digest.hex() };
}

/** Major version of a pg_dump/pg_restore binary, or undefined when it does not run. */
export async function toolMajor(binary: string): Promise<number | undefined> {
  try {
    const { stdout } = await execFileAsync(binary, ['--version'], { timeout: 10_000 });
    const match = /\(PostgreSQL\)\s+(\d+)/.exec(stdout);
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** The server's major version (server_version_num 180001 → 18). */
export async function serverMajor(client: PoolClient): Promise<number> {
  const { rows } = await client.query<{ v: number }>(`SELECT current_setting('server_version_num')::int AS v`);
  return Math.floor(rows[0]!.v / 10000);
}

/** `pg_dump -Fc` of the database at an exported snapshot, streamed into every sink. */
export async function pgDump(binary: string, url: string, snapshot: string, sinks: Sink[], failed: Map<string, string>): Promise<TableFile> {
  const { dbname, env } = toolConnection(url);
  const child = spawn(binary, ['-Fc', '--no-owner', '--no-acl', `--snapshot=${snapshot}`, '--dbname', dbname], { stdio: ['ignore', 'pipe', 'pipe'], env });
  const digest = new Digest();
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => { stderr = (stderr + text).slice(-2000); });
  const exited = new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(code ?? 1));
  });
  await pipeline(child.stdout, digest, new FanOut(sinks, failed));
  const code = await exited;
  if (code !== 0) throw new Error(`pg_dump exited with ${code}: ${redactUrl(stderr.trim(), dbname)}`);
  return { table: '*', file: 'database.pgdump', columns: [], rows: 0, bytes: digest.bytes, sha256: digest.hex() };
}

/** A connection string for pg_dump/pg_restore without its password (which goes in PGPASSWORD, not the process list). */
export function toolConnection(url: string): { dbname: string; env: NodeJS.ProcessEnv } {
  const parsed = new URL(url);
  const password = decodeURIComponent(parsed.password);
  parsed.password = '';
  // The child inherits this process's environment (PATH, locale) as any child does; nothing is read from it here.
  // eslint-disable-next-line no-restricted-properties
  return { dbname: parsed.toString(), env: { ...process.env, ...(password ? { PGPASSWORD: password } : {}) } };
}

/** A tool's message without the connection string (it may carry a password). */
export function redactUrl(text: string, url: string): string {
  return text.split(url).join('<database>');
}
