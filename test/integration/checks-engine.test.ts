import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Express } from 'express';
import { authed, keyFor, testAuth, type Authed } from '../support/api.js';
import { createPrisma, type PrismaClient } from '../../src/db/prisma.js';
import { createSchoolRepository } from '../../src/db/repositories/schools.js';
import { listDiscrepancies, patchDiscrepancy } from '../../src/checks/discrepancies.js';
import { runChecks } from '../../src/checks/service.js';
import type { Rule } from '../../src/checks/types.js';
import { createApp } from '../../src/http/app.js';
import { applyBatch } from '../../src/journal/apply-batch.js';
import { drainConsumer, FeedQueue, readEvents, type FeedEvent } from '../../src/journal/feed.js';
import { fixedClock } from '../../src/lib/clock.js';
import { createLogger } from '../../src/lib/logger.js';
import type { SourceRecord } from '../../src/ports/records.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { createConnection, createSchool } from '../support/fixtures.js';
import { waitFor } from '../support/processes.js';

/**
 * The checks' machinery with rules of the test's own (the real rules have their own tests): the event
 * feed and its consumers, identity conflicts as records, the engine's lifecycle (found, resolved,
 * dismissed, reopened, reassigned, never duplicated), routing to assignees, and the inbox API.
 */
const clock = fixedClock(new Date('2025-09-20T12:00:00Z'));
const logger = createLogger('silent');
let db: TestDatabase;
let prisma: PrismaClient;
let app: Express;
let api: Authed;
let auth: ReturnType<typeof testAuth>;

beforeAll(async () => {
  db = await createTestDatabase();
  prisma = createPrisma(db.url);
  auth = testAuth(db.pool);
  app = createApp({ auth, pool: db.pool, schools: createSchoolRepository(prisma), logger, embedded: false, demoStatus: () => ({ status: 'off' }) as never, clock });
  api = authed(app, await keyFor(auth));
});
afterAll(async () => {
  await prisma.$disconnect();
  await db.drop();
});

const roster: SourceRecord[] = [
  { type: 'class', externalId: 'c5a', year: 2025, name: '5А', grade: 5, letter: 'А' },
  { type: 'subject', externalId: 'math', name: 'Математика' },
  { type: 'person', externalId: 't1', role: 'staff', lastName: 'Петрова', firstName: 'Анна' },
  { type: 'person', externalId: 't2', role: 'staff', lastName: 'Орлова', firstName: 'Вера' },
  { type: 'person', externalId: 'd1', role: 'staff', lastName: 'Зимин', firstName: 'Олег' },
  { type: 'person', externalId: 'p1', role: 'pupil', lastName: 'Иванов', firstName: 'Иван', classExternalId: 'c5a' },
  { type: 'person', externalId: 'p2', role: 'pupil', lastName: 'Сидорова', firstName: 'Мария', classExternalId: 'c5a' },
  { type: 'enrollment', externalId: 'e1', pupilExternalId: 'p1', classExternalId: 'c5a' },
  { type: 'enrollment', externalId: 'e2', pupilExternalId: 'p2', classExternalId: 'c5a' },
  { type: 'staff_role', externalId: 'r1', personExternalId: 't1', role: 'teacher' },
  { type: 'staff_role', externalId: 'r2', personExternalId: 't2', role: 'class_teacher', classExternalId: 'c5a' },
  { type: 'staff_role', externalId: 'r3', personExternalId: 'd1', role: 'deputy' },
  { type: 'lesson', externalId: 'l1', classExternalId: 'c5a', subjectExternalId: 'math', date: '2025-09-08', slot: 2, teacherExternalId: 't1', status: 'held' },
  { type: 'lesson', externalId: 'l2', classExternalId: 'c5a', subjectExternalId: 'math', date: '2025-09-09', slot: 1, teacherExternalId: 't1', topic: 'Сложение', status: 'held' },
];
const mark = (id: string, pupil: string, lesson: string, value: string): SourceRecord =>
  ({ type: 'mark', externalId: id, pupilExternalId: pupil, lessonExternalId: lesson, value, workCategory: 'oral' });

