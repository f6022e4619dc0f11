import express, { Router } from 'express';
import { z } from 'zod';
import type { Pool } from '../../db/pool.js';
import type { Clock } from '../../lib/clock.js';
import { AppError, ForbiddenError, NotFoundError } from '../../lib/errors.js';
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
import { callerOf } from '../caller.js';
import { accessClass, accessPerson } from '../../auth/access.js';
import { recordAudit } from '../../auth/audit.js';
import { actorOf, permit, schoolsAskedFor, schoolsWith, seesWholeSchool, type Caller } from '../../auth/caller.js';

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
const LinkBody = z.strictObject({});

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
  /**
   * The school's own notification settings (its policy, its providers' accounts): its administrators only.
   * Parents and class teachers hold notifications:manage for their own contacts and preferences, not these.
   */
  const school = (caller: Caller, schoolId: string) => {
    const grant = permit(caller, schoolId, 'notifications:manage');
    if (!seesWholeSchool(grant)) throw new ForbiddenError('the school\'s notification policy and providers are for its administrators');
    return grant;
  };
  const audit = async (caller: Caller, schoolIds: string[] | undefined, action: string, objectType: string, objectIds: string[]) => {
    if (schoolIds && schoolIds.length > 0) await recordAudit(pool, clock, schoolIds, { actor: actorOf(caller), action, objectType, objectIds });
  };
  /** The person a route is about: the school's staff with notifications:manage, or the person themselves; a read by staff is audited. */
  const person = async (caller: Caller, params: unknown, read?: string): Promise<string> => {
    const personId = parseRequest(PersonId, params, 'path').personId;
    const { schoolId, grant } = await accessPerson(pool, caller, personId, 'notifications:manage');
    if (read && grant.personId !== personId) await audit(caller, [schoolId], read, 'person', [personId]);
    return personId;
  };
  /** A class's parents sheet: the school's administrators only (contacts of every family of the class). */
  const wholeClass = async (caller: Caller, classId: string) => {
    const access = await accessClass(pool, caller, classId, 'notifications:manage');
    if (!seesWholeSchool(access.grant)) throw new NotFoundError(`class ${classId}`);
  };
  /** Whose notifications a caller lists: the schools it sees whole, or (a parent) the messages to them. */
  const recipientsOf = async (caller: Caller, schoolQuery: string | undefined) => {
    const schools = schoolsAskedFor(caller, 'notifications:read', schoolQuery);
    if (schools === undefined) return { schoolIds: undefined, recipientId: undefined };
    const grants = schools.map((s) => permit(caller, s, 'notifications:read'));
    const whole = grants.filter(seesWholeSchool);
    if (whole.length > 0 || grants.length !== 1) return { schoolIds: whole.map((g) => g.schoolId), recipientId: undefined };
    // A person's own messages only; a grant with no person (no journal record linked) sees none.
    return { schoolIds: schools, recipientId: grants[0]!.personId ?? '00000000-0000-0000-0000-000000000000' };
  };
  router.get('/v1/notifications', async (req, res) => {
    const q = parseRequest(ListQuery, req.query, 'query');
    const caller = callerOf(res);
    const { schoolIds, recipientId } = await recipientsOf(caller, q.school);
    if (q.person && caller.kind !== 'parent') await audit(caller, schoolIds, 'notifications.read', 'person', [q.person]);
    res.json(await listNotifications(pool, { schoolId: q.school, schoolIds, recipientId, personId: q.person, status: q.status, channel: q.channel, kind: q.kind, cursor: q.cursor, limit: q.limit }));
  });
  router.get('/v1/notifications/:id', async (req, res) => {
    const id = parseRequest(Id, req.params, 'path').id;
    const caller = callerOf(res);
    const found = await getNotification(pool, id);
    const grant = permit(caller, found.schoolId, 'notifications:read', 'notification');
    if (!seesWholeSchool(grant) && found.recipientId !== grant.personId) throw new NotFoundError('notification');
    res.json(found);
  });
  router.get('/v1/schools/:schoolId/notify-policy', async (req, res) => {
    const { schoolId } = parseRequest(SchoolId, req.params, 'path');
    // Everyone in the school may read its rules (quiet hours, the digest's time): parents see them on their preferences.
    permit(callerOf(res), schoolId, 'notifications:read');
    res.json(await getPolicy(pool, schoolId));
  });
  router.put('/v1/schools/:schoolId/notify-policy', async (req, res) => {
    const { schoolId } = parseRequest(SchoolId, req.params, 'path');
    school(callerOf(res), schoolId);
    res.json(await putPolicy(pool, schoolId, req.body));
  });
  router.get('/v1/schools/:schoolId/notify-providers', async (req, res) => {
    const { schoolId } = parseRequest(SchoolId, req.params, 'path');
    school(callerOf(res), schoolId);
    res.json({ items: await listProviders(pool, schoolId) });
  });
  router.put('/v1/schools/:schoolId/notify-providers/:channel', async (req, res) => {
    const p = parseRequest(SchoolChannel, req.params, 'path');
    school(callerOf(res), p.schoolId);
    res.json(await putProvider(pool, box, p.schoolId, p.channel, req.body, deps.targets));
  });
  router.get('/v1/people/:personId/contacts', async (req, res) => {
    const personId = await person(callerOf(res), req.params, 'contacts.read');
    res.json({ items: await listContacts(pool, personId) });
  });
  router.post('/v1/people/:personId/contacts', async (req, res) => {
    res.status(201).json(await addContact(pool, await person(callerOf(res), req.params), req.body));
  });
  router.get('/v1/people/:personId/consents', async (req, res) => {
    const personId = await person(callerOf(res), req.params, 'consents.read');
    res.json({ items: await listConsents(pool, personId) });
  });
  router.post('/v1/people/:personId/consents', async (req, res) => {
    res.status(201).json({ items: await grantConsent(pool, clock, await person(callerOf(res), req.params), req.body) });
  });
  router.post('/v1/people/:personId/consents/withdraw', async (req, res) => {
    res.json({ items: await withdrawConsent(pool, clock, await person(callerOf(res), req.params), req.body) });
  });
  router.get('/v1/people/:personId/notify-preferences', async (req, res) => {
    res.json(await getPreferences(pool, await person(callerOf(res), req.params)));
  });
  router.put('/v1/people/:personId/notify-preferences', async (req, res) => {
    res.json(await putPreferences(pool, await person(callerOf(res), req.params), req.body));
  });
  router.post('/v1/people/:personId/telegram-link', async (req, res) => {
    const caller = callerOf(res);
    const personId = parseRequest(PersonId, req.params, 'path').personId;
    parseRequest(LinkBody, req.body ?? {}, 'body');
    const { schoolId } = await accessPerson(pool, caller, personId, 'notifications:manage');
    const link = await createLinkToken(pool, clock, { schoolId, personId, createdBy: actorOf(caller) });
    res.status(201).json({ url: link.url, expiresAt: link.expiresAt.toISOString() });
  });
  router.post('/v1/people/:personId/test-notification', async (req, res) => {
    const caller = callerOf(res);
    const personId = parseRequest(PersonId, req.params, 'path').personId;
    const { grant } = await accessPerson(pool, caller, personId, 'notifications:manage');
    if (!seesWholeSchool(grant)) throw new NotFoundError(`person ${personId}`);
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
    await wholeClass(callerOf(res), id);
    res.setHeader('content-disposition', `attachment; filename="parents-${id.slice(0, 8)}.xlsx"`);
    res.type(XLSX).send(await parentsTemplate(pool, id));
  });
  router.post('/v1/classes/:classId/parents-sheet', express.raw({ type: [XLSX], limit: MAX_PARENTS_BYTES }), async (req, res) => {
    const id = parseRequest(ClassId, req.params, 'path').classId;
    const caller = callerOf(res);
    await wholeClass(caller, id);
    if (!req.is(XLSX)) throw new AppError('unsupported_media_type', `send the sheet as ${XLSX}`, 415);
    const actor = actorOf(caller);
    res.json(await importParents(pool, clock, { classId: id, body: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0), actor }));
  });
  if (deps.demoOutbox) {
    const outbox = deps.demoOutbox;
    router.get('/v1/demo/outbox', (_req, res) => {
      // Every family's messages: for the demo school's administrators only.
      const caller = callerOf(res);
      const schools = schoolsWith(caller, 'notifications:manage');
      if (schools !== 'all' && !schools.some((s) => seesWholeSchool(permit(caller, s, 'notifications:manage')))) throw new ForbiddenError('the demo outbox is for the school\'s administrators');
      res.json(outbox());
    });
  }
  return router;
}
