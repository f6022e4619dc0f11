import { hash as digest } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import copyStreams from 'pg-copy-streams';
import type { PoolClient } from '../db/pool.js';
import { copyField } from './columns.js';

/**
 * The journal's history: every create, update and delete of a canonical row becomes one event,
 * appended in the same transaction as the change, numbered per school (`seq` = 1, 2, …) and chained:
 *
 *   hash(n) = sha256( hex(hash(n−1)) ‖ "\n" ‖ eventText(n) ),  hash(0) = 32 zero bytes
 *
 * over UTF-8, where hex is lower-case and eventText is the fields of the event joined by newlines (see
 * `eventText`). Altering, removing or reordering any stored event breaks every later hash, which
 * `verifyChains` reports. (The previous hash enters as hex text so that one string is hashed per event.)
 */

export type EventOp = 'create' | 'update' | 'delete';

export interface PendingEvent {
  entityType: string;
  entityId: string;
  op: EventOp;
  /** Canonical payloads (see columns.ts payloadOf); null for a create's before and a delete's after. */
  before: string | null;
  after: string | null;
}

export interface ChainHead {
  seq: number;
  hash: Buffer;
}

export interface EventMeta {
  schoolId: string;
  sourceId: string | null;
  /** Who made the change when it is not the source itself (a user, a platform account); else null. */
  actor: string | null;
  /** ISO instant with milliseconds and Z, as stored and hashed. */
  at: string;
  /** The sync run that wrote the events, if a run did (stored beside the event, not hashed). */
  runId?: string | null;
}

export const GENESIS_HASH = Buffer.alloc(32);

/** The exact text an event's hash covers. */
export function eventText(seq: number | string, meta: Omit<EventMeta, 'schoolId'>, event: PendingEvent): string {
  return [
    String(seq),
    event.entityType,
    event.entityId,
    event.op,
    meta.sourceId ?? '',
    meta.actor ?? '',
    meta.at,
    event.before ?? 'null',
    event.after ?? 'null',
  ].join('\n');
}

export function chainHash(previous: Buffer, text: string): Buffer {
  return digest('sha256', `${previous.toString('hex')}\n${text}`, 'buffer') as unknown as Buffer;
}

/**
 * Locks the school's chain head for this transaction (creating it on the school's first write) and
 * returns it. The row lock is what serializes writers of one school: it is taken first, so two
 * batches of one school never deadlock, and the second sees everything the first committed.
 */
export async function lockChainHead(client: PoolClient, schoolId: string): Promise<ChainHead> {
  const { rows } = await client.query<{ seq: string; hash: Buffer }>(
    `INSERT INTO journal_head (school_id, seq, hash) VALUES ($1, 0, $2)
     ON CONFLICT (school_id) DO UPDATE SET updated_at = journal_head.updated_at
     RETURNING seq, hash`,
    [schoolId, GENESIS_HASH],
  );
  const row = rows[0]!;
  return { seq: Number(row.seq), hash: row.hash };
}

const EVENT_COLUMNS = '(school_id, seq, entity_type, entity_id, op, source_id, actor, at, before, after, hash, run_id)';

/**
 * Numbers, chains and appends `events` after `head` with COPY, then moves the head. Returns the new head.
 */
export async function appendEvents(
  client: PoolClient,
  head: ChainHead,
  meta: EventMeta,
  events: readonly PendingEvent[],
): Promise<ChainHead> {
  if (events.length === 0) return head;
  const last = { seq: head.seq, hash: head.hash };
  // Lines are built (and hashed) lazily, while the server ingests the ones before them.
  function* lines(): Generator<string> {
    for (const event of events) {
      last.seq += 1;
      last.hash = chainHash(last.hash, eventText(last.seq, meta, event));
      yield eventLine(last.seq, meta, event, last.hash);
    }
  }
  await copyLines(client, `COPY journal_event ${EVENT_COLUMNS} FROM STDIN`, lines());
  await client.query('UPDATE journal_head SET seq = $2, hash = $3, updated_at = now() WHERE school_id = $1', [
    meta.schoolId,
    last.seq,
    last.hash,
  ]);
  return last;
}

function eventLine(seq: number, meta: EventMeta, event: PendingEvent, hash: Buffer): string {
  return [
    meta.schoolId,
    String(seq),
    event.entityType,
    event.entityId,
    event.op,
    copyField(meta.sourceId),
    copyField(meta.actor),
    meta.at,
    copyField(event.before),
    copyField(event.after),
    `\\\\x${hash.toString('hex')}`,
    copyField(meta.runId ?? null),
  ].join('\t');
}

/**
 * Streams text-format COPY lines to the server in chunks of about 256 KB; `lines` may be lazy, so the
 * work of producing them overlaps the server's work on the chunks already sent.
 */
export async function copyLines(client: PoolClient, sql: string, lines: Iterable<string>): Promise<void> {
  const target = client.query(copyStreams.from(sql));
  await pipeline(Readable.from(chunked(lines)), target);
}

function* chunked(lines: Iterable<string>): Generator<string> {
  let buffer: string[] = [];
  let size = 0;
  for (const line of lines) {
    buffer.push(line);
    size += line.length + 1;
    if (size >= 1 << 18) {
      yield `${buffer.join('\n')}\n`;
      buffer = [];
      size = 0;
    }
  }
  if (buffer.length > 0) yield `${buffer.join('\n')}\n`;
}