/** Marks below 3, one finding per mark: the fingerprint is the value, so a change of value is a change. */
const lowMark: Rule = {
  id: 'test_low_mark', kind: 'regulation', title: 'Низкая отметка', clauses: ['test'], scope: 'window', incremental: true,
  query: () => ({ text: `SELECT 'mark:' || m.id AS key, 'warning' AS severity, NULL::uuid AS class_group_id, m.subject_id, m.pupil_id, m.lesson_id,
      NULL::uuid AS period_id, m.date AS day, ARRAY[m.source_id] AS source_ids, NULL::jsonb AS expected,
      jsonb_build_object('raw', m.raw) AS found, ARRAY[]::bigint[] AS evidence, 'subject_teacher' AS assignee
      FROM mark m WHERE m.school_id = $1 AND m.date BETWEEN $2 AND $3 AND m.deleted_at IS NULL AND m.numeric < 3` }),
};
/** Lessons without a topic, for the class teacher. */
const noTopic: Rule = {
  id: 'test_no_topic', kind: 'regulation', title: 'Нет темы', clauses: ['test'], scope: 'window', incremental: true,
  query: () => ({ text: `SELECT 'lesson:' || l.id AS key, 'info' AS severity, l.class_group_id, l.subject_id, NULL::uuid AS pupil_id, l.id AS lesson_id,
      NULL::uuid AS period_id, l.date AS day, ARRAY[]::uuid[] AS source_ids, NULL::jsonb AS expected, NULL::jsonb AS found,
      ARRAY[]::bigint[] AS evidence, 'class_teacher' AS assignee
      FROM lesson l WHERE l.school_id = $1 AND l.date BETWEEN $2 AND $3 AND l.deleted_at IS NULL AND l.topic IS NULL` }),
};
/** Every pupil, school-wide, for the deputy (a `school` scope rule). */
const everyPupil: Rule = {
  id: 'test_every_pupil', kind: 'roster', title: 'Ученик', clauses: [], scope: 'school', incremental: false,
  query: () => ({ text: `SELECT 'pupil:' || e.person_id AS key, 'info' AS severity, e.class_group_id, NULL::uuid AS subject_id, e.person_id AS pupil_id,
      NULL::uuid AS lesson_id, NULL::uuid AS period_id, NULL::date AS day, ARRAY[]::uuid[] AS source_ids, NULL::jsonb AS expected,
      NULL::jsonb AS found, ARRAY[]::bigint[] AS evidence, 'deputy' AS assignee
      FROM enrollment e WHERE e.school_id = $1 AND e.end_date IS NULL` }),
};
const RULES = [lowMark, noTopic, everyPupil];

async function school(): Promise<{ schoolId: string; connectionId: string }> {
  const schoolId = await createSchool(db.pool);
  const connectionId = await createConnection(db.pool, schoolId, 'dnevnikru');
  const applied = await applyBatch(db.pool, clock, { connectionId, stream: 'all', records: [...roster, mark('m1', 'p1', 'l1', '2'), mark('m2', 'p2', 'l2', '5')] });
  expect(applied.rejected).toEqual([]);
  return { schoolId, connectionId };
}

const check = (schoolId: string) => runChecks(db.pool, clock, { schoolId, from: '2025-09-01', to: '2025-09-20' }, RULES);

async function rows(schoolId: string) {
  const { rows: found } = await db.pool.query<{ key: string; status: string; assignee: string | null; resolved_seq: string | null; status_reason: string | null }>(
    `SELECT d.key, d.status, p.last_name AS assignee, d.resolved_seq::text, d.status_reason FROM discrepancy d
       LEFT JOIN person p ON p.id = d.assignee_id WHERE d.school_id = $1 ORDER BY d.key`, [schoolId],
  );
  return found.map((r) => ({ ...r, key: r.key.replace(/[0-9a-f-]{36}/g, '…') }));
}

