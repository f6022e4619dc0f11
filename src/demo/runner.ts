import type { Pool } from '../db/pool.js';
import type { Clock } from '../lib/clock.js';
import { describeError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { hasSchools, loadDemoSchool } from './load.js';

export type DemoState = { status: 'off' | 'loading' | 'ready' } | { status: 'failed'; error: string };

export interface DemoSettings {
  mode: 'auto' | 'on' | 'off';
  seed: number;
  pupils: number;
}

/**
 * The demo of `npm start` with nothing configured: a generated school of the current academic year up
 * to today, loaded behind the listening server; `state()` is what /health shows.
 */
export class DemoRunner {
  private current: DemoState = { status: 'off' };
  private readonly abort = new AbortController();
  private running: Promise<void> = Promise.resolve();

  constructor(private readonly deps: { pool: Pool; clock: Clock; logger: Logger }, private readonly settings: DemoSettings) {}

  state(): DemoState {
    return this.current;
  }

  async start(): Promise<void> {
    const wanted = this.settings.mode === 'on' || (this.settings.mode === 'auto' && !(await hasSchools(this.deps.pool)));
    if (wanted) this.running = this.load();
  }

  /** Resolves when the demo is loaded (or failed, or was never wanted). */
  loaded(): Promise<void> {
    return this.running;
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
  }

  private async load(): Promise<void> {
    this.current = { status: 'loading' };
    const started = performance.now();
    const now = this.deps.clock.now();
    const year = now.getUTCMonth() >= 8 ? now.getUTCFullYear() : now.getUTCFullYear() - 1;
    try {
      const result = await loadDemoSchool(this.deps, {
        seed: this.settings.seed, pupils: this.settings.pupils, year, until: now.toISOString().slice(0, 10),
      }, { signal: this.abort.signal });
      this.current = { status: 'ready' };
      this.deps.logger.info({ ...result, seconds: Math.round(performance.now() - started) / 1000 }, 'demo school loaded');
    } catch (error) {
      this.current = { status: 'failed', error: describeError(error) };
      if (!this.abort.signal.aborted) this.deps.logger.error({ error: describeError(error) }, 'loading the demo school failed');
    }
  }
}
