import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { DnevnikSimulator } from '../../adapters/dnevnik/simulator.js';
import { generateSchool, type DemoSchool } from '../../src/demo/generator.js';
import { AdapterError } from '../../src/ports/adapter.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { dnevnikHarness, dnevnikSpelling } from '../support/harness-dnevnik.js';
import { compareWithTruth, syncFromSimulator } from '../support/round-trip.js';

const RANGE = { from: '2025-09-01', to: '2025-10-31' };
let db: TestDatabase;
let truth: DemoSchool;
let sim: DnevnikSimulator;

beforeAll(async () => {
  db = await createTestDatabase();
  truth = generateSchool({ seed: 5, pupils: 60, year: 2025, until: RANGE.to });
  sim = (await dnevnikHarness.start(truth)) as DnevnikSimulator;
});
afterAll(async () => {
  await sim.close();
  await db.drop();
});

async function expectJournalEqualsTruth(schoolId: string): Promise<void> {
  const differences = await compareWithTruth(db.pool, schoolId, truth, RANGE, dnevnikSpelling);
  for (const d of differences) {
    expect({ what: d.what, missing: d.missing, extra: d.extra }).toEqual({ what: d.what, missing: [], extra: [] });
    expect(d.truth).toBeGreaterThan(0);
  }
}

describe('Дневник.ру round trip: generated school → simulator → adapter → applyBatch', () => {
  it('brings the school into the journal exactly as generated', async () => {
    const { schoolId, result } = await syncFromSimulator(db.pool, dnevnikHarness, sim, RANGE);
    expect(result.streams.flatMap((s) => s.rejected)).toEqual([]);
    await expectJournalEqualsTruth(schoolId);
    const marks = await db.pool.query(`SELECT count(*)::int AS n, count(*) FILTER (WHERE weight IS NULL)::int AS unweighted FROM mark WHERE school_id = $1`, [schoolId]);
    expect(marks.rows[0]).toMatchObject({ unweighted: 0 });
  });

  it('recovers from an expired session, rate limiting and a short maintenance', async () => {
    sim.setFaults({ expireSessions: true, rateLimit: { requests: 2, retryAfterSeconds: 1 }, maintenance: { requests: 2, style: 'html' } });
    const { schoolId } = await syncFromSimulator(db.pool, dnevnikHarness, sim, RANGE);
    sim.setFaults({});
    await expectJournalEqualsTruth(schoolId);
  });

  it('rejects a malformed mark alone, with a reason', async () => {
    sim.setFaults({ malformedRecord: true });
    const { result } = await syncFromSimulator(db.pool, dnevnikHarness, sim, { from: '2025-09-01', to: '2025-09-05' });
    sim.setFaults({});
    const rejected = result.streams.flatMap((s) => s.rejected);
    expect(rejected.length).toBeGreaterThan(0);
    expect(rejected.every((r) => r.type === 'mark' && /value: empty mark value/.test(r.reason))).toBe(true);
  });

  it('fails with a clear auth error on bad credentials and writes nothing', async () => {
    const bad = { ...dnevnikHarness, config: dnevnikHarness.badConfig };
    const failure = await syncFromSimulator(db.pool, bad, sim, RANGE).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(AdapterError);
    expect((failure as AdapterError).kind).toBe('auth');
  });

  it('fails as transient when maintenance outlasts the retries, keeping whole batches only', async () => {
    sim.setFaults({ maintenance: { requests: Infinity } });
    const failure = await syncFromSimulator(db.pool, dnevnikHarness, sim, RANGE).catch((e: unknown) => e);
    sim.setFaults({});
    expect((failure as AdapterError).kind).toBe('transient');
  });
});
