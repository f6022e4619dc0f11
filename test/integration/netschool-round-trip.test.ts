import { describe, expect, it } from '@jest/globals';
import { netschool } from '../../adapters/netschool/index.js';
import { startNetSchoolSimulator, type NetSchoolSimulatorOptions } from '../../adapters/netschool/simulator.js';
import { AdapterError, STREAM_ORDER } from '../../src/ports/adapter.js';
import type { SourceRecord } from '../../src/ports/records.js';
import { harnessContext } from '../support/adapter-harness.js';
import { ROUND_TRIP, withSimulatedSchool } from '../support/round-trip.js';

/** NetSchool's own cases against its simulator, beside the registry-built round trip (adapters.test.ts). */
const RANGE = { from: '2025-09-01', to: '2025-09-12' };

describe('NetSchool «Сетевой Город. Образование»', () => withSimulatedSchool(netschool, { ...ROUND_TRIP, pupils: 12 }, (state) => {
  /** Every stream of one run against a simulator started with `options`; the records, or the failure. */
  async function run(options: NetSchoolSimulatorOptions, config: Record<string, unknown> = {}) {
    const sim = await startNetSchoolSimulator(state().truth, options);
    const records: SourceRecord[] = [];
    try {
      const ctx = harnessContext(netschool, { config: { ...sim.connectionConfig(), ...config }, range: RANGE });
      const failure = await (async () => {
        for (const name of STREAM_ORDER) for await (const batch of netschool.streams[name]?.read(ctx) ?? []) records.push(...batch.records);
      })().catch((e: unknown) => e);
      return { records, failure, roleChoices: sim.roleChoices(), logouts: sim.logouts() };
    } finally {
      await sim.close();
    }
  }

  it('reports an ЕСИА-only server as a configuration error, not as bad credentials', async () => {
    const esia = await startNetSchoolSimulator(state().truth, { esiaOnly: true });
    try {
      const failure = await netschool.checkConnection(harnessContext(netschool, { config: esia.connectionConfig(), range: RANGE })).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(AdapterError);
      expect(failure).toMatchObject({ kind: 'permanent', message: expect.stringMatching(/ЕСИА/) });
    } finally {
      await esia.close();
    }
  });

  it('chooses the staff role when the login asks, reads everything, and logs out once at the end', async () => {
    const { records, failure, roleChoices, logouts } = await run({ chooseRole: true });
    expect(failure).toBeUndefined();
    expect(roleChoices).toBe(1);
    expect(logouts).toBe(1);
    expect(new Set(records.map((r) => r.type))).toEqual(new Set(['class', 'person', 'staff_role', 'enrollment', 'period', 'subject', 'lesson', 'mark', 'attendance', 'period_mark']));
    // The simulator's extra-curricular lessons are left out; the files of homework come along.
    expect(records.some((r) => r.type === 'subject' && r.name === 'Разговоры о важном')).toBe(false);
    expect(records.some((r) => r.type === 'lesson' && (r.homeworkFiles?.length ?? 0) > 0)).toBe(true);
  });

  it('finds the hub at /signalr/queueHub when the server has none under /webapi', async () => {
    const { records, failure } = await run({ hubPath: '/signalr/queueHub' });
    expect(failure).toBeUndefined();
    expect(records.some((r) => r.type === 'attendance')).toBe(true);
  });

  it('fails the attendance at once when the hub refuses to start a report, after the other streams', async () => {
    const { records, failure, logouts } = await run({ hubFailure: 'start' }, { reportTimeoutSeconds: 3600 });
    expect(failure).toMatchObject({ kind: 'transient', message: expect.stringContaining('did not start: Ошибка запуска задачи') });
    expect(records.some((r) => r.type === 'mark')).toBe(true);
    expect(logouts).toBe(1);
  });

  it('names the server version it cannot read reports from (before 5.29)', async () => {
    const { records, failure } = await run({ version: '5.10.63221' });
    expect(failure).toMatchObject({ kind: 'permanent', message: expect.stringContaining('NetSchool 5.10.63221') });
    expect(records.some((r) => r.type === 'lesson')).toBe(true);
  });
}));
