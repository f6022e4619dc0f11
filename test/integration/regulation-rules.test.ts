import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { patchDiscrepancy } from '../../src/checks/discrepancies.js';
import { runChecks } from '../../src/checks/service.js';
import { applyBatch } from '../../src/journal/apply-batch.js';
import { fixedClock, type Clock } from '../../src/lib/clock.js';
import type { SourceRecord } from '../../src/ports/records.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { createConnection, createSchool } from '../support/fixtures.js';

/**
 * The regulation's entry rules on both sides of each threshold, in the preset schools' time zones: the
 * lesson day ends at the school's midnight; written works have the preset's days; an entry time the
 * platform does not give is used only when a sync proves it; a correction is silent until justified.
 */
let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

const roster = (grade: number): SourceRecord[] => [
  { type: 'class', externalId: 'c', year: 2025, name: `${grade}А`, grade },
  { type: 'subject', externalId: 's', name: 'Математика' },
  { type: 'person', externalId: 'p', role: 'pupil', lastName: 'Иванов', firstName: 'Иван', classExternalId: 'c' },
  { type: 'enrollment', externalId: 'e', pupilExternalId: 'p', classExternalId: 'c' },
  { type: 'lesson', externalId: 'l', classExternalId: 'c', subjectExternalId: 's', date: '2025-09-08', slot: 1, topic: 'Дроби', status: 'held' },
];
const mark = (id: string, workCategory: 'oral' | 'written', enteredAt?: string): SourceRecord =>
  ({ type: 'mark', externalId: id, pupilExternalId: 'p', lessonExternalId: 'l', value: '4', workCategory, ...(enteredAt ? { enteredAt } : {}) });

async function school(timeZone: string, profile: string): Promise<{ schoolId: string; connectionId: string; clock: Clock }> {
  const schoolId = await createSchool(db.pool, { timeZone });
  await db.pool.query('UPDATE school SET regulation_profile = $2 WHERE id = $1', [schoolId, profile]);
  const connectionId = await createConnection(db.pool, schoolId, 'dnevnikru');
  return { schoolId, connectionId, clock: fixedClock(new Date('2025-09-30T12:00:00Z')) };
}

async function findings(schoolId: string, clock: Clock, rule: string): Promise<Array<{ key: string; found: Record<string, unknown> }>> {
  await runChecks(db.pool, clock, { schoolId, from: '2025-09-01', to: '2025-09-30' });
  const { rows } = await db.pool.query(`SELECT key, found FROM discrepancy WHERE school_id = $1 AND rule = $2 AND status = 'open' ORDER BY key`, [schoolId, rule]);
  return rows.map((r: { key: string; found: Record<string, unknown> }) => ({ ...r, key: r.key.replace(/[0-9a-f-]{36}/, '…') }));
}

describe('mark_backdated: the lesson day ends at the school-local midnight', () => {
  // One instant: 23:30 of the lesson day in Moscow, already the next day in Tomsk (UTC+7) and Bishkek (UTC+6).
  const instant = '2025-09-08T20:30:00Z';
  it.each([
    ['Europe/Moscow', 'kazan-139', 0],
    ['Asia/Tomsk', 'tomsk-college', 1],
    ['Asia/Bishkek', 'bishkek-uvk23', 1],
  ])('%s (%s): %i finding(s) for an oral mark entered at %s', async (timeZone, profile, expected) => {
    const { schoolId, connectionId, clock } = await school(timeZone, profile);
    await applyBatch(db.pool, clock, { connectionId, stream: 'all', records: [...roster(5), mark('m1', 'oral', instant)] });
    const found = await findings(schoolId, clock, 'mark_backdated');
    expect(found).toHaveLength(expected);
    if (expected) expect(found[0]!.found).toMatchObject({ basis: 'platform', value: '4' });
  });
});

