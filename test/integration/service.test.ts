import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { authed, keyFor, testAuth, type Authed } from '../support/api.js';
import type { Express } from 'express';
import { createPrisma, type PrismaClient } from '../../src/db/prisma.js';
import { createSchoolRepository } from '../../src/db/repositories/schools.js';
import { generateLessonFacts, generateLessons, generateSchool } from '../../src/demo/generator.js';
import { loadDemoSchool } from '../../src/demo/load.js';
import { createApp } from '../../src/http/app.js';
import { systemClock } from '../../src/lib/clock.js';
import { createLogger } from '../../src/lib/logger.js';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config.js';
import { applyBatch } from '../../src/journal/apply-batch.js';
import { COUNTS_SQL } from '../../src/journal/counts.js';
import { PAGE_LESSONS_SQL } from '../../src/journal/queries.js';
import { startService } from '../../src/main.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { createConnection, createSchool } from '../support/fixtures.js';

const DEMO = { seed: 3, pupils: 60, year: 2025, until: '2025-09-30' };
let db: TestDatabase;
let prisma: PrismaClient;
let app: Express;
let api: Authed;
let auth: ReturnType<typeof testAuth>;
let loaded: Awaited<ReturnType<typeof loadDemoSchool>>;

beforeAll(async () => {
  db = await createTestDatabase();
  prisma = createPrisma(db.url, 2);
  const logger = createLogger('silent');
  loaded = await loadDemoSchool({ pool: db.pool, clock: systemClock, logger }, DEMO);
  auth = testAuth(db.pool);
  app = createApp({ auth, pool: db.pool, schools: createSchoolRepository(prisma), logger, embedded: false, demoStatus: () => ({ status: 'ready' }) });
  api = authed(app, await keyFor(auth));
});
afterAll(async () => {
  await prisma.$disconnect();
  await db.drop();
});

