import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { applyBatch, type ApplyBatchInput } from '../../src/journal/apply-batch.js';
import { fixedClock } from '../../src/lib/clock.js';
import type { SourceRecord } from '../../src/ports/records.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { createConnection, createSchool } from '../support/fixtures.js';

const clock = fixedClock(new Date('2025-09-10T12:00:00Z'));
let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

function roster(prefix = ''): SourceRecord[] {
  return [
    { type: 'class', externalId: `${prefix}c5a`, year: 2025, name: '5А', grade: 5, letter: 'А' },
    { type: 'subject', externalId: `${prefix}math`, name: 'Математика' },
    { type: 'person', externalId: `${prefix}t1`, role: 'staff', lastName: 'Петрова', firstName: 'Анна', middleName: 'Ивановна' },
    { type: 'person', externalId: `${prefix}p1`, role: 'pupil', lastName: 'Иванов', firstName: 'Иван', birthDate: '2014-03-02', classExternalId: `${prefix}c5a` },
    { type: 'person', externalId: `${prefix}p2`, role: 'pupil', lastName: 'Сидорова', firstName: 'Мария', classExternalId: `${prefix}c5a` },
    { type: 'enrollment', externalId: `${prefix}e1`, pupilExternalId: `${prefix}p1`, classExternalId: `${prefix}c5a` },
    { type: 'enrollment', externalId: `${prefix}e2`, pupilExternalId: `${prefix}p2`, classExternalId: `${prefix}c5a` },
    { type: 'staff_role', externalId: `${prefix}r1`, personExternalId: `${prefix}t1`, role: 'teacher' },
  ];
}

function lessonsAndMarks(): SourceRecord[] {
  return [
    { type: 'lesson', externalId: 'l1', classExternalId: 'c5a', subjectExternalId: 'math', date: '2025-09-08', slot: 2, teacherExternalId: 't1', topic: 'Натуральные числа', homework: '№ 12', status: 'held' },
    { type: 'lesson', externalId: 'l2', classExternalId: 'c5a', subjectExternalId: 'math', date: '2025-09-09', slot: 1, teacherExternalId: 't1', topic: 'Сложение', status: 'held' },
    { type: 'mark', externalId: 'm1', pupilExternalId: 'p1', lessonExternalId: 'l1', value: '5', workCategory: 'oral', weight: 1, enteredAt: '2025-09-08T10:00:00+03:00' },
    { type: 'mark', externalId: 'm2', pupilExternalId: 'p2', lessonExternalId: 'l1', value: '4-', workCategory: 'oral' },
    { type: 'mark', externalId: 'm3', pupilExternalId: 'p1', lessonExternalId: 'l2', value: 'зч' },
    { type: 'attendance', externalId: 'a1', pupilExternalId: 'p2', lessonExternalId: 'l2', code: 'Б' },
  ];
}

async function apply(input: Partial<ApplyBatchInput> & { connectionId: string }) {
  return applyBatch(db.pool, clock, { stream: 'test', records: [], ...input });
}

/** A school of its own with one source, and (unless `empty`) the roster, lessons and marks above applied: each test stands alone. */
async function source(empty = false): Promise<{ schoolId: string; connectionId: string }> {
  const schoolId = await createSchool(db.pool);
  const connectionId = await createConnection(db.pool, schoolId, 'dnevnikru');
  if (!empty) expect((await apply({ connectionId, records: [...roster(), ...lessonsAndMarks()] })).rejected).toEqual([]);
  return { schoolId, connectionId };
}

