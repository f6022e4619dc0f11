import type { Pool } from '../db/pool.js';

/** The journal's facts a webhook's `fetch` link names: one row each, as it is now (a deleted one with its `deletedAt`). */
export const RECORD_COLLECTIONS = { marks: 'mark', attendance: 'attendance', lessons: 'lesson', 'period-marks': 'period_mark' } as const;
export type RecordCollection = keyof typeof RECORD_COLLECTIONS;

/** One fact with what access needs to know of it: its pupil (none for a lesson), its class and subject (through its lesson when it has one). */
export interface JournalRecord {
  entity: (typeof RECORD_COLLECTIONS)[RecordCollection];
  record: Record<string, unknown>;
  pupilId: string | null;
  classId: string | null;
  subjectId: string | null;
}

const SQL: Record<RecordCollection, string> = {
  marks: `SELECT row_to_json(m) AS record, m.pupil_id::text AS pupil_id, l.class_group_id::text AS class_id, m.subject_id::text AS subject_id
            FROM mark m LEFT JOIN lesson l ON l.id = m.lesson_id WHERE m.school_id = $1 AND m.id = $2`,
  attendance: `SELECT row_to_json(a) AS record, a.pupil_id::text AS pupil_id, l.class_group_id::text AS class_id, l.subject_id::text AS subject_id
            FROM attendance a LEFT JOIN lesson l ON l.id = a.lesson_id WHERE a.school_id = $1 AND a.id = $2`,
  lessons: `SELECT row_to_json(l) AS record, NULL::text AS pupil_id, l.class_group_id::text AS class_id, l.subject_id::text AS subject_id
            FROM lesson l WHERE l.school_id = $1 AND l.id = $2`,
  'period-marks': `SELECT row_to_json(p) AS record, p.pupil_id::text AS pupil_id, NULL::text AS class_id, p.subject_id::text AS subject_id
            FROM period_mark p WHERE p.school_id = $1 AND p.id = $2`,
};

/** The fact, its columns in camelCase; undefined when the school has no such row. */
export async function readRecord(pool: Pool, collection: RecordCollection, schoolId: string, id: string): Promise<JournalRecord | undefined> {
  const { rows } = await pool.query<{ record: Record<string, unknown>; pupil_id: string | null; class_id: string | null; subject_id: string | null }>(SQL[collection], [schoolId, id]);
  const row = rows[0];
  if (!row) return undefined;
  const record = Object.fromEntries(Object.entries(row.record).map(([k, v]) => [k.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase()), v]));
  return { entity: RECORD_COLLECTIONS[collection], record, pupilId: row.pupil_id, classId: row.class_id, subjectId: row.subject_id };
}
