import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { loadConfig } from '../../src/config.js';
import { openDatabase, type Database } from '../../src/db/database.js';
import type { Pool } from '../../src/db/pool.js';
import { HISTORY_TABLES, historyRights } from '../../src/db/roles.js';
import { ChainAnchors, readAnchors } from '../../src/journal/anchors.js';
import { applyBatch } from '../../src/journal/apply-batch.js';
import { chainHash, eventText, GENESIS_HASH, type EventOp } from '../../src/journal/history.js';
import { verifyChains } from '../../src/journal/verify.js';
import { fixedClock } from '../../src/lib/clock.js';
import { createLogger } from '../../src/lib/logger.js';
import type { SourceRecord } from '../../src/ports/records.js';
import { applicationRole, asSuperuser, createTestDatabase, type TestDatabase } from '../support/db.js';
import { createConnection, createSchool } from '../support/fixtures.js';
import { tempDataDir } from '../support/processes.js';

/**
 * History that cannot be quietly rewritten: the application's database role cannot change or remove
 * history, and what a superuser can do (truncate, cut the tail, rewrite with recomputed hashes) no
 * longer matches the chain heads anchored outside the database.
 */

const PUPILS = 30;
const LESSONS = 40;

function roster(): SourceRecord[] {
  const records: SourceRecord[] = [
    { type: 'class', externalId: 'c', year: 2025, name: '6Б', grade: 6 },
    { type: 'subject', externalId: 's', name: 'История' },
  ];
  for (let p = 0; p < PUPILS; p++) {
    records.push({ type: 'person', externalId: `p${p}`, role: 'pupil', lastName: `Ыыыов${p}`, firstName: 'Ыыы', classExternalId: 'c' });
    records.push({ type: 'enrollment', externalId: `e${p}`, pupilExternalId: `p${p}`, classExternalId: 'c' });
  }
  for (let l = 0; l < LESSONS; l++) {
    const day = String(1 + (l % 28)).padStart(2, '0');
    records.push({ type: 'lesson', externalId: `l${l}`, classExternalId: 'c', subjectExternalId: 's', date: `2025-10-${day}`, slot: 1 + Math.floor(l / 28), status: 'held' });
  }
  return records;
}

function marks(): SourceRecord[] {
  const records: SourceRecord[] = [];
  for (let l = 0; l < LESSONS; l++) {
    for (let p = 0; p < PUPILS; p++) records.push({ type: 'mark', externalId: `m${l}-${p}`, pupilExternalId: `p${p}`, lessonExternalId: `l${l}`, value: String(2 + ((l + p) % 4)) });
  }
  return records;
}

interface Seeded {
  db: TestDatabase;
  schoolId: string;
  anchorDir: string;
  anchors: ChainAnchors;
  events: number;
}

const seeded: Seeded[] = [];

/** A school whose history (1,200 marks and more) was written in two syncs, each anchored at its end. */
async function seed(): Promise<Seeded> {
  const db = await createTestDatabase();
  const schoolId = await createSchool(db.pool);
  const connectionId = await createConnection(db.pool, schoolId);
  const anchorDir = await mkdtemp(path.join(os.tmpdir(), 'jb-anchors-'));
  const anchors = await ChainAnchors.open(anchorDir);
  const clock = fixedClock(new Date('2025-10-30T15:00:00Z'));
  await applyBatch(db.pool, clock, { connectionId, stream: 'roster', records: roster() });
  await anchors.write(db.pool, { connectionId });
  await applyBatch(db.pool, clock, { connectionId, stream: 'marks', records: marks() });
  await anchors.write(db.pool, { connectionId });
  const { rows } = await db.pool.query<{ seq: string }>('SELECT seq FROM journal_head WHERE school_id = $1', [schoolId]);
  const result = { db, schoolId, anchorDir, anchors, events: Number(rows[0]!.seq) };
  seeded.push(result);
  return result;
}

async function verify(s: Seeded, withAnchors = true) {
  const set = withAnchors ? await readAnchors(s.anchorDir) : undefined;
  const [report] = await verifyChains(s.db.pool, [s.schoolId], set);
  return report!;
}

/** A role like the service's own, made with the production grants (roles.ts) on a test database. */

afterAll(async () => {
  for (const s of seeded) {
    await s.db.drop();
    await rm(s.anchorDir, { recursive: true, force: true });
  }
});

