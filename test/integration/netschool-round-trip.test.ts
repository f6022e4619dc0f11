import { expect, it } from '@jest/globals';
import { startNetSchoolSimulator } from '../../adapters/netschool/simulator.js';
import { AdapterError } from '../../src/ports/adapter.js';
import { harnessContext } from '../support/adapter-harness.js';
import { netschoolHarness, netschoolSpelling } from '../support/harness-netschool.js';
import { describeRoundTrip } from '../support/round-trip.js';

// Two whole weeks after the first quarter's end, so that term marks are in the reports too.
const RANGE = { from: '2025-09-01', to: '2025-11-14' };

describeRoundTrip('NetSchool', { harness: netschoolHarness, spelling: netschoolSpelling, seed: 7, pupils: 40, range: RANGE }, (state) => {
  it('reports an ЕСИА-only server as a configuration error, not as bad credentials', async () => {
    const esia = await startNetSchoolSimulator(state().truth, { esiaOnly: true });
    try {
      const ctx = harnessContext(netschoolHarness, { config: netschoolHarness.config(esia), range: RANGE });
      const failure = await netschoolHarness.adapter.checkConnection(ctx).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(AdapterError);
      expect(failure).toMatchObject({ kind: 'permanent', message: expect.stringMatching(/ЕСИА/) });
    } finally {
      await esia.close();
    }
  });
});
