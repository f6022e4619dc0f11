import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateLessonFacts, generateLessons, generatePeriodMarks, generateSchool, type DemoSchool } from '../../src/demo/generator.js';
import type { Pool } from '../../src/db/pool.js';
import { systemClock } from '../../src/lib/clock.js';
import { createLogger } from '../../src/lib/logger.js';
import { shiftDays } from '../../src/lib/dates.js';
import { AdapterError, type AnyAdapter, type DateRange } from '../../src/ports/adapter.js';
import type { PlatformSpelling, SimulatorHandle } from '../../src/ports/simulator.js';
import { Limiters } from '../../src/sync/host-limits.js';
import { syncStreams, type SyncResult } from '../../src/sync/run-streams.js';
import { spellingOf, startSimulator } from './adapter-harness.js';
import { createTestDatabase, type TestDatabase } from './db.js';
import { createConnection, createSchool } from './fixtures.js';

/**
 * The round trip: generated school → simulator → adapter → applyBatch → canonical journal, and the
 * comparison of the journal with the generated truth by natural keys (names, class, date, slot,
 * subject), since every platform has its own ids.
 */

/** A new school with a connection of `adapter`, synced once over `range` with `config` (the simulator's by default). */
export async function syncFromSimulator(
  pool: Pool,
  adapter: AnyAdapter,
  config: Record<string, unknown>,
  range: DateRange,
): Promise<{ schoolId: string; connectionId: string; result: SyncResult }> {
  const schoolId = await createSchool(pool, { name: `${adapter.id} school` });
  const connectionId = await createConnection(pool, schoolId, adapter.id);
  const adapters = new Map([[adapter.id, adapter]]);
  const limiters = new Limiters();
  try {
    const result = await syncStreams(
      { pool, clock: systemClock, logger: createLogger('silent'), limiters, adapters },
      { connectionId, config, range },
    );
    return { schoolId, connectionId, result };
  } finally {
    await limiters.stop();
  }
}

export interface Difference {
  what: string;
  /** In the truth, not in the journal. */
  missing: string[];
  /** In the journal, not in the truth. */
  extra: string[];
  truth: number;
  journal: number;
}

/** Compares pupils, lessons, marks, absences and period marks of the journal with the truth. */
export async function compareWithTruth(pool: Pool, schoolId: string, truth: DemoSchool, range: DateRange, spelling: PlatformSpelling = {}): Promise<Difference[]> {
  const expected = truthKeys(truth, range, spelling);
  const actual = await journalKeys(pool, schoolId, range);
  return (Object.keys(expected) as Array<keyof typeof expected>).map((what) => diff(what, expected[what], actual[what]));
}

type Keys = Record<'pupils' | 'lessons' | 'marks' | 'absences' | 'periodMarks', string[]>;

function truthKeys(truth: DemoSchool, range: DateRange, spelling: PlatformSpelling): Keys {
  const groups = new Map(truth.groups.map((g) => [g.id, spelling.groupName?.(g) ?? g.name]));
  const subjects = new Map(truth.subjects.map((s) => [s.id, s.name]));
  const pupils = new Map(truth.pupils.map((p) => [p.id, `${p.lastName} ${p.firstName} ${p.middleName}|${groups.get(p.classId)}`]));
  const keys: Keys = { pupils: [], lessons: [], marks: [], absences: [], periodMarks: [] };
  for (const p of truth.pupils) if (p.enrolledFrom <= range.to && (!p.leftOn || p.leftOn > range.from)) keys.pupils.push(pupils.get(p.id)!);
  for (const lesson of generateLessons(truth, { from: range.from, to: range.to })) {
    const at = `${groups.get(lesson.groupId)}|${lesson.date}|${lesson.slot}|${subjects.get(lesson.subjectId)}`;
    keys.lessons.push(`${at}|${spelling.topic?.(lesson.topic) ?? lesson.topic}`);
    const facts = generateLessonFacts(truth, lesson);
    for (const m of facts.marks) if (spelling.markShown?.(m.value) ?? true) keys.marks.push(`${pupils.get(m.pupilId)}|${at}|${spelling.markValue?.(m.value) ?? m.value}`);
    for (const a of facts.absences) keys.absences.push(`${pupils.get(a.pupilId)}|${at}|${spelling.absenceCode?.(a.code) ?? a.code}`);
  }
  const periods = new Map(truth.periods.map((p) => [p.id, p.title]));
  for (const pm of generatePeriodMarks(truth)) {
    keys.periodMarks.push(`${pupils.get(pm.pupilId)}|${subjects.get(pm.subjectId)}|${periods.get(pm.periodId)}|${spelling.markValue?.(pm.value) ?? pm.value}`);
  }
  return keys;
}

