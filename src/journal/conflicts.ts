import type { PoolClient } from '../db/pool.js';
import type { IdentityConflictNote } from './context.js';

/**
 * Identity conflicts as durable records: applyBatch refuses a person it cannot match unambiguously
 * (identity.ts) and reports it in the run's `rejected` list, which is capped; here each one is kept per
 * (connection, record) so a check can list it and a person can settle it. A conflict is open until the
 * same source record is applied (its external ref exists), which resolves it.
 */
export async function saveConflicts(
  client: PoolClient, schoolId: string, connectionId: string, runId: string | null, conflicts: readonly IdentityConflictNote[],
): Promise<void> {
  if (conflicts.length > 0) {
    await client.query(
      `INSERT INTO identity_conflict (school_id, connection_id, entity_type, external_id, reason, candidate_ids, run_id)
       SELECT $1, $2, u.entity_type, u.external_id, u.reason, ARRAY(SELECT jsonb_array_elements_text(u.candidates)::uuid), $3
         FROM unnest($4::text[], $5::text[], $6::text[], $7::jsonb[]) AS u(entity_type, external_id, reason, candidates)
       ON CONFLICT (school_id, connection_id, entity_type, external_id) DO UPDATE
          SET reason = EXCLUDED.reason, candidate_ids = EXCLUDED.candidate_ids, run_id = EXCLUDED.run_id,
              last_seen_at = now(), resolved_at = NULL`,
      [schoolId, connectionId, runId,
        conflicts.map((c) => c.entityType), conflicts.map((c) => c.externalId), conflicts.map((c) => c.reason),
        conflicts.map((c) => JSON.stringify(c.candidateIds))],
    );
  }
  // Open conflicts of this source whose record has since been linked are settled.
  await client.query(
    `UPDATE identity_conflict ic SET resolved_at = now()
       FROM external_ref r
      WHERE ic.school_id = $1 AND ic.connection_id = $2 AND ic.resolved_at IS NULL
        AND r.connection_id = ic.connection_id AND r.entity_type = ic.entity_type AND r.external_id = ic.external_id`,
    [schoolId, connectionId],
  );
}
