import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { checksConsumer } from '../../src/checks/consumer.js';
import { runChecks } from '../../src/checks/service.js';
import { applyBatch } from '../../src/journal/apply-batch.js';
import { drainConsumer } from '../../src/journal/feed.js';
import { fixedClock } from '../../src/lib/clock.js';
import type { SourceRecord, WorkCategorySchema } from '../../src/ports/records.js';
import type { z } from 'zod';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { createConnection, createSchool } from '../support/fixtures.js';

/**
 * Like with like: four sources of one school, each saying what its platform can say (as the demo's
 * platforms do): A (Дневник.ру, the primary) writes +/−, «н» at a written work as a mark, work categories
 * and absence reasons; B (NetSchool) never writes +/−; C (edu.tatar.ru) names only control works (the rest
 * "oral") and has no «н» marks; D (Kundoluk) never gives an absence's reason. What one of them cannot say
 * is no finding; a difference both can say is.
 */
const clock = fixedClock(new Date('2025-09-20T12:00:00Z'));
const RANGE = { from: '2025-09-01', to: '2025-09-20' };
const LESSONS = ['l1', 'l2', 'l3', 'l4'];
let db: TestDatabase;
let schoolId: string;
const src: Record<'A' | 'B' | 'C' | 'D', string> = { A: '', B: '', C: '', D: '' };

type WorkCategory = z.infer<typeof WorkCategorySchema>;
type Mark = [pupil: string, lesson: string, value: string, category: WorkCategory];
type Absence = [pupil: string, lesson: string, code: string, kind: 'ill' | 'unexcused' | 'unknown'];

function source(prefix: string, marks: Mark[], absences: Absence[]): SourceRecord[] {
  return [
    { type: 'class', externalId: `${prefix}5a`, year: 2025, name: '5А', grade: 5, letter: 'А' },
    { type: 'subject', externalId: `${prefix}math`, name: 'Математика' },
    ...[['p1', 'Иванов', 'Иван'], ['p2', 'Петрова', 'Анна'], ['p3', 'Сидоров', 'Пётр']].flatMap(([id, lastName, firstName]): SourceRecord[] => [
      { type: 'person', externalId: `${prefix}${id}`, role: 'pupil', lastName: lastName!, firstName: firstName!, classExternalId: `${prefix}5a` },
      { type: 'enrollment', externalId: `${prefix}e-${id}`, pupilExternalId: `${prefix}${id}`, classExternalId: `${prefix}5a` },
    ]),
    ...LESSONS.map((l, i): SourceRecord => ({
      type: 'lesson', externalId: `${prefix}${l}`, classExternalId: `${prefix}5a`, subjectExternalId: `${prefix}math`, date: `2025-09-0${i + 6}`, slot: 2, status: 'held',
    })),
    ...marks.map(([p, l, value, workCategory], i): SourceRecord => ({
      type: 'mark', externalId: `${prefix}m${i}`, pupilExternalId: `${prefix}${p}`, lessonExternalId: `${prefix}${l}`, value, workCategory,
    })),
    ...absences.map(([p, l, code, kind], i): SourceRecord => ({
      type: 'attendance', externalId: `${prefix}a${i}`, pupilExternalId: `${prefix}${p}`, lessonExternalId: `${prefix}${l}`, code, kind,
    })),
  ] as SourceRecord[];
}

/** Open findings of the rules as rule|source letter|pupil|lesson. */
async function findings(rules: string[]): Promise<string[]> {
  await runChecks(db.pool, clock, { schoolId, ...RANGE, rules });
  const letter = new Map(Object.entries(src).map(([k, v]) => [v, k]));
  const { rows } = await db.pool.query<{ rule: string; source_ids: string[]; pupil: string; lesson: string }>(
    `SELECT d.rule, d.source_ids::text[] AS source_ids,
            (SELECT r.external_id FROM external_ref r WHERE r.connection_id = $2 AND r.entity_type = 'person' AND r.canonical_id = d.pupil_id) AS pupil,
            (SELECT r.external_id FROM external_ref r WHERE r.connection_id = $2 AND r.entity_type = 'lesson' AND r.canonical_id = d.lesson_id) AS lesson
       FROM discrepancy d WHERE d.school_id = $1 AND d.status = 'open' AND d.rule = ANY($3::text[])`, [schoolId, src.A, rules]);
  return rows.map((r) => `${r.rule}|${r.source_ids.map((s) => letter.get(s)).join('')}|${r.pupil.slice(1)}|${r.lesson.slice(1)}`).sort();
}