describe('the engine', () => {
  it('finds, routes to the subject teacher, class teacher or deputy, and never duplicates', async () => {
    const { schoolId } = await school();
    const first = await check(schoolId);
    expect(first).toMatchObject({ found: 4, opened: 4, resolved: 0 });
    const again = await check(schoolId);
    expect(again).toMatchObject({ found: 4, opened: 0, resolved: 0 });
    expect(await rows(schoolId)).toEqual([
      { key: 'test_every_pupil:pupil:…', status: 'open', assignee: 'Зимин', resolved_seq: null, status_reason: null },
      { key: 'test_every_pupil:pupil:…', status: 'open', assignee: 'Зимин', resolved_seq: null, status_reason: null },
      { key: 'test_low_mark:mark:…', status: 'open', assignee: 'Петрова', resolved_seq: null, status_reason: null },
      { key: 'test_no_topic:lesson:…', status: 'open', assignee: 'Орлова', resolved_seq: null, status_reason: null },
    ]);
  });

  it('resolves what is fixed (recording the history head), and opens it again when it comes back', async () => {
    const { schoolId, connectionId } = await school();
    await check(schoolId);
    await applyBatch(db.pool, clock, { connectionId, stream: 'all', records: [mark('m1', 'p1', 'l1', '4')] });
    const head = await db.pool.query<{ seq: string }>('SELECT seq::text FROM journal_head WHERE school_id = $1', [schoolId]);
    expect(await check(schoolId)).toMatchObject({ resolved: 1 });
    const low = (await rows(schoolId)).find((r) => r.key.startsWith('test_low_mark'))!;
    expect(low).toMatchObject({ status: 'resolved', resolved_seq: head.rows[0]!.seq });
    await applyBatch(db.pool, clock, { connectionId, stream: 'all', records: [mark('m1', 'p1', 'l1', '2')] });
    expect(await check(schoolId)).toMatchObject({ opened: 1 });
    expect((await rows(schoolId)).find((r) => r.key.startsWith('test_low_mark'))).toMatchObject({ status: 'open', resolved_seq: null });
  });

  it('keeps a dismissal while the values stay, and reopens it when they change', async () => {
    const { schoolId, connectionId } = await school();
    await check(schoolId);
    const [item] = (await listDiscrepancies(db.pool, { schoolId, rule: 'test_low_mark', limit: 10 })).items;
    await patchDiscrepancy(db.pool, item!.id, { status: 'dismissed', reason: 'устный ответ, исправлено на бумаге' }, 'teacher-1');
    await check(schoolId);
    expect((await rows(schoolId)).find((r) => r.key.startsWith('test_low_mark'))).toMatchObject({ status: 'dismissed' });
    await applyBatch(db.pool, clock, { connectionId, stream: 'all', records: [mark('m1', 'p1', 'l1', '1')] });
    await check(schoolId);
    expect((await rows(schoolId)).find((r) => r.key.startsWith('test_low_mark'))).toMatchObject({ status: 'open', status_reason: null });
  });

  it('keeps a reassignment through evaluations, and a school-wide rule resolves what is gone anywhere', async () => {
    const { schoolId, connectionId } = await school();
    await check(schoolId);
    const [item] = (await listDiscrepancies(db.pool, { schoolId, rule: 'test_no_topic', limit: 10 })).items;
    const deputy = await db.pool.query<{ id: string }>(`SELECT id::text FROM person WHERE school_id = $1 AND last_name = 'Зимин'`, [schoolId]);
    await patchDiscrepancy(db.pool, item!.id, { assigneeId: deputy.rows[0]!.id }, 'deputy');
    await check(schoolId);
    expect((await rows(schoolId)).find((r) => r.key.startsWith('test_no_topic'))).toMatchObject({ assignee: 'Зимин' });
    await applyBatch(db.pool, clock, { connectionId, stream: 'all', records: [{ type: 'enrollment', externalId: 'e2', pupilExternalId: 'p2', classExternalId: 'c5a', endDate: '2025-09-15' }] });
    expect(await check(schoolId)).toMatchObject({ resolved: 1 });
  });

  it('runs while a sync writes: no error, no lost finding, and the last evaluation is the one a quiet school gives', async () => {
    const { schoolId, connectionId } = await school();
    // Twenty batches flip p1's and p2's marks between 2 and 5 while the checks run over and over (and the consumer drains).
    const writes = (async () => {
      for (let i = 0; i < 20; i += 1) {
        const low = i % 2 === 0;
        const applied = await applyBatch(db.pool, clock, { connectionId, stream: 'all', records: [mark('m1', 'p1', 'l1', low ? '5' : '2'), mark('m2', 'p2', 'l2', low ? '2' : '5')] });
        expect(applied.rejected).toEqual([]);
      }
    })();
    const checks = (async () => {
      for (let i = 0; i < 20; i += 1) await check(schoolId);
    })();
    await Promise.all([writes, checks]);
    // After the 20th batch (i = 19): p1 has 2, p2 has 5 — as at the start.
    await check(schoolId);
    const settled = await rows(schoolId);
    expect(settled.filter((r) => r.status === 'open').map((r) => r.key).filter((k) => k.startsWith('test_low_mark')).length).toBe(1);
    const again = await check(schoolId);
    expect({ opened: again.opened, resolved: again.resolved }).toEqual({ opened: 0, resolved: 0 });
    expect(await rows(schoolId)).toEqual(settled);
  });

  it('evaluates a window only: findings outside it are left as they are', async () => {
    const { schoolId, connectionId } = await school();
    await check(schoolId);
    await applyBatch(db.pool, clock, { connectionId, stream: 'all', records: [mark('m1', 'p1', 'l1', '5')] });
    const narrow = await runChecks(db.pool, clock, { schoolId, from: '2025-09-09', to: '2025-09-20' }, RULES);
    expect(narrow.resolved).toBe(0);
    expect((await rows(schoolId)).find((r) => r.key.startsWith('test_low_mark'))).toMatchObject({ status: 'open' });
  });
});

