import { afterAll, afterEach, beforeAll } from '@jest/globals';
import nock from 'nock';
import { fixedClock } from '../../src/lib/clock.js';
import type { AdapterContext, AnyAdapter, DateRange } from '../../src/ports/adapter.js';
import { createAdapterContext } from '../../src/sync/adapter-context.js';
import { Limiters } from '../../src/sync/http-client.js';
import { memoryLogger } from './adapter-harness.js';

/**
 * A fixture test file's set-up: the network off (only nock's interceptors answer), interceptors cleared
 * after each test, one set of host limiters for the file. Returns a maker of adapter contexts with the
 * log kept in memory, as the sync engine would build them for `adapter`.
 */
export function offlineAdapter(adapter: AnyAdapter, options: { config: unknown; range: DateRange; timeZone: string; now: Date }): () => { ctx: AdapterContext<unknown>; log: ReturnType<typeof memoryLogger> } {
  const limiters = new Limiters();
  beforeAll(() => nock.disableNetConnect());
  afterEach(() => nock.cleanAll());
  afterAll(async () => {
    nock.enableNetConnect();
    await limiters.stop();
  });
  return () => {
    const log = memoryLogger('debug');
    const ctx = createAdapterContext({
      adapter, config: options.config, range: options.range, timeZone: options.timeZone, signal: new AbortController().signal,
      clock: fixedClock(options.now), logger: log.logger, limiters,
    });
    return { ctx, log };
  };
}