describe("the application's database role", () => {
  let s: Seeded;
  let app: Pool;
  beforeAll(async () => {
    s = await seed();
    app = await applicationRole(s.db);
  });
  afterAll(async () => {
    await app.end();
  });

  it('cannot truncate, update or delete history, nor touch the migrations', async () => {
    await expect(app.query('TRUNCATE journal_event')).rejects.toMatchObject({ code: '42501' });
    await expect(app.query('UPDATE journal_event SET actor = $1 WHERE school_id = $2', ['x', s.schoolId])).rejects.toMatchObject({ code: '42501' });
    await expect(app.query('DELETE FROM journal_event WHERE school_id = $1', [s.schoolId])).rejects.toMatchObject({ code: '42501' });
    await expect(app.query('DELETE FROM "_prisma_migrations"')).rejects.toMatchObject({ code: '42501' });
    await expect(app.query('ALTER TABLE journal_event DISABLE TRIGGER USER')).rejects.toMatchObject({ code: '42501' });
    expect(await historyRights(app)).toEqual([]);
    expect(await historyRights(s.db.pool)).toEqual(HISTORY_TABLES.map((t) => `${t}: superuser`));
    expect((await verify(s)).ok).toBe(true);
  });

  it('still writes the journal: a sync as that role appends history', async () => {
    const connectionId = (await app.query<{ id: string }>('SELECT id::text FROM connection WHERE school_id = $1', [s.schoolId])).rows[0]!.id;
    const before = s.events;
    await applyBatch(app, fixedClock(new Date('2025-10-31T10:00:00Z')), { connectionId, stream: 'marks', records: [{ ...marks()[0]!, value: '5' } as SourceRecord] });
    await s.anchors.write(app, { connectionId });
    const report = await verify(s);
    expect(report).toMatchObject({ ok: true, checked: before + 1, anchors: 3 });
  });

  it('moving only the head back (which the role may update) is caught by the chain and the anchors', async () => {
    const s2 = await seed();
    const app2 = await applicationRole(s2.db);
    try {
      await app2.query('UPDATE journal_head SET seq = seq - 1000 WHERE school_id = $1', [s2.schoolId]);
      expect((await verify(s2)).ok).toBe(false);
    } finally {
      await app2.end();
    }
  });
});

describe('tampering as a superuser', () => {
  it('truncating history and deleting the head: "OK, 0 events" without anchors, BROKEN with them', async () => {
    const s = await seed();
    await s.db.pool.query('TRUNCATE journal_event');
    await s.db.pool.query('DELETE FROM journal_head WHERE school_id = $1', [s.schoolId]);
    expect(await verify(s, false)).toMatchObject({ ok: true, checked: 0 });
    const report = await verify(s);
    expect(report).toMatchObject({ ok: false, checked: 0, firstBreak: { seq: 1, reason: expect.stringContaining('truncated') } });
    expect(report.firstBreak!.reason).toContain(`anchored up to event ${s.events}`);
  });

  it('deleting the last 1,000 events and moving the head back', async () => {
    const s = await seed();
    const keep = s.events - 1000;
    const { rows } = await s.db.pool.query<{ hash: Buffer }>('SELECT hash FROM journal_event WHERE school_id = $1 AND seq = $2', [s.schoolId, keep]);
    await asSuperuser(s.db.pool, [
      ['DELETE FROM journal_event WHERE school_id = $1 AND seq > $2', [s.schoolId, keep]],
      ['UPDATE journal_head SET seq = $2, hash = $3 WHERE school_id = $1', [s.schoolId, keep, rows[0]!.hash]],
    ]);
    expect(await verify(s, false)).toMatchObject({ ok: true, checked: keep });
    expect(await verify(s)).toMatchObject({
      ok: false, checked: keep, firstBreak: { seq: keep + 1, reason: expect.stringContaining(`events after ${keep} were deleted`) },
    });
  });

  it('rewriting an event and recomputing every later hash and the head — even when a later head was anchored after the rewrite', async () => {
    const s = await seed();
    await rewrite(s.db.pool, s.schoolId, 100, '{"raw":"2"}');
    expect(await verify(s, false)).toMatchObject({ ok: true, checked: s.events });
    // The service keeps running and anchors the forged head: the anchors from before still disagree.
    const fresh = await ChainAnchors.open(s.anchorDir);
    expect(await fresh.write(s.db.pool)).toBe(1);
    const report = await verify(s);
    expect(report).toMatchObject({ ok: false, firstBreak: { reason: expect.stringContaining('rewritten') } });
    expect(report.firstBreak!.seq).toBeGreaterThanOrEqual(100);
  });

  it('editing or forging an anchor line is reported, and so is a missing signing key', async () => {
    const s = await seed();
    const [file] = (await readdir(s.anchorDir)).filter((f) => f.endsWith('.jsonl'));
    const text = await readFile(path.join(s.anchorDir, file!), 'utf8');
    const lines = text.trim().split('\n');
    const edited = JSON.parse(lines[1]!) as { seq: number };
    edited.seq -= 1000;
    await writeFile(path.join(s.anchorDir, file!), `${lines[0]}\n${JSON.stringify(edited)}\n`);
    expect((await readAnchors(s.anchorDir)).problems).toEqual([expect.stringContaining(`${file}:2 is not a validly signed anchor`)]);
    await rm(path.join(s.anchorDir, 'anchor-signing.key'));
    await rm(path.join(s.anchorDir, 'anchor-signing.pub'));
    expect((await readAnchors(s.anchorDir)).problems).toEqual([expect.stringContaining('signing key')]);
  });

  it('a school gone from the database is reported by its anchors', async () => {
    const s = await seed();
    const gone = { schoolId: randomUUID(), seq: 12, hash: 'ab'.repeat(32), at: '2025-10-30T15:00:00.000Z' };
    const reports = await verifyChains(s.db.pool, undefined, { bySchool: new Map([[gone.schoolId, [gone]]]), problems: [] });
    expect(reports.map((r) => [r.schoolId, r.ok])).toEqual([[s.schoolId, true], [gone.schoolId, false]]);
    expect(reports[1]!.firstBreak!.reason).toContain('gone from the database');
  });
});

