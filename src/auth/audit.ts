import type { Pool, PoolClient } from '../db/pool.js';
import { withTransaction } from '../db/pool.js';
import type { Clock } from '../lib/clock.js';
import { chainHash, GENESIS_HASH } from '../journal/history.js';

/**
 * The audit log: every staff or API read of a child's record and every change of access (keys, roles,
 * users, passwords), chained per school like the journal's history —
 *   hash(n) = sha256( hex(hash(n−1)) ‖ "\n" ‖ auditText(n) )
 * — and append-only for the application's role (db/roles.ts HISTORY_TABLES). Entries that belong to no
 * one school (a region-level key) go to the chain of the nil school id.
 */
export const REGION = '00000000-0000-0000-0000-000000000000';

export interface AuditEntry {
  /** `user:<id>` or `api:<key id>` (caller.ts actorOf) or `cli`: never a name or an address. */
  actor: string;
  /** `journal_page.read`, `api_key.created`, `user.roles_changed`, … */
  action: string;
  objectType: string;
  objectIds: string[];
  detail?: Record<string, unknown>;
}

/** The exact text an entry's hash covers. */
export function auditText(seq: number | string, at: string, entry: AuditEntry, detail: string): string {
  return [String(seq), at, entry.actor, entry.action, entry.objectType, entry.objectIds.join(','), detail].join('\n');
}

/**
 * Appends `entry` to the chain of each school in `schoolIds`, inside the caller's transaction (so a
 * change of access and its record commit together). Heads are locked in id order, so two writers of
 * the same schools never deadlock.
 */
export async function appendAudit(client: PoolClient, clock: Clock, schoolIds: string[], entry: AuditEntry): Promise<void> {
  const at = clock.now().toISOString();
  const detail = JSON.stringify(entry.detail ?? null);
  for (const schoolId of [...new Set(schoolIds)].sort()) {
    const { rows } = await client.query<{ seq: string; hash: Buffer }>(
      `INSERT INTO audit_head (school_id, seq, hash) VALUES ($1, 0, $2)
       ON CONFLICT (school_id) DO UPDATE SET seq = audit_head.seq RETURNING seq, hash`,
      [schoolId, GENESIS_HASH],
    );
    const seq = Number(rows[0]!.seq) + 1;
    const hash = chainHash(rows[0]!.hash, auditText(seq, at, entry, detail));
    await client.query(
      `INSERT INTO audit_log (school_id, seq, at, actor, action, object_type, object_ids, detail, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8::json, $9)`,
      [schoolId, seq, at, entry.actor, entry.action, entry.objectType, entry.objectIds, detail, hash],
    );
    await client.query('UPDATE audit_head SET seq = $2, hash = $3 WHERE school_id = $1', [schoolId, seq, hash]);
  }
}

/** appendAudit in a transaction of its own (a read's record: the read itself changes nothing). */
export async function recordAudit(pool: Pool, clock: Clock, schoolIds: string[], entry: AuditEntry): Promise<void> {
  await withTransaction(pool, (client) => appendAudit(client, clock, schoolIds, entry));
}

export interface AuditRecord { seq: number; at: string; actor: string; action: string; objectType: string; objectIds: string[]; detail: unknown }

/** A school's audit entries, newest first, `limit` at most, before `beforeSeq` when given. */
export async function listAudit(pool: Pool, schoolId: string, options: { limit: number; beforeSeq?: number; action?: string }): Promise<AuditRecord[]> {
  const { rows } = await pool.query<{ seq: string; at: Date; actor: string; action: string; object_type: string; object_ids: string[]; detail: string }>(
    `SELECT seq::text, at, actor, action, object_type, object_ids, detail::text FROM audit_log
      WHERE school_id = $1 AND ($2::bigint IS NULL OR seq < $2) AND ($3::text IS NULL OR action = $3) ORDER BY audit_log.seq DESC LIMIT $4`,
    [schoolId, options.beforeSeq ?? null, options.action ?? null, options.limit],
  );
  return rows.map((r) => ({ seq: Number(r.seq), at: r.at.toISOString(), actor: r.actor, action: r.action, objectType: r.object_type, objectIds: r.object_ids, detail: JSON.parse(r.detail) as unknown }));
}

export interface AuditVerdict { schoolId: string; entries: number; ok: boolean; firstBroken?: number; reason?: string }

/** Recomputes a school's audit chain: the first entry whose hash does not follow, or a head that does not match. */
export async function verifyAudit(pool: Pool, schoolId: string): Promise<AuditVerdict> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const { rows } = await client.query<{ seq: string; at: Date; actor: string; action: string; object_type: string; object_ids: string[]; detail: string; hash: Buffer }>(
      'SELECT seq::text, at, actor, action, object_type, object_ids, detail::text, hash FROM audit_log a WHERE school_id = $1 ORDER BY a.seq', [schoolId],
    );
    const head = (await client.query<{ seq: string; hash: Buffer }>('SELECT seq::text, hash FROM audit_head WHERE school_id = $1', [schoolId])).rows[0];
    await client.query('COMMIT');
    let previous: Buffer = GENESIS_HASH;
    for (const [index, row] of rows.entries()) {
      const seq = Number(row.seq);
      if (seq !== index + 1) return { schoolId, entries: rows.length, ok: false, firstBroken: index + 1, reason: `entry ${index + 1} is missing` };
      const entry = { actor: row.actor, action: row.action, objectType: row.object_type, objectIds: row.object_ids };
      const expected = chainHash(previous, auditText(seq, row.at.toISOString(), entry, row.detail));
      if (!expected.equals(row.hash)) return { schoolId, entries: rows.length, ok: false, firstBroken: seq, reason: `entry ${seq} was changed` };
      previous = row.hash;
    }
    if (head && (Number(head.seq) !== rows.length || !head.hash.equals(previous))) return { schoolId, entries: rows.length, ok: false, firstBroken: rows.length, reason: 'the chain head does not match its last entry (entries removed at the end)' };
    return { schoolId, entries: rows.length, ok: true };
  } finally {
    client.release();
  }
}
