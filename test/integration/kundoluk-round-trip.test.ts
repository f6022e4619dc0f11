import { describe, expect, it } from '@jest/globals';
import { kundoluk } from '../../adapters/kundoluk/index.js';
import { KYRGYZ_NAMES, uuidOf } from '../../adapters/kundoluk/simulator-shapes.js';
import type { KundolukSimulator } from '../../adapters/kundoluk/simulator.js';
import { generatePeriodMarks, generateSchool } from '../../src/demo/generator.js';
import { systemClock } from '../../src/lib/clock.js';
import { shiftDays } from '../../src/lib/dates.js';
import { createLogger } from '../../src/lib/logger.js';
import { AdapterError } from '../../src/ports/adapter.js';
import type { PeriodMarkRecord } from '../../src/ports/records.js';
import { Limiters } from '../../src/sync/host-limits.js';
import { syncStreams } from '../../src/sync/run-streams.js';
import { harnessContext, startSimulator } from '../support/adapter-harness.js';
import { compareWithTruth, ROUND_TRIP, syncFromSimulator, withSimulatedSchool } from '../support/round-trip.js';

const RANGE = ROUND_TRIP.range;
/**
 * The accounts' cases read the round trip's last four weeks, not all eleven: who is known through which
 * account does not depend on the days read, and these weeks hold a quarter's end (quarter marks too).
 */
const WEEKS = { from: shiftDays(RANGE.to, -27), to: RANGE.to };

type Config = { accounts: unknown[]; teacher?: unknown };

/** The connection without the teacher's web journal login: pupils' accounts only. */
function apiOnly(config: Config): Config {
  return Object.fromEntries(Object.entries(config).filter(([key]) => key !== 'teacher')) as Config;
}

describe('Kundoluk', () => withSimulatedSchool(kundoluk, ROUND_TRIP, (state) => {
  it('turns an HTTP 400 list of {errorMessage} on the login into a refused login of that account', async () => {
    const config = state().sim.connectionConfig() as { accounts: Array<{ username: string; password: string }> };
    const broken = { ...config, accounts: [{ username: 'ученик 7а', password: 'secret' }, ...config.accounts] };
    const failure = await kundoluk.checkConnection(harnessContext(kundoluk, { config: broken, range: RANGE })).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(AdapterError);
    expect(failure).toMatchObject({ kind: 'auth', status: 400, message: `Kundoluk refused the login of account #1 of ${config.accounts.length + 1}: Логин не должен содержать пробелов` });
  });

  it('keeps the subjects\' Kyrgyz names beside the Russian ones', async () => {
    const { sim, db } = state();
    const { schoolId } = await syncFromSimulator(db.pool, kundoluk, sim.connectionConfig(), { from: RANGE.from, to: shiftDays(RANGE.from, 6) });
    const { rows } = await db.pool.query<{ name: string; alt_names: string | null }>('SELECT name, alt_names FROM subject WHERE school_id = $1', [schoolId]);
    expect(rows.length).toBeGreaterThan(5);
    // Every subject of the demo curriculum has its Kyrgyz name in the simulator's table; the journal stores it as JSON.
    expect(rows.filter((r) => !(r.name in KYRGYZ_NAMES))).toEqual([]);
    expect(rows).toEqual(rows.map((r) => ({ name: r.name, alt_names: JSON.stringify({ ky: KYRGYZ_NAMES[r.name] }) })));
    expect(rows.filter((r) => KYRGYZ_NAMES[r.name] !== r.name).length).toBeGreaterThan(3);
  });

  it('syncs the other pupils when one pupil has no account in the connection (no teacher login)', async () => {
    const { truth, sim, db } = state();
    const fifth = truth.groups.find((g) => g.kind === 'class' && g.grade === 5)!;
    const index = truth.pupils.findIndex((p) => p.classId === fifth.id);
    const missing = truth.pupils[index]!;
    const config = apiOnly(sim.connectionConfig() as Config);
    const { schoolId, result } = await syncFromSimulator(db.pool, kundoluk, { ...config, accounts: config.accounts.filter((_, i) => i !== index) }, WEEKS);
    expect(result.streams.flatMap((s) => s.rejected)).toEqual([]);
    const name = `${missing.lastName} ${missing.firstName} ${missing.middleName}|`;
    for (const d of await compareWithTruth(db.pool, schoolId, truth, WEEKS, state().spelling)) {
      expect({ what: d.what, extra: d.extra }).toEqual({ what: d.what, extra: [] });
      // Only the pupil without an account is missing: the pupil, and the pupil's marks, absences and quarter marks.
      expect(d.missing.filter((k) => !k.startsWith(name))).toEqual([]);
      if (['pupils', 'marks', 'periodMarks'].includes(d.what)) expect(d.missing.length).toBeGreaterThan(0);
    }
  });

  it('with a teacher login, knows every pupil of the classes from the web journal, and marks of the pupils with accounts; an account added later takes the pupil over', async () => {
    const { truth, sim, db } = state();
    const config = sim.connectionConfig() as Config;
    expect(config.teacher).toMatchObject({ login: (sim as KundolukSimulator).teacher.login });
    const withAccount = (i: number) => i % 3 !== 0;
    const className = new Map(truth.groups.map((g) => [g.id, g.name]));
    const withoutAccount = truth.pupils.filter((_, i) => !withAccount(i)).map((p) => `${p.lastName} ${p.firstName} ${p.middleName}|${className.get(p.classId)}|`);
    const some = { ...config, accounts: config.accounts.filter((_, i) => withAccount(i)) };
    const { schoolId, connectionId, result } = await syncFromSimulator(db.pool, kundoluk, some, WEEKS);
    expect(result.streams.flatMap((s) => s.rejected)).toEqual([]);
    for (const d of await compareWithTruth(db.pool, schoolId, truth, WEEKS, state().spelling)) {
      expect({ what: d.what, extra: d.extra }).toEqual({ what: d.what, extra: [] });
      if (d.what === 'pupils' || d.what === 'lessons') {
        // The roster holds every pupil; the lessons come through the pupils with accounts (each class and subgroup has some).
        expect({ what: d.what, missing: d.missing }).toEqual({ what: d.what, missing: [] });
      } else {
        // Marks, absences and quarter marks are missing only for the pupils without an account.
        expect(d.missing.filter((k) => !withoutAccount.some((pupil) => `${k}|`.startsWith(pupil))).map((k) => `${d.what}: ${k}`)).toEqual([]);
        expect(d.missing.length).toBeGreaterThan(0);
      }
    }
    const refs = async () => (await db.pool.query<{ external_id: string; gone: boolean }>(
      `SELECT external_id, gone_at IS NOT NULL AS gone FROM external_ref WHERE connection_id = $1 AND entity_type = 'person' AND external_id LIKE 'web-%'`,
      [connectionId],
    )).rows;
    expect((await refs()).filter((r) => !r.gone)).toHaveLength(withoutAccount.length);

    // Every pupil's account added: the journal's persons of the web journal are handed over to the accounts' ids, no one twice.
    const limiters = new Limiters();
    try {
      const again = await syncStreams(
        { pool: db.pool, clock: systemClock, logger: createLogger('silent'), limiters, adapters: new Map([[kundoluk.id, kundoluk]]) },
        { connectionId, config, range: WEEKS },
      );
      expect(again.streams.flatMap((s) => s.rejected)).toEqual([]);
    } finally {
      await limiters.stop();
    }
    for (const d of await compareWithTruth(db.pool, schoolId, truth, WEEKS, state().spelling)) {
      expect({ what: d.what, missing: d.missing, extra: d.extra }).toEqual({ what: d.what, missing: [], extra: [] });
    }
    const after = await refs();
    expect(after).toHaveLength(withoutAccount.length);
    expect(after.filter((r) => !r.gone)).toEqual([]);
    const pupils = await db.pool.query<{ n: number }>(
      `SELECT count(DISTINCT e.person_id)::int AS n FROM enrollment e JOIN person p ON p.id = e.person_id WHERE p.school_id = $1 AND e.end_date IS NULL`, [schoolId]);
    expect(pupils.rows[0]!.n).toBe(truth.pupils.length);
  });
}));

