import type { Writable } from 'node:stream';
import { pino } from 'pino';
import type { DemoSchool } from '../../src/demo/generator.js';
import { fixedClock } from '../../src/lib/clock.js';
import type { Logger } from '../../src/lib/logger.js';
import type { AdapterContext, AnyAdapter, DateRange } from '../../src/ports/adapter.js';
import type { SimulatorHandle } from '../../src/ports/simulator.js';
import { createAdapterContext } from '../../src/sync/adapter-context.js';
import { Limiters } from '../../src/sync/http-client.js';

/** How the shared tests drive one adapter and its simulator. One per registered adapter. */
export interface AdapterHarness {
  adapter: AnyAdapter;
  /** Starts the platform's simulator serving `school` on a free loopback port. */
  start(school: DemoSchool): Promise<SimulatorHandle>;
  /** A configuration that works against the simulator (secrets included). */
  config(sim: SimulatorHandle): Record<string, unknown>;
  /** The same with a wrong password / token. */
  badConfig(sim: SimulatorHandle): Record<string, unknown>;
  /** Values that must never show up in logs (passwords, tokens). */
  secrets(sim: SimulatorHandle): string[];
}

/** A logger writing JSON lines into memory, so a test can read everything that was logged. */
export function memoryLogger(level = 'debug'): { logger: Logger; text(): string } {
  const lines: string[] = [];
  const sink = { write: (chunk: string) => lines.push(chunk) } as unknown as Writable;
  return { logger: pino({ level }, sink as pino.DestinationStream), text: () => lines.join('') };
}

export interface HarnessContextOptions {
  config: Record<string, unknown>;
  range: DateRange;
  logger?: Logger;
  signal?: AbortSignal;
  now?: Date;
  limiters?: Limiters;
}

/** An adapter context as the sync engine builds it, for calling an adapter directly. */
export function harnessContext(harness: AdapterHarness, options: HarnessContextOptions): AdapterContext<unknown> & { stats: { requests: number } } {
  return createAdapterContext({
    adapter: harness.adapter,
    config: options.config,
    range: options.range,
    timeZone: 'Europe/Moscow',
    signal: options.signal ?? new AbortController().signal,
    clock: fixedClock(options.now ?? new Date(`${options.range.to}T18:00:00+03:00`)),
    logger: options.logger ?? memoryLogger('warn').logger,
    limiters: options.limiters ?? new Limiters(),
  });
}
