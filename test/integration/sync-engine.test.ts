import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startDnevnikSimulator, type DnevnikSimulator } from '../../adapters/dnevnikru/simulator.js';
import { generateLessonFacts, generateLessons, generateSchool, type DemoSchool } from '../../src/demo/generator.js';
import { applyBatch, StaleRunError } from '../../src/journal/apply-batch.js';
import { fixedClock } from '../../src/lib/clock.js';
import { listAlerts, readSyncHealth } from '../../src/sync/alerts.js';
import type { RunView } from '../../src/sync/runs.js';
import { listRuns } from '../../src/sync/runs.js';
import type { SyncService } from '../../src/sync/service.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { createSchool } from '../support/fixtures.js';
import { simulator as dnevnikSimulator } from '../../adapters/dnevnikru/simulator.js';
import { waitFor } from '../support/processes.js';
import { compareWithTruth } from '../support/round-trip.js';
import { startTestEngine } from '../support/sync-engine.js';

const TODAY = '2025-10-31';
const RANGE = { from: '2025-09-01', to: TODAY };
const clock = fixedClock(new Date(`${TODAY}T16:00:00+03:00`));
let db: TestDatabase;
let truth: DemoSchool;
let sim: DnevnikSimulator;
let engine: SyncService;

beforeAll(async () => {
  db = await createTestDatabase({ poolSize: 10 });
  truth = generateSchool({ seed: 21, pupils: 40, year: 2025, until: TODAY });
  sim = await startDnevnikSimulator(truth);
  // A dead platform here must outlast the retries (dead letters); the breaker has its own test (platform-breaker.test.ts).
  engine = await startTestEngine(db, clock, { PLATFORM_BREAKER_FAILURES: '1000' });
});
afterAll(async () => {
  await engine.stop();
  await sim.close();
  await db.drop();
});

const config = (overrides: Record<string, unknown> = {}) => ({ ...sim.connectionConfig(), ...overrides });

async function newConnection(overrides: Record<string, unknown> = {}, check = true): Promise<{ schoolId: string; connectionId: string }> {
  const schoolId = await createSchool(db.pool);
  const connection = await engine.connections.create({ schoolId, platform: 'dnevnikru', config: config(overrides) }, { check });
  return { schoolId, connectionId: connection.id };
}

/**
 * One connection synced in full through the queue, shared by the cases that go on from a synced
 * connection (an incremental run after it): the first caller makes it, the others wait for the same one.
 */
let synced: Promise<{ schoolId: string; connectionId: string; first: { created: boolean }; run: RunView }> | undefined;
function syncedConnection(): NonNullable<typeof synced> {
  synced ??= (async () => {
    const { schoolId, connectionId } = await newConnection();
    const first = await engine.queue.enqueue(connectionId, 'manual', 'full');
    const [run] = await settled(connectionId);
    return { schoolId, connectionId, first, run: run! };
  })();
  return synced;
}

/** The last run of a connection, once every run of it has settled. */
async function lastRun(connectionId: string): Promise<RunView> {
  const runs = await settled(connectionId);
  return runs[runs.length - 1]!;
}

async function settled(connectionId: string, ms = 60_000): Promise<RunView[]> {
  return waitFor('the runs to settle', async () => {
    const runs = await listRuns(db.pool, { connectionId });
    const busy = runs.some((r) => r.status === 'queued' || r.status === 'running');
    return runs.length > 0 && !busy ? runs.reverse() : undefined;
  }, ms, 200);
}

