import type { LookupAddress } from 'node:dns';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import express, { type Express } from 'express';
import { Webhook } from 'standardwebhooks';
import request from 'supertest';
import { setCaller } from '../../src/http/caller.js';
import { errorHandler } from '../../src/http/errors.js';
import { webhooksRouter } from '../../src/http/routes/webhooks.js';
import { drainConsumer } from '../../src/journal/feed.js';
import { fixedClock } from '../../src/lib/clock.js';
import { createLogger } from '../../src/lib/logger.js';
import { TargetPolicy } from '../../src/lib/net-targets.js';
import { Deliverer } from '../../src/webhooks/deliver.js';
import { WebhookEngine, type WebhookSettings } from '../../src/webhooks/engine.js';
import { emitDiscrepancyEvents, emitSyncRunFailed } from '../../src/webhooks/emitters.js';
import { emitWebhookEvent } from '../../src/webhooks/outbox.js';
import { RETRY_DELAYS_MS, JITTER } from '../../src/webhooks/schedule.js';
import { staffCaller } from '../support/callers.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { notifySchool, testBox, type NotifySchoolFixture } from '../support/notify.js';
import { waitFor } from '../support/processes.js';
import { TestReceiver, type Captured } from '../support/webhook-receiver.js';

const logger = createLogger('silent');
const box = testBox();
/** The clock starts at the real time (standardwebhooks checks a timestamp within 5 min of its own clock); tests move it. */
const clock = fixedClock(new Date());
/** The injected resolver: what each test host name resolves to right now. */
const dns = new Map<string, string[]>();
const resolve = async (host: string): Promise<LookupAddress[]> => {
  const addresses = dns.get(host);
  if (!addresses) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
  return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
};
const targets = new TargetPolicy([], resolve);
const settings: WebhookSettings = {
  delivery: { timeoutMs: 5000, leaseSeconds: 30, disableAfterSeconds: 432_000 }, concurrency: 2, rotationGraceSeconds: 86_400, sweepSeconds: 3600,
};
const DAY = '2025-09-15';
let db: TestDatabase;
let engine: WebhookEngine;
let receiver: TestReceiver;
let bystander: TestReceiver;

beforeAll(async () => {
  db = await createTestDatabase({ poolSize: 12 });
  engine = await WebhookEngine.start(db.pool, clock, logger, box, targets, settings);
  await engine.work();
});

afterAll(async () => {
  await engine?.stop();
  await db?.drop();
});

beforeEach(async () => {
  clock.set(new Date());
  receiver = await TestReceiver.start();
  bystander = await TestReceiver.start();
});

afterEach(async () => {
  await receiver.close();
  await bystander.close();
});

/** An app with the router behind a caller of `schoolIds`, as the authentication middleware would set it. */
function appFor(schoolIds: string[]): Express {
  const app = express();
  app.use(express.json());
  app.use((_req, res, next) => {
    setCaller(res, staffCaller(schoolIds));
    next();
  });
  app.use(webhooksRouter({ pool: db.pool, clock, box, targets, enqueue: engine.enqueue, rotationGraceSeconds: 86_400 }));
  app.use(errorHandler(logger));
  return app;
}

interface Setup { school: NotifySchoolFixture; app: Express; endpointId: string; secret: string }

/** A school with the receiver allow-listed and subscribed to marks. */
async function setUp(eventTypes = ['mark.*']): Promise<Setup> {
  const school = await notifySchool(db.pool, clock, { day: DAY });
  const app = appFor([school.schoolId]);
  await request(app).put(`/v1/schools/${school.schoolId}/webhook-allowed-targets`).send({ entries: [receiver.origin] }).expect(200);
  const created = await request(app).post(`/v1/schools/${school.schoolId}/webhooks`).send({ url: `${receiver.origin}/hook`, eventTypes }).expect(201);
  return { school, app, endpointId: created.body.id as string, secret: created.body.secret as string };
}

async function feed(setup: Setup, marks: Array<{ id: string; pupil: string; value: string }>): Promise<void> {
  await setup.school.marks(marks);
  await drainConsumer(db.pool, engine.consumer, setup.school.schoolId);
}