describe('applyBatch', () => {
  it('creates every record once and leaves the same batch unchanged the second time', async () => {
    const { schoolId, connectionId } = await source(true);
    const records = [...roster(), ...lessonsAndMarks()];
    const first = await apply({ connectionId, records });
    expect(first.rejected).toEqual([]);
    expect(first).toMatchObject({ created: records.length, updated: 0, unchanged: 0, deleted: 0 });
    const second = await apply({ connectionId, records });
    expect(second).toMatchObject({ created: 0, updated: 0, unchanged: records.length, deleted: 0, events: 0 });
    const marks = await db.pool.query('SELECT raw, kind, numeric::float8 AS numeric FROM mark WHERE school_id = $1 ORDER BY raw', [schoolId]);
    expect(marks.rows).toEqual([
      { raw: '4-', kind: 'mark', numeric: 4 },
      { raw: '5', kind: 'mark', numeric: 5 },
      { raw: 'зч', kind: 'pass', numeric: null },
    ]);
    const absence = await db.pool.query('SELECT raw, kind, date::text FROM attendance WHERE school_id = $1', [schoolId]);
    expect(absence.rows).toEqual([{ raw: 'Б', kind: 'ill', date: '2025-09-09' }]);
  });

  it('records a changed mark as one update with before and after', async () => {
    const { schoolId, connectionId } = await source();
    const records = [...roster(), ...lessonsAndMarks()].map((r) =>
      r.type === 'mark' && r.externalId === 'm2' ? { ...r, value: '5' } : r,
    );
    const result = await apply({ connectionId, records });
    expect(result).toMatchObject({ created: 0, updated: 1, deleted: 0, events: 1 });
    const { rows } = await db.pool.query(
      `SELECT op, entity_type, before::text AS before, after::text AS after FROM journal_event WHERE school_id = $1 ORDER BY seq DESC LIMIT 1`, [schoolId],
    );
    expect(rows[0]).toMatchObject({ op: 'update', entity_type: 'mark' });
    expect(JSON.parse(rows[0].before)).toMatchObject({ raw: '4-', numeric: 4 });
    expect(JSON.parse(rows[0].after)).toMatchObject({ raw: '5', numeric: 5 });
  });

  it('tombstones a gone mark with a delete event, and brings it back when it reappears', async () => {
    const { schoolId, connectionId } = await source();
    const gone = await apply({ connectionId, goneIds: [{ type: 'mark', externalId: 'm3' }] });
    expect(gone).toMatchObject({ deleted: 1, events: 1 });
    const row = await db.pool.query(`SELECT deleted_at IS NOT NULL AS deleted FROM mark WHERE raw = 'зч' AND school_id = $1`, [schoolId]);
    expect(row.rows).toEqual([{ deleted: true }]);
    const again = await apply({ connectionId, goneIds: [{ type: 'mark', externalId: 'm3' }] });
    expect(again).toMatchObject({ deleted: 0, events: 0 });
    const back = await apply({ connectionId, records: lessonsAndMarks().filter((r) => r.externalId === 'm3') });
    expect(back).toMatchObject({ created: 1, events: 1 });
  });

  it('rejects malformed records with reasons while the rest land', async () => {
    const { schoolId, connectionId } = await source();
    const records: unknown[] = [
      { type: 'mark', externalId: 'bad1', pupilExternalId: 'nobody', lessonExternalId: 'l1', value: '5' },
      { type: 'mark', externalId: 'bad2', pupilExternalId: 'p1', subjectExternalId: 'math', date: '2025-13-45', value: '5' },
      { type: 'mark', externalId: 'bad3', pupilExternalId: 'p1', lessonExternalId: 'l2', value: '  ' },
      { type: 'mark', externalId: 'bad4', pupilExternalId: 'p1', lessonExternalId: 'no-such-lesson', value: '3' },
      { type: 'marks', externalId: 'bad5' },
      'not even an object',
      { type: 'mark', externalId: 'good', pupilExternalId: 'p2', lessonExternalId: 'l2', value: '3', workCategory: 'written' },
    ];
    const result = await apply({ connectionId, records });
    expect(result.created).toBe(1);
    expect(result.rejected.map((r) => [r.index, r.reason])).toEqual([
      [4, expect.stringContaining('known "type"')],
      [5, expect.stringContaining('known "type"')],
      [1, expect.stringMatching(/^date: /)],
      [2, expect.stringMatching(/^value: empty mark value/)],
      [0, expect.stringContaining('unknown pupil "nobody"')],
      [3, expect.stringContaining('unknown lesson "no-such-lesson"')],
    ]);
    const good = await db.pool.query(`SELECT count(*)::int AS n FROM mark WHERE external_id = 'good' AND school_id = $1`, [schoolId]);
    expect(good.rows[0].n).toBe(1);
  });

  it('saves the cursor only together with the data', async () => {
    const { connectionId } = await source();
    await apply({ connectionId, stream: 'marks', cursor: { until: '2025-09-09' }, records: [] });
    const bad = { type: 'mark', externalId: 'boom', pupilExternalId: 'p1', lessonExternalId: 'l1', value: '5' };
    // A batch that fails as a whole (a constraint the write path does not pre-check) must not move the cursor.
    await db.pool.query(`ALTER TABLE mark ADD CONSTRAINT test_no_boom CHECK (external_id <> 'boom')`);
    try {
      await expect(apply({ connectionId, stream: 'marks', cursor: { until: '2025-09-10' }, records: [bad] })).rejects.toThrow(/test_no_boom/);
    } finally {
      await db.pool.query('ALTER TABLE mark DROP CONSTRAINT test_no_boom');
    }
    const { rows } = await db.pool.query(`SELECT cursor FROM sync_cursor WHERE connection_id = $1 AND stream = 'marks'`, [connectionId]);
    expect(rows[0].cursor).toEqual({ until: '2025-09-09' });
    const marks = await db.pool.query(`SELECT count(*)::int AS n FROM mark WHERE external_id = 'boom' AND source_id = $1`, [connectionId]);
    expect(marks.rows[0].n).toBe(0);
  });

  it('links a second source to the same persons, classes and lessons instead of duplicating them', async () => {
    const { schoolId } = await source();
    const second = await createConnection(db.pool, schoolId, 'netschool');
    const records: SourceRecord[] = [
      ...roster('ns-').map((r) => (r.type === 'class' ? { ...r, name: '5 а' } : r)),
      { type: 'lesson', externalId: 'ns-l1', classExternalId: 'ns-c5a', subjectExternalId: 'ns-math', date: '2025-09-08', slot: 2, status: 'held' },
      { type: 'mark', externalId: 'ns-m1', pupilExternalId: 'ns-p1', lessonExternalId: 'ns-l1', value: '5' },
    ];
    const result = await apply({ connectionId: second, records });
    expect(result.rejected).toEqual([]);
    const counts = await db.pool.query(
      `SELECT (SELECT count(*) FROM person WHERE school_id = $1)::int AS persons, (SELECT count(*) FROM class_group WHERE school_id = $1)::int AS classes,
              (SELECT count(*) FROM lesson WHERE school_id = $1)::int AS lessons, (SELECT count(*) FROM subject WHERE school_id = $1)::int AS subjects`, [schoolId],
    );
    expect(counts.rows[0]).toEqual({ persons: 3, classes: 1, lessons: 2, subjects: 1 });
    const refs = await db.pool.query(
      `SELECT count(DISTINCT r.connection_id)::int AS n FROM external_ref r JOIN connection c ON c.id = r.connection_id WHERE r.entity_type = 'person' AND c.school_id = $1`, [schoolId]);
    expect(refs.rows[0].n).toBe(2);
  });

  it('reports an ambiguous identity instead of guessing', async () => {
    const school = await createSchool(db.pool, { name: 'Twins school' });
    const first = await createConnection(db.pool, school, 'dnevnikru');
    const twins: SourceRecord[] = [
      { type: 'class', externalId: 'c', year: 2025, name: '7Б', grade: 7 },
      { type: 'person', externalId: 'a', role: 'pupil', lastName: 'Котов', firstName: 'Илья', classExternalId: 'c' },
      { type: 'person', externalId: 'b', role: 'pupil', lastName: 'Котов', firstName: 'Илья', classExternalId: 'c' },
      { type: 'enrollment', externalId: 'ea', pupilExternalId: 'a', classExternalId: 'c' },
      { type: 'enrollment', externalId: 'eb', pupilExternalId: 'b', classExternalId: 'c' },
    ];
    expect((await apply({ connectionId: first, records: twins })).created).toBe(5);
    const second = await createConnection(db.pool, school, 'netschool');
    const result = await apply({
      connectionId: second,
      records: [
        { type: 'class', externalId: 'x', year: 2025, name: '7Б', grade: 7 },
        { type: 'person', externalId: 'y', role: 'pupil', lastName: 'Котов', firstName: 'Илья', classExternalId: 'x' },
      ],
    });
    expect(result.rejected).toEqual([
      { index: 1, type: 'person', externalId: 'y', reason: expect.stringContaining('ambiguous identity: 2 persons') },
    ]);
    const persons = await db.pool.query('SELECT count(*)::int AS n FROM person WHERE school_id = $1', [school]);
    expect(persons.rows[0].n).toBe(2);
  });

  it('rejects malformed roster records with reasons each time they come, and lands the well-formed ones', async () => {
    const records: unknown[] = [
      { type: 'class', externalId: 'bad-class', year: 1999, name: '6Б', grade: 6 },
      { type: 'person', externalId: 'bad-person', role: 'pupil', lastName: '', firstName: 'Олег', classExternalId: 'c5a' },
      { type: 'subject', externalId: 'rus', name: 'Русский язык', altNames: { ky: 'Орус тили' } },
    ];
    const { schoolId: otherSchool, connectionId: otherConnection } = await source(true);
    for (const round of [1, 2]) {
      const result = await apply({ connectionId: otherConnection, records });
      expect(result.rejected.map((r) => [r.index, r.reason])).toEqual([
        [0, expect.stringMatching(/^year: /)],
        [1, expect.stringMatching(/^lastName: /)],
      ]);
      expect(result.created).toBe(round === 1 ? 1 : 0);
    }
    const { rows } = await db.pool.query(`SELECT alt_names FROM subject WHERE school_id = $1`, [otherSchool]);
    expect(rows).toEqual([{ alt_names: '{"ky":"Орус тили"}' }]);
  });
});