describe('the sync engine', () => {
  it('syncs a connection through the queue, and an unchanged re-run writes nothing', async () => {
    const { schoolId, connectionId, first, run } = await syncedConnection();
    expect(first.created).toBe(true);
    expect(run).toMatchObject({ status: 'succeeded', trigger: 'manual', mode: 'full', attempts: 1 });
    expect(run!.requests).toBeGreaterThan(50);
    expect(run!.counts.marks!.created).toBeGreaterThan(1000);
    for (const d of await compareWithTruth(db.pool, schoolId, truth, RANGE, dnevnikSimulator.spelling(truth))) expect([d.what, d.missing, d.extra]).toEqual([d.what, [], []]);

    await engine.queue.enqueue(connectionId, 'manual', 'incremental');
    const runs = await settled(connectionId);
    expect(runs).toHaveLength(2);
    const second = runs[1]!;
    expect(second.status).toBe('succeeded');
    for (const counts of Object.values(second.counts)) expect(counts).toMatchObject({ created: 0, updated: 0, deleted: 0, rejected: 0 });
  });

  it('picks up a changed mark, a deleted mark and an added lesson inside the window, and nothing else', async () => {
    // The synced connection of the case above (its full run, or the re-run after it): the edits are what is new.
    const { connectionId } = await syncedConnection();
    await settled(connectionId);
    const late = [...generateLessons(truth, { from: '2025-10-20', to: '2025-10-24' })];
    const marks = late.flatMap((l) => generateLessonFacts(truth, l).marks).filter((m) => /^[2-5]$/.test(m.value));
    sim.edits.markValues.set(marks[0]!.id, marks[0]!.value === '2' ? '3' : '2');
    sim.edits.deletedMarks.add(marks[1]!.id);
    const base = late[0]!;
    const extra = { ...base, id: `${base.id}-extra`, slot: 8, topic: 'Дополнительное занятие', homework: '', startsAt: base.startsAt, endsAt: base.endsAt };
    sim.edits.extraLessons.push(extra);
    // The added lesson comes with its own marks and absences, as a real late-entered lesson would.
    const extraFacts = generateLessonFacts(truth, extra);
    try {
      await engine.queue.enqueue(connectionId, 'manual', 'incremental');
      const runs = await settled(connectionId);
      const run = runs[runs.length - 1]!;
      expect(run.status).toBe('succeeded');
      expect(run.counts.marks).toMatchObject({ created: extraFacts.marks.length, updated: 1, deleted: 1 });
      expect(run.counts.schedule).toMatchObject({ created: 1, updated: 0, deleted: 0 });
      expect(run.counts.attendance).toMatchObject({ created: extraFacts.absences.length, updated: 0, deleted: 0 });
      expect(run.counts.roster).toMatchObject({ created: 0, updated: 0, deleted: 0 });
    } finally {
      sim.edits.markValues.clear();
      sim.edits.deletedMarks.clear();
      sim.edits.extraLessons.length = 0;
    }
  });

  it('fails a run with bad credentials at once, with an auth alert and no retry', async () => {
    const { connectionId } = await newConnection({ password: 'wrong' }, false);
    await engine.queue.enqueue(connectionId, 'manual');
    const runs = await settled(connectionId);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ status: 'failed', errorKind: 'auth', attempts: 1 });
    const alerts = await db.pool.query('SELECT kind FROM alert WHERE connection_id = $1', [connectionId]);
    expect(alerts.rows).toEqual([{ kind: 'auth' }]);
  });

  it('fails a run whose platform answers in a shape the adapter does not know at once, as permanent, naming endpoint and field, with an alert', async () => {
    // A Дневник.ру that answers the context without any school id: nothing to retry, something to tell the administrator.
    const odd = createServer((req, res) => {
      res.setHeader('content-type', 'application/json; charset=utf-8');
      res.end(req.url?.startsWith('/v2/users/me/context') ? JSON.stringify({ userId_str: '1', schools: [{ name: 'Школа № 5', type: 'School' }] }) : '[]');
    });
    await new Promise<void>((resolve) => odd.listen(0, '127.0.0.1', resolve));
    try {
      const schoolId = await createSchool(db.pool);
      const baseUrl = `http://127.0.0.1:${(odd.address() as AddressInfo).port}`;
      const connection = await engine.connections.create({ schoolId, platform: 'dnevnikru', config: { baseUrl, token: 'partner-token' } }, { check: false });
      await engine.queue.enqueue(connection.id, 'manual');
      const runs = await settled(connection.id);
      expect(runs).toHaveLength(1);
      expect(runs[0]).toMatchObject({ status: 'failed', errorKind: 'permanent', attempts: 1, error: expect.stringMatching(/^Дневник\.ру GET \/v2\/users\/me\/context: schools\[0\]/) });
      const alerts = await listAlerts(db.pool, { connectionId: connection.id });
      expect(alerts.map((a) => [a.kind, a.message])).toEqual([['permanent', runs[0]!.error]]);
    } finally {
      odd.closeAllConnections();
      await new Promise<void>((resolve) => odd.close(() => resolve()));
    }
  });

  it('dead-letters a sync that outlasts its retries, and redrive completes it once the platform is back', async () => {
    // The synced connection: the redriven run is then an incremental one, not a second full sync of the year.
    const { connectionId } = await syncedConnection();
    const before = (await settled(connectionId)).length;
    sim.setFaults({ maintenance: { requests: Infinity } });
    await engine.queue.enqueue(connectionId, 'manual');
    await waitFor('the dead letter', async () => ((await engine.queue.deadLetters()).count > 0 ? true : undefined), 60_000);
    const failed = (await settled(connectionId)).slice(before);
    expect(failed.map((r) => [r.trigger, r.status, r.errorKind])).toEqual([['manual', 'failed', 'transient'], ['retry', 'failed', 'transient']]);
    expect((await listAlerts(db.pool, { connectionId })).map((a) => [a.kind, a.runId])).toEqual([['dead_letter', failed[1]!.id]]);
    const health = await readSyncHealth(db.pool, engine.queue);
    expect(health.deadLetters.count).toBe(1);
    // The dead letter was made when the last attempt gave up: after the first run was queued.
    expect(Date.parse(health.deadLetters.oldestAt!)).toBeGreaterThanOrEqual(Date.parse(failed[0]!.queuedAt));
    sim.setFaults({});
    expect(await engine.queue.redrive()).toHaveLength(1);
    const runs = await waitFor('the redriven run', async () => {
      const all = (await settled(connectionId)).slice(before);
      return all.length === 3 ? all : undefined;
    }, 60_000);
    expect(runs[2]).toMatchObject({ trigger: 'retry', status: 'succeeded' });
    // The run's end is written before its alerts are resolved (src/sync/executor.ts): wait for the second write.
    expect(await waitFor('the dead letter resolved', async () => {
      const open = await listAlerts(db.pool, { connectionId });
      return open.length === 0 ? open : undefined;
    }, 10_000, 100)).toEqual([]);
    expect((await listAlerts(db.pool, { connectionId, open: false })).map((a) => [a.kind, a.resolvedAt !== null])).toEqual([['dead_letter', true]]);
    expect((await readSyncHealth(db.pool, engine.queue)).deadLetters).toEqual({ count: 0, oldestAt: null });
  });

  it('waits out rate limiting (Retry-After) and completes', async () => {
    // An incremental run of the synced connection: the three 429s come first whatever the run reads.
    const { connectionId } = await syncedConnection();
    await settled(connectionId);
    sim.setFaults({ rateLimit: { requests: 3, retryAfterSeconds: 1 } });
    const { created } = await engine.queue.enqueue(connectionId, 'manual');
    expect(created).toBe(true);
    const run = await lastRun(connectionId);
    sim.setFaults({});
    expect(run).toMatchObject({ status: 'succeeded', attempts: 1, trigger: 'manual', mode: 'incremental' });
    expect(run!.durationMs).toBeGreaterThanOrEqual(2500);
  });

  it('refuses the late writes of a run that lost its lease', async () => {
    const { connectionId } = await newConnection();
    await db.pool.query(`UPDATE connection SET lease_token = 'new-run', lease_heartbeat_at = now() WHERE id = $1`, [connectionId]);
    const late = applyBatch(db.pool, clock, {
      connectionId, stream: 'roster', fence: 'old-run',
      records: [{ type: 'subject', externalId: 'x', name: 'Астрономия' }],
    });
    await expect(late).rejects.toBeInstanceOf(StaleRunError);
    const subjects = await db.pool.query(`SELECT count(*)::int AS n FROM subject WHERE name = 'Астрономия'`);
    expect(subjects.rows[0].n).toBe(0);
  });

  it('never runs two syncs of one connection at once, whatever the triggers', async () => {
    // The synced connection: its incremental runs read the window, not the year again (the full ones still do).
    const { connectionId } = await syncedConnection();
    const before = (await settled(connectionId)).length;
    const second = await startTestEngine(db, clock, { PLATFORM_BREAKER_FAILURES: '1000' });
    try {
      const triggers = Array.from({ length: 50 }, (_, i) => engine.queue.enqueue(connectionId, 'manual', i % 5 === 0 ? 'full' : 'incremental'));
      const results = await Promise.all(triggers);
      // Triggers of one mode coalesce while a run of that mode waits.
      expect(results.filter((r) => r.created).length).toBeLessThan(50);
      await sleepUntilIdle(connectionId);
      const more = await Promise.all(Array.from({ length: 10 }, () => second.queue.enqueue(connectionId, 'manual')));
      expect(more.some((r) => r.created)).toBe(true);
      const runs = (await sleepUntilIdle(connectionId)).slice(before).filter((r) => r.startedAt);
      expect(runs.length).toBeGreaterThan(1);
      const spans = runs.map((r) => [Date.parse(r.startedAt!), Date.parse(r.finishedAt!)] as const).sort((a, b) => a[0] - b[0]);
      for (let i = 1; i < spans.length; i++) expect(spans[i]![0]).toBeGreaterThanOrEqual(spans[i - 1]![1]);
      expect(runs.map((r) => [r.status, r.error])).toEqual(runs.map(() => ['succeeded', null]));
    } finally {
      await second.stop();
    }
  }, 300_000);
});

async function sleepUntilIdle(connectionId: string): Promise<RunView[]> {
  return settled(connectionId, 120_000);
}