async function messagesOf(endpointId: string) {
  const { rows } = await db.pool.query<{ id: string; status: string; attempts: number; next_attempt_at: Date | null; school_id: string }>(
    'SELECT id::text, status, attempts, next_attempt_at, school_id::text FROM webhook_message WHERE endpoint_id = $1 ORDER BY created_at, event_key', [endpointId]);
  return rows;
}

async function attemptsOf(messageId: string) {
  const { rows } = await db.pool.query<{ attempt: number; started_at: Date; status_code: number | null; error: string | null; succeeded: boolean; response_body: string | null }>(
    'SELECT attempt, started_at, status_code, error, succeeded, response_body FROM webhook_attempt WHERE message_id = $1 ORDER BY attempt', [messageId]);
  return rows;
}

async function endpointOf(id: string) {
  const { rows } = await db.pool.query<{ status: string; disabled_reason: string | null; failing_since: Date | null }>(
    'SELECT status, disabled_reason, failing_since FROM webhook_endpoint WHERE id = $1', [id]);
  return rows[0]!;
}

const received = (n: number) => waitFor(`${n} deliveries`, async () => (receiver.captured.length >= n ? receiver.captured : undefined), 30_000, 50);
const verify = (secret: string, c: Captured) => new Webhook(secret).verify(c.body, c.headers);

/** Moves the clock a day ahead of the real one: the queue's jobs then wait, and the test alone delivers (deliverDue). */
const takeOverDelivery = () => clock.set(new Date(Date.now() + 86_400_000));

