import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { generateSchool } from '../../src/demo/generator.js';
import { demoAdminToken } from '../support/api.js';
import { runCli, tempDataDir, waitFor } from '../support/processes.js';

/**
 * `npm start` as a newcomer runs it — no DATABASE_URL, so an embedded Postgres in DATA_DIR, the demo
 * school loaded behind a listening server, its platforms synced through the adapters — and then
 * one shutdown path, whichever process gets which signal, during a sync, on a loaded machine: the
 * service drains (the sync ends after its current batch and gives its lease back, queued again), stops
 * the embedded Postgres last and exits 0; nothing is left running — not the node process behind `npm
 * start`, not Postgres — and the interrupted sync resumes at the next start and completes.
 *
 * Five starts of the service (and two one-shot commands): the fresh start's process is the one the first
 * signal case stops (its demo loaded and its platforms synced, a sync in flight), and each later start is
 * also the «next start» of the case before it (it resumes the run that case interrupted, and that run is
 * what it catches: one full NetSchool sync in all, resumed start after start).
 * The machine is loaded (two CPU burners on the two cores) from just before each signal until the service
 * has ended: the shutdown is what must hold under load; starting and syncing under it only took longer.
 * The demo's size is its minimum: pupils add requests (Kundoluk logs in per pupil account), not lessons or
 * classes, and NetSchool's full sync of the year so far is still many batches long.
 */

const PUPILS = 25;
let dataDir: string;
/** Every service process tree started here, to be killed in afterAll if a failed case left one running. */
const launched: ChildProcess[] = [];

interface Started {
  leader: ChildProcess;
  /** The service's own node process (behind npm and its shell, for `npm start`). */
  pid: number;
  base: string;
  log: string[];
  leaderExit: Promise<number | null>;
}

function launch(via: 'node' | 'npm'): Promise<Started> {
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'info', DEMO_PUPILS: String(PUPILS), SYNC_CONCURRENCY: '2' };
  const [command, args] = via === 'npm' ? ['npm', ['start']] : [process.execPath, ['--import', 'tsx', 'src/cli.ts', 'start']];
  // detached: a process group of its own, as a terminal gives `npm start` (Ctrl-C signals the whole group).
  const leader = spawn(command as string, args as string[], { env, detached: true, stdio: ['ignore', 'pipe', 'inherit'] });
  launched.push(leader);
  const leaderExit = new Promise<number | null>((resolve) => leader.once('exit', (code) => resolve(code)));
  const log: string[] = [];
  return new Promise((resolve, reject) => {
    let buffered = '';
    let base: string | undefined;
    leader.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        log.push(line);
        base ??= /"url":"(http:\/\/[^"]+)".*listening/.exec(line)?.[1];
        const pid = /"pid":(\d+).*journal bridge started/.exec(line)?.[1];
        if (pid && base) resolve({ leader, pid: Number(pid), base, log, leaderExit });
      }
    });
    void leaderExit.then((code) => reject(new Error(`the service exited (${code}) before it started:\n${log.join('\n')}`)));
  });
}

interface Run {
  id: string;
  status: string;
  mode: string;
  error: string | null;
  progress: Record<string, { batches: number }>;
}

