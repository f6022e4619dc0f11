import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateSchool, type DemoSchool } from '../../src/demo/generator.js';
import { AdapterError, STREAM_ORDER, type AdapterContext } from '../../src/ports/adapter.js';
import { SourceRecordSchemas, type SourceRecord } from '../../src/ports/records.js';
import type { SimulatorHandle } from '../../src/ports/simulator.js';
import { harnessContext, memoryLogger, type AdapterHarness } from './adapter-harness.js';

/**
 * The contract every adapter keeps, run against its simulator: the config schema refuses nonsense,
 * bad credentials are `auth`, secrets never reach the log, every stream yields valid source records,
 * an abort stops it, maintenance is `transient` after the retries, rate limiting is waited out.
 */
export function describeAdapterContract(harness: AdapterHarness): void {
  const range = { from: '2025-09-01', to: '2025-09-12' };
  let school: DemoSchool;
  let sim: SimulatorHandle;

  describe(`adapter contract: ${harness.adapter.id}`, () => {
    beforeAll(async () => {
      school = generateSchool({ seed: 11, pupils: 40, year: 2025, until: range.to });
      sim = await harness.start(school);
    });
    afterAll(async () => {
      await sim.close();
    });
    const context = (options: Partial<Parameters<typeof harnessContext>[1]> = {}) =>
      harnessContext(harness, { config: harness.config(sim), range, ...options });

    it('describes itself and refuses an empty configuration', () => {
      expect(harness.adapter.id).toMatch(/^[a-z0-9]+$/);
      expect(harness.adapter.title.length).toBeGreaterThan(3);
      expect(harness.adapter.configSchema.safeParse({}).success).toBe(false);
      expect(harness.adapter.configSchema.safeParse(harness.config(sim)).success).toBe(true);
      expect(harness.adapter.secretKeys.length).toBeGreaterThan(0);
      expect(Object.keys(harness.adapter.streams).every((s) => (STREAM_ORDER as readonly string[]).includes(s))).toBe(true);
    });

    it('checks a working connection and reports bad credentials as auth', async () => {
      await expect(harness.adapter.checkConnection(context())).resolves.toBeUndefined();
      const failure = await harness.adapter.checkConnection(context({ config: harness.badConfig(sim) })).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(AdapterError);
      expect((failure as AdapterError).kind).toBe('auth');
    });

    it('yields valid source records on every stream, and never logs a secret', async () => {
      const log = memoryLogger('debug');
      const ctx = context({ logger: log.logger });
      await harness.adapter.checkConnection(ctx);
      const seen = new Set<string>();
      for (const name of STREAM_ORDER) {
        const stream = harness.adapter.streams[name];
        if (!stream) continue;
        for await (const batch of stream.read(ctx, null)) {
          for (const record of batch.records) {
            seen.add(record.type);
            const parsed = SourceRecordSchemas[(record as SourceRecord).type].safeParse(record);
            expect(parsed.error?.issues ?? []).toEqual([]);
          }
        }
      }
      expect([...seen]).toEqual(expect.arrayContaining(['class', 'person', 'subject', 'lesson', 'mark', 'attendance']));
      const text = log.text();
      expect(text.length).toBeGreaterThan(0);
      for (const secret of harness.secrets(sim)) expect(text).not.toContain(secret);
    });

    it('stops at once when aborted', async () => {
      const controller = new AbortController();
      const ctx = context({ signal: controller.signal });
      const before = sim.requests();
      controller.abort(new Error('stop'));
      await expect(readAll(ctx, harness)).rejects.toThrow();
      expect(sim.requests() - before).toBeLessThanOrEqual(1);
    });

    it('reports maintenance that outlasts the retries as transient', async () => {
      sim.setFaults({ maintenance: { requests: Infinity } });
      try {
        const failure = await harness.adapter.checkConnection(context()).catch((e: unknown) => e);
        expect(failure).toBeInstanceOf(AdapterError);
        expect((failure as AdapterError).kind).toBe('transient');
      } finally {
        sim.setFaults({});
      }
    });

    it('waits out rate limiting and goes on', async () => {
      sim.setFaults({ rateLimit: { requests: 2, retryAfterSeconds: 1 } });
      const started = Date.now();
      try {
        await expect(harness.adapter.checkConnection(context())).resolves.toBeUndefined();
        expect(Date.now() - started).toBeGreaterThanOrEqual(900);
      } finally {
        sim.setFaults({});
      }
    });
  });
}

async function readAll(ctx: AdapterContext<unknown>, harness: AdapterHarness): Promise<number> {
  let records = 0;
  await harness.adapter.checkConnection(ctx);
  for (const name of STREAM_ORDER) {
    const stream = harness.adapter.streams[name];
    if (!stream) continue;
    for await (const batch of stream.read(ctx, null)) records += batch.records.length;
  }
  return records;
}
