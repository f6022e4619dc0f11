import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import express, { type Express } from 'express';
import request from 'supertest';
import type { Permission } from '../../src/auth/caller.js';
import { setCaller } from '../../src/http/caller.js';
import { errorHandler } from '../../src/http/errors.js';
import { pushRouter } from '../../src/http/routes/push.js';
import { applyBatch } from '../../src/journal/apply-batch.js';
import { fixedClock } from '../../src/lib/clock.js';
import { createLogger } from '../../src/lib/logger.js';
import { MAX_PUSH_RECORDS } from '../../src/push/body.js';
import { loadDemoSchool } from '../../src/demo/load.js';
import { DEMO_PUSH_TITLE, pushDemoClub } from '../../src/demo/push.js';
import { apiCaller } from '../support/callers.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { createConnection, createSchool } from '../support/fixtures.js';
import { runCli } from '../support/processes.js';
import { pushMarks, pushRoster } from '../support/push-records.js';

/** POST /v1/connections/{id}/records: applied through applyBatch, idempotent per key, bad records refused by index. */
const clock = fixedClock(new Date('2025-09-20T12:00:00Z'));
let db: TestDatabase;
let schoolA: string;
let schoolB: string;

/** The API as a caller with records:write in `schools` sees it. */
function appFor(schools: string[], scopes: Permission[] = ['records:write']): Express {
  const app = express();
  app.use(express.json({ limit: '1mb' }));
  app.use((_req, res, next) => {
    setCaller(res, apiCaller(schools, scopes));
    next();
  });
  app.use(pushRouter({ pool: db.pool, clock }));
  app.use(errorHandler(createLogger('silent')));
  return app;
}

const push = (app: Express, connectionId: string, key: string | undefined, body: unknown) => {
  const req = request(app).post(`/v1/connections/${connectionId}/records`).set('content-type', 'application/json');
  return (key === undefined ? req : req.set('idempotency-key', key)).send(JSON.stringify(body));
};

async function eventsOf(schoolId: string): Promise<number> {
  const { rows } = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM journal_event WHERE school_id = $1', [schoolId]);
  return rows[0]!.n;
}

async function marksOf(sourceId: string): Promise<Array<{ external_id: string; raw: string; deleted: boolean }>> {
  const { rows } = await db.pool.query<{ external_id: string; raw: string; deleted: boolean }>(
    'SELECT external_id, raw, deleted_at IS NOT NULL AS deleted FROM mark WHERE source_id = $1 ORDER BY external_id', [sourceId],
  );
  return rows;
}

async function waitingOnLocks(): Promise<number> {
  const { rows } = await db.pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
  );
  return rows[0]!.n;
}

beforeAll(async () => {
  db = await createTestDatabase({ poolSize: 6 });
  schoolA = await createSchool(db.pool);
  schoolB = await createSchool(db.pool, { name: 'Школа № 2' });
});
afterAll(async () => {
  await db.drop();
});