describe('deliveries of journal changes', () => {
  it('signs every delivery per Standard Webhooks: verified by standardwebhooks, a flipped byte is not; thin payloads', async () => {
    const setup = await setUp();
    await feed(setup, [{ id: 'm1', pupil: 'p1', value: '5' }, { id: 'm2', pupil: 'p2', value: '3' }]);
    const captured = await received(2);
    expect(captured.map((c) => c.path)).toEqual(['/hook', '/hook']);
    for (const c of captured) {
      const payload = verify(setup.secret, c) as { type: string; data: Record<string, unknown> };
      expect(payload.type).toBe('mark.created');
      expect(payload.data).toEqual(expect.objectContaining({ schoolId: setup.school.schoolId, entity: 'mark', op: 'create', pupilId: expect.any(String), fetch: expect.stringMatching(/^\/v1\//) }));
      expect(c.headers['webhook-id']).toMatch(/^msg_[0-9a-f]{32}$/);
      expect(c.headers['content-type']).toBe('application/json');
      const flipped = Buffer.from(c.body);
      flipped[10] = flipped[10]! ^ 1;
      expect(() => new Webhook(setup.secret).verify(flipped.toString('utf8'), c.headers)).toThrow();
      // Names, phones and e-mails of the school's people never leave.
      // (The demo's phones are +7999…/+7998…: a bare "999" also turns up inside random ids.)
      expect(c.body).not.toMatch(/Иван|Петров|Анна|Мария|\+?799[89]\d{7}|@/);
    }
    await waitFor('succeeded', async () => ((await messagesOf(setup.endpointId)).every((m) => m.status === 'succeeded') ? true : undefined), 30_000, 50);
    // A replay of the feed adds nothing.
    await db.pool.query(`UPDATE event_consumer SET seq = 0 WHERE school_id = $1 AND name = 'webhooks'`, [setup.school.schoolId]);
    await drainConsumer(db.pool, engine.consumer, setup.school.schoolId);
    expect(await messagesOf(setup.endpointId)).toHaveLength(2);
  });

  it('a new endpoint takes the journal from its registration on, not the school\'s history', async () => {
    // The roster and two lessons were written before the endpoint: with `*` it takes the new mark only.
    const setup = await setUp(['*']);
    await feed(setup, [{ id: 'm1', pupil: 'p1', value: '5' }]);
    const [c] = await received(1);
    expect((verify(setup.secret, c!) as { type: string }).type).toBe('mark.created');
    const { rows } = await db.pool.query<{ event_type: string }>('SELECT event_type FROM webhook_message WHERE endpoint_id = $1', [setup.endpointId]);
    expect(rows.map((r) => r.event_type)).toEqual(['mark.created']);
  });

  it('after a rotation, old and new secrets both verify the same delivery until the grace period ends', async () => {
    const setup = await setUp();
    const rotated = await request(setup.app).post(`/v1/webhooks/${setup.endpointId}/rotate-secret`).expect(200);
    const next = rotated.body.secret as string;
    expect(next).toMatch(/^whsec_/);
    expect(next).not.toBe(setup.secret);
    await feed(setup, [{ id: 'm1', pupil: 'p1', value: '4' }]);
    const [c] = await received(1);
    expect(c!.headers['webhook-signature']!.split(' ')).toHaveLength(2);
    expect(verify(setup.secret, c!)).toBeTruthy();
    expect(verify(next, c!)).toBeTruthy();
    // The secret is never shown again.
    const shown = await request(setup.app).get(`/v1/webhooks/${setup.endpointId}`).expect(200);
    expect(JSON.stringify(shown.body)).not.toContain('whsec_');
  });

  it('a retry carries the same webhook-id and a new timestamp', async () => {
    const setup = await setUp();
    receiver.answer = (_r, i) => ({ status: i === 0 ? 500 : 200 });
    await feed(setup, [{ id: 'm1', pupil: 'p1', value: '5' }]);
    await received(1);
    const [message] = await waitFor('retry planned', async () => {
      const rows = await messagesOf(setup.endpointId);
      return rows[0]?.status === 'pending' && rows[0].attempts === 1 ? rows : undefined;
    }, 30_000, 50);
    clock.set(message!.next_attempt_at!);
    // The queue's own job for the retry may come first on a slow machine: either way one more delivery.
    await engine.deliverDue(setup.school.schoolId);
    const [first, second] = await received(2);
    expect(second!.headers['webhook-id']).toBe(first!.headers['webhook-id']);
    expect(Number(second!.headers['webhook-timestamp'])).toBeGreaterThan(Number(first!.headers['webhook-timestamp']));
    expect(second!.body).toBe(first!.body);
    expect(verify(setup.secret, second!)).toBeTruthy();
    expect((await messagesOf(setup.endpointId))[0]!.status).toBe('succeeded');
  });
});

describe('the delivery policy', () => {
  it('always 500: eight attempts at the schedule offsets (+ jitter), then failed', async () => {
    const setup = await setUp();
    receiver.answer = () => ({ status: 500, body: 'x'.repeat(5000) });
    takeOverDelivery();
    await feed(setup, [{ id: 'm1', pupil: 'p1', value: '5' }]);
    const [message] = await messagesOf(setup.endpointId);
    for (let i = 0; i < 8; i++) {
      const row = (await messagesOf(setup.endpointId))[0]!;
      expect(row.status).toBe('pending');
      clock.set(row.next_attempt_at!);
      expect(await engine.deliverDue(setup.school.schoolId)).toBe(1);
    }
    const attempts = await attemptsOf(message!.id);
    expect(attempts).toHaveLength(8);
    expect(attempts.every((a) => a.status_code === 500 && !a.succeeded)).toBe(true);
    // The receiver's answer is kept cut short.
    expect(attempts[0]!.response_body!.length).toBeLessThanOrEqual(1024);
    for (let i = 1; i < 8; i++) {
      const gap = attempts[i]!.started_at.getTime() - attempts[i - 1]!.started_at.getTime();
      expect(gap).toBeGreaterThanOrEqual(RETRY_DELAYS_MS[i - 1]!);
      expect(gap).toBeLessThanOrEqual(Math.round(RETRY_DELAYS_MS[i - 1]! * (1 + JITTER)));
    }
    const final = (await messagesOf(setup.endpointId))[0]!;
    expect(final.status).toBe('failed');
    expect(receiver.captured).toHaveLength(8);
    // Five days have not passed: the endpoint stays enabled.
    expect((await endpointOf(setup.endpointId)).status).toBe('enabled');
  });

  it('308: a failure, recorded; the Location is never requested', async () => {
    const setup = await setUp();
    receiver.answer = () => ({ status: 308, headers: { location: `${bystander.origin}/elsewhere` } });
    takeOverDelivery();
    await feed(setup, [{ id: 'm1', pupil: 'p1', value: '5' }]);
    expect(await engine.deliverDue(setup.school.schoolId)).toBe(1);
    const [message] = await messagesOf(setup.endpointId);
    expect(message!.status).toBe('pending');
    const [attempt] = await attemptsOf(message!.id);
    expect(attempt).toEqual(expect.objectContaining({ status_code: 308, succeeded: false, error: expect.stringContaining('not followed') }));
    expect(bystander.connections).toBe(0);
  });

  it('410: the endpoint is disabled after one attempt', async () => {
    const setup = await setUp();
    receiver.answer = () => ({ status: 410 });
    takeOverDelivery();
    await feed(setup, [{ id: 'm1', pupil: 'p1', value: '5' }, { id: 'm2', pupil: 'p2', value: '4' }]);
    const [first, second] = await messagesOf(setup.endpointId);
    await engine.deliverer.deliver({ schoolId: setup.school.schoolId, id: first!.id });
    expect(await engine.deliverDue(setup.school.schoolId)).toBe(0);
    expect(receiver.captured).toHaveLength(1);
    expect(await endpointOf(setup.endpointId)).toEqual(expect.objectContaining({ status: 'disabled', disabled_reason: expect.stringContaining('410') }));
    expect((await messagesOf(setup.endpointId)).map((m) => [m.id, m.status])).toEqual([[first!.id, 'failed'], [second!.id, 'failed']]);
    // What the administrator sees.
    const shown = await request(setup.app).get(`/v1/webhooks/${setup.endpointId}`).expect(200);
    expect(shown.body).toEqual(expect.objectContaining({ status: 'disabled', disabledReason: expect.stringContaining('410') }));
  });

  it('with the disable window shrunk to 2 s: failures on both sides of it disable; a success inside it does not', async () => {
    const shrunk = new Deliverer({ pool: db.pool, clock, logger, box, targets, enqueue: engine.enqueue, settings: { ...settings.delivery, disableAfterSeconds: 2 } });
    const failing = await setUp();
    receiver.answer = () => ({ status: 500 });
    takeOverDelivery();
    await feed(failing, [{ id: 'm1', pupil: 'p1', value: '5' }]);
    const [m] = await messagesOf(failing.endpointId);
    await shrunk.deliver({ schoolId: failing.school.schoolId, id: m!.id });
    clock.set((await messagesOf(failing.endpointId))[0]!.next_attempt_at!);
    await shrunk.deliver({ schoolId: failing.school.schoolId, id: m!.id });
    expect(await endpointOf(failing.endpointId)).toEqual(expect.objectContaining({ status: 'disabled', disabled_reason: expect.stringContaining('no successful delivery since') }));

    clock.set(new Date());
    const recovering = await setUp();
    receiver.answer = (r) => ({ status: r.body.includes('"op":"update"') ? 200 : 500 });
    takeOverDelivery();
    await feed(recovering, [{ id: 'm1', pupil: 'p1', value: '5' }]);
    const [a] = await messagesOf(recovering.endpointId);
    await shrunk.deliver({ schoolId: recovering.school.schoolId, id: a!.id });
    const retryAt = (await messagesOf(recovering.endpointId))[0]!.next_attempt_at!;
    // One success 1 s later, inside the window (a change of the same mark: an update).
    clock.set(new Date(clock.now().getTime() + 1000));
    await feed(recovering, [{ id: 'm1', pupil: 'p1', value: '4' }]);
    const b = (await messagesOf(recovering.endpointId)).find((x) => x.id !== a!.id)!;
    await shrunk.deliver({ schoolId: recovering.school.schoolId, id: b.id });
    expect((await endpointOf(recovering.endpointId)).failing_since).toBeNull();
    clock.set(retryAt);
    await shrunk.deliver({ schoolId: recovering.school.schoolId, id: a!.id });
    expect((await endpointOf(recovering.endpointId)).status).toBe('enabled');
  });
});

describe('SSRF guard', () => {
  it.each([
    ['http://127.0.0.1:<port>/', (port: number) => `http://127.0.0.1:${port}/`],
    ['https://127.0.0.1:<port>/', (port: number) => `https://127.0.0.1:${port}/`],
    ['http://[::ffff:127.0.0.1]/', () => 'http://[::ffff:127.0.0.1]/'],
    ['https://[::ffff:127.0.0.1]:<port>/', (port: number) => `https://[::ffff:127.0.0.1]:${port}/`],
    ['http://169.254.169.254/', () => 'http://169.254.169.254/'],
    ['https://169.254.169.254/latest/meta-data', () => 'https://169.254.169.254/latest/meta-data'],
    ['http://10.0.0.5/', () => 'http://10.0.0.5/'],
    ['https://10.0.0.5/', () => 'https://10.0.0.5/'],
    ['http://0.0.0.0/', () => 'http://0.0.0.0/'],
    ['https://0.0.0.0:<port>/', (port: number) => `https://0.0.0.0:${port}/`],
  ] as Array<[string, (port: number) => string]>)('refuses to register %s unless allow-listed, and nothing connects', async (_label, urlOf) => {
    const school = await notifySchool(db.pool, clock, { day: DAY });
    const url = urlOf(bystander.port);
    const res = await request(appFor([school.schoolId])).post(`/v1/schools/${school.schoolId}/webhooks`).send({ url, eventTypes: ['*'] });
    expect([400, 422]).toContain(res.status);
    expect(res.body.error.message).toContain('allow-list');
    expect(bystander.connections).toBe(0);
  });

  it('catches DNS rebinding: public at registration, loopback at send → blocked, nothing connects', async () => {
    const school = await notifySchool(db.pool, clock, { day: DAY });
    const app = appFor([school.schoolId]);
    dns.set('rebind.example', ['93.184.216.34']);
    const created = await request(app).post(`/v1/schools/${school.schoolId}/webhooks`).send({ url: `https://rebind.example:${bystander.port}/hook`, eventTypes: ['mark.*'] }).expect(201);
    dns.set('rebind.example', ['127.0.0.1']);
    takeOverDelivery();
    await school.marks([{ id: 'm1', pupil: 'p1', value: '5' }]);
    await drainConsumer(db.pool, engine.consumer, school.schoolId);
    expect(await engine.deliverDue(school.schoolId)).toBe(1);
    const [message] = await messagesOf(created.body.id as string);
    const [attempt] = await attemptsOf(message!.id);
    expect(attempt).toEqual(expect.objectContaining({ status_code: null, succeeded: false, error: expect.stringContaining('loopback') }));
    expect(bystander.connections).toBe(0);
  });

  it('lets an allow-listed private receiver through, and only that one', async () => {
    const school = await notifySchool(db.pool, clock, { day: DAY });
    const app = appFor([school.schoolId]);
    await request(app).put(`/v1/schools/${school.schoolId}/webhook-allowed-targets`).send({ entries: [receiver.origin] }).expect(200);
    await request(app).post(`/v1/schools/${school.schoolId}/webhooks`).send({ url: `${receiver.origin}/x`, eventTypes: ['*'] }).expect(201);
    const other = await request(app).post(`/v1/schools/${school.schoolId}/webhooks`).send({ url: `${bystander.origin}/x`, eventTypes: ['*'] });
    expect(other.status).toBe(400);
    expect(bystander.connections).toBe(0);
  });
});

describe('replay and recover', () => {
  it('replays one message and recovers every message since an instant, with the same webhook-id', async () => {
    const setup = await setUp();
    await feed(setup, [{ id: 'm1', pupil: 'p1', value: '5' }]);
    await received(1);
    await waitFor('succeeded', async () => ((await messagesOf(setup.endpointId))[0]?.status === 'succeeded' ? true : undefined), 30_000, 50);
    const [first] = await messagesOf(setup.endpointId);
    await request(setup.app).post(`/v1/webhook-messages/${first!.id}/replay`).expect(202, { queued: 1 });
    const twice = await received(2);
    expect(twice[1]!.headers['webhook-id']).toBe(twice[0]!.headers['webhook-id']);
    expect(twice[1]!.body).toBe(twice[0]!.body);
    clock.set(new Date(clock.now().getTime() + 1000));
    const since = clock.now().toISOString();
    await feed(setup, [{ id: 'm2', pupil: 'p2', value: '3' }, { id: 'm3', pupil: 'p1', value: '4' }]);
    await received(4);
    await waitFor('all succeeded', async () => ((await messagesOf(setup.endpointId)).every((m) => m.status === 'succeeded') ? true : undefined), 30_000, 50);
    await request(setup.app).post(`/v1/webhooks/${setup.endpointId}/recover`).send({ since }).expect(202, { queued: 2 });
    const all = await received(6);
    expect(new Set(all.slice(4).map((c) => c.headers['webhook-id']))).toEqual(new Set(all.slice(2, 4).map((c) => c.headers['webhook-id'])));
    const attempts = await request(setup.app).get(`/v1/webhook-messages/${first!.id}/attempts`).expect(200);
    expect(attempts.body.items.map((a: { trigger: string; statusCode: number }) => [a.trigger, a.statusCode])).toEqual([['event', 204], ['replay', 204]]);
    expect(JSON.stringify(attempts.body)).not.toContain('responseBody');
  });

  it('emits a non-journal event in the caller’s transaction', async () => {
    const setup = await setUp(['sync_run.failed']);
    const client = await db.pool.connect();
    try {
      await client.query('BEGIN');
      await emitWebhookEvent(client, setup.school.schoolId, { type: 'sync_run.failed', key: 'run-1', id: '00000000-0000-4000-8000-000000000042', data: { connectionId: setup.school.sourceId } }, clock.now(), engine.enqueue);
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    const [c] = await received(1);
    expect(verify(setup.secret, c!)).toEqual(expect.objectContaining({ type: 'sync_run.failed', data: expect.objectContaining({ id: '00000000-0000-4000-8000-000000000042', entity: 'sync_run' }) }));
  });

  it('sync_run.failed from the executor is written without a job of its own and delivered once due (the sweeper queues such messages)', async () => {
    const setup = await setUp(['sync_run.*']);
    const runId = '00000000-0000-4000-8000-000000000043';
    await emitSyncRunFailed(db.pool, clock, logger, { id: runId, connectionId: setup.school.sourceId }, 'auth');
    await emitSyncRunFailed(db.pool, clock, logger, { id: runId, connectionId: setup.school.sourceId }, 'auth');
    expect(await engine.deliverDue(setup.school.schoolId)).toBe(1);
    const [c] = await received(1);
    expect(verify(setup.secret, c!)).toEqual({
      type: 'sync_run.failed', timestamp: expect.any(String),
      data: { id: runId, schoolId: setup.school.schoolId, entity: 'sync_run', connectionId: setup.school.sourceId, errorKind: 'auth', fetch: `/v1/sync-runs/${runId}` },
    });
  });
});

describe('discrepancy events', () => {
  it('the checks\' transaction emits discrepancy.opened for what it created and discrepancy.resolved for what it resolved', async () => {
    const setup = await setUp(['discrepancy.*']);
    const { schoolId } = setup.school;
    const client = await db.pool.connect();
    try {
      // What an evaluation writes (checks/engine.ts): one new finding, and one older one resolved at head 7.
      await client.query('BEGIN');
      await client.query(`INSERT INTO discrepancy (school_id, key, rule, kind, severity, fingerprint, pupil_id, day) VALUES ($1, 'k-new', 'late_mark', 'regulation', 'warning', 'f', $2, '2025-09-15')`,
        [schoolId, setup.school.people.p1]);
      await client.query(`INSERT INTO discrepancy (school_id, key, rule, kind, severity, fingerprint, status, first_seen_at, resolved_at, resolved_seq)
                          VALUES ($1, 'k-old', 'late_mark', 'regulation', 'warning', 'f', 'resolved', now() - interval '1 day', now(), 7)`, [schoolId]);
      await emitDiscrepancyEvents(client, schoolId, 7, clock.now());
      await emitDiscrepancyEvents(client, schoolId, 7, clock.now());
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    expect(await engine.deliverDue(schoolId)).toBe(2);
    const events = (await received(2)).map((c) => verify(setup.secret, c) as { type: string; data: Record<string, unknown> });
    expect(events.map((e) => e.type).sort()).toEqual(['discrepancy.opened', 'discrepancy.resolved']);
    const opened = events.find((e) => e.type === 'discrepancy.opened')!;
    expect(opened.data).toEqual(expect.objectContaining({ rule: 'late_mark', kind: 'regulation', pupilId: setup.school.people.p1, date: '2025-09-15', fetch: expect.stringMatching(/^\/v1\/discrepancies\//) }));
  });
});

describe('routes', () => {
  it('lists, reads, changes and deletes endpoints; a caller of another school gets 404 like an unknown id', async () => {
    const setup = await setUp();
    const { schoolId } = setup.school;
    const list = await request(setup.app).get(`/v1/schools/${schoolId}/webhooks`).expect(200);
    expect(list.body.items.map((e: { id: string }) => e.id)).toEqual([setup.endpointId]);
    expect(JSON.stringify(list.body)).not.toContain('whsec_');
    await request(setup.app).get(`/v1/schools/${schoolId}/webhooks?limit=201`).expect(400);
    const patched = await request(setup.app).patch(`/v1/webhooks/${setup.endpointId}`).send({ eventTypes: ['mark.created', 'attendance.*'], description: 'журнал' }).expect(200);
    expect(patched.body).toEqual(expect.objectContaining({ eventTypes: ['mark.created', 'attendance.*'], description: 'журнал' }));
    await request(setup.app).patch(`/v1/webhooks/${setup.endpointId}`).send({ eventTypes: ['mark.exploded'] }).expect(400);
    const stranger = appFor([(await notifySchool(db.pool, clock, { day: DAY })).schoolId]);
    const foreign = await request(stranger).get(`/v1/webhooks/${setup.endpointId}`).expect(404);
    const unknown = await request(stranger).get('/v1/webhooks/00000000-0000-4000-8000-0000000000ff').expect(404);
    expect(foreign.body.error.code).toBe(unknown.body.error.code);
    await request(stranger).get(`/v1/schools/${schoolId}/webhooks`).expect(404);
    await request(stranger).patch(`/v1/webhooks/${setup.endpointId}`).send({ status: 'disabled' }).expect(404);
    await request(stranger).post(`/v1/webhooks/${setup.endpointId}/rotate-secret`).expect(404);
    await request(stranger).get(`/v1/webhooks/${setup.endpointId}/messages`).expect(404);
    await request(stranger).post(`/v1/webhooks/${setup.endpointId}/recover`).send({ since: new Date().toISOString() }).expect(404);
    await request(stranger).get(`/v1/schools/${schoolId}/webhook-allowed-targets`).expect(404);
    await request(stranger).delete(`/v1/webhooks/${setup.endpointId}`).expect(404);
    await feed(setup, [{ id: 'm1', pupil: 'p1', value: '5' }]);
    const messages = await request(setup.app).get(`/v1/webhooks/${setup.endpointId}/messages`).expect(200);
    expect(messages.body.items).toHaveLength(1);
    await request(stranger).get(`/v1/webhook-messages/${messages.body.items[0].id}/attempts`).expect(404);
    await request(stranger).post(`/v1/webhook-messages/${messages.body.items[0].id}/replay`).expect(404);
    await request(setup.app).delete(`/v1/webhooks/${setup.endpointId}`).expect(204);
    await request(setup.app).get(`/v1/webhooks/${setup.endpointId}`).expect(404);
  });
});

// Last: its sweep queues every old test's pending messages too (to receivers long closed).
describe('crash safety', () => {
  it('a message whose worker died mid-attempt (lease over) is swept and sent again with the same webhook-id', async () => {
    const setup = await setUp();
    takeOverDelivery();
    await feed(setup, [{ id: 'm1', pupil: 'p1', value: '5' }]);
    const [message] = await messagesOf(setup.endpointId);
    // What a worker killed after its claim leaves behind: `sending`, an attempt counted, a lease.
    const lease = new Date(clock.now().getTime() + 60_000);
    await db.pool.query(`UPDATE webhook_message SET status = 'sending', attempts = 1, lease_until = $2 WHERE id = $1`, [message!.id, lease]);
    expect(await engine.deliverDue(setup.school.schoolId)).toBe(0);
    clock.set(new Date(lease.getTime() + 1));
    // The sweeper's job and this process may race for it: the claim lets one attempt through.
    expect(await engine.sweep()).toBeGreaterThanOrEqual(1);
    await engine.deliverDue(setup.school.schoolId);
    const [c] = await received(1);
    await waitFor('recorded', async () => ((await messagesOf(setup.endpointId))[0]?.status === 'succeeded' ? true : undefined), 30_000, 50);
    expect(receiver.captured).toHaveLength(1);
    expect(c!.headers['webhook-id']).toBe(`msg_${message!.id.replaceAll('-', '')}`);
    expect((await messagesOf(setup.endpointId))[0]).toEqual(expect.objectContaining({ status: 'succeeded', attempts: 2 }));
  });
});
