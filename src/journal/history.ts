import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import copyStreams from 'pg-copy-streams';
import type { PoolClient } from '../db/pool.js';
import { copyField } from './columns.js';

/**
 * The journal's history: every create, update and delete of a canonical row becomes one event,
 * appended in the same transaction as the change, numbered per school (`seq` = 1, 2, …) and chained:
 *
 *   hash(n) = sha256( hash(n−1) ‖ utf8(eventText(n)) ),  hash(0) = 32 zero bytes
 *
 * where eventText is the fields of the event joined by newlines (see `eventText`). Altering, removing
 * or reordering any stored event breaks every later hash, which `verifyChain` reports.
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
  actor: string;
  /** ISO instant with milliseconds and Z, as stored and hashed. */
  at: string;
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
    meta.actor,
    meta.at,
    event.before ?? 'null',
    event.after ?? 'null',
  ].join('\n');
}

export function chainHash(previous: Buffer, text: string): Buffer {
  return createHash('sha256').update(previous).update(text, 'utf8').digest();
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

const EVENT_COLUMNS = '(school_id, seq, entity_type, entity_id, op, source_id, actor, at, before, after, hash)';

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
  let { seq, hash } = head;
  const lines: string[] = [];
  for (const event of events) {
    seq += 1;
    hash = chainHash(hash, eventText(seq, meta, event));
    lines.push(eventLine(seq, meta, event, hash));
  }
  await copyLines(client, `COPY journal_event ${EVENT_COLUMNS} FROM STDIN`, lines);
  await client.query('UPDATE journal_head SET seq = $2, hash = $3, updated_at = now() WHERE school_id = $1', [
    meta.schoolId,
    seq,
    hash,
  ]);
  return { seq, hash };
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
  ].join('\t');
}

/** Streams text-format COPY lines to the server in chunks of about 1 MB. */
export async function copyLines(client: PoolClient, sql: string, lines: readonly string[]): Promise<void> {
  if (lines.length === 0) return;
  const target = client.query(copyStreams.from(sql));
  await pipeline(Readable.from(chunked(lines)), target);
}

function* chunked(lines: readonly string[]): Generator<string> {
  let buffer: string[] = [];
  let size = 0;
  for (const line of lines) {
    buffer.push(line);
    size += line.length + 1;
    if (size >= 1 << 20) {
      yield `${buffer.join('\n')}\n`;
      buffer = [];
      size = 0;
    }
  }
  if (buffer.length > 0) yield `${buffer.join('\n')}\n`;
}
