import type { Pool } from '../db/pool.js';

/**
 * The journal's size for /health, from the planner's statistics instead of counting: a monitor polls
 * /health every few seconds, and counting a billion marks on each poll would be a full scan each time.
 * The statement reads catalog tables and statistics only, so its cost does not grow with the journal.
 *
 * Rows of a table: `reltuples / relpages × current pages` (what the planner itself assumes), or the
 * statistics collector's live-row count before the table was first analyzed. Pupils: the distinct
 * persons of `enrollment` as ANALYZE measured them, else the enrollment rows (an upper bound). Rows
 * include tombstones; the figures are estimates, good to a few per cent after an analyze.
 */
export const COUNTS_SQL = `
WITH t AS (
  SELECT c.relname::text AS name,
         CASE WHEN c.relpages > 0 AND c.reltuples >= 0
              THEN c.reltuples / c.relpages * (pg_relation_size(c.oid) / current_setting('block_size')::float8)
              ELSE coalesce(pg_stat_get_live_tuples(c.oid), 0) END AS n
    FROM pg_class c
   WHERE c.oid = ANY (ARRAY['school', 'class_group', 'enrollment', 'lesson', 'mark', 'attendance', 'journal_event']::regclass[])
),
pupils AS (
  SELECT CASE WHEN s.n_distinct < 0 THEN -s.n_distinct * (SELECT n FROM t WHERE name = 'enrollment') ELSE s.n_distinct END AS n
    FROM pg_stats s
   WHERE s.schemaname = current_schema() AND s.tablename = 'enrollment' AND s.attname = 'person_id'
)
SELECT round(max(n) FILTER (WHERE name = 'school'))::int8 AS schools,
       round(max(n) FILTER (WHERE name = 'class_group'))::int8 AS classes,
       round(coalesce((SELECT max(n) FROM pupils), max(n) FILTER (WHERE name = 'enrollment')))::int8 AS pupils,
       round(max(n) FILTER (WHERE name = 'lesson'))::int8 AS lessons,
       round(max(n) FILTER (WHERE name = 'mark'))::int8 AS marks,
       round(max(n) FILTER (WHERE name = 'attendance'))::int8 AS absences,
       round(max(n) FILTER (WHERE name = 'journal_event'))::int8 AS events
  FROM t`;

/** Estimated row counts for /health (see COUNTS_SQL). */
export async function readCounts(pool: Pool): Promise<Record<string, number>> {
  const { rows } = await pool.query<Record<string, string>>(COUNTS_SQL);
  return Object.fromEntries(Object.entries(rows[0]!).map(([key, value]) => [key, Number(value)]));
}
