import type { Pool } from '../db/pool.js';
import type { DateRange } from '../ports/adapter.js';
import type { GoneId, RecordType } from '../ports/records.js';

/**
 * Deletions a platform does not announce: after a stream has been read completely for a window, what
 * this source had in that window and did not send again is gone (a deleted mark, a cancelled lesson, a
 * pupil who left). Only record types with a window here are checked.
 */

/** What this source still has, per record type, inside the window. */
const EXISTING: Partial<Record<RecordType, string>> = {
  mark: `SELECT m.external_id FROM mark m JOIN lesson l ON l.id = m.lesson_id
          WHERE m.source_id = $1 AND l.date BETWEEN $2 AND $3 AND m.deleted_at IS NULL`,
  attendance: `SELECT a.external_id FROM attendance a JOIN lesson l ON l.id = a.lesson_id
          WHERE a.source_id = $1 AND l.date BETWEEN $2 AND $3 AND a.deleted_at IS NULL`,
  lesson: `SELECT r.external_id FROM external_ref r JOIN lesson l ON l.id = r.canonical_id
          WHERE r.connection_id = $1 AND r.entity_type = 'lesson' AND r.gone_at IS NULL AND l.date BETWEEN $2 AND $3`,
  // A roster is read whole: every enrollment this source had and no longer lists has ended.
  enrollment: `SELECT r.external_id FROM external_ref r
          WHERE r.connection_id = $1 AND r.entity_type = 'enrollment' AND r.gone_at IS NULL AND $2::date IS NOT NULL AND $3::date IS NOT NULL`,
};

/** Above this share of a window's records gone in one read, the read is distrusted, not applied. */
const MAX_GONE_SHARE = 0.5;
const GUARD_FROM = 20;

export interface GoneResult {
  gone: GoneId[];
  /** Types whose deletions were not applied because too much would have gone at once. */
  guarded: RecordType[];
}

export async function findGone(pool: Pool, connectionId: string, range: DateRange, seen: Map<RecordType, Set<string>>): Promise<GoneResult> {
  const result: GoneResult = { gone: [], guarded: [] };
  for (const [type, ids] of seen) {
    const sql = EXISTING[type];
    if (!sql) continue;
    const { rows } = await pool.query<{ external_id: string }>(sql, [connectionId, range.from, range.to]);
    const gone = rows.filter((r) => !ids.has(r.external_id)).map((r) => ({ type, externalId: r.external_id }));
    if (gone.length >= GUARD_FROM && gone.length > rows.length * MAX_GONE_SHARE) result.guarded.push(type);
    else result.gone.push(...gone);
  }
  return result;
}