describe('mark_late: written works within the preset days', () => {
  it.each([
    ['bishkek-uvk23', 'Asia/Bishkek', '2025-09-13T10:00:00+06:00', 0],
    ['bishkek-uvk23', 'Asia/Bishkek', '2025-09-14T10:00:00+06:00', 1],
    ['kazan-139', 'Europe/Moscow', '2025-09-15T10:00:00+03:00', 0],
    ['kazan-139', 'Europe/Moscow', '2025-09-16T10:00:00+03:00', 1],
  ])('%s: a written work of 8 September graded at %s → %i', async (profile, timeZone, enteredAt, expected) => {
    const { schoolId, connectionId, clock } = await school(timeZone, profile);
    await applyBatch(db.pool, clock, { connectionId, stream: 'all', records: [...roster(5), mark('w1', 'written', enteredAt)] });
    expect(await findings(schoolId, clock, 'mark_late')).toHaveLength(expected);
  });

  it("uses the time the service first saw a mark only when a sync that started after the deadline proves it wasn't there", async () => {
    const { schoolId, connectionId, clock } = await school('Europe/Moscow', 'default');
    await applyBatch(db.pool, clock, { connectionId, stream: 'all', records: [...roster(5), mark('w1', 'written')] });
    expect(await findings(schoolId, clock, 'mark_late')).toHaveLength(0);
    // A run that started after the deadline (15 September, end of day) and finished before the mark was seen.
    await db.pool.query(
      `INSERT INTO sync_run (connection_id, trigger, status, started_at, finished_at) VALUES ($1, 'schedule', 'succeeded', '2025-09-17T08:00:00Z', '2025-09-17T08:05:00Z')`,
      [connectionId],
    );
    await db.pool.query(`UPDATE mark SET created_at = '2025-09-18T09:00:00Z' WHERE external_id = 'w1' AND source_id = $1`, [connectionId]);
    const found = await findings(schoolId, clock, 'mark_late');
    expect(found).toEqual([{ key: 'mark_late:mark:…', found: expect.objectContaining({ basis: 'first_seen', days: 10 }) }]);
  });
});

describe('grade 1, silent corrections', () => {
  it('a mark in grade 1 is a finding, in grade 2 it is not', async () => {
    for (const [grade, expected] of [[1, 1], [2, 0]] as const) {
      const { schoolId, connectionId, clock } = await school('Europe/Moscow', 'tandovo');
      await applyBatch(db.pool, clock, { connectionId, stream: 'all', records: [...roster(grade), mark('m1', 'oral', '2025-09-08T09:00:00+03:00')] });
      expect(await findings(schoolId, clock, 'grade1_mark')).toHaveLength(expected);
    }
  });

  it('a changed mark is a silent correction until a justification is attached', async () => {
    const { schoolId, connectionId, clock } = await school('Europe/Moscow', 'kazan-139');
    await applyBatch(db.pool, clock, { connectionId, stream: 'all', records: [...roster(5), mark('m1', 'oral', '2025-09-08T09:00:00+03:00')] });
    expect(await findings(schoolId, clock, 'mark_silent_correction')).toHaveLength(0);
    await applyBatch(db.pool, clock, { connectionId, stream: 'all', records: [{ ...mark('m1', 'oral', '2025-09-08T09:00:00+03:00'), value: '5' } as SourceRecord] });
    const found = await findings(schoolId, clock, 'mark_silent_correction');
    expect(found).toEqual([{ key: expect.stringMatching(/^mark_silent_correction:event:\d+$/), found: expect.objectContaining({ value: '5', op: 'update' }) }]);
    const { rows } = await db.pool.query<{ id: string }>(`SELECT id::text FROM discrepancy WHERE school_id = $1 AND rule = 'mark_silent_correction'`, [schoolId]);
    await patchDiscrepancy(db.pool, rows[0]!.id, { justification: 'заявление учителя № 12, разрешено директором' }, 'director');
    expect(await findings(schoolId, clock, 'mark_silent_correction')).toHaveLength(0);
  });
});

