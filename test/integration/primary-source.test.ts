import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Express } from 'express';
import { authed, keyFor, testAuth, type Authed } from '../support/api.js';
import { runChecks } from '../../src/checks/service.js';
import { createPrisma, type PrismaClient } from '../../src/db/prisma.js';
import { createSchoolRepository } from '../../src/db/repositories/schools.js';
import { createApp } from '../../src/http/app.js';
import { applyBatch } from '../../src/journal/apply-batch.js';
import { fixedClock } from '../../src/lib/clock.js';
import { createLogger } from '../../src/lib/logger.js';
import type { SourceRecord } from '../../src/ports/records.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { createConnection, createSchool } from '../support/fixtures.js';

/**
 * A school with two sources (A, Дневник.ру, created first: the default primary; B, NetSchool) that agree
 * on one cell and differ on another: the journal page shows one value per cell with the other source's
 * agreement, and PATCH /v1/schools/{id} moves the primary, which the next checks run compares against.
 */
const clock = fixedClock(new Date('2025-09-20T12:00:00Z'));
const RANGE = { from: '2025-09-01', to: '2025-09-20' };
let db: TestDatabase;
let prisma: PrismaClient;
let app: Express;
let api: Authed;
let auth: ReturnType<typeof testAuth>;
let schoolId: string;
let a: string;
let b: string;

const roster = (s: string): SourceRecord[] => [
  { type: 'class', externalId: `${s}5a`, year: 2025, name: '5А', grade: 5, letter: 'А' },
  { type: 'subject', externalId: `${s}math`, name: 'Математика' },
  { type: 'person', externalId: `${s}p1`, role: 'pupil', lastName: 'Иванов', firstName: 'Иван', classExternalId: `${s}5a` },
  { type: 'person', externalId: `${s}p2`, role: 'pupil', lastName: 'Сидорова', firstName: 'Мария', classExternalId: `${s}5a` },
  { type: 'enrollment', externalId: `${s}e1`, pupilExternalId: `${s}p1`, classExternalId: `${s}5a` },
  { type: 'enrollment', externalId: `${s}e2`, pupilExternalId: `${s}p2`, classExternalId: `${s}5a` },
  ...['2025-09-08', '2025-09-09', '2025-09-10'].map((date, i): SourceRecord => ({
    type: 'lesson', externalId: `${s}l${i + 1}`, classExternalId: `${s}5a`, subjectExternalId: `${s}math`, date, slot: 2, status: 'held', topic: 'Натуральные числа',
  })),
];
const mark = (s: string, pupil: string, value: string, weight: number, lesson = 'l1'): SourceRecord =>
  ({ type: 'mark', externalId: `${s}m-${lesson}-${pupil}`, pupilExternalId: `${s}${pupil}`, lessonExternalId: `${s}${lesson}`, value, weight, workCategory: 'oral' });

async function apply(connectionId: string, records: SourceRecord[]): Promise<void> {
  const result = await applyBatch(db.pool, clock, { connectionId, stream: 'test', records });
  expect(result.rejected).toEqual([]);
}

async function idOf(type: string, connectionId: string, externalId: string): Promise<string> {
  const { rows } = await db.pool.query<{ id: string }>(
    'SELECT canonical_id::text AS id FROM external_ref WHERE connection_id = $1 AND entity_type = $2 AND external_id = $3', [connectionId, type, externalId]);
  return rows[0]!.id;
}

interface Finding { id: string; rule: string; status: string; pupil_id: string; source_ids: string[]; expected: { values: string[] }; found: { values: string[] } }
async function findings(rule = 'mark_differs'): Promise<Finding[]> {
  const { rows } = await db.pool.query<Finding>(
    `SELECT id::text, rule, status, pupil_id::text, source_ids::text[] AS source_ids, expected, found FROM discrepancy
      WHERE school_id = $1 AND rule = $2 ORDER BY first_seen_at, key`, [schoolId, rule]);
  return rows;
}

const ONLY = ['mark_differs', 'mark_only_in_one'];

interface PageCell {
  sourceId: string | null; agreement: string; marks: Array<{ raw: string; sourceId: string }>;
  others: Array<{ sourceId: string; marks: Array<{ raw: string }>; discrepancyIds: string[] }>;
}
async function page(): Promise<{ primarySourceId: string; sources: Array<{ id: string }>; cell: (pupil: string, lesson?: number) => PageCell }> {
  const cls = await idOf('class', a, 'a5a');
  const subject = await idOf('subject', a, 'amath');
  const res = await api.get(`/v1/schools/${schoolId}/classes/${cls}/journal?subject=${subject}&from=2025-09-01&to=2025-09-20`).expect(200);
  const body = res.body as { primarySourceId: string; sources: Array<{ id: string }>; lessons: unknown[]; rows: Array<{ pupil: { id: string }; cells: PageCell[] }> };
  expect(body.lessons).toHaveLength(3);
  const pupils = new Map([['p1', await idOf('person', a, 'ap1')], ['p2', await idOf('person', a, 'ap2')]]);
  return { ...body, cell: (pupil, lesson = 0) => body.rows.find((r) => r.pupil.id === pupils.get(pupil))!.cells[lesson]! };
}