/**
 * A school generated through the end of its year: `qmarks/all` then holds the year marks as quarter 5,
 * which reach the journal's source records as period marks of the school year — every generated year
 * mark, as the platform spells it. Only the quarter-mark stream is read (one login and one answer per pupil).
 */
describe('Kundoluk year marks', () => {
  it('reads quarter 5 of qmarks/all as the year marks', async () => {
    const truth = generateSchool({ seed: 7, pupils: 12, year: 2025, until: '2026-05-31' });
    const sim = await startSimulator(kundoluk, truth);
    const limiters = new Limiters();
    try {
      const range = { from: '2026-05-01', to: '2026-05-31' };
      const ctx = harnessContext(kundoluk, { config: sim.connectionConfig(), range, limiters });
      const marks: PeriodMarkRecord[] = [];
      for await (const batch of kundoluk.streams.periodMarks!.read(ctx)) marks.push(...batch.records.filter((r): r is PeriodMarkRecord => r.type === 'period_mark'));
      const spelling = (await kundoluk.simulator()).spelling(truth);
      const subjects = new Map(truth.subjects.map((s) => [s.id, s.name]));
      const year = truth.periods.find((p) => p.kind === 'year')!;
      const expected = [...generatePeriodMarks(truth)].filter((pm) => pm.periodId === year.id)
        .map((pm) => `${uuidOf('student', pm.pupilId)}|${subjects.get(pm.subjectId)}|${spelling.markValue!(pm.value)}`);
      const actual = marks.filter((m) => m.periodExternalId === '2025-y').map((m) => `${m.pupilExternalId}|${m.subjectExternalId}|${m.value}`);
      expect(expected.length).toBeGreaterThan(20);
      expect(actual.sort()).toEqual(expected.sort());
      expect(marks.some((m) => m.periodExternalId === '2025-q4')).toBe(true);
    } finally {
      await limiters.stop();
      await sim.close();
    }
  });
});
