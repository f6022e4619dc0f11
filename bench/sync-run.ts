import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { adapters } from '../adapters/index.js';
import { createPool } from '../src/db/pool.js';
import { generateSchool } from '../src/demo/generator.js';
import { fixedClock } from '../src/lib/clock.js';
import { createLogger } from '../src/lib/logger.js';
import { Limiters } from '../src/sync/host-limits.js';
import { syncStreams, type SyncDeps, type SyncResult } from '../src/sync/run-streams.js';
import { createTenant } from './journal.js';

/**
 * One platform's sync in a process of its own, so that its peak RSS and CPU are the sync's:
 * - `full`: the initial full-year sync of a generated school into a new tenant, then a daily incremental
 *   run (the 14-day look-back window) when nothing changed, in the same process;
 * - `noop <connection id>`: daily incremental runs of that tenant in a process like the service's worker
 *   (no heap cap given by the caller): the first run (cold), two more to warm the JIT up, then the median
 *   of three (warm: a worker that has been syncing all day).
 * Requests pass the service's gate (slots and breakers in Postgres); BENCH_LIMITER=memory keeps them in memory.
 * Prints one JSON line of figures. BENCH_CPU_PROFILE=<file> writes a CPU profile of the last no-op run.
 * `node --import tsx bench/sync-run.ts <platform> <pupils> <database url> <config json> full|noop [connection id]`
 */
const [platform, pupils, url, configJson, mode = 'full', tenant] = process.argv.slice(2) as [string, string, string, string, string?, string?];
const pool = createPool(url, 4);
const school = generateSchool({ seed: 2025, pupils: Number(pupils), year: 2025 });
const year = { from: school.year.startDate, to: school.year.endDate };
const window = { from: '2026-05-18', to: year.to };
// As the service does: request slots and breakers in Postgres (BENCH_LIMITER=memory: in this process only, the baseline).
const limiters = process.env.BENCH_LIMITER === 'memory' ? new Limiters() : new Limiters({ pool });
const deps: SyncDeps = { pool, clock: fixedClock(new Date(`${year.to}T18:00:00+03:00`)), logger: createLogger('warn'), limiters, adapters };
const config = JSON.parse(configJson) as unknown;
const classes = school.groups.filter((g) => g.kind === 'class').length;

/** A CPU profile of what `work` does. */
async function profiled<T>(file: string | undefined, work: () => Promise<T>): Promise<T> {
  if (!file) return work();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  const result = await work();
  await writeFile(file, JSON.stringify((await session.post('Profiler.stop')).profile));
  session.disconnect();
  return result;
}

/** A no-op daily run: its wall time, this process's CPU time, requests and changes. */
async function noopRun(connectionId: string, profile?: string) {
  const cpu = process.cpuUsage();
  const started = performance.now();
  const noop: SyncResult = await profiled(profile, () => syncStreams(deps, { connectionId, config, range: window, detectGone: true }));
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  const changed = noop.streams.reduce((n, s) => n + s.created + s.updated + s.deleted, 0);
  return { seconds, cpuSeconds: (used.user + used.system) / 1e6, requests: noop.requests, changed };
}

async function full() {
  const { connectionId } = await createTenant(pool, school, platform);
  const started = performance.now();
  const result = await syncStreams(deps, { connectionId, config, range: year, detectGone: true });
  const fullSeconds = (performance.now() - started) / 1000;
  const noop = await noopRun(connectionId);
  return {
    connectionId, fullSeconds, fullRequests: result.requests,
    created: result.streams.reduce((n, s) => n + s.created, 0),
    rejected: result.streams.reduce((n, s) => n + s.rejected.length, 0),
    rejections: result.streams.flatMap((s) => s.rejected.slice(0, 3).map((r) => `${s.stream}: ${r.type ?? '?'} ${r.reason}`)),
    noopSeconds: noop.seconds, noopOwnCpuSeconds: noop.cpuSeconds, noopRequests: noop.requests, noopChanged: noop.changed,
    classes, peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
  };
}

/** Runs after the first until the JIT has settled (as in a worker that has synced all day), then the measured ones. */
const WARM_UP_RUNS = 2;
const MEASURED_RUNS = 3;

async function noopOnly(connectionId: string) {
  const cold = await noopRun(connectionId);
  for (let i = 0; i < WARM_UP_RUNS; i++) await noopRun(connectionId);
  const measured = [];
  for (let i = 0; i < MEASURED_RUNS; i++) measured.push(await noopRun(connectionId, i === MEASURED_RUNS - 1 ? process.env.BENCH_CPU_PROFILE : undefined));
  const warm = measured.sort((a, b) => a.cpuSeconds - b.cpuSeconds)[Math.floor(MEASURED_RUNS / 2)]!;
  return { cold, warm, classes };
}

const figures = mode === 'noop' ? await noopOnly(tenant!) : await full();
process.stdout.write(`${JSON.stringify(figures)}\n`);
await limiters.stop();
await pool.end();