describe('push API', () => {
  it('applies a batch with the counts applyBatch gives, and rows in the journal', async () => {
    const connection = await createConnection(db.pool, schoolA, 'push', 'Элективы');
    const records = [...pushRoster('a-', 5, 4), ...pushMarks('a-', 5, 4, 12)];
    const res = await push(appFor([schoolA]), connection, 'batch-1', { records }).expect(200);
    // The same records fed to applyBatch directly, as a push source of another school.
    const direct = await applyBatch(db.pool, clock, { connectionId: await createConnection(db.pool, await createSchool(db.pool), 'push', 'x'), stream: 'push', records });
    expect(res.body).toEqual({
      connectionId: connection, created: direct.created, updated: direct.updated, unchanged: direct.unchanged, deleted: direct.deleted,
      events: direct.events, rejected: [],
    });
    expect(res.body.created).toBe(records.length);
    expect(res.header['idempotent-replayed']).toBeUndefined();
    expect(await marksOf(connection)).toHaveLength(12);
    expect(await eventsOf(schoolA)).toBe(direct.events);
  });

  it('answers a retry with the same key and body with the first answer, applying nothing again', async () => {
    const connection = await createConnection(db.pool, schoolA, 'push', 'Повтор');
    const app = appFor([schoolA]);
    const body = { records: [...pushRoster('r-', 3, 2), ...pushMarks('r-', 3, 2, 6)] };
    const first = await push(app, connection, 'retry-key', body).expect(200);
    const events = await eventsOf(schoolA);
    const again = await push(app, connection, 'retry-key', body).expect(200);
    expect(again.text).toBe(first.text);
    expect(again.header['idempotent-replayed']).toBe('true');
    expect(await eventsOf(schoolA)).toBe(events);
    // Another key with the same body is a new request: applied, and nothing changes.
    const other = await push(app, connection, 'retry-key-2', body).expect(200);
    expect(other.body).toMatchObject({ created: 0, updated: 0, unchanged: body.records.length, events: 0 });
  });

  it('refuses the same key with another body (409), writing nothing', async () => {
    const connection = await createConnection(db.pool, schoolA, 'push', 'Другое тело');
    const app = appFor([schoolA]);
    await push(app, connection, 'k', { records: pushRoster('o-', 2, 1) }).expect(200);
    const events = await eventsOf(schoolA);
    const res = await push(app, connection, 'k', { records: [...pushRoster('o-', 2, 1), ...pushMarks('o-', 2, 1, 2)] }).expect(409);
    expect(res.body.error).toMatchObject({ code: 'idempotency_key_reused' });
    expect(await eventsOf(schoolA)).toBe(events);
    expect(await marksOf(connection)).toEqual([]);
  });

  it('lets two concurrent requests with one key apply once: the second waits and returns the same answer', async () => {
    const school = await createSchool(db.pool, { name: 'Школа № 5' });
    const connection = await createConnection(db.pool, school, 'push', 'Параллельно');
    const app = appFor([school]);
    await push(app, connection, 'roster', { records: pushRoster('p-', 4, 3) }).expect(200);
    const body = { records: pushMarks('p-', 4, 3, 10) };
    const events = await eventsOf(school);
    // Another batch of the school holds its history lock: both requests are in flight together.
    const busy = await db.pool.connect();
    type Answer = Awaited<ReturnType<typeof push>>;
    let both: Promise<[Answer, Answer]>;
    try {
      await busy.query('BEGIN');
      await busy.query('SELECT 1 FROM journal_head WHERE school_id = $1 FOR UPDATE', [school]);
      both = Promise.all([push(app, connection, 'same', body), push(app, connection, 'same', body)]);
      // One waits for the history lock inside its transaction, the other for the key's lock.
      while ((await waitingOnLocks()) < 2) await new Promise((resolve) => setImmediate(resolve));
    } finally {
      await busy.query('COMMIT');
      busy.release();
    }
    const [one, two] = await both;
    expect([one.status, two.status]).toEqual([200, 200]);
    expect(one.text).toBe(two.text);
    expect([one.header['idempotent-replayed'], two.header['idempotent-replayed']].filter(Boolean)).toEqual(['true']);
    expect(one.body).toMatchObject({ created: 10, rejected: [] });
    expect(await eventsOf(school)).toBe(events + one.body.events);
    expect(await marksOf(connection)).toHaveLength(10);
  });

  it('rejects bad records by their index with the field and reason, and applies the others', async () => {
    const school = await createSchool(db.pool, { name: 'Школа № 4' });
    const connection = await createConnection(db.pool, school, 'push', 'Ошибки');
    const [m0, m1, m2, m3, m4] = pushMarks('b-', 3, 2, 5);
    const records = [
      ...pushRoster('b-', 3, 2),
      m0, { ...m1, date: '01.09.2025' }, m2, { ...m3, value: '' }, m4,
    ];
    const base = pushRoster('b-', 3, 2).length;
    const res = await push(appFor([school]), connection, 'bad', { records }).expect(200);
    expect(res.body.rejected).toEqual([
      { index: base + 1, type: 'mark', externalId: 'b-m1', reason: expect.stringContaining('date: expected a date YYYY-MM-DD') },
      { index: base + 3, type: 'mark', externalId: 'b-m3', reason: expect.stringContaining('value: empty mark value') },
    ]);
    expect(res.body.created).toBe(records.length - 2);
    expect((await marksOf(connection)).map((m) => m.external_id)).toEqual(['b-m0', 'b-m2', 'b-m4']);
    // Not even an object with a known type: rejected by index too.
    const odd = await push(appFor([school]), connection, 'odd', { records: [42, { type: 'grade' }, m0] }).expect(200);
    expect(odd.body.rejected.map((r: { index: number }) => r.index)).toEqual([0, 1]);
    expect(odd.body).toMatchObject({ unchanged: 1, created: 0 });
  });

  it('refuses a 2 MB body (413) and more than the largest batch (413), writing nothing', async () => {
    const connection = await createConnection(db.pool, schoolA, 'push', 'Большой');
    const app = appFor([schoolA]);
    const events = await eventsOf(schoolA);
    const huge = { records: [...pushRoster('h-', 2, 1), { type: 'subject', externalId: 'h-big', name: 'x', shortName: 'я'.repeat(1024 * 1024) }] };
    expect(Buffer.byteLength(JSON.stringify(huge))).toBeGreaterThan(2 * 1024 * 1024);
    const res = await push(app, connection, 'huge', huge).expect(413);
    expect(res.body.error).toMatchObject({ code: 'entity.too.large' });
    const many = { records: Array.from({ length: MAX_PUSH_RECORDS + 1 }, (_, i) => ({ type: 'subject', externalId: `s${i}`, name: 's' })) };
    const tooMany = await push(app, connection, 'many', many).expect(413);
    expect(tooMany.body.error).toMatchObject({ code: 'too_many_records', message: expect.stringContaining(String(MAX_PUSH_RECORDS)) });
    expect(await eventsOf(schoolA)).toBe(events);
    const { rows } = await db.pool.query('SELECT 1 FROM push_idempotency WHERE connection_id = $1', [connection]);
    expect(rows).toEqual([]);
  });

  it('answers 404 for another school’s connection and for a connection that is not a push one', async () => {
    const theirs = await createConnection(db.pool, schoolB, 'push', 'Чужая');
    const body = { records: pushRoster('f-', 1, 1) };
    const foreign = await push(appFor([schoolA]), theirs, 'f', body).expect(404);
    expect(foreign.body.error).toEqual({ code: 'not_found', message: `connection ${theirs} not found` });
    const platform = await createConnection(db.pool, schoolA, 'dnevnikru', 'Дневник.ру');
    const notPush = await push(appFor([schoolA]), platform, 'f', body).expect(404);
    expect(notPush.body.error).toEqual({ code: 'not_found', message: `connection ${platform} not found` });
    const unknown = await push(appFor([schoolA]), '00000000-0000-4000-8000-000000000000', 'f', body).expect(404);
    expect(unknown.body.error.code).toBe('not_found');
    expect(await eventsOf(schoolB)).toBe(0);
    // A key of their school without records:write: 403.
    const readOnly = await push(appFor([schoolB], ['journal:read']), theirs, 'f', body).expect(403);
    expect(readOnly.body.error.code).toBe('forbidden');
    // Their own school's caller may.
    await push(appFor([schoolB]), theirs, 'f', body).expect(200);
  });

  it('needs an Idempotency-Key (400), a well-formed body (400) and an enabled connection (409)', async () => {
    const connection = await createConnection(db.pool, schoolA, 'push', 'Проверки');
    const app = appFor([schoolA]);
    const missing = await push(app, connection, undefined, { records: [] }).expect(400);
    expect(missing.body.error.code).toBe('idempotency_key_required');
    await push(app, connection, 'k'.repeat(201), { records: [] }).expect(400);
    const shape = await push(app, connection, 'k', { marks: [] }).expect(400);
    expect(shape.body.error.code).toBe('validation_failed');
    await db.pool.query('UPDATE connection SET enabled = false WHERE id = $1', [connection]);
    const disabled = await push(app, connection, 'k', { records: [] }).expect(409);
    expect(disabled.body.error.code).toBe('connection_disabled');
  });

  it('tombstones the marks and retires the lessons named gone', async () => {
    // A school of its own: a lesson is retired only when no other source of the school still has it.
    const school = await createSchool(db.pool, { name: 'Школа № 3' });
    const connection = await createConnection(db.pool, school, 'push', 'Удаления');
    const app = appFor([school]);
    await push(app, connection, 'g1', { records: [...pushRoster('g-', 2, 3), ...pushMarks('g-', 2, 3, 4)] }).expect(200);
    const res = await push(app, connection, 'g2', {
      records: [],
      gone: [{ entityType: 'mark', externalId: 'g-m1' }, { entityType: 'mark', externalId: 'g-m3' }, { entityType: 'lesson', externalId: 'g-l3' }, { entityType: 'mark', externalId: 'never-sent' }],
    }).expect(200);
    expect(res.body).toMatchObject({ deleted: 3, rejected: [] });
    expect((await marksOf(connection)).map((m) => [m.external_id, m.deleted])).toEqual([['g-m0', false], ['g-m1', true], ['g-m2', false], ['g-m3', true]]);
    const { rows } = await db.pool.query<{ deleted: boolean }>(
      `SELECT l.deleted_at IS NOT NULL AS deleted FROM lesson l JOIN external_ref r ON r.canonical_id = l.id
        WHERE r.connection_id = $1 AND r.entity_type = 'lesson' AND r.external_id = 'g-l3'`, [connection],
    );
    expect(rows).toEqual([{ deleted: true }]);
    const { rows: deletes } = await db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM journal_event WHERE school_id = $1 AND source_id = $2 AND op = 'delete'`, [school, connection],
    );
    expect(deletes[0]!.n).toBe(3);
    await push(app, connection, 'g3', { records: [], gone: [{ entityType: 'grade', externalId: 'x' }] }).expect(400);
  });
});

describe('the command line', () => {
  it('sends a file as a push batch once (push send), its key the file digest', async () => {
    const school = await createSchool(db.pool, { name: 'Школа № 6' });
    const connection = await createConnection(db.pool, school, 'push', 'Файл');
    const dir = await mkdtemp(path.join(tmpdir(), 'jb-push-'));
    try {
      const file = path.join(dir, 'records.json');
      const records = [...pushRoster('c-', 2, 1), ...pushMarks('c-', 2, 1, 2), { type: 'mark', externalId: 'c-bad' }];
      await writeFile(file, JSON.stringify(records));
      const env = { DATABASE_URL: db.url, DATA_DIR: dir };
      const first = await runCli(['push', 'send', '--connection', connection, '--file', file], env);
      expect(first.code).toBe(2);
      expect(JSON.parse(first.stdout)).toMatchObject({ created: records.length - 1, rejected: [{ index: records.length - 1, externalId: 'c-bad' }] });
      const again = await runCli(['push', 'send', '--connection', connection, '--file', file], env);
      expect(again.stdout).toContain('(the stored answer of this key)');
      expect(await marksOf(connection)).toHaveLength(2);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the demo', () => {
  it('has a push connection whose batch lands on the school’s own pupils and class', async () => {
    const demoClock = fixedClock(new Date('2025-09-12T15:00:00Z'));
    const logger = createLogger('silent');
    const { schoolId } = await loadDemoSchool({ pool: db.pool, clock: demoClock, logger }, { seed: 4, pupils: 30, year: 2025, until: '2025-09-12' });
    const count = async (table: string) => (await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE school_id = $1`, [schoolId])).rows[0]!.n;
    const [persons, classes] = [await count('person'), await count('class_group')];
    await pushDemoClub({ pool: db.pool, clock: demoClock, logger }, schoolId);
    const { rows } = await db.pool.query<{ id: string }>(`SELECT id::text FROM connection WHERE school_id = $1 AND platform = 'push' AND title = $2`, [schoolId, DEMO_PUSH_TITLE]);
    expect(rows).toHaveLength(1);
    expect((await marksOf(rows[0]!.id)).length).toBeGreaterThan(0);
    expect([await count('person'), await count('class_group')]).toEqual([persons, classes]);
    const conflicts = await db.pool.query('SELECT 1 FROM identity_conflict WHERE connection_id = $1', [rows[0]!.id]);
    expect(conflicts.rows).toEqual([]);
  });
});
