import { Router, type Response } from 'express';
import { z } from 'zod';
import { permit, type Caller } from '../../auth/caller.js';
import type { Pool } from '../../db/pool.js';
import type { Clock } from '../../lib/clock.js';
import { NotFoundError } from '../../lib/errors.js';
import type { TargetPolicy } from '../../lib/net-targets.js';
import type { SecretBox } from '../../lib/secret-box.js';
import { createEndpoint, deleteEndpoint, getEndpoint, listEndpoints, rotateSecret, schoolOfEndpoint, updateEndpoint } from '../../webhooks/endpoints.js';
import { listAttempts, listMessages, ownerOfMessage, resend } from '../../webhooks/messages.js';
import type { DeliveryEnqueue } from '../../webhooks/outbox.js';
import { readAllowedTargets, writeAllowedTargets } from '../../webhooks/targets.js';
import { callerOf } from '../caller.js';
import { parseRequest } from '../errors.js';

const Id = z.object({ id: z.uuid() });
const SchoolId = z.object({ schoolId: z.uuid() });
const Page = z.object({ limit: z.coerce.number().int().min(1).max(200).default(50), cursor: z.string().max(100).optional() });
const EventTypes = z.array(z.string().min(1).max(60)).min(1).max(50);
const CreateBody = z.strictObject({ url: z.string().min(1).max(2000), eventTypes: EventTypes, description: z.string().max(500).nullish() });
const PatchBody = z.strictObject({
  url: z.string().min(1).max(2000).optional(), eventTypes: EventTypes.optional(), description: z.string().max(500).nullish(), status: z.enum(['enabled', 'disabled']).optional(),
});
const RecoverBody = z.strictObject({ since: z.iso.datetime({ offset: true }) });
const TargetsBody = z.strictObject({ entries: z.array(z.string().min(1).max(200)).max(50) });

/** The endpoint's school, once the caller may manage webhooks there; another school's endpoint is 404 like an unknown one. */
export async function endpointSchoolFor(pool: Pool, caller: Caller, id: string): Promise<string> {
  const schoolId = await schoolOfEndpoint(pool, id);
  if (!schoolId) throw new NotFoundError(`webhook ${id}`);
  permit(caller, schoolId, 'webhooks:manage', `webhook ${id}`);
  return schoolId;
}

/** A message's school and endpoint, once the caller may manage webhooks there; else 404. */
export async function messageOwnerFor(pool: Pool, caller: Caller, id: string): Promise<{ schoolId: string; endpointId: string }> {
  const owner = await ownerOfMessage(pool, id);
  if (!owner) throw new NotFoundError(`webhook message ${id}`);
  permit(caller, owner.schoolId, 'webhooks:manage', `webhook message ${id}`);
  return owner;
}

export interface WebhooksRouterDeps {
  pool: Pool;
  clock: Clock;
  box: SecretBox;
  /** The process-wide target policy; each school's allow-list is added to it. */
  targets: TargetPolicy;
  /** The delivery queue's enqueue (replay, recover). */
  enqueue: DeliveryEnqueue;
  /** A rotated-out secret keeps signing this long. */
  rotationGraceSeconds: number;
}

/**
 * Outgoing webhooks: a school's endpoints, their secrets (shown once), messages and attempts, replay and
 * recover, and the school's allow-list of private receivers. Every route needs `webhooks:manage` in the
 * object's school; an id of another school answers 404 like an unknown one.
 */
