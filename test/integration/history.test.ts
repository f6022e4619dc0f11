import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { applyBatch } from '../../src/journal/apply-batch.js';
import { verifyChains } from '../../src/journal/verify.js';
import { fixedClock } from '../../src/lib/clock.js';
import type { SourceRecord } from '../../src/ports/records.js';
import { asSuperuser, createTestDatabase, type TestDatabase } from '../support/db.js';
import { createConnection, createSchool } from '../support/fixtures.js';

let db: TestDatabase;
let schoolId: string;

const records: SourceRecord[] = [
  { type: 'class', externalId: 'c', year: 2025, name: '3В', grade: 3 },
  { type: 'subject', externalId: 's', name: 'Русский язык' },
  { type: 'person', externalId: 'p', role: 'pupil', lastName: 'Орлова', firstName: 'Вера', classExternalId: 'c' },
  { type: 'enrollment', externalId: 'e', pupilExternalId: 'p', classExternalId: 'c' },
  { type: 'lesson', externalId: 'l', classExternalId: 'c', subjectExternalId: 's', date: '2025-09-02', slot: 1, status: 'held' },
  { type: 'mark', externalId: 'm1', pupilExternalId: 'p', lessonExternalId: 'l', value: '4' },
  { type: 'mark', externalId: 'm2', pupilExternalId: 'p', lessonExternalId: 'l', value: '5', workCategory: 'written' },
];

/** Changes history rows the way only a superuser could: with triggers off. */
const tamper = (sql: string) => asSuperuser(db.pool, [[sql, [schoolId]]]);

beforeAll(async () => {
  db = await createTestDatabase();
  schoolId = await createSchool(db.pool);
  const connectionId = await createConnection(db.pool, schoolId);
  const clock = fixedClock(new Date('2025-09-02T15:00:00Z'));
  await applyBatch(db.pool, clock, { connectionId, stream: 'all', records });
  await applyBatch(db.pool, clock, { connectionId, stream: 'all', records: [{ ...records[5]!, value: '3' } as SourceRecord] });
});
afterAll(async () => {
  await db.drop();
});

describe('the history chain', () => {
  it('verifies a fresh chain', async () => {
    const [report] = await verifyChains(db.pool, [schoolId]);
    // 7 records + the academic year they named + 1 update.
    expect(report).toEqual({ schoolId, checked: 9, ok: true, anchors: 0 });
  });

  it('cannot be changed by the application', async () => {
    await expect(db.pool.query('UPDATE journal_event SET actor = $1 WHERE seq = 1', ['me'])).rejects.toThrow(/append-only/);
    await expect(db.pool.query('DELETE FROM journal_event WHERE seq = 1')).rejects.toThrow(/append-only/);
  });

  it('names the first broken event after a row is altered directly in SQL', async () => {
    await tamper(`UPDATE journal_event SET after = '{"raw":"5"}' WHERE school_id = $1 AND seq = 7`);
    const [report] = await verifyChains(db.pool, [schoolId]);
    expect(report).toMatchObject({ ok: false, checked: 6, firstBreak: { seq: 7, reason: expect.stringContaining('does not match its hash') } });
  });

  it('notices a removed event', async () => {
    await tamper('DELETE FROM journal_event WHERE school_id = $1 AND seq = 3');
    const [report] = await verifyChains(db.pool, [schoolId]);
    expect(report).toMatchObject({ ok: false, firstBreak: { seq: 3, reason: expect.stringContaining('missing') } });
  });
});
