import { describe, expect, it } from '@jest/globals';
import { netschool } from '../../adapters/netschool/index.js';
import { startNetSchoolSimulator } from '../../adapters/netschool/simulator.js';
import { AdapterError } from '../../src/ports/adapter.js';
import { harnessContext } from '../support/adapter-harness.js';
import { ROUND_TRIP, withSimulatedSchool } from '../support/round-trip.js';

const RANGE = ROUND_TRIP.range;

describe('NetSchool', () => withSimulatedSchool(netschool, { ...ROUND_TRIP, pupils: 12 }, (state) => {
  it('reports an ЕСИА-only server as a configuration error, not as bad credentials', async () => {
    const esia = await startNetSchoolSimulator(state().truth, { esiaOnly: true });
    try {
      const ctx = harnessContext(netschool, { config: esia.connectionConfig(), range: RANGE });
      const failure = await netschool.checkConnection(ctx).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(AdapterError);
      expect(failure).toMatchObject({ kind: 'permanent', message: expect.stringMatching(/ЕСИА/) });
    } finally {
      await esia.close();
    }
  });
}));