describe('the embedded default', () => {
  let dataDir: string;
  let db: Database | undefined;
  afterAll(async () => {
    await db?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('connects the service as the application role, with the owner running the migrations', async () => {
    dataDir = await tempDataDir();
    db = await openDatabase(loadConfig({ DATA_DIR: dataDir }), createLogger('silent'));
    expect(new URL(db.url).username).toBe('journal_app');
    expect(db.historyRights).toEqual([]);
    await expect(db.pool.query('TRUNCATE journal_event')).rejects.toMatchObject({ code: '42501' });
    const { rows } = await db.pool.query<{ owner: string }>(`SELECT pg_get_userbyid(relowner) AS owner FROM pg_class WHERE relname = 'journal_event'`);
    expect(rows[0]!.owner).toBe('journal_owner');
    // The superuser's password stays in the data directory, for set-up only.
    const superuser = new pg.Client({ connectionString: `postgresql://postgres:${encodeURIComponent((await readFile(path.join(dataDir, 'pg-password'), 'utf8')).trim())}@127.0.0.1:${new URL(db.url).port}/journal` });
    await superuser.connect();
    expect((await superuser.query<{ r: boolean }>('SELECT rolsuper AS r FROM pg_roles WHERE rolname = current_user')).rows[0]!.r).toBe(true);
    await superuser.end();
  });
});

/** Alters one event and recomputes the hash of it and of every later event, and the head: a consistent forgery. */
async function rewrite(pool: Pool, schoolId: string, seq: number, after: string): Promise<void> {
  await asSuperuser(pool, [['UPDATE journal_event SET after = $3 WHERE school_id = $1 AND seq = $2', [schoolId, seq, after]]]);
  const { rows } = await pool.query<{ seq: string; entity_type: string; entity_id: string; op: EventOp; source_id: string | null; actor: string | null; at: string; before: string | null; after: string | null }>(
    `SELECT seq, entity_type, entity_id::text, op, source_id::text, actor, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at,
            before::text AS before, after::text AS after FROM journal_event WHERE school_id = $1 ORDER BY seq`,
    [schoolId],
  );
  let previous: Buffer = GENESIS_HASH;
  const statements: Array<[string, unknown[]]> = [];
  for (const row of rows) {
    const n = Number(row.seq);
    const event = { entityType: row.entity_type, entityId: row.entity_id, op: row.op, before: row.before, after: row.after };
    previous = chainHash(previous, eventText(n, { sourceId: row.source_id, actor: row.actor, at: row.at }, event));
    if (n >= seq) statements.push(['UPDATE journal_event SET hash = $3 WHERE school_id = $1 AND seq = $2', [schoolId, n, previous]]);
  }
  statements.push(['UPDATE journal_head SET hash = $2 WHERE school_id = $1', [schoolId, previous]]);
  await asSuperuser(pool, statements);
}
