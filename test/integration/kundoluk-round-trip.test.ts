import { expect, it } from '@jest/globals';
import { AdapterError } from '../../src/ports/adapter.js';
import { harnessContext } from '../support/adapter-harness.js';
import { kundolukHarness, kundolukSpelling } from '../support/harness-kundoluk.js';
import { compareWithTruth, describeRoundTrip, syncFromSimulator } from '../support/round-trip.js';

// Through the end of the first quarter (26 October) and two weeks on, so that quarter marks are there too.
const RANGE = { from: '2025-09-01', to: '2025-11-14' };

describeRoundTrip('Kundoluk', { harness: kundolukHarness, spelling: kundolukSpelling, seed: 7, pupils: 40, range: RANGE }, (state) => {
  it('turns an HTTP 400 list of {errorMessage} into a clear error', async () => {
    const config = kundolukHarness.config(state().sim) as { accounts: Array<{ username: string; password: string }> };
    const broken = { ...config, accounts: [{ username: 'ученик 7а', password: 'secret' }, ...config.accounts] };
    const failure = await kundolukHarness.adapter.checkConnection(harnessContext(kundolukHarness, { config: broken, range: RANGE })).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(AdapterError);
    expect(failure).toMatchObject({ kind: 'permanent', status: 400, message: expect.stringContaining('Логин не должен содержать пробелов') });
  });

  it('syncs the other pupils when one pupil has no account in the connection', async () => {
    const { truth, sim, db } = state();
    const fifth = truth.groups.find((g) => g.kind === 'class' && g.grade === 5)!;
    const index = truth.pupils.findIndex((p) => p.classId === fifth.id);
    const missing = truth.pupils[index]!;
    const config = kundolukHarness.config(sim) as { accounts: unknown[] };
    const harness = { ...kundolukHarness, config: () => ({ ...config, accounts: config.accounts.filter((_, i) => i !== index) }) };
    const { schoolId, result } = await syncFromSimulator(db.pool, harness, sim, RANGE);
    expect(result.streams.flatMap((s) => s.rejected)).toEqual([]);
    const name = `${missing.lastName} ${missing.firstName} ${missing.middleName}|`;
    for (const d of await compareWithTruth(db.pool, schoolId, truth, RANGE, kundolukSpelling())) {
      expect({ what: d.what, extra: d.extra }).toEqual({ what: d.what, extra: [] });
      // Only the pupil without an account is missing: the pupil, and the pupil's marks, absences and quarter marks.
      expect(d.missing.filter((k) => !k.startsWith(name))).toEqual([]);
      if (['pupils', 'marks', 'periodMarks'].includes(d.what)) expect(d.missing.length).toBeGreaterThan(0);
    }
  });
});