beforeAll(async () => {
  db = await createTestDatabase();
  schoolId = await createSchool(db.pool);
  src.A = await createConnection(db.pool, schoolId, 'dnevnikru');
  src.B = await createConnection(db.pool, schoolId, 'netschool');
  src.C = await createConnection(db.pool, schoolId, 'edutatar');
  src.D = await createConnection(db.pool, schoolId, 'kundoluk');
  const sources: Record<keyof typeof src, [Mark[], Absence[]]> = {
    A: [
      [['p1', 'l1', '4-', 'oral'], ['p1', 'l2', '5', 'written'], ['p1', 'l3', '5', 'control'], ['p1', 'l4', '3', 'oral'],
        ['p2', 'l1', '5', 'oral'], ['p2', 'l2', 'н', 'written'], ['p2', 'l4', '4', 'oral'], ['p3', 'l4', '3+', 'oral']],
      [['p2', 'l2', 'Б', 'ill'], ['p3', 'l3', 'Н', 'unexcused'], ['p3', 'l1', 'absent', 'unknown'], ['p1', 'l3', 'absent', 'unknown']],
    ],
    B: [
      [['p1', 'l1', '4', 'oral'], ['p1', 'l2', '5', 'written'], ['p1', 'l3', '5', 'control'], ['p1', 'l4', '3', 'oral'],
        ['p2', 'l1', '5', 'oral'], ['p2', 'l2', 'н', 'written'], ['p2', 'l4', '3', 'oral'], ['p3', 'l4', '3', 'oral']],
      [['p2', 'l2', 'Б', 'ill'], ['p3', 'l3', 'Н', 'unexcused'], ['p3', 'l1', 'absent', 'unknown'], ['p1', 'l3', 'Б', 'ill']],
    ],
    C: [
      [['p1', 'l1', '4-', 'oral'], ['p1', 'l2', '5', 'oral'], ['p1', 'l3', '5', 'oral'], ['p1', 'l4', '3', 'oral'],
        ['p2', 'l1', '5-', 'oral'], ['p2', 'l4', '4', 'control'], ['p3', 'l4', '3+', 'oral']],
      [['p2', 'l2', 'Б', 'ill'], ['p3', 'l3', 'Н', 'unexcused'], ['p3', 'l1', 'absent', 'unknown']],
    ],
    D: [
      [['p1', 'l1', '4', 'oral'], ['p1', 'l2', '5', 'written'], ['p1', 'l3', '5', 'control'], ['p1', 'l4', '3', 'oral'],
        ['p2', 'l1', '5', 'oral'], ['p2', 'l2', 'н', 'written'], ['p2', 'l4', '4', 'oral'], ['p3', 'l4', '3', 'oral']],
      [['p2', 'l2', 'absent', 'unknown'], ['p3', 'l1', 'absent', 'unknown']],
    ],
  };
  for (const [key, [marks, absences]] of Object.entries(sources)) {
    const applied = await applyBatch(db.pool, clock, { connectionId: src[key as keyof typeof src], stream: 'test', records: source(key.toLowerCase(), marks, absences) });
    expect(applied.rejected).toEqual([]);
  }
});
afterAll(async () => {
  await db.drop();
});