async function journalKeys(pool: Pool, schoolId: string, range: DateRange): Promise<Keys> {
  const pupil = `p.last_name || ' ' || p.first_name || ' ' || coalesce(p.middle_name, '') || '|' || c.name`;
  const classOf = `JOIN enrollment e ON e.person_id = p.id JOIN class_group c ON c.id = e.class_group_id AND c.kind = 'class'`;
  const at = `g.name || '|' || l.date::text || '|' || l.slot || '|' || s.name`;
  const lessonJoin = `JOIN class_group g ON g.id = l.class_group_id JOIN subject s ON s.id = l.subject_id`;
  const query = async (sql: string) => (await pool.query<{ k: string }>(sql, [schoolId, range.from, range.to])).rows.map((r) => r.k);
  return {
    pupils: await query(`SELECT ${pupil} AS k FROM person p ${classOf} WHERE p.school_id = $1 AND $2::date IS NOT NULL AND $3::date IS NOT NULL`),
    lessons: await query(`SELECT ${at} || '|' || coalesce(l.topic, '') AS k FROM lesson l ${lessonJoin} WHERE l.school_id = $1 AND l.date BETWEEN $2 AND $3 AND l.deleted_at IS NULL`),
    marks: await query(`SELECT ${pupil} || '|' || ${at} || '|' || m.raw AS k FROM mark m JOIN lesson l ON l.id = m.lesson_id ${lessonJoin}
                          JOIN person p ON p.id = m.pupil_id ${classOf} WHERE m.school_id = $1 AND l.date BETWEEN $2 AND $3 AND m.deleted_at IS NULL`),
    absences: await query(`SELECT ${pupil} || '|' || ${at} || '|' || a.raw AS k FROM attendance a JOIN lesson l ON l.id = a.lesson_id ${lessonJoin}
                          JOIN person p ON p.id = a.pupil_id ${classOf} WHERE a.school_id = $1 AND l.date BETWEEN $2 AND $3 AND a.deleted_at IS NULL`),
    periodMarks: await query(`SELECT ${pupil} || '|' || s.name || '|' || pr.title || '|' || pm.raw AS k FROM period_mark pm JOIN subject s ON s.id = pm.subject_id
                          JOIN period pr ON pr.id = pm.period_id JOIN person p ON p.id = pm.pupil_id ${classOf}
                          WHERE pm.school_id = $1 AND $2::date IS NOT NULL AND $3::date IS NOT NULL AND pm.deleted_at IS NULL`),
  };
}

function diff(what: string, expected: string[], actual: string[]): Difference {
  const counts = new Map<string, number>();
  for (const k of expected) counts.set(k, (counts.get(k) ?? 0) + 1);
  const extra: string[] = [];
  for (const k of actual) {
    const n = counts.get(k) ?? 0;
    if (n > 0) counts.set(k, n - 1);
    else extra.push(k);
  }
  const missing = [...counts].flatMap(([k, n]) => Array.from({ length: n }, () => k));
  return { what, missing: missing.slice(0, 20), extra: extra.slice(0, 20), truth: expected.length, journal: actual.length };
}

/** The school a round trip generates: through the end of the first quarter (26 October) and two weeks on, so that term marks are there too. */
export interface RoundTripSetup {
  seed: number;
  pupils: number;
  range: DateRange;
}

export const ROUND_TRIP: RoundTripSetup = { seed: 5, pupils: 40, range: { from: '2025-09-01', to: '2025-11-14' } };

export interface RoundTripState {
  db: TestDatabase;
  truth: DemoSchool;
  sim: SimulatorHandle;
  spelling: PlatformSpelling;
}