describe('final_mark_not_visible: a final mark on paper reaches a platform within a day (003 Регламент §2.2)', () => {
  const period: SourceRecord = { type: 'period', externalId: 'q1', year: 2025, kind: 'quarter', number: 1, title: '1 четверть', startDate: '2025-09-01', endDate: '2025-10-26' };
  const final = (setAt?: string): SourceRecord => ({ type: 'period_mark', externalId: 'pm', pupilExternalId: 'p', subjectExternalId: 's', periodExternalId: 'q1', value: '5', ...(setAt ? { setAt } : {}) });

  async function paperSchool(timeZone: string): Promise<{ schoolId: string; paperId: string; platformId: string }> {
    const { schoolId, connectionId: platformId } = await school(timeZone, 'tandovo');
    const paperId = await createConnection(db.pool, schoolId, 'demo', 'Бумажный журнал');
    return { schoolId, paperId, platformId };
  }

  // Set at 12:00 Moscow on 27 October: 16:00 in Tomsk. A day later ends at 21:00 UTC on the 28th in Moscow, at 17:00 UTC in Tomsk.
  it.each([
    ['Europe/Moscow', '2025-10-28T20:59:00Z', 0],
    ['Europe/Moscow', '2025-10-28T21:01:00Z', 1],
    ['Asia/Tomsk', '2025-10-28T16:59:00Z', 0],
    ['Asia/Tomsk', '2025-10-28T17:01:00Z', 1],
  ])('%s, at %s: %i finding(s) for a quarter mark only on paper', async (timeZone, now, expected) => {
    const { schoolId, paperId } = await paperSchool(timeZone);
    const clock = fixedClock(new Date(now));
    await applyBatch(db.pool, clock, { connectionId: paperId, stream: 'all', records: [...roster(5), period, final('2025-10-27T12:00:00+03:00')] });
    const found = await findings(schoolId, clock, 'final_mark_not_visible');
    expect(found).toHaveLength(expected);
    if (expected) expect(found[0]!.found).toMatchObject({ value: '5', basis: 'source' });
  });

  it('resolves once a platform has it; the time first seen stands in for a paper without dates; no platform, no finding', async () => {
    const { schoolId, paperId, platformId } = await paperSchool('Europe/Moscow');
    const seen = fixedClock(new Date('2025-10-27T09:00:00Z'));
    await applyBatch(db.pool, seen, { connectionId: paperId, stream: 'all', records: [...roster(5), period, final()] });
    await db.pool.query(`UPDATE period_mark SET created_at = '2025-10-27T09:00:00Z' WHERE source_id = $1`, [paperId]);
    expect(await findings(schoolId, fixedClock(new Date('2025-10-28T20:00:00Z')), 'final_mark_not_visible')).toHaveLength(0);
    const later = fixedClock(new Date('2025-10-29T08:00:00Z'));
    expect(await findings(schoolId, later, 'final_mark_not_visible')).toEqual([
      { key: 'final_mark_not_visible:period_mark:…', found: expect.objectContaining({ value: '5', basis: 'first_seen' }) },
    ]);
    const { rows } = await db.pool.query(`SELECT class_group_id IS NOT NULL AS has_class FROM discrepancy WHERE school_id = $1 AND rule = 'final_mark_not_visible'`, [schoolId]);
    expect(rows).toEqual([{ has_class: true }]);

    await applyBatch(db.pool, later, { connectionId: platformId, stream: 'all', records: [...roster(5), period, final('2025-10-29T07:00:00+03:00')] });
    expect(await findings(schoolId, later, 'final_mark_not_visible')).toHaveLength(0);

    const alone = await createSchool(db.pool, { timeZone: 'Europe/Moscow' });
    const paperOnly = await createConnection(db.pool, alone, 'demo');
    await applyBatch(db.pool, seen, { connectionId: paperOnly, stream: 'all', records: [...roster(5), period, final('2025-10-01T12:00:00+03:00')] });
    expect(await findings(alone, later, 'final_mark_not_visible')).toHaveLength(0);
  });
});
