import { describe, expect, it } from '@jest/globals';
import { edutatar } from '../../adapters/edutatar/index.js';
import { startEduTatarSimulator, type EduTatarSimulator } from '../../adapters/edutatar/simulator.js';
import { AdapterError } from '../../src/ports/adapter.js';
import { harnessContext } from '../support/adapter-harness.js';
import { compareWithTruth, ROUND_TRIP, syncFromSimulator, withSimulatedSchool } from '../support/round-trip.js';

const RANGE = ROUND_TRIP.range;
const WEEK = { from: '2025-09-01', to: '2025-09-07' };

describe('edu.tatar.ru', () => withSimulatedSchool(edutatar, ROUND_TRIP, (state) => {
  it('logs in through the later form (main_login2 / main_password2), read from the login page', async () => {
    const sim = await startEduTatarSimulator(state().truth, { loginFields: 'main_login2' });
    try {
      const { schoolId, result } = await syncFromSimulator(state().db.pool, edutatar, sim.connectionConfig(), WEEK);
      expect(result.streams.flatMap((s) => s.rejected)).toEqual([]);
      const differences = await compareWithTruth(state().db.pool, schoolId, state().truth, WEEK, state().spelling);
      expect(differences.map((d) => ({ what: d.what, missing: d.missing, extra: d.extra }))).toEqual(differences.map((d) => ({ what: d.what, missing: [], extra: [] })));
    } finally {
      await sim.close();
    }
  });

  it('reports an account with two-factor authentication as a configuration error telling to turn it off', async () => {
    const sim = await startEduTatarSimulator(state().truth, { twoFactor: true });
    try {
      const ctx = harnessContext(edutatar, { config: sim.connectionConfig(), range: WEEK });
      const failure = await edutatar.checkConnection(ctx).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(AdapterError);
      expect(failure).toMatchObject({ kind: 'permanent', message: expect.stringMatching(/two-factor authentication.*turn .*off/i) });
    } finally {
      await sim.close();
    }
  });

  it('logs in again once when the session expires in the middle of a sync, and loses nothing', async () => {
    const sim = state().sim as EduTatarSimulator;
    const logins = sim.logins();
    sim.expireSessionsAfter(60);
    const { schoolId, result } = await syncFromSimulator(state().db.pool, edutatar, sim.connectionConfig(), RANGE);
    expect(result.streams.flatMap((s) => s.rejected)).toEqual([]);
    expect(sim.logins() - logins).toBe(2);
    for (const d of await compareWithTruth(state().db.pool, schoolId, state().truth, RANGE, state().spelling)) {
      expect({ what: d.what, missing: d.missing, extra: d.extra }).toEqual({ what: d.what, missing: [], extra: [] });
    }
  });
}));
