import type { RuleContext } from '../types.js';

/** A rule's parameter from the school's profile, or its default. */
export function setting<T>(ctx: RuleContext, rule: string, name: string, fallback: T): T {
  const value = ctx.profile.rules[rule]?.[name];
  return value === undefined ? fallback : (value as T);
}

/**
 * Days allowed per grade, from a profile's bands (`{ "1-4": 2, "5-9": 7, "10-11": 10 }`), as a SQL CASE
 * over `grade` (the fallback for grades no band names).
 */
export function daysByGrade(bands: Record<string, number>, fallback: number, grade = 'cg.grade'): string {
  const arms = Object.entries(bands).map(([band, days]) => {
    const [lo, hi = lo] = band.split('-').map(Number);
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || !Number.isInteger(days)) throw new Error(`bad grade band "${band}": ${days}`);
    return `WHEN ${grade} BETWEEN ${lo} AND ${hi} THEN ${days}`;
  });
  return arms.length > 0 ? `(CASE ${arms.join(' ')} ELSE ${Math.trunc(fallback)} END)` : String(Math.trunc(fallback));
}

/**
 * When a mark was entered, as a rule can prove it: the platform's entry time where it gives one; else the
 * time the service first saw it — but only when a successful run of that source started after `deadline`
 * and ended before the mark was first seen, which proves the mark was not there at the deadline (a
 * school's first, historical sync sees a whole year at once and proves nothing). NULL: not provable.
 */
export function provenEntry(mark: string, deadline: string): string {
  return `COALESCE(${mark}.entered_at, CASE WHEN EXISTS (
      SELECT 1 FROM sync_run r WHERE r.connection_id = ${mark}.source_id AND r.status IN ('succeeded', 'partial')
         AND r.started_at > ${deadline} AND r.finished_at < ${mark}.created_at) THEN ${mark}.created_at END)`;
}

/** The instant a school-local day ends (midnight after it), for `date` in the school's zone ($tz). */
export const endOfDay = (date: string, tz: string) => `((${date} + 1)::timestamp AT TIME ZONE ${tz})`;