/** A test database, a generated school and the adapter's simulator serving it, for the suites below and an adapter's own cases. */
export function withSimulatedSchool(adapter: AnyAdapter, setup: RoundTripSetup, body: (state: () => RoundTripState) => void): void {
  let state: RoundTripState;
  beforeAll(async () => {
    const db = await createTestDatabase();
    const truth = generateSchool({ seed: setup.seed, pupils: setup.pupils, year: Number(setup.range.from.slice(0, 4)), until: setup.range.to });
    state = { db, truth, sim: await startSimulator(adapter, truth), spelling: await spellingOf(adapter, truth) };
  });
  afterAll(async () => {
    await state.sim.close();
    await state.db.drop();
  });
  body(() => state);
}

/** Expects the journal of `schoolId` to hold exactly the generated school over `range`, as the platform spells it. */
export async function expectJournalEqualsTruth(state: RoundTripState, schoolId: string, range: DateRange): Promise<void> {
  for (const d of await compareWithTruth(state.db.pool, schoolId, state.truth, range, state.spelling)) {
    expect({ what: d.what, missing: d.missing, extra: d.extra }).toEqual({ what: d.what, missing: [], extra: [] });
    expect(d.truth).toBeGreaterThan(0);
  }
}

/**
 * The round trip every adapter passes: the generated school reaches the journal exactly (every mark
 * weighted and categorised, every request counted), the recoverable faults recover, a malformed mark is
 * rejected alone with a reason, bad credentials are `auth`, endless maintenance is `transient`. Returns
 * the suite's state for the adapter's own extra cases.
 */
export function describeRoundTrip(adapter: AnyAdapter, setup: RoundTripSetup = ROUND_TRIP): void {
  const { range } = setup;
  describe(`${adapter.title} round trip: generated school → simulator → adapter → applyBatch`, () => {
    withSimulatedSchool(adapter, setup, (current) => {
      const sync = (config: Record<string, unknown>, within = range) => syncFromSimulator(current().db.pool, adapter, config, within);

      it('brings the school into the journal exactly as generated', async () => {
        const state = current();
        const before = state.sim.requests();
        const { schoolId, result } = await sync(state.sim.connectionConfig());
        expect(result.streams.flatMap((s) => s.rejected)).toEqual([]);
        await expectJournalEqualsTruth(state, schoolId, range);
        const marks = await state.db.pool.query(
          `SELECT count(*) FILTER (WHERE weight IS NULL)::int AS unweighted, count(*) FILTER (WHERE work_category IS NULL)::int AS uncategorised
             FROM mark WHERE school_id = $1`, [schoolId]);
        expect(marks.rows[0]).toMatchObject({ unweighted: 0, uncategorised: 0 });
        expect(result.requests).toBe(state.sim.requests() - before);
      });

      it('recovers from an expired session, rate limiting and a short maintenance', async () => {
        const state = current();
        // The faults meet the sync's first requests whatever it reads: its last four weeks (a quarter's end
        // among them, so period marks too) show the journal whole after them as well as the whole range did.
        const within = { from: shiftDays(range.to, -27), to: range.to };
        state.sim.setFaults({ expireSessions: true, rateLimit: { requests: 2, retryAfterSeconds: 1 }, maintenance: { requests: 2, style: 'html' } });
        const { schoolId } = await sync(state.sim.connectionConfig(), within);
        state.sim.setFaults({});
        await expectJournalEqualsTruth(state, schoolId, within);
      });

      it('rejects a malformed mark alone, with a reason', async () => {
        const state = current();
        state.sim.setFaults({ malformedRecord: true });
        const { result } = await sync(state.sim.connectionConfig(), { from: range.from, to: shiftDays(range.from, 4) });
        state.sim.setFaults({});
        const rejected = result.streams.flatMap((s) => s.rejected);
        expect(rejected.length).toBeGreaterThan(0);
        expect(rejected.every((r) => r.type === 'mark' && /value: empty mark value/.test(r.reason))).toBe(true);
      });

      it('fails with a clear auth error on bad credentials', async () => {
        const failure = await sync(current().sim.badConfig()).catch((e: unknown) => e);
        expect(failure).toBeInstanceOf(AdapterError);
        expect((failure as AdapterError).kind).toBe('auth');
      });

      it('fails as transient when maintenance outlasts the retries', async () => {
        const state = current();
        state.sim.setFaults({ maintenance: { requests: Infinity } });
        const failure = await sync(state.sim.connectionConfig()).catch((e: unknown) => e);
        state.sim.setFaults({});
        expect((failure as AdapterError).kind).toBe('transient');
      });
    });
  });
}
