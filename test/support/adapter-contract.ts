import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateSchool, type DemoSchool } from '../../src/demo/generator.js';
import { AdapterError, STREAM_ORDER, type AdapterContext, type AnyAdapter } from '../../src/ports/adapter.js';
import { SourceRecordSchemas, type SourceRecord } from '../../src/ports/records.js';
import { findEndpoint } from '../../src/ports/response.js';
import type { Exchange } from '../../src/sync/http-client.js';
import type { SimulatorHandle } from '../../src/ports/simulator.js';
import { harnessContext, memoryLogger, startSimulator } from './adapter-harness.js';

/**
 * The contract every adapter keeps, run against its simulator: the config schema refuses nonsense,
 * bad credentials are `auth`, secrets never reach the log, every stream yields valid source records,
 * an abort stops it, maintenance is `transient` after the retries, rate limiting is waited out.
 */
export function describeAdapterContract(adapter: AnyAdapter): void {
  const range = { from: '2025-09-01', to: '2025-09-12' };
  let school: DemoSchool;
  let sim: SimulatorHandle;

  describe(`adapter contract: ${adapter.id}`, () => {
    beforeAll(async () => {
      school = generateSchool({ seed: 11, pupils: 40, year: 2025, until: range.to });
      sim = await startSimulator(adapter, school);
    });
    afterAll(async () => {
      await sim.close();
    });
    const context = (options: Partial<Parameters<typeof harnessContext>[1]> = {}) =>
      harnessContext(adapter, { config: sim.connectionConfig(), range, ...options });

    it('describes itself and refuses an empty configuration', () => {
      expect(adapter.id).toMatch(/^[a-z0-9]+$/);
      expect(adapter.title.length).toBeGreaterThan(3);
      expect(adapter.configSchema.safeParse({}).success).toBe(false);
      expect(adapter.configSchema.safeParse(sim.connectionConfig()).success).toBe(true);
      expect(adapter.secretKeys.length).toBeGreaterThan(0);
      expect(Object.keys(adapter.streams).every((s) => (STREAM_ORDER as readonly string[]).includes(s))).toBe(true);
    });

    it('checks a working connection and reports bad credentials as auth', async () => {
      await expect(adapter.checkConnection(context())).resolves.toBeUndefined();
      const failure = await adapter.checkConnection(context({ config: sim.badConfig() })).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(AdapterError);
      expect((failure as AdapterError).kind).toBe('auth');
    });

    it('yields valid source records on every stream, every answer fits its endpoint\'s schema, and never logs a secret', async () => {
      const log = memoryLogger('debug');
      const exchanges: Exchange[] = [];
      const ctx = context({ logger: log.logger, observer: { exchange: (e) => exchanges.push(e), socket: () => () => undefined } });
      await adapter.checkConnection(ctx);
      const seen = new Set<string>();
      for (const name of STREAM_ORDER) {
        const stream = adapter.streams[name];
        if (!stream) continue;
        for await (const batch of stream.read(ctx)) {
          for (const record of batch.records) {
            seen.add(record.type);
            const parsed = SourceRecordSchemas[(record as SourceRecord).type].safeParse(record);
            expect(parsed.error?.issues ?? []).toEqual([]);
          }
        }
      }
      expect([...seen]).toEqual(expect.arrayContaining(['class', 'person', 'subject', 'lesson', 'mark', 'attendance']));
      // The simulator renders exactly what the adapter's schemas accept: every answer (2xx) is catalogued and parses.
      const answers = exchanges.filter((e) => e.status >= 200 && e.status < 300);
      expect(answers.length).toBeGreaterThan(0);
      const misfits = answers.flatMap((e) => {
        const endpoint = findEndpoint(adapter.endpoints, e.method, e.url);
        if (!endpoint) return [`${e.method} ${new URL(e.url).pathname}: not in the adapter's endpoint catalogue`];
        try {
          endpoint.parseBody(e.body.toString('utf8'));
          return [];
        } catch (error) {
          return [(error as Error).message];
        }
      });
      expect([...new Set(misfits)]).toEqual([]);
      const text = log.text();
      expect(text.length).toBeGreaterThan(0);
      for (const secret of sim.secrets()) expect(text).not.toContain(secret);
    });

    it('stops at once when aborted', async () => {
      const controller = new AbortController();
      const ctx = context({ signal: controller.signal });
      const before = sim.requests();
      controller.abort(new Error('stop'));
      await expect(readAll(ctx, adapter)).rejects.toThrow();
      expect(sim.requests() - before).toBeLessThanOrEqual(1);
    });

    it('reports maintenance that outlasts the retries as transient', async () => {
      sim.setFaults({ maintenance: { requests: Infinity } });
      try {
        const failure = await adapter.checkConnection(context()).catch((e: unknown) => e);
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
        await expect(adapter.checkConnection(context())).resolves.toBeUndefined();
        expect(Date.now() - started).toBeGreaterThanOrEqual(900);
      } finally {
        sim.setFaults({});
      }
    });
  });
}

async function readAll(ctx: AdapterContext<unknown>, adapter: AnyAdapter): Promise<number> {
  let records = 0;
  await adapter.checkConnection(ctx);
  for (const name of STREAM_ORDER) {
    const stream = adapter.streams[name];
    if (!stream) continue;
    for await (const batch of stream.read(ctx)) records += batch.records.length;
  }
  return records;
}
