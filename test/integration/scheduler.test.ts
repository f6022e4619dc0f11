import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { createConnection, createSchool } from '../support/fixtures.js';
import { startServiceProcess, tempDataDir, waitFor, type ServiceProcess } from '../support/processes.js';
import { keyOf } from '../support/sync-engine.js';

let db: TestDatabase;
const processes: ServiceProcess[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await Promise.all(processes.map((p) => p.stop('SIGKILL')));
  await db.drop();
});

const PERIOD_MS = 3000;
const PERIODS_PER_GROUP = 3;

describe('scheduling with three scheduler processes', () => {
  it('makes exactly one run per period, across a restart of all of them', async () => {
    const schoolId = await createSchool(db.pool);
    const connectionId = await createConnection(db.pool, schoolId, 'dnevnikru');
    await db.pool.query(`UPDATE connection SET schedule = '*/3 * * * * *' WHERE id = $1`, [connectionId]);
    const dataDir = await tempDataDir();
    const env = { DATABASE_URL: db.url, ROLES: 'scheduler', DATA_DIR: dataDir, CONNECTION_SECRETS_KEY: keyOf(db), SYNC_MIN_INTERVAL_SECONDS: '1' };
    const start = () => [1, 2, 3].map(() => startServiceProcess(env));
    const runsQueuedAfter = async (since: number) => {
      const { rows } = await db.pool.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM sync_run WHERE connection_id = $1 AND queued_at > $2', [connectionId, new Date(since)],
      );
      return rows[0]!.n >= PERIODS_PER_GROUP ? true : undefined;
    };

    const first = start();
    processes.push(...first);
    await waitFor('the first schedulers\' runs', () => runsQueuedAfter(0), 60_000);
    const outageFrom = Date.now();
    await Promise.all(first.map((p) => p.stop()));
    const allStopped = Date.now();
    const second = start();
    processes.push(...second);
    await waitFor('the restarted schedulers\' runs', () => runsQueuedAfter(allStopped), 60_000);
    await Promise.all(second.map((p) => p.stop()));

    const { rows } = await db.pool.query<{ at: Date; queued: Date; n: number }>(
      `SELECT scheduled_for AS at, min(queued_at) AS queued, count(*)::int AS n FROM sync_run WHERE connection_id = $1 GROUP BY 1 ORDER BY 1`,
      [connectionId],
    );
    expect(rows.length).toBeGreaterThanOrEqual(2 * PERIODS_PER_GROUP);
    expect(rows.every((r) => r.n === 1)).toBe(true);
    const jobs = await db.pool.query(`SELECT count(*)::int AS n FROM pgboss.job WHERE name = 'sync'`);
    expect(jobs.rows[0].n).toBe(rows.length);

    // Nothing lost while a scheduler ran: every period between the first and the last run has its run,
    // except those that began while all schedulers were down (the restart takes seconds under load).
    // Of those, the latest one is caught up when the schedulers come back (older ones would only
    // repeat it); later periods are ticked as usual.
    const periods = new Set(rows.map((r) => r.at.getTime()));
    const resumedAt = Math.min(...rows.filter((r) => r.queued.getTime() > allStopped).map((r) => r.queued.getTime()));
    const caughtUp = Math.floor(resumedAt / PERIOD_MS) * PERIOD_MS;
    expect(periods.has(caughtUp)).toBe(true);
    const missing: string[] = [];
    for (let t = rows[0]!.at.getTime(); t <= rows.at(-1)!.at.getTime(); t += PERIOD_MS) {
      const duringOutage = t >= outageFrom - PERIOD_MS && t < caughtUp;
      if (!periods.has(t) && !duringOutage) missing.push(new Date(t).toISOString());
    }
    expect(missing).toEqual([]);
  }, 150_000);
});
