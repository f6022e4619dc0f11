import type { PoolClient } from '../../db/pool.js';
import type { FeedEvent } from '../../journal/feed.js';

/**
 * `source_vocabulary`: what each source can say, learnt from what it has written — whether it writes a
 * teacher's +/−, the kinds of mark it has, the work categories it names, its weights' unit. The
 * cross-source rules compare two sources only in what both can say (rules/cross-source.ts). A
 * vocabulary only grows: a deleted mark does not make a platform unable to say it.
 *
 * Kept by the checks consumer batch by batch (PROJECTIONS): a source seen for the first time is read
 * whole (its marks hold the batch already), then each batch's marks are merged in. The rules' input
 * falls back to reading a source whole while it has no row yet.
 */

/** One source's vocabulary over the marks `where` selects (`m`). */
export const vocabularyOf = (where: string) => `
  SELECT m.source_id, bool_or(m.raw ~ '[+-]\\s*$') AS modifiers, array_agg(DISTINCT m.kind ORDER BY m.kind) AS kinds,
         COALESCE(array_agg(DISTINCT m.work_category ORDER BY m.work_category) FILTER (WHERE m.work_category <> 'other'), '{}') AS categories,
         min(m.weight) FILTER (WHERE m.weight > 0) AS unit
    FROM mark m WHERE ${where} GROUP BY m.source_id`;

export async function projectSourceVocabulary(client: PoolClient, schoolId: string, events: readonly FeedEvent[]): Promise<void> {
  const marks = events.filter((e) => e.entityType === 'mark' && e.op !== 'delete' && e.sourceId !== null);
  if (marks.length === 0) return;
  const sources = [...new Set(marks.map((e) => e.sourceId!))];
  await client.query(
    `INSERT INTO source_vocabulary (school_id, source_id, modifiers, kinds, categories, unit)
     SELECT $1, v.source_id, v.modifiers, v.kinds, v.categories, v.unit
       FROM unnest($2::uuid[]) AS s(id)
       CROSS JOIN LATERAL (${vocabularyOf(`m.school_id = $1 AND m.source_id = s.id AND m.deleted_at IS NULL
         AND NOT EXISTS (SELECT 1 FROM source_vocabulary x WHERE x.school_id = $1 AND x.source_id = s.id)`)}) v
     ON CONFLICT (school_id, source_id) DO NOTHING`,
    [schoolId, sources],
  );
  await client.query(
    `UPDATE source_vocabulary s
        SET modifiers = s.modifiers OR b.modifiers,
            kinds = ARRAY(SELECT DISTINCT x FROM unnest(s.kinds || b.kinds) AS x ORDER BY 1),
            categories = ARRAY(SELECT DISTINCT x FROM unnest(s.categories || b.categories) AS x ORDER BY 1),
            unit = LEAST(s.unit, b.unit), updated_at = now()
       FROM (${vocabularyOf('m.id = ANY($2::uuid[]) AND m.school_id = $1')}) b
      WHERE s.school_id = $1 AND s.source_id = b.source_id
        AND NOT ((s.modifiers OR NOT b.modifiers) AND b.kinds <@ s.kinds AND b.categories <@ s.categories
                 AND (b.unit IS NULL OR b.unit >= s.unit) IS TRUE)`,
    [schoolId, marks.map((e) => e.entityId)],
  );
}

/** Every source's vocabulary of a school read whole again (a school whose events the consumer has not read). */
export async function rebuildSourceVocabulary(client: PoolClient, schoolId: string): Promise<number> {
  await client.query('DELETE FROM source_vocabulary WHERE school_id = $1', [schoolId]);
  const result = await client.query(
    `INSERT INTO source_vocabulary (school_id, source_id, modifiers, kinds, categories, unit)
     SELECT $1, v.source_id, v.modifiers, v.kinds, v.categories, v.unit FROM (${vocabularyOf('m.school_id = $1 AND m.deleted_at IS NULL')}) v`,
    [schoolId],
  );
  return result.rowCount ?? 0;
}
