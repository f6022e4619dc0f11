import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DEFAULT_CHECKS_SCHEDULE, ScheduledChecks } from '../../src/checks/scheduler.js';
import { applyBatch } from '../../src/journal/apply-batch.js';
import { fixedClock } from '../../src/lib/clock.js';
import { createLogger } from '../../src/lib/logger.js';
import type { SourceRecord } from '../../src/ports/records.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { createConnection, createSchool } from '../support/fixtures.js';
import { waitFor } from '../support/processes.js';

/**
 * Scheduled checks with a fixed clock: a Tomsk school whose 18:00 slot passed while no scheduler ran is
 * caught up when schedulers start — once, however many start and however often they restart — and the
 * worker's run of it finds what only the clock can find (a lesson whose day ended without a topic).
 */
let db: TestDatabase;
const logger = createLogger('silent');
const options = { defaults: DEFAULT_CHECKS_SCHEDULE, refreshSeconds: 300, pollingSeconds: 0.5 };
const started: ScheduledChecks[] = [];

beforeAll(async () => {
  db = await createTestDatabase({ poolSize: 10 });
});
afterAll(async () => {
  await Promise.all(started.map((s) => s.stop()));
  await db.drop();
});

const open = async (clock: ReturnType<typeof fixedClock>) => {
  const checks = await ScheduledChecks.start(db.pool, clock, logger, options);
  started.push(checks);
  return checks;
};

const records: SourceRecord[] = [
  { type: 'class', externalId: 'c', year: 2025, name: '5А', grade: 5 },
  { type: 'subject', externalId: 's', name: 'Математика' },
  { type: 'lesson', externalId: 'l', classExternalId: 'c', subjectExternalId: 's', date: '2025-10-07', slot: 1, status: 'held' },
];

describe('scheduled checks', () => {
  it('catch up a missed slot exactly once across schedulers and restarts, and the job runs the checks', async () => {
    // 22:00 in Tomsk: today's 18:00 slot (11:00 UTC) has passed with nobody running.
    const clock = fixedClock(new Date('2025-10-08T15:00:00Z'));
    const schoolId = await createSchool(db.pool, { timeZone: 'Asia/Tomsk' });
    await db.pool.query(`UPDATE school SET created_at = '2025-09-01T00:00:00Z' WHERE id = $1`, [schoolId]);
    // A school made after the slot did not miss it.
    const newer = await createSchool(db.pool, { timeZone: 'Asia/Tomsk' });
    await db.pool.query(`UPDATE school SET created_at = '2025-10-08T12:00:00Z' WHERE id = $1`, [newer]);
    const connectionId = await createConnection(db.pool, schoolId, 'dnevnikru');
    await applyBatch(db.pool, clock, { connectionId, stream: 'all', records });

    const slots = async (school = schoolId) => (await db.pool.query<{ slot: Date; kind: string; jobs: number }>(
      `SELECT s.slot, s.kind, (SELECT count(*)::int FROM pgboss.job j WHERE j.name = 'checks-scheduled' AND j.id = s.job_id) AS jobs
         FROM checks_slot s WHERE s.school_id = $1 AND s.slot <= $2 ORDER BY s.slot`, [school, clock.now()],
    )).rows.map((r) => ({ ...r, slot: r.slot.toISOString() }));
    const topics = async () => (await db.pool.query<{ day: string }>(
      `SELECT day::text FROM discrepancy WHERE school_id = $1 AND rule = 'topic_missing' AND status = 'open'`, [schoolId],
    )).rows;

    // Two scheduler processes start; neither works jobs yet.
    const [a, b] = [await open(clock), await open(clock)];
    await Promise.all([a.schedule(), b.schedule()]);
    const once = [{ slot: '2025-10-08T11:00:00.000Z', kind: 'after_lessons', jobs: 1 }];
    expect(await slots()).toEqual(once);
    expect(await slots(newer)).toEqual([]);
    expect(await topics()).toEqual([]);

    // A worker takes the job: the checks run over the last days in Tomsk time.
    await a.work();
    const done = await waitFor('the scheduled run', async () => {
      const { rows } = await db.pool.query<{ found: number }>('SELECT found FROM checks_slot WHERE school_id = $1 AND finished_at IS NOT NULL', [schoolId]);
      return rows[0];
    }, 60_000);
    expect(done.found).toBeGreaterThanOrEqual(1);
    expect(await topics()).toEqual([{ day: '2025-10-07' }]);

    // Both stop and a third starts: the slot it finds is the one already run.
    await a.stop();
    await b.stop();
    const c = await open(clock);
    await c.schedule();
    expect(await slots()).toEqual(once);

    // 02:30 on the 9th in Tomsk: the nightly slot is the next one, queued once too.
    clock.set(new Date('2025-10-08T19:30:00Z'));
    await c.refresh();
    await c.refresh();
    const nightly = { slot: '2025-10-08T19:00:00.000Z', kind: 'nightly', jobs: 1 };
    expect(await slots()).toEqual([...once, nightly]);
    expect(await slots(newer)).toEqual([nightly]);
  }, 120_000);
});