describe('two sources are compared in what both can say', () => {
  it('marks: +/− only where both write them, «н» only where both have it as a mark, categories only where both name them', async () => {
    expect(await findings(['mark_differs', 'mark_only_in_one'])).toEqual([
      // A 4 and B 3: a value both can say.
      'mark_differs|AB|p2|l4',
      // Control work in A, "oral" in C, which names control works: a category both can say.
      'mark_differs|AC|p1|l3',
      // Oral in A, a control work in C.
      'mark_differs|AC|p2|l4',
      // 5 and 5−: C writes minuses too.
      'mark_differs|AC|p2|l1',
    ].sort());
  });

  it('absences: an unknown reason is no difference from a known one; absent in one source only is', async () => {
    expect(await findings(['attendance_differs'])).toEqual([
      'attendance_differs|AC|p1|l3', 'attendance_differs|AD|p1|l3', 'attendance_differs|AD|p3|l3',
    ]);
  });

  it('a missing reason: only in a source that records reasons, and only where no source gives one', async () => {
    // A's and B's and C's unknown absence of p3 at l1 (no source says why); not D's (Kundoluk gives no reasons);
    // not A's of p1 at l3 (B says why).
    const found = await findings(['absence_reason_missing']);
    expect(found).toEqual(['absence_reason_missing|A|p3|l1', 'absence_reason_missing|B|p3|l1', 'absence_reason_missing|C|p3|l1']);
  });

  it('keeps each source\'s vocabulary from the feed, the same as read whole; one that learns +/− is compared in them from then on', async () => {
    const vocabulary = async () => (await db.pool.query(
      'SELECT source_id::text, modifiers, kinds, categories, unit::float8 AS unit FROM source_vocabulary WHERE school_id = $1 ORDER BY source_id', [schoolId])).rows;
    expect(await vocabulary()).toEqual([]);
    await drainConsumer(db.pool, checksConsumer(clock), schoolId);
    const kept = await vocabulary();
    expect(kept.find((v) => v.source_id === src.B)).toMatchObject({ modifiers: false, kinds: ['absence', 'mark'], categories: ['control', 'oral', 'written'] });
    expect(kept.find((v) => v.source_id === src.C)).toMatchObject({ modifiers: true, kinds: ['mark'], categories: ['control', 'oral'] });
    expect(await findings(['mark_differs', 'mark_only_in_one'])).toHaveLength(4);
    // B writes a 5+ (p3 at l2, where nobody has a mark): from now on B says +/−, and A's 4− at l1 against B's 4 is a difference.
    expect((await applyBatch(db.pool, clock, { connectionId: src.B, stream: 'test', records: [
      { type: 'mark', externalId: 'bm-late', pupilExternalId: 'bp3', lessonExternalId: 'bl2', value: '5+', workCategory: 'oral' },
    ] })).rejected).toEqual([]);
    await drainConsumer(db.pool, checksConsumer(clock), schoolId);
    expect((await vocabulary()).find((v) => v.source_id === src.B)).toMatchObject({ modifiers: true });
    expect(await findings(['mark_differs'])).toContain('mark_differs|AB|p1|l1');
    expect(await findings(['mark_only_in_one'])).toEqual(['mark_only_in_one|AB|p3|l2']);
  });

  it('weights: compared only where the profile asks, each on its source\'s own unit', async () => {
    // A writes weight 1 where B writes 10 (B's unit: 10, A's: 1); p3 at l3 is 1 in A and 20 in B.
    const weighted = (prefix: string, rows: Array<[string, string, number]>) => rows.map(([p, value, weight], i): SourceRecord => ({
      type: 'mark', externalId: `${prefix}w${i}`, pupilExternalId: `${prefix}${p}`, lessonExternalId: `${prefix}l3`, value, workCategory: 'oral', weight,
    }));
    expect((await applyBatch(db.pool, clock, { connectionId: src.A, stream: 'w', records: weighted('a', [['p2', '5', 1], ['p3', '4', 1]]) })).rejected).toEqual([]);
    expect((await applyBatch(db.pool, clock, { connectionId: src.B, stream: 'w', records: weighted('b', [['p2', '5', 10], ['p3', '4', 20]]) })).rejected).toEqual([]);
    await drainConsumer(db.pool, checksConsumer(clock), schoolId);
    const ab = async () => (await findings(['mark_differs'])).filter((f) => f.includes('|AB|') && f.endsWith('|l3'));
    expect(await ab()).toEqual([]);
    await db.pool.query(`UPDATE school SET regulation_settings = '{"mark_differs":{"compareWeights":true}}' WHERE id = $1`, [schoolId]);
    expect(await ab()).toEqual(['mark_differs|AB|p3|l3']);
    const { rows } = await db.pool.query(`SELECT expected, found FROM discrepancy WHERE school_id = $1 AND rule = 'mark_differs' AND status = 'open'
      AND source_ids = ARRAY[$2::uuid, $3::uuid] AND lesson_id = (SELECT canonical_id FROM external_ref WHERE connection_id = $2 AND external_id = 'al3')`, [schoolId, src.A, src.B]);
    expect(rows).toEqual([{ expected: { values: ['4'], weights: '1.00', categories: 'oral' }, found: { values: ['4'], weights: '2.00', categories: 'oral' } }]);
  });

  it('a cell is a multiset of (value, category): «3» oral and «3-» homework against «3» oral and «3» homework in a source without +/− agree', async () => {
    expect((await applyBatch(db.pool, clock, { connectionId: src.A, stream: 'm2', records: [
      { type: 'mark', externalId: 'a-hw', pupilExternalId: 'ap1', lessonExternalId: 'al4', value: '3-', workCategory: 'homework' },
    ] })).rejected).toEqual([]);
    expect((await applyBatch(db.pool, clock, { connectionId: src.D, stream: 'm2', records: [
      { type: 'mark', externalId: 'd-hw', pupilExternalId: 'dp1', lessonExternalId: 'dl4', value: '3', workCategory: 'homework' },
    ] })).rejected).toEqual([]);
    await drainConsumer(db.pool, checksConsumer(clock), schoolId);
    const found = await findings(['mark_differs']);
    expect(found).toContain('mark_differs|AB|p1|l4');
    expect(found.filter((f) => f.startsWith('mark_differs|AD|'))).toEqual([]);
  });

  it('a platform in its first sync is compared only once a run of it has succeeded (half a journal is not a difference)', async () => {
    const withD = async () => (await findings(['attendance_differs'])).filter((f) => f.includes('|AD|'));
    expect(await withD()).toHaveLength(2);
    const { rows } = await db.pool.query<{ id: string }>(
      `INSERT INTO sync_run (connection_id, trigger, status, started_at) VALUES ($1, 'manual', 'running', now()) RETURNING id::text`, [src.D]);
    expect(await withD()).toEqual([]);
    await db.pool.query(`UPDATE sync_run SET status = 'succeeded', finished_at = now() WHERE id = $1`, [rows[0]!.id]);
    expect(await withD()).toHaveLength(2);
  });
});
