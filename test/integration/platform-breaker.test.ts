import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startDnevnikSimulator, type DnevnikSimulator } from '../../adapters/dnevnikru/simulator.js';
import { generateSchool } from '../../src/demo/generator.js';
import { fixedClock } from '../../src/lib/clock.js';
import { createLogger } from '../../src/lib/logger.js';
import { listAlerts } from '../../src/sync/alerts.js';
import { PlatformUnavailableError } from '../../src/sync/host-limits.js';
import { createHttpClient } from '../../src/sync/http-client.js';
import { getRun, listRuns } from '../../src/sync/runs.js';
import type { SyncService } from '../../src/sync/service.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { createSchool } from '../support/fixtures.js';
import { waitFor } from '../support/processes.js';
import { startTestEngine } from '../support/sync-engine.js';

/** A platform that answers 5xx forever opens its host's circuit breaker: syncs are rescheduled, not burnt through their retries. */
const TODAY = '2025-10-31';
const clock = fixedClock(new Date(`${TODAY}T16:00:00+03:00`));
const FAILURES = 3;
let db: TestDatabase;
let sim: DnevnikSimulator;
let engine: SyncService;

beforeAll(async () => {
  db = await createTestDatabase({ poolSize: 6 });
  sim = await startDnevnikSimulator(generateSchool({ seed: 23, pupils: 25, year: 2025, until: TODAY }));
  engine = await startTestEngine(db, clock, { PLATFORM_BREAKER_FAILURES: String(FAILURES), PLATFORM_BREAKER_OPEN_SECONDS: '2' });
});
afterAll(async () => {
  await engine.stop();
  await sim.close();
  await db.drop();
});

describe('the circuit breaker of a platform host', () => {
  it('opens after N transient failures, refuses at once without the network, reschedules the run without spending a retry, and completes it once the host is back', async () => {
    const schoolId = await createSchool(db.pool);
    const { id: connectionId } = await engine.connections.create({ schoolId, platform: 'dnevnikru', config: sim.connectionConfig() });
    sim.setFaults({ maintenance: { requests: Infinity } });
    const before = sim.requests();
    const { run } = await engine.queue.enqueue(connectionId, 'manual', 'range', { range: { from: '2025-10-01', to: TODAY } });
    const waiting = await waitFor('the run to be rescheduled', async () => {
      const r = await getRun(db.pool, run.id);
      return r?.status === 'queued' && r.errorKind === 'unavailable' ? r : undefined;
    }, 60_000, 100);
    const host = new URL(sim.url).host;
    expect(waiting.error).toMatch(new RegExp(`^platform ${host} is unavailable \\(Дневник.ру is under maintenance \\(HTTP 550 Server Work\\)\\), retrying at \\d{4}-\\d\\d-\\d\\dT`));
    // The sync's first request failed N times (the client's own retries), then the breaker opened.
    expect(sim.requests() - before).toBe(FAILURES);

    // While open, a request through the same limiters fails at once and never reaches the platform.
    const client = createHttpClient(
      { baseUrl: sim.url, credentialKey: 'another account', classify: () => undefined },
      { limiters: engine.executor.limiters, signal: new AbortController().signal, logger: createLogger('silent'), stats: { requests: 0 } },
    );
    const seen = sim.requests();
    await expect(client.request({ url: '/v2/users/me/context' })).rejects.toBeInstanceOf(PlatformUnavailableError);
    expect(sim.requests()).toBe(seen);

    // Not a failed attempt: no retry run, no dead letter, no alert.
    expect(await engine.queue.deadLetters()).toEqual({ count: 0, oldestAt: null });
    expect(await listAlerts(db.pool, { connectionId })).toEqual([]);

    sim.setFaults({});
    const done = await waitFor('the rescheduled run to complete', async () => {
      const r = await getRun(db.pool, run.id);
      return r?.status === 'succeeded' ? r : undefined;
    }, 60_000, 200);
    expect(done).toMatchObject({ attempts: 1, error: null, errorKind: null });
    expect((await listRuns(db.pool, { connectionId })).map((r) => [r.id, r.trigger])).toEqual([[run.id, 'manual']]);
    expect(await engine.queue.deadLetters()).toEqual({ count: 0, oldestAt: null });
    const breaker = await db.pool.query('SELECT failures, open_until FROM platform_breaker WHERE host = $1', [host]);
    expect(breaker.rows).toEqual([{ failures: 0, open_until: null }]);
  }, 120_000);
});
