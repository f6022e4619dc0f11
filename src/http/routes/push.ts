import { Router } from 'express';
import { z } from 'zod';
import { actorOf, permit } from '../../auth/caller.js';
import type { Pool } from '../../db/pool.js';
import type { WakeHook } from '../../journal/feed.js';
import type { Clock } from '../../lib/clock.js';
import { AppError, NotFoundError } from '../../lib/errors.js';
import { PushBodySchema } from '../../push/body.js';
import { findPushConnection } from '../../push/connection.js';
import { pushRecords, type PushAnswer } from '../../push/service.js';
import { callerOf } from '../caller.js';
import { parseRequest } from '../errors.js';
import type { operations } from '../openapi.js';

/** The spec's answer must be what the service answers (a compile-time check both ways). */
type SpecAnswer = operations['pushRecords']['responses']['200']['content']['application/json'];
const sameShape: [SpecAnswer, PushAnswer] extends [PushAnswer, SpecAnswer] ? true : never = true;
void sameShape;

const Params = z.object({ id: z.uuid() });
/** Visible ASCII, as the IETF draft's examples and every client library send it. */
const IdempotencyKey = z.string().regex(/^[\x21-\x7e]{1,200}$/, 'expected 1–200 visible ASCII characters');

export interface PushRouterDeps {
  pool: Pool;
  clock: Clock;
  /** The feed's wake-up, when the process runs the feed's queue. */
  wake?: WakeHook;
}

/**
 * POST /v1/connections/{id}/records: another school system sends a batch of source records (and the ids
 * it no longer has) to its push connection, under an Idempotency-Key. The body is limited by the API's
 * JSON parser (1 MB → 413) and to MAX_PUSH_RECORDS records.
 */
export function pushRouter(deps: PushRouterDeps): Router {
  const router = Router();
  router.post('/v1/connections/:id/records', async (req, res) => {
    const caller = callerOf(res);
    const { id } = parseRequest(Params, req.params, 'path');
    const connection = await findPushConnection(deps.pool, id);
    // Another platform's connection answers like an unknown one: this path exists for push connections only.
    if (!connection) throw new NotFoundError(`connection ${id}`);
    permit(caller, connection.schoolId, 'records:write', `connection ${id}`);
    const key = req.header('idempotency-key');
    if (key === undefined) throw new AppError('idempotency_key_required', 'send an Idempotency-Key header (a new one per batch; the same one when retrying it)', 400);
    parseRequest(IdempotencyKey, key, 'header.Idempotency-Key');
    const body = parseRequest(PushBodySchema, req.body, 'body');
    const outcome = await pushRecords(deps, { connection, key, body, actor: actorOf(caller) });
    if (outcome.replayed) res.setHeader('idempotent-replayed', 'true');
    res.status(outcome.status).type('application/json').send(outcome.json);
  });
  return router;
}
