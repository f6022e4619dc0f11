import { primarySourceOf } from '../checks/rules/sources.js';
import { readSources } from '../checks/service.js';
import type { Pool } from '../db/pool.js';

/**
 * The order in which a printed document takes a value when several sources hold one: the school's
 * primary source first (checks/rules/sources.ts primarySourceOf, as the journal page does in
 * journal/queries.ts), then the others in the checks' order. SQL picks the first with
 * `ORDER BY array_position($n::uuid[], source_id)`.
 */
export async function sourcePreference(pool: Pool, schoolId: string): Promise<string[]> {
  const [list, school] = await Promise.all([
    readSources(pool, schoolId),
    pool.query<{ named: string | null }>('SELECT primary_source_id::text AS named FROM school WHERE id = $1', [schoolId]),
  ]);
  const primary = primarySourceOf(list, school.rows[0]?.named ?? null);
  return [...(primary ? [primary.id] : []), ...list.filter((s) => s.id !== primary?.id).map((s) => s.id)];
}
