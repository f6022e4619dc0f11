import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { applyBatch } from '../../src/journal/apply-batch.js';
import { verifyChains } from '../../src/journal/verify.js';
import { systemClock } from '../../src/lib/clock.js';
import type { SourceRecord } from '../../src/ports/records.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { createConnection, createSchool } from '../support/fixtures.js';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase({ poolSize: 8 });
});
afterAll(async () => {
  await db.drop();
});

/** The same class as two platforms describe it: other ids, other spellings. */
function rosterOf(prefix: string, className: string, pupils: number): SourceRecord[] {
  const records: SourceRecord[] = [{ type: 'class', externalId: `${prefix}-class`, year: 2025, name: className, grade: 6 }];
  for (let i = 0; i < pupils; i++) {
    records.push(
      { type: 'person', externalId: `${prefix}-p${i}`, role: 'pupil', lastName: `Фамилия${i}`, firstName: 'Пётр', classExternalId: `${prefix}-class` },
      { type: 'enrollment', externalId: `${prefix}-e${i}`, pupilExternalId: `${prefix}-p${i}`, classExternalId: `${prefix}-class` },
    );
  }
  return records;
}

describe('two connections of one school applying at once', () => {
  it('neither deadlock nor create the same person twice', async () => {
    for (let round = 0; round < 5; round++) {
      const schoolId = await createSchool(db.pool, { name: `School ${round}` });
      const a = await createConnection(db.pool, schoolId, 'dnevnikru');
      const b = await createConnection(db.pool, schoolId, 'netschool');
      const results = await Promise.all([
        applyBatch(db.pool, systemClock, { connectionId: a, stream: 'roster', records: rosterOf('dn', '6А', 30) }),
        applyBatch(db.pool, systemClock, { connectionId: b, stream: 'roster', records: rosterOf('ns', '6 а', 30) }),
      ]);
      expect(results.flatMap((r) => r.rejected)).toEqual([]);
      const { rows } = await db.pool.query(
        `SELECT (SELECT count(*) FROM person WHERE school_id = $1)::int AS persons,
                (SELECT count(*) FROM class_group WHERE school_id = $1)::int AS classes,
                (SELECT count(*) FROM external_ref r JOIN person p ON p.id = r.canonical_id WHERE p.school_id = $1)::int AS refs`,
        [schoolId],
      );
      expect(rows[0]).toEqual({ persons: 30, classes: 1, refs: 60 });
      const [chain] = await verifyChains(db.pool, [schoolId]);
      expect(chain?.ok).toBe(true);
    }
  });
});
