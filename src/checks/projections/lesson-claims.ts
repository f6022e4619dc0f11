import type { PoolClient } from '../../db/pool.js';
import { isEventOf, type FeedEvent } from '../../journal/feed.js';

/**
 * `lesson_claim`: what each source last said of a lesson's topic and homework. The lesson row holds one
 * value per field (the last writer's), so a disagreement between sources is only visible here. A claim is
 * the value a source wrote when it changed the field (an update, or a create that set it); a source that
 * writes what the row already holds makes no event (applyBatch skips unchanged rows), so it makes no
 * claim: agreement is not recorded, and the cross-source rules compare only lessons where both sources
 * have one. A source that clears a field (homework withdrawn) claims null: "present in one only".
 *
 * Known limit: a source that changes its value to the one the row already holds (another source's) makes
 * no event, so its older claim stays until it writes the field again.
 */

export const CLAIM_FIELDS = ['topic', 'homework'] as const;
export type ClaimField = (typeof CLAIM_FIELDS)[number];

interface Claim {
  lessonId: string;
  sourceId: string;
  field: ClaimField;
  value: string | null;
  seq: number;
  at: Date;
}

/** The claims a batch of events makes: per (lesson, source, field) the last change in the batch. */
export function claimsOf(events: readonly FeedEvent[]): Claim[] {
  const claims = new Map<string, Claim>();
  for (const event of events) {
    if (!isEventOf(event, 'lesson') || event.op === 'delete' || !event.sourceId || !event.after) continue;
    for (const field of CLAIM_FIELDS) {
      // Payloads leave out null fields; a create that leaves the field empty says nothing of it (before = after = null).
      const before = event.before?.[field] ?? null;
      const after = event.after[field] ?? null;
      if (before === after) continue;
      const claim: Claim = { lessonId: event.entityId, sourceId: event.sourceId, field, value: after === null ? null : String(after), seq: event.seq, at: event.at };
      claims.set(`${claim.lessonId}|${claim.sourceId}|${field}`, claim);
    }
  }
  return [...claims.values()];
}

/** The projection (PROJECTIONS, run by the checks consumer): one upsert per batch; an older event never overwrites a newer claim. */
export async function projectLessonClaims(client: PoolClient, schoolId: string, events: readonly FeedEvent[]): Promise<void> {
  const claims = claimsOf(events);
  if (claims.length === 0) return;
  await client.query(
    `INSERT INTO lesson_claim (school_id, lesson_id, source_id, field, value, seq, at)
     SELECT $1, u.lesson_id, u.source_id, u.field, u.value, u.seq, u.at
       FROM unnest($2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::bigint[], $7::timestamptz[]) AS u(lesson_id, source_id, field, value, seq, at)
     ON CONFLICT (school_id, lesson_id, source_id, field) DO UPDATE
        SET value = EXCLUDED.value, seq = EXCLUDED.seq, at = EXCLUDED.at
      WHERE lesson_claim.seq < EXCLUDED.seq`,
    [schoolId, claims.map((c) => c.lessonId), claims.map((c) => c.sourceId), claims.map((c) => c.field),
      claims.map((c) => c.value), claims.map((c) => c.seq), claims.map((c) => c.at)],
  );
}

/**
 * The claims of a school rebuilt from its whole history in one statement (same rule as claimsOf): for a
 * school whose events the consumer has not read yet, or after the projection's rule changes.
 */
export async function rebuildLessonClaims(client: PoolClient, schoolId: string): Promise<number> {
  await client.query('DELETE FROM lesson_claim WHERE school_id = $1', [schoolId]);
  const result = await client.query(
    `INSERT INTO lesson_claim (school_id, lesson_id, source_id, field, value, seq, at)
     SELECT DISTINCT ON (e.entity_id, e.source_id, f.field) $1::uuid, e.entity_id, e.source_id, f.field, e.after::jsonb ->> f.field, e.seq, e.at
       FROM journal_event e CROSS JOIN unnest($2::text[]) AS f(field)
      WHERE e.school_id = $1 AND e.entity_type = 'lesson' AND e.op <> 'delete' AND e.source_id IS NOT NULL
        AND (e.before::jsonb ->> f.field) IS DISTINCT FROM (e.after::jsonb ->> f.field)
      ORDER BY e.entity_id, e.source_id, f.field, e.seq DESC`,
    [schoolId, [...CLAIM_FIELDS]],
  );
  return result.rowCount ?? 0;
}
