import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Express } from 'express';
import request from 'supertest';
import { fixedClock } from '../../src/lib/clock.js';
import { SecretBox } from '../../src/lib/secret-box.js';
import { loadSchoolFixture, signInCallers, startAccessRig, type AccessRig, type SchoolCallers, type SchoolFixture } from '../support/access-fixture.js';
import { waitFor } from '../support/processes.js';

/**
 * The backups over HTTP, on the service's own queue (a pg-boss worker on the test database) and two
 * directory targets: the IT administrator of the only school reads the status, asks for a backup and a
 * restore drill and follows both to their end; the drill's report is the restored database's (row counts,
 * the history chain); a teacher may not; once the database holds a second school the administrator of
 * one may not either (a backup holds both), while a region-level key may.
 */
const clock = fixedClock(new Date('2025-10-31T12:00:00Z'));
const box = new SecretBox(randomBytes(32));
let rig: AccessRig;
let app: Express;
let A: SchoolFixture;
let as: SchoolCallers;

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

beforeAll(async () => {
  rig = await startAccessRig(clock, box, [61]);
  app = rig.app;
  A = rig.schools[0]!;
  as = await signInCallers(rig.auth, A, 'a');
  await rig.backupJobs.work();
}, 300_000);
afterAll(async () => {
  await rig?.close();
});

interface Run { id: string; status: string; name: string | null; actor: string | null; reason: string; targets: Array<{ name: string; ok: boolean }> }
interface Drill { id: string; status: string; backup: string | null; target: string | null; report: { ok: boolean; tables: Array<{ table: string; expected: number; restored: number }>; chains: Array<{ ok: boolean; headMatches: boolean }> } | null }

describe('the backups over HTTP', () => {
  let runName: string;

  it('shows the status to the administrator (no backup yet, both targets empty), and not to a teacher or a deputy', async () => {
    for (const token of [as.teacher, as.deputy, as.parent]) expect((await request(app).get('/v1/backups').set(bearer(token))).status).toBe(403);
    const status = await request(app).get('/v1/backups').set(bearer(as.admin));
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({ runs: [], drills: [], lastGood: null, lastDrill: null, nightly: false, stale: false });
    expect(status.body.targets.map((t: { name: string; count: number }) => [t.name, t.count])).toEqual([['a', 0], ['b', 0]]);
  });

  it('queues a backup by hand; the worker makes it on both targets; the status names it as the last good one', async () => {
    expect((await request(app).post('/v1/backups').set(bearer(as.teacher))).status).toBe(403);
    const asked = await request(app).post('/v1/backups').set(bearer(as.admin));
    expect(asked.status).toBe(202);
    expect(asked.headers.location).toBe(`/v1/backups/runs/${asked.body.id}`);
    expect(asked.body).toMatchObject({ reason: 'manual', status: 'queued', actor: expect.stringMatching(/^user:/) });
    const run = await waitFor('the backup to end', async () => {
      const res = await request(app).get(asked.headers.location!).set(bearer(as.admin));
      return ['succeeded', 'partial', 'failed'].includes(res.body.status) ? (res.body as Run) : undefined;
    }, 240_000);
    expect(run).toMatchObject({ status: 'succeeded', targets: [{ name: 'a', ok: true }, { name: 'b', ok: true }] });
    runName = run.name!;
    const status = await request(app).get('/v1/backups').set(bearer(as.admin));
    expect(status.body.lastGood).toMatchObject({ id: run.id, name: runName, status: 'succeeded' });
    expect(status.body.targets.map((t: { name: string; backups: string[] }) => [t.name, t.backups])).toEqual([['a', [runName]], ['b', [runName]]]);
    expect(status.body.runs[0]).toMatchObject({ id: run.id, status: 'succeeded' });
  });

  it('runs a restore drill: the newest backup restored, its counts and chain equal to the source', async () => {
    const unknown = await request(app).post('/v1/backups/restore-drills').set(bearer(as.admin)).send({ target: 'nowhere' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toContain('no backup target named nowhere');
    expect((await request(app).post('/v1/backups/restore-drills').set(bearer(as.admin)).send({ extra: 1 })).status).toBe(400);
    const asked = await request(app).post('/v1/backups/restore-drills').set(bearer(as.admin)).send({ target: 'b' });
    expect(asked.status).toBe(202);
    expect(asked.body).toMatchObject({ status: 'queued', onlyTarget: 'b', report: null });
    const drill = await waitFor('the drill to end', async () => {
      const res = await request(app).get(asked.headers.location!).set(bearer(as.admin));
      return ['passed', 'failed'].includes(res.body.status) ? (res.body as Drill) : undefined;
    }, 240_000);
    expect(drill).toMatchObject({ status: 'passed', backup: runName, target: 'b', report: { ok: true } });
    const marks = drill.report!.tables.find((t) => t.table === 'mark')!;
    const { rows } = await rig.db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM mark');
    expect(marks).toEqual({ table: 'mark', expected: rows[0]!.n, restored: rows[0]!.n });
    expect(drill.report!.chains).toEqual([expect.objectContaining({ ok: true, headMatches: true })]);
    const status = await request(app).get('/v1/backups').set(bearer(as.admin));
    expect(status.body.lastDrill).toMatchObject({ id: drill.id, status: 'passed' });
    // Lists carry no reports; one drill has its own.
    expect(status.body.drills[0]).toMatchObject({ id: drill.id, report: null });
  });

  it('with a second school in the database, needs backups:manage in both: a region-level key, not one school\'s administrator', async () => {
    const B = await loadSchoolFixture(rig.db, clock, 62, box);
    expect(B.schoolId).not.toBe(A.schoolId);
    const refused = await request(app).get('/v1/backups').set(bearer(as.admin));
    expect(refused.status).toBe(403);
    expect(refused.body.error.message).toContain('every school');
    expect((await request(app).post('/v1/backups').set(bearer(as.admin))).status).toBe(403);
    const region = await rig.auth.keys.create({ name: 'region', schoolIds: null, scopes: ['backups:manage'] }, 'test');
    const narrow = await rig.auth.keys.create({ name: 'region-reader', schoolIds: null, scopes: ['journal:read'] }, 'test');
    expect((await request(app).get('/v1/backups').set(bearer(region.key))).status).toBe(200);
    expect((await request(app).get('/v1/backups').set(bearer(narrow.key))).status).toBe(403);
  });
});
