import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Metric } from './metrics.js';

/**
 * Syncs through the adapters, each against its simulator, both in processes of their own:
 * - `sync.*`: the initial full-year sync of a `pupils`-pupil school from the Дневник.ру simulator and the
 *   daily incremental run when nothing changed (issue: sync engine);
 * - `adapter.<id>.full_year_300_*`: the requests and time of a full-year round trip of a 300-pupil school
 *   per adapter (issue: adapters).
 */
interface SyncFigures {
  connectionId: string;
  fullSeconds: number;
  fullRequests: number;
  created: number;
  rejected: number;
  rejections: string[];
  noopSeconds: number;
  noopOwnCpuSeconds: number;
  noopRequests: number;
  noopChanged: number;
  classes: number;
  peakRssMb: number;
}

interface NoopRun {
  seconds: number;
  cpuSeconds: number;
  requests: number;
  changed: number;
}

interface NoopFigures {
  cold: NoopRun;
  warm: NoopRun;
  classes: number;
}

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

function node(script: string, args: string[], heapMb?: number, env: Record<string, string> = {}): ChildProcess {
  const flags = ['--import', 'tsx', ...(heapMb ? [`--max-old-space-size=${heapMb}`] : [])];
  return spawn(process.execPath, [...flags, here(script), ...args], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
}

async function firstLine(child: ChildProcess): Promise<string> {
  const lines = createInterface({ input: child.stdout! });
  for await (const line of lines) if (line.trim()) return line;
  throw new Error('the child process ended without output');
}

async function output<T>(child: ChildProcess): Promise<T> {
  const figures = JSON.parse(await firstLine(child)) as T;
  await new Promise((resolve) => child.once('exit', resolve));
  return figures;
}

/** A platform's simulator in a process of its own while `work` runs against its connection config. */
async function withSimulator<T>(platform: string, pupils: number, work: (config: string) => Promise<T>): Promise<T> {
  const simulator = node('./simulator.ts', [platform, String(pupils)]);
  try {
    return await work(await firstLine(simulator));
  } finally {
    simulator.kill('SIGTERM');
  }
}

/** The full-year sync with the 256 MB V8 heap of a small container (like the journal part of the bench). */
function fullSync(platform: string, pupils: number, url: string, config: string, env: Record<string, string> = {}): Promise<SyncFigures> {
  return output<SyncFigures>(node('./sync-run.ts', [platform, String(pupils), url, config, 'full'], 256, env));
}

/**
 * The daily no-op runs in a process of their own started as the service's worker is (Node's default
 * heap), since a capped heap right after a year's import measures its garbage collector.
 */
function noopSyncs(platform: string, pupils: number, url: string, config: string, connectionId: string): Promise<NoopFigures> {
  return output<NoopFigures>(node('./sync-run.ts', [platform, String(pupils), url, config, 'noop', connectionId]));
}

export async function benchSync(o: { url: string; pupils: number; log: (m: string) => void }): Promise<Metric[]> {
  const metrics: Metric[] = [];
  const platforms = (process.env.BENCH_SYNC_PLATFORMS ?? 'dnevnikru,netschool,edutatar,kundoluk').split(',');
  if (process.env.BENCH_SYNC_BIG !== '0') metrics.push(...(await benchBig(o)));
  if (platforms.includes('netschool')) metrics.push(...(await benchSharedLimiter(o)));
  for (const platform of platforms) {
    o.log(`adapter ${platform}: full year of a 300-pupil school`);
    const small = await withSimulator(platform, 300, (config) => fullSync(platform, 300, o.url, config));
    o.log(`  ${small.fullSeconds.toFixed(1)} s, ${small.fullRequests} requests, ${small.rejected} rejected; no-op daily ${small.noopRequests} requests`);
    for (const r of small.rejections) o.log(`  rejected: ${r}`);
    metrics.push(
      { name: `adapter.${platform}.full_year_300_s`, value: round(small.fullSeconds, 1), unit: 's' },
      { name: `adapter.${platform}.full_year_300_requests`, value: small.fullRequests, unit: 'requests' },
      { name: `adapter.${platform}.noop_daily_300_requests`, value: small.noopRequests, unit: 'requests' },
    );
  }
  return metrics;
}

/**
 * What the request slots in Postgres (one statement per request, shared by every process) cost against
 * the in-process limiter, on the platform that needs the most requests (NetSchool, pupil by pupil).
 */
async function benchSharedLimiter(o: { url: string; log: (m: string) => void }): Promise<Metric[]> {
  o.log('shared limiter: NetSchool full year of a 300-pupil school, slots in Postgres vs in memory');
  const [shared, memory] = await withSimulator('netschool', 300, async (config) => [
    await fullSync('netschool', 300, o.url, config),
    await fullSync('netschool', 300, o.url, config, { BENCH_LIMITER: 'memory' }),
  ]);
  o.log(`  Postgres slots ${shared!.fullSeconds.toFixed(1)} s, in memory ${memory!.fullSeconds.toFixed(1)} s (${shared!.fullRequests} requests)`);
  return [
    { name: 'sync.shared_limiter_netschool_300_s', value: round(shared!.fullSeconds, 1), unit: 's' },
    { name: 'sync.memory_limiter_netschool_300_s', value: round(memory!.fullSeconds, 1), unit: 's' },
    { name: 'sync.shared_vs_memory_limiter', value: round(shared!.fullSeconds / memory!.fullSeconds, 3), unit: 'ratio' },
  ];
}

async function benchBig(o: { url: string; pupils: number; log: (m: string) => void }): Promise<Metric[]> {
  const metrics: Metric[] = [];
  o.log(`sync: full year of a ${o.pupils}-pupil school from the Дневник.ру simulator, then a no-op daily run`);
  const { big, noop } = await withSimulator('dnevnikru', o.pupils, async (config) => {
    const full = await fullSync('dnevnikru', o.pupils, o.url, config);
    return { big: full, noop: await noopSyncs('dnevnikru', o.pupils, o.url, config, full.connectionId) };
  });
  const daily = noop.warm;
  o.log(`  full year: ${big.fullSeconds.toFixed(1)} s, ${big.fullRequests} requests, ${big.rejected} rejected, peak RSS ${big.peakRssMb} MB`);
  for (const r of big.rejections) o.log(`  rejected: ${r}`);
  o.log(`  no-op daily, worker process (median of 3 warm runs): ${daily.seconds.toFixed(2)} s (${daily.cpuSeconds.toFixed(2)} s CPU; cold process ${noop.cold.cpuSeconds.toFixed(2)} s), ${daily.requests} requests for ${noop.classes} classes, ${daily.changed} changes`);
  o.log(`  no-op daily right after the import, 256 MB heap: ${big.noopSeconds.toFixed(2)} s (${big.noopOwnCpuSeconds.toFixed(2)} s CPU)`);
  metrics.push(
    { name: 'sync.full_year_s', value: round(big.fullSeconds, 1), unit: 's' },
    { name: 'sync.full_year_requests', value: big.fullRequests, unit: 'requests' },
    { name: 'sync.full_year_rows_per_s', value: Math.round(big.created / big.fullSeconds), unit: 'rows/s' },
    { name: 'sync.peak_rss_mb', value: big.peakRssMb, unit: 'MB' },
    { name: 'sync.noop_daily_s', value: round(daily.seconds, 2), unit: 's' },
    { name: 'sync.noop_daily_cpu_s', value: round(daily.cpuSeconds, 2), unit: 's' },
    { name: 'sync.noop_daily_cold_cpu_s', value: round(noop.cold.cpuSeconds, 2), unit: 's' },
    { name: 'sync.noop_daily_256mb_cpu_s', value: round(big.noopOwnCpuSeconds, 2), unit: 's' },
    { name: 'sync.noop_daily_requests_per_class', value: round(daily.requests / noop.classes, 1), unit: 'requests' },
    { name: 'sync.noop_daily_changes', value: daily.changed, unit: 'rows' },
  );
  return metrics;
}

function round(value: number, digits: number): number {
  return Number(value.toFixed(digits));
}
