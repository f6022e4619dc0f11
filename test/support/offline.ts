import { afterAll, afterEach, beforeAll } from '@jest/globals';
import nock from 'nock';
import type { AdapterContext, AnyAdapter, DateRange } from '../../src/ports/adapter.js';
import { Limiters } from '../../src/sync/host-limits.js';
import { harnessContext, memoryLogger } from './adapter-harness.js';

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
    return { ctx: harnessContext(adapter, { ...options, logger: log.logger, limiters }), log };
  };
}
