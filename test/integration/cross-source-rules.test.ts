import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { checksConsumer } from '../../src/checks/consumer.js';
import { rebuildLessonClaims } from '../../src/checks/projections/lesson-claims.js';
import { runChecks } from '../../src/checks/service.js';
import { withTransaction } from '../../src/db/pool.js';
import { applyBatch } from '../../src/journal/apply-batch.js';
import { drainConsumer } from '../../src/journal/feed.js';
import { fixedClock } from '../../src/lib/clock.js';
import type { GoneId, SourceRecord } from '../../src/ports/records.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { createConnection, createSchool } from '../support/fixtures.js';

/**
 * The cross-source rules on lessons' text and on rosters, each on both sides: two sources of one school,
 * A (Дневник.ру, created first: the default primary) and B (NetSchool), applied through applyBatch and
 * projected by the checks consumer; what agrees (or differs in spelling only) gives nothing, each planted
 * difference exactly one finding naming both sources and both raw values.
 */
const clock = fixedClock(new Date('2025-09-20T12:00:00Z'));
const RANGE = { from: '2025-09-01', to: '2025-09-20' };
const TEXT_RULES = ['topic_differs', 'homework_differs'];
const ROSTER_RULES = ['roster_enrolled_in_one_source', 'roster_different_class', 'roster_left_in_one_source', 'roster_ambiguous_identity'];
let db: TestDatabase;
let schoolId: string;
let a: string;
let b: string;

const PUPILS: Record<string, [string, string]> = {
  p1: ['Иванов', 'Иван'], p2: ['Сидорова', 'Мария'], p3: ['Петров', 'Пётр'], p4: ['Кузнецова', 'Анна'], p5: ['Смирнов', 'Олег'],
};

/** A source's roster: pupil → class («5a» / «5b»). */
function roster(s: string, pupils: Record<string, '5a' | '5b'>): SourceRecord[] {
  const records: SourceRecord[] = [
    { type: 'class', externalId: `${s}5a`, year: 2025, name: '5А', grade: 5, letter: 'А' },
    { type: 'class', externalId: `${s}5b`, year: 2025, name: '5Б', grade: 5, letter: 'Б' },
    { type: 'subject', externalId: `${s}math`, name: 'Математика' },
  ];
  for (const [id, cls] of Object.entries(pupils)) {
    const [lastName, firstName] = PUPILS[id]!;
    records.push({ type: 'person', externalId: `${s}${id}`, role: 'pupil', lastName, firstName, classExternalId: `${s}${cls}` });
    records.push({ type: 'enrollment', externalId: `${s}e-${id}`, pupilExternalId: `${s}${id}`, classExternalId: `${s}${cls}` });
  }
  return records;
}

function lessons(s: string, text: Record<string, { topic?: string; homework?: string }>): SourceRecord[] {
  return ['2025-09-08', '2025-09-09', '2025-09-10'].map((date, i) => ({
    type: 'lesson', externalId: `${s}l${i + 1}`, classExternalId: `${s}5a`, subjectExternalId: `${s}math`, date, slot: 2, status: 'held',
    ...text[`l${i + 1}`],
  }));
}

async function apply(connectionId: string, records: SourceRecord[], goneIds: GoneId[] = []) {
  const result = await applyBatch(db.pool, clock, { connectionId, stream: 'test', records, goneIds });
  return result;
}

/** The checks consumer projects the new events (lesson claims), then the rules under test run. */
async function check(rules: string[]) {
  await drainConsumer(db.pool, checksConsumer(clock), schoolId);
  return runChecks(db.pool, clock, { schoolId, ...RANGE, rules });
}

interface Row { rule: string; kind: string; lesson_id: string | null; pupil_id: string | null; source_ids: string[]; expected: unknown; found: unknown }
async function open(rules: string[]): Promise<Row[]> {
  const { rows } = await db.pool.query<Row>(
    `SELECT rule, kind, lesson_id::text, pupil_id::text, source_ids::text[] AS source_ids, expected, found
       FROM discrepancy WHERE school_id = $1 AND status = 'open' AND rule = ANY($2::text[]) ORDER BY rule, key`, [schoolId, rules]);
  return rows;
}