describe('applyBatch: subgroups from several sources', () => {
  /** One school, its class 2А with English in two subgroups and pupils, as source A names them. */
  async function twoSources() {
    const { schoolId, connectionId: a } = await source(true);
    const b = await createConnection(db.pool, schoolId, 'netschool');
    const first = await apply({
      connectionId: a,
      records: [
        { type: 'subject', externalId: 'eng', name: 'Английский язык', shortName: 'Англ.яз.' },
        { type: 'class', externalId: 'c2a', year: 2025, name: '2А', grade: 2, letter: 'А' },
        { type: 'class', externalId: 'g1', year: 2025, name: '2А англ. гр. 1', grade: 2, letter: 'А', parentExternalId: 'c2a' },
        { type: 'class', externalId: 'g2', year: 2025, name: '2А англ. гр. 2', grade: 2, letter: 'А', parentExternalId: 'c2a' },
      ],
    });
    expect(first.rejected).toEqual([]);
    const groups = async () => (await db.pool.query<{ name: string }>('SELECT name FROM class_group WHERE school_id = $1 ORDER BY name', [schoolId])).rows.map((r) => r.name);
    return { schoolId, a, b, groups };
  }
  const classOfB = (externalId: string, name: string): SourceRecord => ({ type: 'class', externalId, year: 2025, name, grade: 2, letter: 'А', parentExternalId: 'B-2a' });

  it('matches a subgroup another source names differently by class, subject and group number: one group, the lessons of both on it', async () => {
    const { schoolId, b, groups } = await twoSources();
    const result = await apply({
      connectionId: b,
      records: [
        { type: 'subject', externalId: 'B-eng', name: 'Английский язык' },
        { type: 'class', externalId: 'B-2a', year: 2025, name: '2А', grade: 2, letter: 'А' },
        classOfB('B-g1', '2А Английский язык гр. 1'),
        classOfB('B-g2', '2А Английский язык 2 группа'),
        { type: 'lesson', externalId: 'B-l1', classExternalId: 'B-g1', subjectExternalId: 'B-eng', date: '2025-09-08', slot: 3, status: 'held' },
      ],
    });
    expect(result.rejected).toEqual([]);
    expect(await groups()).toEqual(['2А', '2А англ. гр. 1', '2А англ. гр. 2']);
    const lesson = await db.pool.query<{ name: string }>('SELECT g.name FROM lesson l JOIN class_group g ON g.id = l.class_group_id WHERE l.school_id = $1', [schoolId]);
    expect(lesson.rows).toEqual([{ name: '2А англ. гр. 1' }]);
    // The next read of the same source changes nothing: the matched subgroups stay linked.
    const again = await apply({ connectionId: b, records: [classOfB('B-g1', '2А Английский язык гр. 1')] });
    expect(again).toMatchObject({ rejected: [], created: 0, events: 0 });
  });

  it('reports a subgroup whose name does not say which one it is instead of creating a duplicate, and creates a group the others lack', async () => {
    const { b, groups } = await twoSources();
    const result = await apply({
      connectionId: b,
      records: [
        { type: 'subject', externalId: 'B-eng', name: 'Английский язык' },
        { type: 'class', externalId: 'B-2a', year: 2025, name: '2А', grade: 2, letter: 'А' },
        classOfB('B-x', '2А мальчики'),
        classOfB('B-g3', '2А Английский язык гр. 3'),
        { type: 'lesson', externalId: 'B-l1', classExternalId: 'B-x', subjectExternalId: 'B-eng', date: '2025-09-08', slot: 3, status: 'held' },
      ],
    });
    expect(result.rejected).toEqual([
      expect.objectContaining({ externalId: 'B-x', reason: expect.stringMatching(/cannot match subgroup «2А мальчики».*«2А англ\. гр\. 1».*does not say the subject and the group number/) }),
      expect.objectContaining({ externalId: 'B-l1', reason: expect.stringContaining('unknown class "B-x"') }),
    ]);
    expect(await groups()).toEqual(['2А', '2А Английский язык гр. 3', '2А англ. гр. 1', '2А англ. гр. 2']);
  });
});