describe('the event feed', () => {
  it('decodes events with their run, and a consumer replays a batch whose effects failed', async () => {
    const { schoolId, connectionId } = await school();
    const runId = '00000000-0000-4000-8000-000000000001';
    await applyBatch(db.pool, clock, { connectionId, stream: 'all', records: [mark('m1', 'p1', 'l1', '3')], runId });
    const events = await readEvents(db.pool, schoolId, 0, 10_000);
    const last = events[events.length - 1]!;
    expect(last).toMatchObject({ entityType: 'mark', op: 'update', runId, sourceId: connectionId });
    expect(last.before).toMatchObject({ raw: '2' });
    expect(last.after).toMatchObject({ raw: '3' });
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));

    const seen: number[] = [];
    let fail = true;
    const consumer = {
      name: 'test', batchSize: 7,
      handle: async (_client: unknown, _school: string, batch: FeedEvent[]) => {
        if (fail && batch[0]!.seq > 7) throw new Error('the effects failed');
        seen.push(...batch.map((e) => e.seq));
      },
    };
    await expect(drainConsumer(db.pool, consumer, schoolId)).rejects.toThrow('the effects failed');
    fail = false;
    await drainConsumer(db.pool, consumer, schoolId);
    // The first batch once; the failed one again from its start, nothing skipped, nothing twice.
    expect(seen).toEqual(events.map((e) => e.seq));
  });

  it('wakes its consumers with a job sent in the batch transaction', async () => {
    const { schoolId, connectionId } = await school();
    const handled: number[] = [];
    const feed = await FeedQueue.start(db.pool, logger, [{ name: 'wake-test', handle: async (_c, _s, batch) => void handled.push(...batch.map((e) => e.seq)) }]);
    // The queue exists before the first wake-up, as in the service (the sync engine creates pg-boss's schema).
    try {
      await feed.work(3600);
      await applyBatch(db.pool, clock, { connectionId, stream: 'all', records: [mark('m9', 'p2', 'l1', '4')], afterEvents: feed.wake });
      const head = await db.pool.query<{ seq: string }>('SELECT seq::text FROM journal_head WHERE school_id = $1', [schoolId]);
      await waitFor('the woken consumer', async () => (handled.length === Number(head.rows[0]!.seq) ? true : undefined), 30_000, 50);
      expect(handled).toEqual(handled.map((_, i) => i + 1));
    } finally {
      await feed.stop();
    }
  });

  it('replays after a kill -9 of the consuming process, and skips nothing', async () => {
    const { schoolId } = await school();
    await db.pool.query('CREATE TABLE IF NOT EXISTS feed_effect (school_id uuid, seq bigint)');
    const head = Number((await db.pool.query<{ seq: string }>('SELECT seq::text FROM journal_head WHERE school_id = $1', [schoolId])).rows[0]!.seq);
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/feed-child.ts', db.url, schoolId], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    // Killed once it has committed a batch or two, in the middle of a later one.
    await waitFor('a committed batch', async () => (out.includes('batch 10') || out.includes('done') ? true : undefined), 60_000, 50);
    child.kill('SIGKILL');
    await exited;
    const again = spawn(process.execPath, ['--import', 'tsx', 'test/support/feed-child.ts', db.url, schoolId], { stdio: ['ignore', 'pipe', 'inherit'] });
    let rest = '';
    again.stdout.setEncoding('utf8').on('data', (c: string) => (rest += c));
    expect(await new Promise((resolve) => again.once('exit', resolve))).toBe(0);
    expect(rest).toMatch(/done \d+/);
    const { rows } = await db.pool.query<{ seq: string }>('SELECT f.seq::text FROM feed_effect f WHERE f.school_id = $1 ORDER BY f.seq', [schoolId]);
    expect(rows.map((r) => Number(r.seq))).toEqual(Array.from({ length: head }, (_, i) => i + 1));
  });

  it('keeps identity conflicts as records, open until the record is applied', async () => {
    const { schoolId } = await school();
    const other = await createConnection(db.pool, schoolId, 'netschool');
    await applyBatch(db.pool, clock, { connectionId: other, stream: 'roster', records: [
      { type: 'class', externalId: 'x5a', year: 2025, name: '5А', grade: 5 },
      { type: 'person', externalId: 'xp1', role: 'pupil', lastName: 'Иванов', firstName: 'Иван', classExternalId: 'x5a' },
      { type: 'person', externalId: 'xp1b', role: 'pupil', lastName: 'Иванов', firstName: 'Иван', classExternalId: 'x5a' },
    ] });
    const { rows: conflicts } = await db.pool.query('SELECT entity_type, external_id, resolved_at FROM identity_conflict WHERE school_id = $1', [schoolId]);
    expect(conflicts).toEqual([{ entity_type: 'person', external_id: 'xp1b', resolved_at: null }]);
  });
});

