import { withTransaction, type Pool } from '../db/pool.js';
import { applyBatchIn, type ApplyBatchResult } from '../journal/apply-batch.js';
import type { Rejection } from '../journal/context.js';
import type { WakeHook } from '../journal/feed.js';
import type { Clock } from '../lib/clock.js';
import { AppError } from '../lib/errors.js';
import { goneIdsOf, MAX_PUSH_RECORDS, type PushBody } from './body.js';
import type { PushConnection } from './connection.js';
import { bodyDigest, claimKey, storeAnswer } from './idempotency.js';

/** The answer to a push: applyBatch's counts, and every refused record by its index in the request. */
export interface PushAnswer {
  connectionId: string;
  created: number;
  updated: number;
  unchanged: number;
  deleted: number;
  /** History events appended (0 when the batch said nothing new). */
  events: number;
  /** By `index` in the request's records, with the reason (the zod path and message, or why the journal refused it). */
  rejected: Rejection[];
}

export interface PushDeps {
  pool: Pool;
  clock: Clock;
  /** The feed's wake-up (applyBatch's afterEvents); without it the consumers' poll finds the events. */
  wake?: WakeHook;
}

export interface PushInput {
  connection: PushConnection;
  /** The Idempotency-Key header. */
  key: string;
  /** The request body, validated (PushBodySchema). */
  body: PushBody;
  /** Who sent it, for the history (actorOf the caller). */
  actor: string;
}

export interface PushOutcome {
  status: number;
  /** The answer (a PushAnswer) as JSON text: a replay sends exactly the bytes of the first answer. */
  json: string;
  /** True when this is the stored answer of an earlier request with the same key and body. */
  replayed: boolean;
}

/**
 * Applies a pushed batch as the push connection's source: the records (each validated alone) and the
 * gone ids through applyBatch in the same transaction as the key's stored answer, so a retry
 * either finds the answer of a committed batch or applies it itself — never twice. A concurrent request
 * with the same key waits for the first one's transaction and then returns its answer.
 */
export async function pushRecords(deps: PushDeps, input: PushInput): Promise<PushOutcome> {
  refuseOversized(input.body);
  if (!input.connection.enabled) {
    throw new AppError('connection_disabled', `connection ${input.connection.id} is disabled: enable it to take pushed records again`, 409);
  }
  const digest = bodyDigest(input.body);
  const scope = { schoolId: input.connection.schoolId, connectionId: input.connection.id, key: input.key };
  return withTransaction(deps.pool, async (client) => {
    const now = deps.clock.now();
    const stored = await claimKey(client, scope, digest, now);
    if (stored) return { ...stored, replayed: true };
    const result = await applyBatchIn(client, deps.clock, {
      connectionId: input.connection.id, stream: 'push', records: input.body.records, goneIds: goneIdsOf(input.body),
      actor: input.actor, afterEvents: deps.wake,
    });
    const json = JSON.stringify(answerOf(input.connection.id, result));
    await storeAnswer(client, scope, digest, { status: 200, json }, now);
    return { status: 200, json, replayed: false };
  });
}

function refuseOversized(body: PushBody): void {
  const gone = body.gone?.length ?? 0;
  if (body.records.length > MAX_PUSH_RECORDS || gone > MAX_PUSH_RECORDS) {
    throw new AppError(
      'too_many_records',
      `a push takes at most ${MAX_PUSH_RECORDS} records and ${MAX_PUSH_RECORDS} gone ids (this one has ${body.records.length} and ${gone}); split the batch`,
      413,
    );
  }
}

function answerOf(connectionId: string, result: ApplyBatchResult): PushAnswer {
  return {
    connectionId, created: result.created, updated: result.updated, unchanged: result.unchanged, deleted: result.deleted,
    events: result.events, rejected: result.rejected,
  };
}
