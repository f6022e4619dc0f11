import { createHash } from 'node:crypto';
import type { PoolClient } from '../db/pool.js';
import { AppError } from '../lib/errors.js';

/** How long an answer is kept for a retry with its key; an older key is free again. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

/** Names one push request of one connection. */
export interface IdempotencyScope {
  schoolId: string;
  connectionId: string;
  key: string;
}

/** An answer given once, given again to a retry: its status and its JSON text, byte for byte. */
export interface StoredAnswer {
  status: number;
  json: string;
}

/** The key was used before for a request with another body (HTTP 409). */
export class IdempotencyKeyReusedError extends AppError {
  constructor() {
    super('idempotency_key_reused', 'this Idempotency-Key was used for a request with another body; use a new key for a new batch', 409);
  }
}

/** sha256 (hex) of the body as parsed: the same JSON sent again hashes alike whatever its whitespace. */
export function bodyDigest(body: unknown): string {
  return createHash('sha256').update(JSON.stringify(body)).digest('hex');
}

/**
 * Inside the push's transaction: serializes the requests of one key (a transaction-level advisory
 * lock, so a concurrent retry waits for the first to commit or roll back, then reads its answer),
 * forgets the connection's expired keys, and returns the stored answer of this key — or undefined
 * when the request is the first. Another body under the same key is refused.
 */
export async function claimKey(client: PoolClient, scope: IdempotencyScope, digest: string, now: Date): Promise<StoredAnswer | undefined> {
  await client.query(`SELECT pg_advisory_xact_lock(hashtextextended('push:' || $1 || ':' || $2, 0))`, [scope.connectionId, scope.key]);
  // Expired keys of the connection go in the same statement (the SELECT reads the snapshot before the DELETE, hence its own cut-off).
  const { rows } = await client.query<{ body_sha256: string; status: number; response: string }>(
    `WITH expired AS (DELETE FROM push_idempotency WHERE school_id = $1 AND connection_id = $2 AND created_at < $4)
     SELECT body_sha256, status, response FROM push_idempotency
      WHERE school_id = $1 AND connection_id = $2 AND key = $3 AND created_at >= $4`,
    [scope.schoolId, scope.connectionId, scope.key, new Date(now.getTime() - IDEMPOTENCY_TTL_MS)],
  );
  const row = rows[0];
  if (!row) return undefined;
  if (row.body_sha256 !== digest) throw new IdempotencyKeyReusedError();
  return { status: row.status, json: row.response };
}

/** Stores the first answer of a key, in the transaction that applied its batch. */
export async function storeAnswer(client: PoolClient, scope: IdempotencyScope, digest: string, answer: StoredAnswer, now: Date): Promise<void> {
  await client.query(
    `INSERT INTO push_idempotency (school_id, connection_id, key, body_sha256, status, response, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [scope.schoolId, scope.connectionId, scope.key, digest, answer.status, answer.json, now],
  );
}
