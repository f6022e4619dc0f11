import { randomUUID } from 'node:crypto';
import type { PoolClient } from '../db/pool.js';
import type { Purpose } from './policy.js';
import type { Route } from './reach.js';

/**
 * The outbox: a `notification` row per (event, channel, recipient), UNIQUE, inserted in the transaction
 * that advances the writer's feed cursor (or takes its schedule slot), with the sender's pg-boss job in the
 * same transaction — so a crash either keeps both or neither, and a replay of the same events inserts
 * nothing (ON CONFLICT DO NOTHING: no second row, no second job).
 *
 * States: `queued` (a job will send it, not before `not_before`), `held` (waits for the recipient's daily
 * digest), `sending` (a sender owns it until `lease_until`), `sent` / `delivered` (the provider took it /
 * says it arrived), `failed` (will not go on this channel; a fallback row on the next channel may follow),
 * `skipped` (no channel could carry it: `reason` says why), `cancelled` (consent withdrawn or the contact
 * gone before it went), `digested` (went inside a digest: `digest_id`).
 */
export interface NewNotification {
  eventKey: string;
  recipientId: string;
  kind: string;
  purpose: Purpose;
  pupilId?: string | null;
  data: Record<string, unknown>;
  route: Route;
  /** `held` waits for the digest; otherwise queued (or skipped when the route found no channel). */
  hold?: boolean;
  notBefore: Date;
  fallbackOf?: string;
}

export interface SendJob {
  schoolId: string;
  id: string;
  startAfter: Date;
  /** pg-boss priority (higher first): a teacher's alert and the day's absences go before a backlog of marks. */
  priority?: number;
}

/** What waits least behind a long queue of ordinary messages. */
const PRIORITY: Record<string, number> = { teacher_alert: 4, absence: 3, low_mark: 3, teacher_digest: 2, test: 5, sign_in_code: 6 };
export const priorityOf = (kind: string): number => PRIORITY[kind] ?? 0;

/** Sends the sender jobs in a transaction (the notify queue's `enqueue`). */
export type Enqueue = (client: PoolClient, jobs: readonly SendJob[]) => Promise<void>;

/** Inserts new rows (existing (event, channel, recipient) rows are left alone) and queues a job for each new queued one. Returns the rows inserted. */
export async function writeOutbox(client: PoolClient, schoolId: string, rows: readonly NewNotification[], enqueue: Enqueue): Promise<number> {
  if (rows.length === 0) return 0;
  const ids = rows.map(() => randomUUID());
  const status = rows.map((r) => (r.route.channel === 'none' ? 'skipped' : r.hold ? 'held' : 'queued'));
  const { rows: inserted } = await client.query<{ id: string; status: string; not_before: Date; kind: string }>(
    `INSERT INTO notification (school_id, id, event_key, channel, recipient_id, kind, purpose, pupil_id, data, contact_id, status, reason, not_before, fallback_of)
     SELECT $1, n.id, n.event_key, n.channel, n.recipient_id, n.kind, n.purpose, n.pupil_id, n.data::jsonb, n.contact_id, n.status, n.reason, n.not_before, n.fallback_of
       FROM unnest($2::uuid[], $3::text[], $4::text[], $5::uuid[], $6::text[], $7::text[], $8::uuid[], $9::text[], $10::uuid[], $11::text[], $12::text[], $13::timestamptz[], $14::uuid[])
            AS n(id, event_key, channel, recipient_id, kind, purpose, pupil_id, data, contact_id, status, reason, not_before, fallback_of)
     ON CONFLICT (school_id, event_key, channel, recipient_id) DO NOTHING
     RETURNING id::text, status, not_before, kind`,
    [
      schoolId, ids, rows.map((r) => r.eventKey), rows.map((r) => r.route.channel), rows.map((r) => r.recipientId), rows.map((r) => r.kind),
      rows.map((r) => r.purpose), rows.map((r) => r.pupilId ?? null), rows.map((r) => JSON.stringify(r.data)),
      rows.map((r) => (r.route.channel === 'none' ? null : r.route.contact.id)), status,
      rows.map((r) => (r.route.channel === 'none' ? r.route.reason : null)), rows.map((r) => r.notBefore), rows.map((r) => r.fallbackOf ?? null),
    ],
  );
  const jobs = inserted.filter((r) => r.status === 'queued').map((r) => ({ schoolId, id: r.id, startAfter: r.not_before, priority: priorityOf(r.kind) }));
  if (jobs.length > 0) await enqueue(client, jobs);
  return inserted.length;
}