describe('the service on the demo school', () => {
  it('loaded every generated record', () => {
    expect(loaded.rejected).toBe(0);
    expect(loaded.created).toBeGreaterThan(5_000);
  });

  it('reports health with counts', async () => {
    const res = await api.get('/health').expect(200);
    expect(res.body).toMatchObject({ status: 'ok', database: { status: 'up' }, demo: { status: 'ready' } });
    expect(res.body.counts.marks).toBeGreaterThan(5_000);
    expect(res.body.counts.schools).toBe(1);
  });

  it('lists schools and their classes', async () => {
    const schools = await api.get('/v1/schools').expect(200);
    expect(schools.body.data).toEqual([expect.objectContaining({ id: loaded.schoolId, timeZone: 'Europe/Moscow' })]);
    const classes = await api.get(`/v1/schools/${loaded.schoolId}/classes`).expect(200);
    const names = classes.body.data.map((c: { name: string }) => c.name);
    expect(names).toEqual(expect.arrayContaining(['1А', '5А', '11А', '5А англ. гр. 1']));
    expect(classes.body.data.find((c: { name: string }) => c.name === '5А').pupils).toBeGreaterThan(0);
  });

  it('serves the class journal page as the generator made it', async () => {
    const truth = generateSchool(DEMO);
    const classes = (await api.get(`/v1/schools/${loaded.schoolId}/classes`)).body.data as Array<{ id: string; name: string }>;
    const cls = classes.find((c) => c.name === '7А')!;
    const missing = await api.get(`/v1/classes/${cls.id}/journal`).expect(400);
    const subject = missing.body.error.details.subjects.find((s: { name: string }) => s.name === 'Алгебра');
    const page = (await api.get(`/v1/classes/${cls.id}/journal?subject=${subject.id}&from=2025-09-01&to=2025-09-30`).expect(200)).body;
    const lessons = [...generateLessons(truth, { groupIds: ['cls-7a'], to: '2025-09-30' })].filter((l) => l.subjectId === 'subj-alg');
    expect(page.lessons.map((l: { date: string; slot: number }) => `${l.date}/${l.slot}`)).toEqual(lessons.map((l) => `${l.date}/${l.slot}`));
    expect(page.lessons[0].topic).toBe(lessons[0]!.topic);
    expect(page.rows).toHaveLength(truth.pupils.filter((p) => p.classId === 'cls-7a').length);
    for (const [column, lesson] of lessons.entries()) {
      const facts = generateLessonFacts(truth, lesson);
      for (const row of page.rows) {
        const pupil = truth.pupils.find((p) => p.lastName === row.pupil.lastName && p.firstName === row.pupil.firstName && p.classId === 'cls-7a')!;
        const expected = facts.marks.filter((m) => m.pupilId === pupil.id).map((m) => m.value).sort();
        expect(row.cells[column].marks.map((m: { raw: string }) => m.raw).sort()).toEqual(expected);
        expect(row.cells[column].absence?.raw).toBe(facts.absences.find((a) => a.pupilId === pupil.id)?.code);
      }
    }
  });

  it('serves /health counts from the statistics: close to the real counts, and the statement reads catalog tables only', async () => {
    const res = await api.get('/health').expect(200);
    const { rows } = await db.pool.query<{ marks: number; lessons: number }>(
      'SELECT (SELECT count(*) FROM mark)::int AS marks, (SELECT count(*) FROM lesson)::int AS lessons',
    );
    expect(Math.abs(res.body.counts.marks - rows[0]!.marks)).toBeLessThanOrEqual(rows[0]!.marks * 0.1);
    expect(Math.abs(res.body.counts.lessons - rows[0]!.lessons)).toBeLessThanOrEqual(rows[0]!.lessons * 0.1);
    const plan = await db.pool.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (FORMAT JSON) ${COUNTS_SQL}`);
    const relations = [...JSON.stringify(plan.rows[0]!['QUERY PLAN']).matchAll(/"Relation Name":"(\w+)"/g)].map((m) => m[1]!);
    expect(relations.length).toBeGreaterThan(0);
    expect(relations.filter((r) => !r.startsWith('pg_'))).toEqual([]);
  });

  it('caps the journal page at JOURNAL_PAGE_MAX_DAYS days and says the maximum', async () => {
    const classes = (await api.get(`/v1/schools/${loaded.schoolId}/classes`)).body.data as Array<{ id: string; name: string }>;
    const cls = classes.find((c) => c.name === '7А')!;
    const subject = (await api.get(`/v1/classes/${cls.id}/journal`).expect(400)).body.error.details.subjects[0];
    const wide = await api.get(`/v1/classes/${cls.id}/journal?subject=${subject.id}&from=2024-09-01&to=2025-09-30`).expect(400);
    expect(wide.body.error).toMatchObject({ code: 'validation_failed', message: expect.stringContaining('at most 366 days'), details: { maxDays: 366 } });
    await api.get(`/v1/classes/${cls.id}/journal?subject=${subject.id}&from=2024-10-01&to=2025-09-30`).expect(200);
    const narrow = createApp({ auth, pool: db.pool, schools: createSchoolRepository(prisma), logger: createLogger('silent'), embedded: false, demoStatus: () => ({ status: 'ready' }), journalPageMaxDays: 7 });
    const week = await authed(narrow, await keyFor(auth)).get(`/v1/schools/${loaded.schoolId}/classes/${cls.id}/journal?subject=${subject.id}&from=2025-09-01&to=2025-09-08`).expect(400);
    expect(week.body.error.message).toContain('at most 7 days');
    await authed(narrow, await keyFor(auth)).get(`/v1/schools/${loaded.schoolId}/classes/${cls.id}/journal?subject=${subject.id}&to=2025-09-30`).expect(200);
  });

  it('scopes the journal page by school: a class of another school is 404 there; the groups are read through the parent index', async () => {
    const other = await createSchool(db.pool, { name: 'Школа № 2' });
    const source = await createConnection(db.pool, other, 'dnevnikru');
    await applyBatch(db.pool, systemClock, { connectionId: source, stream: 'roster', records: [{ type: 'class', externalId: 'x5a', year: 2025, name: '5А', grade: 5, letter: 'А' }] });
    const { rows } = await db.pool.query<{ id: string }>('SELECT id::text FROM class_group WHERE school_id = $1', [other]);
    const foreign = rows[0]!.id;
    const under = await api.get(`/v1/schools/${loaded.schoolId}/classes/${foreign}/journal`).expect(404);
    expect(under.body.error.code).toBe('not_found');
    expect((await api.get(`/v1/schools/${other}/classes/${foreign}/journal`).expect(400)).body.error.details.subjects).toEqual([]);
    const classes = (await api.get(`/v1/schools/${loaded.schoolId}/classes`)).body.data as Array<{ id: string; name: string }>;
    const cls = classes.find((c) => c.name === '7А')!;
    const client = await db.pool.connect();
    try {
      await client.query('BEGIN');
      // A small table is scanned whole whatever its indexes: with scans priced out, the plan shows which index serves the filter.
      await client.query('SET LOCAL enable_seqscan = off');
      const plan = await client.query(`EXPLAIN (FORMAT JSON) ${PAGE_LESSONS_SQL}`, [cls.id, loaded.schoolId, cls.id, '2025-09-01', '2025-09-30']);
      const text = JSON.stringify(plan.rows[0]);
      expect(text).toContain('class_group_school_id_parent_id_idx');
      expect(text).not.toContain('Seq Scan');
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });

  it('answers bad requests with a 4xx and a message', async () => {
    const bad = await api.get('/v1/classes/not-a-uuid/journal').expect(400);
    expect(bad.body.error).toMatchObject({ code: 'validation_failed', message: expect.stringContaining('path.classId') });
    await api.get('/v1/classes/00000000-0000-4000-8000-000000000000/journal').expect(404);
    const classes = (await api.get(`/v1/schools/${loaded.schoolId}/classes`)).body.data;
    const date = await api.get(`/v1/classes/${classes[0].id}/journal?subject=${classes[0].id}&from=2025-02-30`).expect(400);
    expect(date.body.error.message).toContain('query.from');
    await api.get('/v1/schools/00000000-0000-4000-8000-000000000000/classes').expect(404);
    await api.get('/v1/nothing').expect(404);
  });

  it('reports the demo as ready after a restart on the same database, its simulators back', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'jb-restart-'));
    const config = loadConfig({
      DATABASE_URL: db.url, DATA_DIR: dataDir, PORT: '0', ROLES: 'api', DEMO: 'auto', DEMO_SEED: '3', DEMO_PUPILS: '60',
      CONNECTION_SECRETS_KEY: randomBytes(32).toString('base64'),
    });
    const service = await startService(config, createLogger('silent'));
    try {
      await service.demo.loaded();
      const health = await (await fetch(`${service.url}/health`)).json() as { demo: { status: string } };
      expect(health.demo).toEqual({ status: 'ready' });
      const platforms = await db.pool.query<{ platform: string }>(`SELECT platform FROM connection WHERE school_id = $1 AND platform <> 'demo' ORDER BY platform`, [loaded.schoolId]);
      expect(platforms.rows.map((r) => r.platform)).toEqual(['dnevnikru', 'edutatar', 'kundoluk', 'netschool']);
    } finally {
      await service.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});
