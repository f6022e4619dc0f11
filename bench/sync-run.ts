import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { adapters } from '../adapters/index.js';
import { createPool } from '../src/db/pool.js';
import { fixedClock } from '../src/lib/clock.js';
import { createLogger } from '../src/lib/logger.js';
import { Limiters } from '../src/sync/http-client.js';
import { syncStreams } from '../src/sync/run-streams.js';
import { createTenant } from './journal.js';
import { generateSchool } from '../src/demo/generator.js';

/** A CPU profile of what follows (BENCH_CPU_PROFILE=<file>: where the no-op run's own time goes). */
async function startProfiler(): Promise<{ stop(): Promise<unknown> }> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return { stop: async () => (await session.post('Profiler.stop')).profile };
}

/**
 * One platform's sync in a process of its own (its peak RSS is the sync's): the initial full-year
 * sync of a generated school from the simulator, then a daily incremental run (the 14-day look-back
 * window) when nothing changed. Prints one JSON line of figures.
 * `node --import tsx bench/sync-run.ts <platform> <pupils> <database url> <config json>`
 */
const [platform, pupils, url, configJson] = process.argv.slice(2) as [string, string, string, string];
const pool = createPool(url, 4);
const logger = createLogger('warn');
const school = generateSchool({ seed: 2025, pupils: Number(pupils), year: 2025 });
const { connectionId } = await createTenant(pool, school, platform);
const year = { from: school.year.startDate, to: school.year.endDate };
const limiters = new Limiters();
const deps = { pool, clock: fixedClock(new Date(`${year.to}T18:00:00+03:00`)), logger, limiters, adapters };
const config = JSON.parse(configJson) as unknown;

const started = performance.now();
const full = await syncStreams(deps, { connectionId, config, range: year, detectGone: true });
const fullSeconds = (performance.now() - started) / 1000;
const rejected = full.streams.reduce((n, s) => n + s.rejected.length, 0);
const created = full.streams.reduce((n, s) => n + s.created, 0);
const rejections = full.streams.flatMap((s) => s.rejected.slice(0, 3).map((r) => `${s.stream}: ${r.type ?? '?'} ${r.reason}`));

const window = { from: '2026-05-18', to: year.to };
const profiler = process.env.BENCH_CPU_PROFILE ? await startProfiler() : undefined;
const cpu = process.cpuUsage();
const noopStarted = performance.now();
const noop = await syncStreams(deps, { connectionId, config, range: window, detectGone: true });
const noopSeconds = (performance.now() - noopStarted) / 1000;
const ownCpu = process.cpuUsage(cpu);
if (profiler) await writeFile(process.env.BENCH_CPU_PROFILE!, JSON.stringify(await profiler.stop()));
const changed = noop.streams.reduce((n, s) => n + s.created + s.updated + s.deleted, 0);
const classes = school.groups.filter((g) => g.kind === 'class').length;
process.stdout.write(`${JSON.stringify({
  fullSeconds, fullRequests: full.requests, created, rejected, rejections, noopSeconds, noopOwnCpuSeconds: (ownCpu.user + ownCpu.system) / 1e6,
  noopRequests: noop.requests, noopChanged: changed, classes, peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
})}\n`);
await limiters.stop();
await pool.end();