beforeAll(async () => {
  db = await createTestDatabase();
  prisma = createPrisma(db.url, 2);
  auth = testAuth(db.pool);
  app = createApp({ auth, pool: db.pool, schools: createSchoolRepository(prisma), logger: createLogger('silent'), embedded: false, demoStatus: () => ({ status: 'off' }) as never, clock });
  api = authed(app, await keyFor(auth));
  schoolId = await createSchool(db.pool);
  a = await createConnection(db.pool, schoolId, 'dnevnikru', 'Дневник.ру');
  b = await createConnection(db.pool, schoolId, 'netschool', 'Сетевой город');
  // Lesson 1 — p1: «5» in both (weights on their own scales: 1 and 10); p2: «4» in A, «3» in B. Lesson 2: p1 «5» in A, nothing
  // at all in B (which covers the day: it has lessons 1 and 3). Lesson 3: p1 «4» in both.
  await apply(a, [...roster('a'), mark('a', 'p1', '5', 1), mark('a', 'p2', '4', 1), mark('a', 'p1', '5', 1, 'l2'), mark('a', 'p1', '4', 1, 'l3')]);
  await apply(b, [...roster('b'), mark('b', 'p1', '5 ', 10), mark('b', 'p2', '3', 10), mark('b', 'p1', '4', 10, 'l3')]);
});
afterAll(async () => {
  await prisma.$disconnect();
  await db.drop();
});

describe('the primary source', () => {
  it('the journal page shows one value per cell: the primary\'s, the other source\'s agreement, its value and the discrepancy', async () => {
    await runChecks(db.pool, clock, { schoolId, ...RANGE, rules: ONLY });
    const [differs, ...rest] = await findings();
    expect(rest).toEqual([]);
    expect(differs).toMatchObject({ rule: 'mark_differs', status: 'open', source_ids: [a, b], expected: { values: ['4'] }, found: { values: ['3'] } });
    const [onlyInA, ...more] = await findings('mark_only_in_one');
    expect(more).toEqual([]);
    expect(onlyInA).toMatchObject({ source_ids: [a, b], expected: { values: ['5'] }, found: { values: [] } });
    const view = await page();
    expect(view.primarySourceId).toBe(a);
    expect(view.sources.map((s) => s.id)).toEqual([a, b]);
    expect(view.cell('p1')).toEqual({ sourceId: a, agreement: 'agree', others: [], marks: [expect.objectContaining({ raw: '5', sourceId: a })], absence: null });
    expect(view.cell('p1', 2)).toMatchObject({ sourceId: a, agreement: 'agree', others: [], marks: [{ raw: '4', sourceId: a }] });
    expect(view.cell('p2')).toMatchObject({
      sourceId: a, agreement: 'differ', marks: [{ raw: '4', sourceId: a }],
      others: [{ sourceId: b, marks: [{ raw: '3' }], discrepancyIds: [differs!.id] }],
    });
    expect(view.cell('p2').marks).toHaveLength(1);
    // B has nothing on lesson 2, yet the open discrepancy names it: the cell differs, B saying nothing.
    expect(view.cell('p1', 1)).toMatchObject({ sourceId: a, agreement: 'differ', marks: [{ raw: '5' }], others: [{ sourceId: b, marks: [], discrepancyIds: [onlyInA!.id] }] });
    expect(view.cell('p2', 1)).toEqual({ sourceId: a, agreement: 'single', marks: [], absence: null, others: [] });
  });

  it('PATCH refuses what is not a connection of the school, and says which', async () => {
    const elsewhere = await createConnection(db.pool, await createSchool(db.pool), 'dnevnikru');
    const foreign = await api.patch(`/v1/schools/${schoolId}`).send({ primarySourceId: elsewhere }).expect(400);
    expect(foreign.body.error.message).toContain('is not a connection of this school');
    await api.patch(`/v1/schools/${schoolId}`).send({ primarySourceId: 'nope' }).expect(400);
    await api.patch(`/v1/schools/${schoolId}`).send({ primarySourceId: a, extra: 1 }).expect(400);
    await api.patch(`/v1/schools/${schoolId}`).send({}).expect(400);
    const unknown = await api.patch('/v1/schools/00000000-0000-4000-8000-000000000000').send({ primarySourceId: null }).expect(404);
    expect(unknown.body.error.code).toBe('not_found');
    const { rows } = await db.pool.query('SELECT primary_source_id FROM school WHERE id = $1', [schoolId]);
    expect(rows).toEqual([{ primary_source_id: null }]);
  });

  it('after a PATCH the page shows the new primary and the next run compares against it; null returns to the default', async () => {
    const named = await api.patch(`/v1/schools/${schoolId}`).send({ primarySourceId: b }).expect(200);
    expect(named.body).toMatchObject({ id: schoolId, primarySourceId: b, effectivePrimarySourceId: b });
    const listed = await api.get('/v1/schools').expect(200);
    expect(listed.body.data.find((s: { id: string }) => s.id === schoolId)).toMatchObject({ primarySourceId: b, effectivePrimarySourceId: b });
    expect((await page()).cell('p2')).toMatchObject({ sourceId: b, agreement: 'differ', marks: [{ raw: '3' }], others: [{ sourceId: a, marks: [{ raw: '4' }] }] });

    const run = await runChecks(db.pool, clock, { schoolId, ...RANGE, rules: ONLY });
    expect(run).toMatchObject({ found: 2, opened: 2, resolved: 2 });
    const [old, now] = await findings();
    expect(old).toMatchObject({ rule: 'mark_differs', status: 'resolved', source_ids: [a, b] });
    expect(now).toMatchObject({ rule: 'mark_differs', status: 'open', source_ids: [b, a], expected: { values: ['3'] }, found: { values: ['4'] } });
    expect((await page()).cell('p2').others).toEqual([expect.objectContaining({ sourceId: a, discrepancyIds: [now!.id] })]);

    const reset = await api.patch(`/v1/schools/${schoolId}`).send({ primarySourceId: null }).expect(200);
    expect(reset.body).toMatchObject({ primarySourceId: null, effectivePrimarySourceId: a });
    expect((await page()).primarySourceId).toBe(a);
  });
});
