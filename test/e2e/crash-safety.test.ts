import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startDnevnikSimulator, type DnevnikSimulator } from '../../adapters/dnevnikru/simulator.js';
import { generateSchool, type DemoSchool } from '../../src/demo/generator.js';
import { systemClock } from '../../src/lib/clock.js';
import { listRuns, type RunView } from '../../src/sync/runs.js';
import type { SyncService } from '../../src/sync/service.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { createSchool } from '../support/fixtures.js';
import { simulator as dnevnikSimulator } from '../../adapters/dnevnikru/simulator.js';
import { startServiceProcess, tempDataDir, waitFor, type ServiceProcess } from '../support/processes.js';
import { compareWithTruth } from '../support/round-trip.js';
import { keyOf, LOOPBACK_TARGETS, startTestEngine } from '../support/sync-engine.js';

/**
 * Crash safety with real processes: a worker process syncing a generated school from the Дневник.ру
 * simulator is killed with SIGKILL once its run has applied N pages; a new worker notices the dead
 * heartbeat, fails that run and retries it as a new one. Afterwards the journal equals the truth —
 * nothing lost, nothing doubled — the cursors are consistent, one run failed and one succeeded.
 */
// A range run of a fixed autumn: the workers' real clock decides nothing here. Six weeks read a week at a
// time: as many slices, hence pages, as eleven weeks two at a time, with half the records to read twice.
const YEAR = 2025;
const RANGE = { from: '2025-09-01', to: '2025-10-12' };
const RANGE_DAYS = 7;

let db: TestDatabase;
let truth: DemoSchool;
let sim: DnevnikSimulator;
let control: SyncService;
let dataDir: string;
const workers: ServiceProcess[] = [];

beforeAll(async () => {
  db = await createTestDatabase({ poolSize: 6 });
  truth = generateSchool({ seed: 31, pupils: 40, year: YEAR, until: RANGE.to });
  sim = await startDnevnikSimulator(truth);
  control = await startTestEngine(db, systemClock, { ROLES: 'api' });
  dataDir = await tempDataDir();
});
afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop('SIGKILL')));
  await control.stop();
  await sim.close();
  await db.drop();
});

function worker(): ServiceProcess {
  const process = startServiceProcess({
    DATABASE_URL: db.url, DATA_DIR: dataDir, ROLES: 'worker', CONNECTION_SECRETS_KEY: keyOf(db), CONNECTION_ALLOWED_TARGETS: LOOPBACK_TARGETS,
    SYNC_HEARTBEAT_SECONDS: '1', SYNC_DEAD_AFTER_SECONDS: '8', SYNC_RETRY_DELAY_SECONDS: '1', SYNC_POLL_SECONDS: '0.5', DB_POOL_MAX: '4',
  });
  workers.push(process);
  return process;
}

async function pagesApplied(runId: string): Promise<number> {
  const { rows } = await db.pool.query<{ progress: Record<string, { batches: number }> | null }>('SELECT progress FROM sync_run WHERE id = $1', [runId]);
  return Object.values(rows[0]?.progress ?? {}).reduce((n, s) => n + s.batches, 0);
}

describe('a worker killed in the middle of a sync', () => {
  it.each([1, 4, 9])('loses and doubles nothing when killed after page %i', async (page) => {
    const schoolId = await createSchool(db.pool);
    const connection = await control.connections.create({
      schoolId, platform: 'dnevnikru',
      config: { ...sim.connectionConfig(), rangeDays: RANGE_DAYS },
    });
    // Slow enough answers that the kill lands in the middle of the run; the retried run after it needs no slowness.
    sim.setFaults({ slowMs: 15 });
    const first = worker();
    const { run } = await control.queue.enqueue(connection.id, 'manual', 'range', { range: RANGE });
    await waitFor(`page ${page}`, async () => ((await pagesApplied(run.id)) >= page ? true : undefined), 60_000, 20);
    first.child.kill('SIGKILL');
    await first.exited;
    sim.setFaults({});
    const killedAt = await pagesApplied(run.id);

    const second = worker();
    const runs = await waitFor('the retried run', async () => {
      const all = (await listRuns(db.pool, { connectionId: connection.id })).reverse();
      return all.length === 2 && all.every((r: RunView) => r.status !== 'queued' && r.status !== 'running') ? all : undefined;
    }, 90_000, 250);
    await second.stop();

    expect(runs.map((r) => [r.trigger, r.status])).toEqual([['manual', 'failed'], ['retry', 'succeeded']]);
    expect(runs[0]!.error).toMatch(/heartbeat|stopped/);
    expect(killedAt).toBeGreaterThanOrEqual(page);
    for (const d of await compareWithTruth(db.pool, schoolId, truth, RANGE, dnevnikSimulator.spelling(truth))) {
      expect({ what: d.what, missing: d.missing, extra: d.extra }).toEqual({ what: d.what, missing: [], extra: [] });
    }
    // The retried run read the same days; a range run leaves the incremental window alone; no lease is left behind.
    expect(runs.map((r) => r.range)).toEqual([RANGE, RANGE]);
    const marks = await db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM mark WHERE school_id = $1 AND deleted_at IS NULL`, [schoolId]);
    expect(marks.rows[0]!.n).toBeGreaterThan(500);
    const cursors = await db.pool.query<{ stream: string; cursor: { until?: string } }>('SELECT stream, cursor FROM sync_cursor WHERE connection_id = $1', [connection.id]);
    expect(cursors.rows.find((c) => c.stream === '_window')).toBeUndefined();
    const lease = await db.pool.query('SELECT lease_token FROM connection WHERE id = $1', [connection.id]);
    expect(lease.rows[0].lease_token).toBeNull();
  }, 180_000);
});