export function webhooksRouter(deps: WebhooksRouterDeps): Router {
  const { pool, clock, box, targets } = deps;
  const router = Router();
  /** The endpoint's school, once the caller may manage webhooks there. */
  const endpointSchool = (res: Response, id: string): Promise<string> => endpointSchoolFor(pool, callerOf(res), id);
  router.get('/v1/schools/:schoolId/webhooks', async (req, res) => {
    const { schoolId } = parseRequest(SchoolId, req.params, 'path');
    permit(callerOf(res), schoolId, 'webhooks:manage');
    const page = parseRequest(Page, req.query, 'query');
    res.json(await listEndpoints(pool, box, schoolId, page.limit, page.cursor && parseRequest(z.uuid(), page.cursor, 'query.cursor')));
  });
  router.post('/v1/schools/:schoolId/webhooks', async (req, res) => {
    const { schoolId } = parseRequest(SchoolId, req.params, 'path');
    permit(callerOf(res), schoolId, 'webhooks:manage');
    res.status(201).json(await createEndpoint(pool, box, targets, schoolId, parseRequest(CreateBody, req.body, 'body')));
  });
  router.get('/v1/webhooks/:id', async (req, res) => {
    const { id } = parseRequest(Id, req.params, 'path');
    await endpointSchool(res, id);
    res.json(await getEndpoint(pool, box, id));
  });
  router.patch('/v1/webhooks/:id', async (req, res) => {
    const { id } = parseRequest(Id, req.params, 'path');
    await endpointSchool(res, id);
    res.json(await updateEndpoint(pool, box, targets, id, parseRequest(PatchBody, req.body, 'body')));
  });
  router.delete('/v1/webhooks/:id', async (req, res) => {
    const { id } = parseRequest(Id, req.params, 'path');
    await endpointSchool(res, id);
    await deleteEndpoint(pool, id);
    res.status(204).end();
  });
  router.post('/v1/webhooks/:id/rotate-secret', async (req, res) => {
    const { id } = parseRequest(Id, req.params, 'path');
    await endpointSchool(res, id);
    res.json(await rotateSecret(pool, box, clock, id, deps.rotationGraceSeconds));
  });
  router.get('/v1/webhooks/:id/messages', async (req, res) => {
    const { id } = parseRequest(Id, req.params, 'path');
    const schoolId = await endpointSchool(res, id);
    const page = parseRequest(Page, req.query, 'query');
    res.json(await listMessages(pool, schoolId, id, page.limit, page.cursor && parseRequest(z.iso.datetime(), page.cursor, 'query.cursor')));
  });
  router.post('/v1/webhooks/:id/recover', async (req, res) => {
    const { id } = parseRequest(Id, req.params, 'path');
    const schoolId = await endpointSchool(res, id);
    const body = parseRequest(RecoverBody, req.body, 'body');
    res.status(202).json({ queued: await resend(pool, clock, deps.enqueue, { schoolId, endpointId: id, since: new Date(body.since) }) });
  });
  const messageOwner = (res: Response, id: string) => messageOwnerFor(pool, callerOf(res), id);
  router.get('/v1/webhook-messages/:id/attempts', async (req, res) => {
    const { id } = parseRequest(Id, req.params, 'path');
    const owner = await messageOwner(res, id);
    res.json({ items: await listAttempts(pool, owner.schoolId, id, 200) });
  });
  router.post('/v1/webhook-messages/:id/replay', async (req, res) => {
    const { id } = parseRequest(Id, req.params, 'path');
    const owner = await messageOwner(res, id);
    res.status(202).json({ queued: await resend(pool, clock, deps.enqueue, { ...owner, messageId: id }) });
  });
  router.get('/v1/schools/:schoolId/webhook-allowed-targets', async (req, res) => {
    const { schoolId } = parseRequest(SchoolId, req.params, 'path');
    permit(callerOf(res), schoolId, 'webhooks:manage');
    res.json({ entries: await readAllowedTargets(pool, schoolId) });
  });
  router.put('/v1/schools/:schoolId/webhook-allowed-targets', async (req, res) => {
    const { schoolId } = parseRequest(SchoolId, req.params, 'path');
    permit(callerOf(res), schoolId, 'webhooks:manage');
    res.json({ entries: await writeAllowedTargets(pool, schoolId, parseRequest(TargetsBody, req.body, 'body').entries) });
  });
  return router;
}
