import { withTransaction, type Pool } from '../db/pool.js';
import type { Clock } from '../lib/clock.js';
import { NotFoundError, ValidationError } from '../lib/errors.js';
import type { DeliveryEnqueue } from './outbox.js';
import { webhookIdOf } from './signing.js';

/** A message as the API shows it (its body is the exact bytes that were signed). */
export interface MessageView {
  id: string;
  webhookId: string;
  endpointId: string;
  eventType: string;
  status: string;
  attempts: number;
  nextAttemptAt: string | null;
  lastStatusCode: number | null;
  payload: unknown;
  createdAt: string;
}

/** One attempt; the receiver's answer is summarised (length, and whether it was cut), never returned raw. */
export interface AttemptView {
  attempt: number;
  trigger: string;
  startedAt: string;
  durationMs: number;
  statusCode: number | null;
  succeeded: boolean;
  error: string | null;
  responseBytes: number;
}

interface MessageRow {
  id: string; endpoint_id: string; event_type: string; status: string; attempts: number; next_attempt_at: Date | null;
  last_status_code: number | null; body: string; created_at: Date;
}

const viewOf = (r: MessageRow): MessageView => ({
  id: r.id, webhookId: webhookIdOf(r.id), endpointId: r.endpoint_id, eventType: r.event_type, status: r.status, attempts: r.attempts,
  nextAttemptAt: r.next_attempt_at?.toISOString() ?? null, lastStatusCode: r.last_status_code, payload: JSON.parse(r.body) as unknown,
  createdAt: r.created_at.toISOString(),
});

/** The school and endpoint of a message, or undefined for an unknown one. */
export async function ownerOfMessage(pool: Pool, id: string): Promise<{ schoolId: string; endpointId: string } | undefined> {
  const { rows } = await pool.query<{ school_id: string; endpoint_id: string }>('SELECT school_id::text, endpoint_id::text FROM webhook_message WHERE id = $1', [id]);
  return rows[0] && { schoolId: rows[0].school_id, endpointId: rows[0].endpoint_id };
}

/** An endpoint's messages, newest first, at most `limit` before the cursor (a creation instant). */
export async function listMessages(pool: Pool, schoolId: string, endpointId: string, limit: number, before?: string): Promise<{ items: MessageView[]; next: string | null }> {
  const { rows } = await pool.query<MessageRow>(
    `SELECT id::text, endpoint_id::text, event_type, status, attempts, next_attempt_at, last_status_code, body, created_at
       FROM webhook_message WHERE school_id = $1 AND endpoint_id = $2 AND ($3::timestamptz IS NULL OR created_at < $3)
      ORDER BY created_at DESC, id DESC LIMIT $4`, [schoolId, endpointId, before ?? null, limit + 1]);
  const items = rows.slice(0, limit).map(viewOf);
  return { items, next: rows.length > limit ? items[items.length - 1]!.createdAt : null };
}

/** A message's attempts in order. */
export async function listAttempts(pool: Pool, schoolId: string, messageId: string, limit: number): Promise<AttemptView[]> {
  const { rows } = await pool.query<{ attempt: number; trigger: string; started_at: Date; duration_ms: number; status_code: number | null; succeeded: boolean; error: string | null; response_bytes: number }>(
    `SELECT attempt, trigger, started_at, duration_ms, status_code, succeeded, error, coalesce(length(response_body), 0) AS response_bytes
       FROM webhook_attempt WHERE school_id = $1 AND message_id = $2 ORDER BY attempt LIMIT $3`, [schoolId, messageId, limit]);
  return rows.map((r) => ({
    attempt: r.attempt, trigger: r.trigger, startedAt: r.started_at.toISOString(), durationMs: r.duration_ms, statusCode: r.status_code,
    succeeded: r.succeeded, error: r.error, responseBytes: r.response_bytes,
  }));
}

async function assertEnabled(pool: Pool, schoolId: string, endpointId: string): Promise<void> {
  const { rows } = await pool.query<{ status: string }>('SELECT status FROM webhook_endpoint WHERE school_id = $1 AND id = $2 AND deleted_at IS NULL', [schoolId, endpointId]);
  if (!rows[0]) throw new NotFoundError(`webhook ${endpointId}`);
  if (rows[0].status !== 'enabled') throw new ValidationError('the endpoint is disabled: enable it (PATCH status enabled) before sending to it again');
}

/**
 * Sends messages again, now, with the same `webhook-id` and body (a new round of the schedule): one
 * message (replay) or every message of an endpoint since an instant (recover). Returns how many were queued.
 */
export async function resend(
  pool: Pool, clock: Clock, enqueue: DeliveryEnqueue, target: { schoolId: string; endpointId: string } & ({ messageId: string } | { since: Date }),
): Promise<number> {
  await assertEnabled(pool, target.schoolId, target.endpointId);
  const now = clock.now();
  const trigger = 'messageId' in target ? 'replay' : 'recover';
  return withTransaction(pool, async (client) => {
    const { rows } = await client.query<{ id: string }>(
      `UPDATE webhook_message SET status = 'pending', attempts = 0, next_attempt_at = $4, lease_until = NULL, trigger = $5, updated_at = now()
        WHERE school_id = $1 AND endpoint_id = $2 AND status <> 'sending'
          AND (CASE WHEN $5 = 'replay' THEN id = $3::uuid ELSE created_at >= $6 END)
        RETURNING id::text`,
      [target.schoolId, target.endpointId, 'messageId' in target ? target.messageId : null, now, trigger, 'since' in target ? target.since : null]);
    if (rows.length > 0) await enqueue(client, rows.map((r) => ({ schoolId: target.schoolId, id: r.id, startAfter: now })));
    return rows.length;
  });
}
