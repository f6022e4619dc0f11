import { describe, expect, it } from '@jest/globals';
import { edutatar } from '../../adapters/edutatar/index.js';
import { startEduTatarSimulator, type EduTatarSimulator, type EduTatarSimulatorOptions } from '../../adapters/edutatar/simulator.js';
import { compareWithTruth, ROUND_TRIP, syncFromSimulator, withSimulatedSchool } from '../support/round-trip.js';

/**
 * edu.tatar.ru's own round-trip cases beyond the shared suite: the older login form, each way an
 * ended session answers, an expiry in the middle of a sync, and the school's own term calendar.
 */
const RANGE = ROUND_TRIP.range;
const WEEK = { from: '2025-09-01', to: '2025-09-07' };

describe('edu.tatar.ru', () => withSimulatedSchool(edutatar, ROUND_TRIP, (state) => {
  async function expectExact(sim: EduTatarSimulator, range = WEEK, config: Record<string, unknown> = sim.connectionConfig()): Promise<void> {
    const { schoolId, result } = await syncFromSimulator(state().db.pool, edutatar, config, range);
    expect(result.streams.flatMap((s) => s.rejected)).toEqual([]);
    const differences = await compareWithTruth(state().db.pool, schoolId, state().truth, range, state().spelling);
    expect(differences.map((d) => ({ what: d.what, missing: d.missing, extra: d.extra }))).toEqual(differences.map((d) => ({ what: d.what, missing: [], extra: [] })));
  }

  async function withSimulator(options: EduTatarSimulatorOptions, body: (sim: EduTatarSimulator) => Promise<void>): Promise<void> {
    const sim = await startEduTatarSimulator(state().truth, options);
    try {
      await body(sim);
    } finally {
      await sim.close();
    }
  }

  it('logs in through the older form (main_login / main_password), read from the login page', () => withSimulator({ loginFields: 'main_login' }, (sim) => expectExact(sim)));

  it.each(['logon', 'message', 'choose'] as const)('logs in again when an ended session answers the %s way, and loses nothing', (endedSession) => withSimulator({ endedSession }, async (sim) => {
    sim.expireSessionsAfter(40);
    const logins = sim.logins();
    await expectExact(sim);
    expect(sim.logins() - logins).toBe(2);
  }));

  it('logs in again once when the session expires in the middle of a sync, and loses nothing', async () => {
    const sim = state().sim as EduTatarSimulator;
    const logins = sim.logins();
    sim.expireSessionsAfter(60);
    await expectExact(sim, RANGE);
    expect(sim.logins() - logins).toBe(2);
  });

  it('reads every lesson and term mark with the default calendar too (the site shows no term dates)', async () => {
    const sim = state().sim as EduTatarSimulator;
    const { terms: _own, ...defaults } = sim.connectionConfig();
    await expectExact(sim, RANGE, defaults);
  });
}));
