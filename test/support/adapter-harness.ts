import type { Writable } from 'node:stream';
import { pino } from 'pino';
import type { DemoSchool } from '../../src/demo/generator.js';
import { fixedClock } from '../../src/lib/clock.js';
import type { Logger } from '../../src/lib/logger.js';
import type { Adapter, AdapterContext, AnyAdapter, DateRange } from '../../src/ports/adapter.js';
import type { PlatformSpelling, SimulatorHandle } from '../../src/ports/simulator.js';
import { createAdapterContext, type RunObserver } from '../../src/sync/adapter-context.js';
import { Limiters } from '../../src/sync/host-limits.js';

/** Starts a registered adapter's simulator serving `school` on a free loopback port. */
export async function startSimulator(adapter: AnyAdapter, school: DemoSchool, options?: Record<string, unknown>): Promise<SimulatorHandle> {
  return (await adapter.simulator()).start(school, options);
}

/** How the adapter's platform spells the generated school (its simulator says). */
export async function spellingOf(adapter: AnyAdapter, school: DemoSchool): Promise<PlatformSpelling> {
  return (await adapter.simulator()).spelling(school);
}

/** A logger writing JSON lines into memory, so a test can read everything that was logged. */
export function memoryLogger(level = 'debug'): { logger: Logger; text(): string } {
  const lines: string[] = [];
  const sink = { write: (chunk: string) => lines.push(chunk) } as unknown as Writable;
  return { logger: pino({ level }, sink as pino.DestinationStream), text: () => lines.join('') };
}

export interface HarnessContextOptions {
  config: unknown;
  range: DateRange;
  /** Default: Europe/Moscow. */
  timeZone?: string;
  logger?: Logger;
  signal?: AbortSignal;
  now?: Date;
  limiters?: Limiters;
  observer?: RunObserver;
}

/** An adapter context as the sync engine builds it, for calling an adapter directly. */
export function harnessContext<C>(adapter: Adapter<C>, options: HarnessContextOptions): AdapterContext<C> & { stats: { requests: number } } {
  return createAdapterContext({
    adapter: adapter as AnyAdapter,
    config: options.config,
    range: options.range,
    timeZone: options.timeZone ?? 'Europe/Moscow',
    signal: options.signal ?? new AbortController().signal,
    clock: fixedClock(options.now ?? new Date(`${options.range.to}T18:00:00+03:00`)),
    logger: options.logger ?? memoryLogger('warn').logger,
    limiters: options.limiters ?? new Limiters(),
    observer: options.observer,
  }) as AdapterContext<C> & { stats: { requests: number } };
}