async function idOf(type: string, connectionId: string, externalId: string): Promise<string> {
  const { rows } = await db.pool.query<{ id: string }>(
    'SELECT canonical_id::text AS id FROM external_ref WHERE connection_id = $1 AND entity_type = $2 AND external_id = $3', [connectionId, type, externalId]);
  return rows[0]!.id;
}

beforeAll(async () => {
  db = await createTestDatabase();
  schoolId = await createSchool(db.pool);
  a = await createConnection(db.pool, schoolId, 'dnevnikru', 'Дневник.ру');
  b = await createConnection(db.pool, schoolId, 'netschool', 'Сетевой город');
  // p1, p3, p4 in 5А in both (B moves p3 to 5Б and drops p4 later); p2 in A only; p5 in B only.
  expect((await apply(a, [...roster('a', { p1: '5a', p2: '5a', p3: '5a', p4: '5a' }),
    ...lessons('a', { l1: { topic: 'Натуральные числа', homework: '№ 1' }, l2: { topic: 'Сложение' }, l3: { topic: 'Деление', homework: 'стр. 5' } })])).rejected).toEqual([]);
  expect((await apply(b, [...roster('b', { p1: '5a', p3: '5a', p4: '5a', p5: '5a' }),
    // l1: the same topic spelt otherwise, the same homework; l2: another topic; l3: the same topic, other homework.
    ...lessons('b', { l1: { topic: '  натуральные   Числа.', homework: '№ 1' }, l2: { topic: 'Вычитание' }, l3: { topic: 'Деление', homework: 'стр. 7' } })])).rejected).toEqual([]);
});
afterAll(async () => {
  await db.drop();
});

describe('topic and homework against the primary source', () => {
  it('spelling alone is nothing; a different topic or homework is one finding naming both sources and both texts', async () => {
    await check(TEXT_RULES);
    const l2 = await idOf('lesson', a, 'al2');
    const l3 = await idOf('lesson', a, 'al3');
    expect(await open(TEXT_RULES)).toEqual([
      { rule: 'homework_differs', kind: 'cross_source', lesson_id: l3, pupil_id: null, source_ids: [a, b], expected: { homework: 'стр. 5' }, found: { homework: 'стр. 7' } },
      { rule: 'topic_differs', kind: 'cross_source', lesson_id: l2, pupil_id: null, source_ids: [a, b], expected: { topic: 'Сложение' }, found: { topic: 'Вычитание' } },
    ]);
    // The projection rebuilt from the whole history says the same as the consumer's, batch by batch.
    const claims = async () => (await db.pool.query('SELECT lesson_id, source_id, field, value, seq FROM lesson_claim WHERE school_id = $1 ORDER BY 1, 2, 3', [schoolId])).rows;
    const projected = await claims();
    await withTransaction(db.pool, (client) => rebuildLessonClaims(client, schoolId));
    expect(await claims()).toEqual(projected);
  });

  it('homework present in one source only (withdrawn in the other) is a finding; agreeing again resolves it', async () => {
    await apply(b, [{ type: 'homework', externalId: 'bhw1', lessonExternalId: 'bl1', text: '№ 1' }]);
    await apply(b, [], [{ type: 'homework', externalId: 'bhw1' }]);
    const run = await check(TEXT_RULES);
    expect(run.opened).toBe(1);
    const l1 = await idOf('lesson', a, 'al1');
    expect((await open(TEXT_RULES)).filter((f) => f.lesson_id === l1)).toEqual([
      { rule: 'homework_differs', kind: 'cross_source', lesson_id: l1, pupil_id: null, source_ids: [a, b], expected: { homework: '№ 1' }, found: { homework: null } },
    ]);
    // B writes l2's topic as A has it (but for a «!»): that finding is resolved (by the consumer's run over that day).
    await apply(b, lessons('b', { l2: { topic: 'Сложение!' } }).filter((l) => l.externalId === 'bl2'));
    const after = await check(TEXT_RULES);
    expect(after.opened).toBe(0);
    expect((await open(TEXT_RULES)).map((f) => f.rule)).toEqual(['homework_differs', 'homework_differs']);
    const { rows } = await db.pool.query(`SELECT status FROM discrepancy WHERE school_id = $1 AND rule = 'topic_differs'`, [schoolId]);
    expect(rows).toEqual([{ status: 'resolved' }]);
  });
});

