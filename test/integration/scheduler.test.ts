import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { createConnection, createSchool } from '../support/fixtures.js';
import { sleep, startServiceProcess, tempDataDir, type ServiceProcess } from '../support/processes.js';

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

describe('scheduling with three scheduler processes', () => {
  it('makes exactly one run per period, across a restart of all of them', async () => {
    const schoolId = await createSchool(db.pool);
    const connectionId = await createConnection(db.pool, schoolId, 'dnevnikru');
    await db.pool.query(`UPDATE connection SET schedule = '*/3 * * * * *' WHERE id = $1`, [connectionId]);
    const dataDir = await tempDataDir();
    const env = { DATABASE_URL: db.url, ROLES: 'scheduler', DATA_DIR: dataDir };
    const start = () => [1, 2, 3].map(() => startServiceProcess(env));
    const first = start();
    processes.push(...first);
    await sleep(4 * PERIOD_MS);
    await Promise.all(first.map((p) => p.stop()));
    const second = start();
    processes.push(...second);
    await sleep(4 * PERIOD_MS);
    await Promise.all(second.map((p) => p.stop()));

    const { rows } = await db.pool.query<{ at: Date; n: number }>(
      `SELECT scheduled_for AS at, count(*)::int AS n FROM sync_run WHERE connection_id = $1 GROUP BY 1 ORDER BY 1`, [connectionId],
    );
    expect(rows.length).toBeGreaterThanOrEqual(6);
    expect(rows.every((r) => r.n === 1)).toBe(true);
    // Consecutive periods: nothing lost, even across the restart (the latest missed period is caught up).
    const gaps = rows.slice(1).map((r, i) => r.at.getTime() - rows[i]!.at.getTime());
    expect(gaps.every((g) => g === PERIOD_MS)).toBe(true);
    const jobs = await db.pool.query(`SELECT count(*)::int AS n FROM pgboss.job WHERE name = 'sync'`);
    expect(jobs.rows[0].n).toBe(rows.length);
  });
});
