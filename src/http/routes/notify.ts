import express, { Router } from 'express';
import { z } from 'zod';
import type { Pool } from '../../db/pool.js';
import type { Clock } from '../../lib/clock.js';
import { AppError, NotFoundError } from '../../lib/errors.js';
import type { SecretBox } from '../../lib/secret-box.js';
import type { TargetPolicy } from '../../lib/net-targets.js';
import type { Enqueue } from '../../notify/outbox.js';
import { CHANNELS } from '../../notify/policy.js';
import {
  STATUSES, addContact, getNotification, getPolicy, getPreferences, grantConsent, listConsents, listContacts, listNotifications, listProviders,
  putPolicy, putPreferences, putProvider, sendTest, withdrawConsent,
} from '../../notify/service.js';
import { createLinkToken } from '../../notify/telegram-link.js';
import { importParents, MAX_PARENTS_BYTES, parentsTemplate } from '../../notify/parents-sheet.js';
import { telegramWebhook } from '../../notify/telegram-webhook.js';
import { parseRequest } from '../errors.js';

const Id = z.object({ id: z.uuid() });
const SchoolId = z.object({ schoolId: z.uuid() });
const SchoolChannel = z.object({ schoolId: z.uuid(), channel: z.enum(CHANNELS) });
const PersonId = z.object({ personId: z.uuid() });
const ClassId = z.object({ classId: z.uuid() });
const ListQuery = z.object({
  school: z.uuid().optional(),
  person: z.uuid().optional(),
  status: z.string().optional().transform((s, ctx) => {
    if (s === undefined) return undefined;
    const list = s.split(',').map((x) => x.trim()).filter(Boolean);
    const bad = list.filter((x) => !(STATUSES as readonly string[]).includes(x));
    if (bad.length > 0) ctx.addIssue({ code: 'custom', message: `unknown status ${bad.join(', ')}; one of ${STATUSES.join(', ')}` });
    return list;
  }),
  channel: z.enum([...CHANNELS, 'none']).optional(),
  kind: z.string().regex(/^[a-z_]{1,40}$/).optional(),
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const TestBody = z.strictObject({ channel: z.enum(CHANNELS).optional() });
const LinkBody = z.strictObject({ createdBy: z.string().trim().min(1).max(200).default('api') });

export interface NotifyRouterDeps {
  pool: Pool;
  clock: Clock;
  box: SecretBox;
  /** The send queue's enqueue; without it (no notify engine in this process) test messages are refused. */
  enqueue?: Enqueue;
  /** Where providers may point (the connections' policy); without it, anywhere. */
  targets?: TargetPolicy;
  /** The demo's local mailbox and SMS/Telegram simulators, when the demo runs them. */
  demoOutbox?: () => unknown;
}

/**
 * Notifications: the outbox (what was sent, to whom, why, delivery status), a school's policy and
 * providers, a person's contacts, consents, preferences and Telegram link, a test message, the Telegram
 * webhook, and the demo's mailbox.
 */
export function notifyRouter(deps: NotifyRouterDeps): Router {
  const { pool, clock, box } = deps;
  const router = Router();
  router.get('/v1/notifications', async (req, res) => {
    const q = parseRequest(ListQuery, req.query, 'query');
    res.json(await listNotifications(pool, { schoolId: q.school, personId: q.person, status: q.status, channel: q.channel, kind: q.kind, cursor: q.cursor, limit: q.limit }));
  });
  router.get('/v1/notifications/:id', async (req, res) => {
    res.json(await getNotification(pool, parseRequest(Id, req.params, 'path').id));
  });
  router.get('/v1/schools/:schoolId/notify-policy', async (req, res) => {
    res.json(await getPolicy(pool, parseRequest(SchoolId, req.params, 'path').schoolId));
  });
  router.put('/v1/schools/:schoolId/notify-policy', async (req, res) => {
    res.json(await putPolicy(pool, parseRequest(SchoolId, req.params, 'path').schoolId, req.body));
  });
  router.get('/v1/schools/:schoolId/notify-providers', async (req, res) => {
    res.json({ items: await listProviders(pool, parseRequest(SchoolId, req.params, 'path').schoolId) });
  });
  router.put('/v1/schools/:schoolId/notify-providers/:channel', async (req, res) => {
    const p = parseRequest(SchoolChannel, req.params, 'path');
    res.json(await putProvider(pool, box, p.schoolId, p.channel, req.body, deps.targets));
  });
  router.get('/v1/people/:personId/contacts', async (req, res) => {
    res.json({ items: await listContacts(pool, parseRequest(PersonId, req.params, 'path').personId) });
  });
  router.post('/v1/people/:personId/contacts', async (req, res) => {
    res.status(201).json(await addContact(pool, parseRequest(PersonId, req.params, 'path').personId, req.body));
  });
  router.get('/v1/people/:personId/consents', async (req, res) => {
    res.json({ items: await listConsents(pool, parseRequest(PersonId, req.params, 'path').personId) });
  });
  router.post('/v1/people/:personId/consents', async (req, res) => {
    res.status(201).json({ items: await grantConsent(pool, clock, parseRequest(PersonId, req.params, 'path').personId, req.body) });
  });
  router.post('/v1/people/:personId/consents/withdraw', async (req, res) => {
    res.json({ items: await withdrawConsent(pool, clock, parseRequest(PersonId, req.params, 'path').personId, req.body) });
  });
  router.get('/v1/people/:personId/notify-preferences', async (req, res) => {
    res.json(await getPreferences(pool, parseRequest(PersonId, req.params, 'path').personId));
  });
  router.put('/v1/people/:personId/notify-preferences', async (req, res) => {
    res.json(await putPreferences(pool, parseRequest(PersonId, req.params, 'path').personId, req.body));
  });
  router.post('/v1/people/:personId/telegram-link', async (req, res) => {
    const personId = parseRequest(PersonId, req.params, 'path').personId;
    const body = parseRequest(LinkBody, req.body ?? {}, 'body');
    const { rows } = await pool.query<{ school_id: string }>('SELECT school_id::text FROM person WHERE id = $1 AND deleted_at IS NULL', [personId]);
    if (!rows[0]) throw new NotFoundError('person');
    const link = await createLinkToken(pool, clock, { schoolId: rows[0].school_id, personId, createdBy: body.createdBy });
    res.status(201).json({ url: link.url, expiresAt: link.expiresAt.toISOString() });
  });
  router.post('/v1/people/:personId/test-notification', async (req, res) => {
    const personId = parseRequest(PersonId, req.params, 'path').personId;
    const body = parseRequest(TestBody, req.body ?? {}, 'body');
    if (!deps.enqueue) throw new NotFoundError('notification sender');
    res.status(202).json(await sendTest(pool, clock, deps.enqueue, personId, body.channel));
  });
  router.post('/v1/telegram/:id/webhook', async (req, res) => {
    const id = parseRequest(Id, req.params, 'path').id;
    const status = await telegramWebhook(pool, clock, box, id, req.header('x-telegram-bot-api-secret-token'), req.body);
    res.status(status).json({ ok: status === 200 });
  });
  router.get('/v1/classes/:classId/parents-sheet', async (req, res) => {
    const id = parseRequest(ClassId, req.params, 'path').classId;
    res.setHeader('content-disposition', `attachment; filename="parents-${id.slice(0, 8)}.xlsx"`);
    res.type(XLSX).send(await parentsTemplate(pool, id));
  });
  router.post('/v1/classes/:classId/parents-sheet', express.raw({ type: [XLSX], limit: MAX_PARENTS_BYTES }), async (req, res) => {
    const id = parseRequest(ClassId, req.params, 'path').classId;
    if (!req.is(XLSX)) throw new AppError('unsupported_media_type', `send the sheet as ${XLSX}`, 415);
    const actor = parseRequest(z.string().trim().min(1).max(200).default('api'), req.header('x-actor'), 'header.x-actor');
    res.json(await importParents(pool, clock, { classId: id, body: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0), actor }));
  });
  if (deps.demoOutbox) {
    const outbox = deps.demoOutbox;
    router.get('/v1/demo/outbox', (_req, res) => {
      res.json(outbox());
    });
  }
  return router;
}