describe('rosters against the primary source', () => {
  it('a pupil in one source only, in different classes, left in one only: one finding each, naming both sources', async () => {
    await check(ROSTER_RULES);
    const pupil = (id: string) => idOf('person', id === 'p5' ? b : a, `${id === 'p5' ? 'b' : 'a'}${id}`);
    const c5a = await idOf('class', a, 'a5a');
    const first = await open(ROSTER_RULES);
    expect(first.map((f) => [f.rule, f.pupil_id, f.source_ids, f.expected, f.found]).sort()).toEqual([
      ['roster_enrolled_in_one_source', await pupil('p2'), [a, b], { class: '5А', enrolled: true }, { class: '5А', enrolled: false }],
      ['roster_enrolled_in_one_source', await pupil('p5'), [a, b], { class: '5А', enrolled: false }, { class: '5А', enrolled: true }],
    ].sort());
    expect(first.every((f) => f.kind === 'roster')).toBe(true);
    expect((await db.pool.query('SELECT DISTINCT class_group_id::text AS c FROM discrepancy WHERE school_id = $1 AND rule = $2', [schoolId, 'roster_enrolled_in_one_source'])).rows)
      .toEqual([{ c: c5a }]);

    // B moves p3 to 5Б (a new enrollment, the old one gone) and stops listing p4's: p3 in different classes, p4 left in B only.
    await apply(b, [{ type: 'enrollment', externalId: 'be-p3b', pupilExternalId: 'bp3', classExternalId: 'b5b' }],
      [{ type: 'enrollment', externalId: 'be-p3' }, { type: 'enrollment', externalId: 'be-p4' }]);
    await check(ROSTER_RULES);
    const second = await open(ROSTER_RULES);
    expect(second.filter((f) => f.rule !== 'roster_enrolled_in_one_source')).toEqual([
      { rule: 'roster_different_class', kind: 'roster', lesson_id: null, pupil_id: await pupil('p3'), source_ids: [a, b], expected: { class: '5А' }, found: { class: '5Б' } },
      { rule: 'roster_left_in_one_source', kind: 'roster', lesson_id: null, pupil_id: await pupil('p4'), source_ids: [a, b],
        expected: { class: '5А', left: false }, found: { class: '5А', left: true } },
    ]);
    expect(second.filter((f) => f.rule === 'roster_enrolled_in_one_source')).toEqual(first);
  });

  it('an ambiguous identity match is one finding of its source, naming the candidates (and no names)', async () => {
    expect((await open(['roster_ambiguous_identity']))).toEqual([]);
    await apply(a, [
      { type: 'person', externalId: 'ao1', role: 'pupil', lastName: 'Орлов', firstName: 'Олег', classExternalId: 'a5a' },
      { type: 'person', externalId: 'ao2', role: 'pupil', lastName: 'Орлов', firstName: 'Олег', classExternalId: 'a5a' },
      { type: 'enrollment', externalId: 'ae-o1', pupilExternalId: 'ao1', classExternalId: 'a5a' },
      { type: 'enrollment', externalId: 'ae-o2', pupilExternalId: 'ao2', classExternalId: 'a5a' },
    ]);
    const ambiguous = await apply(b, [{ type: 'person', externalId: 'bo', role: 'pupil', lastName: 'Орлов', firstName: 'Олег', classExternalId: 'b5a' }]);
    expect(ambiguous.rejected).toHaveLength(1);
    await check(ROSTER_RULES);
    const found = await open(['roster_ambiguous_identity']);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ source_ids: [b], found: { entityType: 'person', externalId: 'bo' } });
    expect((found[0]!.expected as { candidates: string[] }).candidates.sort()).toEqual([await idOf('person', a, 'ao1'), await idOf('person', a, 'ao2')].sort());
    expect(JSON.stringify(found)).not.toContain('Орлов');
    const { rows } = await db.pool.query(`SELECT class_group_id::text AS c FROM discrepancy WHERE school_id = $1 AND rule = 'roster_ambiguous_identity'`, [schoolId]);
    expect(rows).toEqual([{ c: await idOf('class', a, 'a5a') }]);
  });
});