describe('the inbox API', () => {
  it('lists with filters and cursor pages, acts on one, and refuses what is malformed', async () => {
    const { schoolId } = await school();
    await check(schoolId);
    const page1 = await api.get(`/v1/discrepancies?school=${schoolId}&limit=3`).expect(200);
    expect(page1.body.items).toHaveLength(3);
    const page2 = await api.get(`/v1/discrepancies?school=${schoolId}&limit=3&cursor=${page1.body.nextCursor as string}`).expect(200);
    expect(page2.body).toMatchObject({ nextCursor: null });
    const ids = [...page1.body.items, ...page2.body.items].map((d: { id: string }) => d.id);
    expect(new Set(ids).size).toBe(4);
    const low = (await api.get(`/v1/discrepancies?school=${schoolId}&rule=test_low_mark&status=open`).expect(200)).body.items[0];
    expect(low).toMatchObject({ kind: 'regulation', severity: 'warning', status: 'open', subjectName: 'Математика', className: '5А', found: { raw: '2' } });
    await api.patch(`/v1/discrepancies/${low.id as string}`).send({ status: 'dismissed' }).expect(400);
    await api.patch(`/v1/discrepancies/${low.id as string}`).send({ status: 'closed' }).expect(400);
    await api.patch(`/v1/discrepancies/${low.id as string}`).send({ assigneeId: schoolId }).expect(422);
    await api.patch('/v1/discrepancies/00000000-0000-4000-8000-000000000000').send({ status: 'acknowledged' }).expect(404);
    const acked = await api.patch(`/v1/discrepancies/${low.id as string}`).send({ status: 'acknowledged', justification: 'заявление № 4' }).expect(200);
    expect(acked.body).toMatchObject({ status: 'acknowledged', statusBy: expect.stringMatching(/^api:/), justification: 'заявление № 4' });
    await api.get(`/v1/discrepancies?status=bogus`).expect(400);
    await api.get(`/v1/discrepancies?cursor=bogus`).expect(400);
    const compliance = await api.get(`/v1/schools/${schoolId}/compliance?from=2025-09-01&to=2025-09-20`).expect(200);
    expect(compliance.body.rows).toEqual([expect.objectContaining({
      className: '5А', subjectName: 'Математика', pupils: 2, pupilsWithoutMarks: 0, pupilsWithOneMark: 2, lessons: 2, lessonsWithoutTopic: 1, shareWithoutTopic: 0.5,
    })]);
    expect(compliance.body.byRule.map((r: { rule: string }) => r.rule)).toEqual(['test_every_pupil', 'test_low_mark', 'test_no_topic']);
    await api.get(`/v1/schools/${schoolId}/compliance?from=2025-09-01`).expect(400);
  });
});
