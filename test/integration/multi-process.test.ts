import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startDnevnikSimulator, type DnevnikSimulator } from '../../adapters/dnevnikru/simulator.js';
import { generateSchool } from '../../src/demo/generator.js';
import { systemClock } from '../../src/lib/clock.js';
import { listRuns } from '../../src/sync/runs.js';
import type { SyncService } from '../../src/sync/service.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { createSchool } from '../support/fixtures.js';
import { startServiceProcess, tempDataDir, waitFor, type ServiceProcess } from '../support/processes.js';
import { keyOf, LOOPBACK_TARGETS, startTestEngine } from '../support/sync-engine.js';

/** 50 "sync now" requests for one connection spread over three API + worker processes: runs never overlap. */
const RANGE = { from: '2025-09-01', to: '2025-09-30' };
let db: TestDatabase;
let sim: DnevnikSimulator;
let control: SyncService;
const processes: ServiceProcess[] = [];

beforeAll(async () => {
  db = await createTestDatabase({ poolSize: 4 });
  sim = await startDnevnikSimulator(generateSchool({ seed: 41, pupils: 30, year: 2025, until: RANGE.to }));
  control = await startTestEngine(db, systemClock, { ROLES: 'api' });
});
afterAll(async () => {
  await Promise.all(processes.map((p) => p.stop('SIGKILL')));
  await control.stop();
  await sim.close();
  await db.drop();
});

describe('three processes, one connection', () => {
  it('runs the syncs of 50 triggers one after another, never two at once', async () => {
    const schoolId = await createSchool(db.pool);
    const connection = await control.connections.create({
      schoolId, platform: 'dnevnikru',
      config: sim.connectionConfig(),
    });
    const dataDir = await tempDataDir();
    const started = [0, 1, 2].map(() => startServiceProcess({
      DATABASE_URL: db.url, DATA_DIR: dataDir, ROLES: 'api,worker', CONNECTION_SECRETS_KEY: keyOf(db), CONNECTION_ALLOWED_TARGETS: LOOPBACK_TARGETS,
      SYNC_POLL_SECONDS: '0.5', SYNC_HEARTBEAT_SECONDS: '1', SYNC_DEAD_AFTER_SECONDS: '10', DB_POOL_MAX: '4',
    }));
    processes.push(...started);
    const urls = await Promise.all(started.map((p) => p.url));
    for (const url of urls) await waitFor(`process at ${url}`, async () => ((await fetch(`${url}/health`)).ok ? true : undefined), 60_000);
    // Range runs of a fixed autumn: nothing here depends on today's date.
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => fetch(`${urls[i % 3]}/v1/connections/${connection.id}/sync`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ mode: 'range', range: i % 7 === 0 ? RANGE : { from: RANGE.from, to: '2025-09-14' } }),
    })));
    expect(answers.every((a) => a.status === 202 || a.status === 200)).toBe(true);
    expect(answers.filter((a) => a.status === 202).length).toBeLessThan(50);
    const runs = await waitFor('the runs to settle', async () => {
      const all = await listRuns(db.pool, { connectionId: connection.id, limit: 200 });
      return all.length > 0 && all.every((r) => r.status !== 'queued' && r.status !== 'running') ? all : undefined;
    }, 150_000, 500);
    expect(runs.map((r) => r.status)).toEqual(runs.map(() => 'succeeded'));
    const spans = runs.map((r) => [Date.parse(r.startedAt!), Date.parse(r.finishedAt!)] as const).sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < spans.length; i++) expect(spans[i]![0]).toBeGreaterThanOrEqual(spans[i - 1]![1]);
  }, 240_000);
});
