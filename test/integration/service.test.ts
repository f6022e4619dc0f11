import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import type { Express } from 'express';
import { createPrisma, type PrismaClient } from '../../src/db/prisma.js';
import { createSchoolRepository } from '../../src/db/repositories/schools.js';
import { generateLessonFacts, generateLessons, generateSchool } from '../../src/demo/generator.js';
import { loadDemoSchool } from '../../src/demo/load.js';
import { createApp } from '../../src/http/app.js';
import { systemClock } from '../../src/lib/clock.js';
import { createLogger } from '../../src/lib/logger.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';

const DEMO = { seed: 3, pupils: 60, year: 2025, until: '2025-09-30' };
let db: TestDatabase;
let prisma: PrismaClient;
let app: Express;
let loaded: Awaited<ReturnType<typeof loadDemoSchool>>;

beforeAll(async () => {
  db = await createTestDatabase();
  prisma = createPrisma(db.url, 2);
  const logger = createLogger('silent');
  loaded = await loadDemoSchool({ pool: db.pool, clock: systemClock, logger }, DEMO);
  app = createApp({ pool: db.pool, schools: createSchoolRepository(prisma), logger, embedded: false, demoStatus: () => ({ status: 'ready' }) });
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
    const res = await request(app).get('/health').expect(200);
    expect(res.body).toMatchObject({ status: 'ok', database: { status: 'up' }, demo: { status: 'ready' } });
    expect(res.body.counts.marks).toBeGreaterThan(5_000);
    expect(res.body.counts.schools).toBe(1);
  });

  it('lists schools and their classes', async () => {
    const schools = await request(app).get('/v1/schools').expect(200);
    expect(schools.body.data).toEqual([expect.objectContaining({ id: loaded.schoolId, timeZone: 'Europe/Moscow' })]);
    const classes = await request(app).get(`/v1/schools/${loaded.schoolId}/classes`).expect(200);
    const names = classes.body.data.map((c: { name: string }) => c.name);
    expect(names).toEqual(expect.arrayContaining(['1А', '5А', '11А', '5А англ. гр. 1']));
    expect(classes.body.data.find((c: { name: string }) => c.name === '5А').pupils).toBeGreaterThan(0);
  });

  it('serves the class journal page as the generator made it', async () => {
    const truth = generateSchool(DEMO);
    const classes = (await request(app).get(`/v1/schools/${loaded.schoolId}/classes`)).body.data as Array<{ id: string; name: string }>;
    const cls = classes.find((c) => c.name === '7А')!;
    const missing = await request(app).get(`/v1/classes/${cls.id}/journal`).expect(400);
    const subject = missing.body.error.details.subjects.find((s: { name: string }) => s.name === 'Алгебра');
    const page = (await request(app).get(`/v1/classes/${cls.id}/journal?subject=${subject.id}&from=2025-09-01&to=2025-09-30`).expect(200)).body;
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

  it('answers bad requests with a 4xx and a message', async () => {
    const bad = await request(app).get('/v1/classes/not-a-uuid/journal').expect(400);
    expect(bad.body.error).toMatchObject({ code: 'validation_failed', message: expect.stringContaining('path.classId') });
    await request(app).get('/v1/classes/00000000-0000-4000-8000-000000000000/journal').expect(404);
    const classes = (await request(app).get(`/v1/schools/${loaded.schoolId}/classes`)).body.data;
    const date = await request(app).get(`/v1/classes/${classes[0].id}/journal?subject=${classes[0].id}&from=2025-02-30`).expect(400);
    expect(date.body.error.message).toContain('query.from');
    await request(app).get('/v1/schools/00000000-0000-4000-8000-000000000000/classes').expect(404);
    await request(app).get('/v1/nothing').expect(404);
  });
});
