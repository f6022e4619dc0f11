import { randomUUID } from 'node:crypto';
import type { Pool, PoolClient } from '../db/pool.js';
import type { Clock } from '../lib/clock.js';
import type { Consumer } from '../journal/feed.js';
import { eventTypeOf, journalEventOf, serialise, subscribes, type EmittedEventType, type WebhookEvent } from './events.js';

/** The webhooks' cursor on the event feed. */
export const WEBHOOKS_CONSUMER = 'webhooks';

/** A delivery job: one webhook message, not before `startAfter`. */
export interface DeliveryJob {
  schoolId: string;
  id: string;
  startAfter: Date;
}

/** Sends delivery jobs on the connection that wrote their messages (in its transaction, when it has one). */
export type DeliveryEnqueue = (client: Pool | PoolClient, jobs: readonly DeliveryJob[]) => Promise<void>;

interface Outgoing {
  eventKey: string;
  event: WebhookEvent;
  /** A journal event's seq: only endpoints registered before it take it. */
  seq?: number;
}

/**
 * The webhook outbox: one `webhook_message` per (endpoint, event), UNIQUE, written in the transaction of
 * whatever produced the event (the feed consumer advancing its cursor, or another module's own change),
 * with its delivery job in the same transaction: a crash keeps both or neither, and a replay of the same
 * events inserts nothing. Each body is serialised once here; those bytes are what every attempt signs.
 */
export async function writeMessages(client: Pool | PoolClient, schoolId: string, outgoing: readonly Outgoing[], now: Date, enqueue?: DeliveryEnqueue): Promise<number> {
  if (outgoing.length === 0) return 0;
  const { rows: endpoints } = await client.query<{ id: string; event_types: string[]; after_seq: string }>(
    `SELECT id::text, event_types, after_seq::text FROM webhook_endpoint WHERE school_id = $1 AND status = 'enabled' AND deleted_at IS NULL`, [schoolId]);
  const rows = endpoints.flatMap((e) => outgoing
    .filter((o) => subscribes(e.event_types, o.event.type) && (o.seq === undefined || o.seq > Number(e.after_seq)))
    .map((o) => ({ endpoint: e.id, ...o })));
  if (rows.length === 0) return 0;
  const bodies = new Map(outgoing.map((o) => [o.eventKey, serialise(o.event)]));
  const { rows: inserted } = await client.query<{ id: string }>(
    `INSERT INTO webhook_message (school_id, id, endpoint_id, event_key, event_type, body, next_attempt_at, created_at)
     SELECT $1, m.id, m.endpoint_id, m.event_key, m.event_type, m.body, $7, $7
       FROM unnest($2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[]) AS m(id, endpoint_id, event_key, event_type, body)
     ON CONFLICT (school_id, endpoint_id, event_key) DO NOTHING
     RETURNING id::text`,
    [schoolId, rows.map(() => randomUUID()), rows.map((r) => r.endpoint), rows.map((r) => r.eventKey), rows.map((r) => r.event.type),
      rows.map((r) => bodies.get(r.eventKey)!), now],
  );
  if (enqueue && inserted.length > 0) await enqueue(client, inserted.map((r) => ({ schoolId, id: r.id, startAfter: now })));
  return inserted.length;
}

/**
 * The feed consumer: marks, attendance, lessons and period marks become `<entity>.<op>` messages for every
 * enabled endpoint subscribed to them, in the transaction that advances the webhooks cursor.
 */
export function webhooksConsumer(clock: Clock, enqueue: DeliveryEnqueue): Consumer {
  return {
    name: WEBHOOKS_CONSUMER,
    batchSize: 2000,
    // Another system waits for this one: woken after 1 s like the parents' messages.
    wakeSeconds: 1,
    handle: async (client, schoolId, events) => {
      const outgoing = events.filter((e) => eventTypeOf(e) !== undefined).map((e) => ({ eventKey: `e:${e.seq}`, seq: e.seq, event: journalEventOf(schoolId, e) }));
      await writeMessages(client, schoolId, outgoing, clock.now(), enqueue);
    },
  };
}

/** An event another module emits: its type, a key unique for it within the school, and its ids. */
export interface EmittedEvent {
  type: EmittedEventType;
  /** Makes the event idempotent: the same key twice is one message per endpoint (e.g. `discrepancy.opened:<id>`). */
  key: string;
  /** The subject's id (the discrepancy's, the run's, the period's). */
  id: string;
  /** Further ids and kinds only: never names, phones or e-mails. */
  data?: Record<string, string | number | boolean | null>;
  fetch?: string;
}

/**
 * Emits a non-journal event (discrepancy.opened/resolved, sync_run.failed, period.closed) inside the
 * caller's own transaction, so the message exists exactly when the change does. Without `enqueue` (a
 * module that has no engine at hand) the message is delivered by the engine's sweeper within its tick.
 */
export async function emitWebhookEvent(client: Pool | PoolClient, schoolId: string, event: EmittedEvent, now: Date, enqueue?: DeliveryEnqueue): Promise<number> {
  const data = { ...event.data, id: event.id, schoolId, entity: event.type.split('.')[0]!, ...(event.fetch ? { fetch: event.fetch } : {}) };
  return writeMessages(client, schoolId, [{ eventKey: `x:${event.key}`, event: { type: event.type, timestamp: now.toISOString(), data } }], now, enqueue);
}