/** The demo administrator's session per service address (sessions live in the database, so they outlast a restart). */
const tokens = new Map<string, Promise<string>>();
function signedIn(url: string, init: RequestInit = {}): Promise<Response> {
  const { origin, pathname } = new URL(url);
  if (!pathname.startsWith('/v1/')) return fetch(url, init);
  if (!tokens.has(origin)) tokens.set(origin, demoAdminToken(origin, dataDir));
  return tokens.get(origin)!.then((token) => fetch(url, { ...init, headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${token}` } }));
}

async function json<T>(url: string, init?: RequestInit): Promise<T> {
  const response = await signedIn(url, init);
  return (await response.json()) as T;
}

/**
 * A full sync that is running and has applied a batch (long enough to be caught mid-way, unlike a scheduled
 * incremental one that may end at once): the run a case before interrupted, resumed, while it is still
 * waiting to be resumed or running; else (none, or it has finished) a new full sync of the demo's NetSchool
 * connection, its slowest. Waiting for the resumed run itself, not for a while, keeps every start from
 * leaving a second full run behind for the next start to finish.
 */
async function syncInFlight(base: string): Promise<void> {
  const { data } = await waitFor('the demo connections', async () => {
    const list = await json<{ data: Array<{ id: string; platform: string }> }>(`${base}/v1/connections`);
    return list.data.length >= 4 ? list : undefined;
  }, 60_000);
  const connection = data.find((c) => c.platform === 'netschool')!;
  await waitFor('a full sync to apply a batch', async () => {
    // Queued before running: a run that starts between the two reads is seen in one of them.
    const queued = (await json<{ data: Run[] }>(`${base}/v1/sync-runs?status=queued`)).data.filter((r) => r.mode === 'full');
    const running = (await json<{ data: Run[] }>(`${base}/v1/sync-runs?status=running`)).data.filter((r) => r.mode === 'full');
    if (running.some((r) => Object.values(r.progress ?? {}).some((p) => p.batches > 0))) return true;
    if (running.length === 0 && queued.length === 0) {
      await signedIn(`${base}/v1/connections/${connection.id}/sync`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ mode: 'full' }),
      });
    }
    return undefined;
  }, 120_000, 100);
}

/**
 * Two busy processes on the two cores, spinning once this resolves (each says so before its loop);
 * the returned function stops them and resolves once they are gone.
 */
async function loadTheMachine(): Promise<() => Promise<void>> {
  const burners = Array.from({ length: 2 }, () => spawn(process.execPath, ['-e', 'process.stdout.write("spinning\\n"); for (;;) {}'], { stdio: ['ignore', 'pipe', 'ignore'] }));
  const gone = burners.map((b) => new Promise<void>((resolve) => b.once('exit', () => resolve())));
  const stop = async () => {
    for (const burner of burners) burner.kill('SIGKILL');
    await Promise.all(gone);
  };
  try {
    await Promise.all(burners.map((b) => new Promise<void>((resolve, reject) => {
      b.stdout!.once('data', () => resolve());
      b.once('exit', (code) => reject(new Error(`a burner exited (${code}) before it spun`)));
    })));
  } catch (error) {
    await stop();
    throw error;
  }
  return stop;
}

/** A one-shot command on the same data directory (its own embedded Postgres start). */
const cli = (args: string[]) => runCli(args, { DATA_DIR: dataDir });

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Processes whose command line names the data directory (the postmaster and its backends). */
async function processesOf(dir: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(dir)) pids.push(Number(entry));
  }
  return pids;
}

/** The fresh start's service, left running for the first signal case to stop during a sync. */
let fresh: Started | undefined;

describe('npm start on a fresh machine', () => {
  it('serves /health and a filled journal page, and syncs the demo platforms through their adapters', async () => {
    dataDir = await tempDataDir();
    // PORT 0: the OS gives a free port, which the service logs.
    const first = await launch('node');
    const base = first.base;
    const health = await waitFor('the demo', async () => {
      const body = await json<{ status: string; demo: { status: string }; counts: { marks: number } }>(`${base}/health`);
      return body.demo.status === 'ready' ? body : undefined;
    }, 120_000);
    expect(health.status).toBe('ok');
    expect(health.counts.marks).toBeGreaterThan(1000);
    const schools = await json<{ data: Array<{ id: string }> }>(`${base}/v1/schools`);
    const classes = await json<{ data: Array<{ id: string; name: string }> }>(`${base}/v1/schools/${schools.data[0]!.id}/classes`);
    const cls = classes.data.find((c) => c.name === '5А')!;
    const subjects = await json<{ error: { details: { subjects: Array<{ id: string; name: string }> } } }>(`${base}/v1/classes/${cls.id}/journal`);
    const math = subjects.error.details.subjects.find((s) => s.name === 'Математика')!;
    const page = await json<{ lessons: unknown[]; rows: Array<{ cells: Array<{ marks: unknown[] }> }> }>(`${base}/v1/classes/${cls.id}/journal?subject=${math.id}`);
    expect(page.lessons.length).toBeGreaterThan(0);
    expect(page.rows.flatMap((r) => r.cells).some((c) => c.marks.length > 0)).toBe(true);

    // The demo's platforms: the simulators' connections, synced through the adapters.
    const connections = await waitFor('the demo connections', async () => {
      const list = await json<{ data: Array<{ id: string; platform: string }> }>(`${base}/v1/connections`);
      return list.data.length >= 4 ? list : undefined;
    }, 30_000);
    // And the demo's robotics club, which pushes its records through the API instead of being synced.
    expect(connections.data.map((c) => c.platform).sort()).toEqual(['dnevnikru', 'edutatar', 'kundoluk', 'netschool', 'push']);
    expect(JSON.stringify(connections.data)).not.toMatch(/"password"\s*:/);
    for (const connection of connections.data.filter((c) => c.platform !== 'push')) {
      const run = await waitFor(`the first ${connection.platform} sync`, async () => {
        const runs = await json<{ data: Array<Run & { counts: Record<string, { created: number }> }> }>(`${base}/v1/sync-runs?connection=${connection.id}`);
        return runs.data.find((r) => r.status !== 'queued' && r.status !== 'running');
      }, 150_000);
      expect(run.status).toBe('succeeded');
      expect(Object.values(run.counts).reduce((n, c) => n + c.created, 0)).toBeGreaterThan(100);
    }
    // Every platform names the subgroups its own way («5А англ. гр. 1», «5А Английский язык гр. 1», «… 1 группа»): still one group each.
    const after = await json<{ data: Array<{ name: string }> }>(`${base}/v1/schools/${schools.data[0]!.id}/classes`);
    expect(after.data).toHaveLength(generateSchool({ seed: 1, pupils: PUPILS, year: 2025 }).groups.length);
    fresh = first;
  }, 300_000);
});

afterAll(async () => {
  for (const leader of launched) if (leader.exitCode === null && leader.signalCode === null) process.kill(-leader.pid!, 'SIGKILL');
  for (const pid of await processesOf(dataDir)) process.kill(pid, 'SIGKILL');
  await rm(dataDir, { recursive: true, force: true });
});

const interrupted: string[] = [];

describe('a loaded machine', () => {
  describe.each([
    // The fresh start's process (a stop with nothing to drain is the next start's, below).
    { target: 'the node process', via: 'node' as const, signal: 'SIGTERM' as const, started: 'the fresh start' },
    { target: 'the node process', via: 'node' as const, signal: 'SIGINT' as const, started: 'a restart' },
    { target: 'npm (npm start)', via: 'npm' as const, signal: 'SIGTERM' as const, started: 'a restart' },
    { target: "npm start's process group (Ctrl-C in a terminal)", via: 'npm' as const, signal: 'SIGINT' as const, started: 'a restart' },
  ])('$signal to $target during a sync ($started)', ({ via, signal, target, started }) => {
    it('drains the sync, stops Postgres last, exits 0 and leaves nothing running', async () => {
      // Without the fresh service (the first case failed), this case starts its own.
      const service = (started === 'the fresh start' && fresh) || (await launch(via));
      fresh = undefined;
      await syncInFlight(service.base);
      // Two busy processes on the two cores from before the signal until the service has ended.
      const unload = await loadTheMachine();
      try {
        if (target.includes('group')) process.kill(-service.leader.pid!, signal);
        else process.kill(via === 'npm' ? service.leader.pid! : service.pid, signal);
        await waitFor('the service process to end', async () => (alive(service.pid) ? undefined : true), 120_000, 100);
        await service.leaderExit;
      } finally {
        await unload();
      }
      if (via === 'node') expect(service.leader.exitCode).toBe(0);
      const entries = service.log.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as { level: number; msg: string; runId?: string });
      for (const e of entries) if (e.msg === 'sync run interrupted by the shutdown: queued again') interrupted.push(e.runId!);
      expect(entries.filter((e) => e.level >= 50)).toEqual([]);
      const messages = entries.map((e) => e.msg);
      expect(messages).toContain('shutting down');
      expect(messages).toContain('sync run interrupted by the shutdown: queued again');
      expect(messages[messages.length - 1]).toBe('stopped');
      expect(messages.indexOf('sync run interrupted by the shutdown: queued again')).toBeLessThan(messages.indexOf('stopped'));
      expect(await processesOf(dataDir)).toEqual([]);
      expect(existsSync(path.join(dataDir, 'pg', 'postmaster.pid'))).toBe(false);
    }, 240_000);
  });
});

describe('the next start', () => {
  it('resumes every interrupted sync to its end, with its lease given back and the chain intact', async () => {
    expect(interrupted.length).toBeGreaterThanOrEqual(4);
    const service = await launch('node');
    try {
      for (const runId of new Set(interrupted)) {
        const run = await waitFor(`run ${runId} to finish`, async () => {
          const now = await json<Run>(`${service.base}/v1/sync-runs/${runId}`);
          return now.status === 'succeeded' || now.status === 'partial' || now.status === 'failed' ? now : undefined;
        }, 180_000, 500);
        expect({ run: runId, status: run.status, error: run.error }).toEqual({ run: runId, status: 'succeeded', error: null });
      }
    } finally {
      // A stop with nothing to drain: exit 0, Postgres stopped.
      process.kill(service.pid, 'SIGTERM');
      expect(await service.leaderExit).toBe(0);
    }
    expect(existsSync(path.join(dataDir, 'pg', 'postmaster.pid'))).toBe(false);
    // After that stop too, no run is left «running» (a scheduled one may have started meanwhile): every lease was given back.
    const runs = await cli(['sync', 'runs', '--status', 'running']);
    expect(runs.code).toBe(0);
    expect(JSON.parse(runs.stdout)).toEqual([]);
    const verify = await cli(['journal', 'verify']);
    expect(verify.stdout).toMatch(/OK, \d+ events checked against \d+ anchors/);
    expect(verify.code).toBe(0);
  }, 300_000);
});
