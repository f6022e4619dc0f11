import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { withTransaction } from '../../src/db/pool.js';
import { systemClock } from '../../src/lib/clock.js';
import { createLogger } from '../../src/lib/logger.js';
import { SecretBox } from '../../src/lib/secret-box.js';
import { NotifyEngine } from '../../src/notify/engine.js';
import { startTelegramSimulator, type TelegramSimulator } from '../../src/notify/simulators/telegram.js';
import { startSmscSimulator } from '../../src/notify/simulators/smsc.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { createSchool } from '../support/fixtures.js';
import { testNotifySettings } from '../support/notify.js';
import { waitFor } from '../support/processes.js';

/**
 * Notify workers in processes of their own, sharing one Postgres: the global Telegram limits hold across
 * them (reliability.md 7), and a sender killed between the provider's answer and its commit neither loses
 * the message nor sends it twice where the provider knows our client id (reliability.md 6).
 */
const KEY = randomBytes(32).toString('base64');
const box = new SecretBox(Buffer.from(KEY, 'base64'));
let db: TestDatabase;
let queue: NotifyEngine;
const children: ChildProcess[] = [];

beforeAll(async () => {
  db = await createTestDatabase({ poolSize: 8 });
  // This process only queues (its workers never start).
  queue = await NotifyEngine.start(db.pool, systemClock, createLogger('silent'), box, testNotifySettings());
});

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await queue?.stop();
  await db?.drop();
});

function worker(settings: ReturnType<typeof testNotifySettings>): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/notify-child.ts', db.url, KEY, JSON.stringify(settings)], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      if (out.includes('ready')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`the notify worker exited (${code}) before it was ready`)));
  });
}

/** A school with no quiet hours whose parents are `chats` linked Telegram chats, each with consent for marks. */
async function telegramSchool(sim: TelegramSimulator, token: string, chats: number): Promise<{ schoolId: string; contacts: Array<{ person: string; contact: string; chat: string }> }> {
  const schoolId = await createSchool(db.pool);
  await db.pool.query(`INSERT INTO notify_settings (school_id, policy) VALUES ($1, '{"quietHours":{"from":"00:00","to":"00:00"}}')`, [schoolId]);
  await db.pool.query(`INSERT INTO notify_provider (school_id, channel, provider, title, config, secrets) VALUES ($1, 'telegram', 'telegram', 'test bot', $2, $3)`,
    [schoolId, JSON.stringify({ apiRoot: sim.url, botUsername: 'rate_test_bot' }), box.seal({ token })]);
  const { rows } = await db.pool.query<{ person: string; contact: string; chat: string }>(
    `WITH p AS (INSERT INTO person (school_id, last_name, first_name, name_key) SELECT $1, 'Родитель', 'Р' || g, 'р' || g FROM generate_series(1, $2) g RETURNING id),
          c AS (INSERT INTO contact_point (school_id, person_id, channel, address, origin)
                SELECT $1, id, 'telegram', (900000000 + row_number() OVER (ORDER BY id))::text, 'telegram_link' FROM p RETURNING person_id, id, address),
          k AS (INSERT INTO consent (school_id, person_id, channel, purpose, granted_at, method, granted_by) SELECT $1, person_id, 'telegram', 'marks', now(), 'telegram_link', 'test' FROM c)
     SELECT person_id::text AS person, id::text AS contact, address AS chat FROM c`, [schoolId, chats]);
  for (const r of rows) sim.userSends(r.chat, '/start');
  return { schoolId, contacts: rows };
}

/** Queues `perChat` mark messages to each contact, as the fan-out does (rows and jobs in one transaction). */
async function queueMarks(schoolId: string, contacts: Array<{ person: string; contact: string }>, perChat: number): Promise<string[]> {
  return withTransaction(db.pool, async (client) => {
    const { rows } = await client.query<{ id: string }>(
      `INSERT INTO notification (school_id, event_key, channel, recipient_id, kind, purpose, data, contact_id, status, not_before)
       SELECT $1, 'e:' || k || ':' || c.contact, 'telegram', c.person, 'mark', 'marks',
              jsonb_build_object('pupilFirstName', 'Ученик', 'subject', 'Алгебра', 'date', '2025-09-15', 'raw', (k + 2)::text, 'n', c.contact || ':' || k), c.contact, 'queued', now()
         FROM unnest($2::uuid[], $3::uuid[]) AS c(person, contact), generate_series(1, $4) k RETURNING id::text`,
      [schoolId, contacts.map((c) => c.person), contacts.map((c) => c.contact), perChat]);
    await queue.enqueue(client, rows.map((r) => ({ schoolId, id: r.id, startAfter: new Date() })));
    return rows.map((r) => r.id);
  });
}

describe('notify workers in two processes', () => {
  it('send 600 messages to 300 chats: never more than 30 in a second, ≥ 1 s apart per chat, a 429 honoured, each delivered once', async () => {
    const token = `777:${randomBytes(16).toString('hex')}`;
    const sim = await startTelegramSimulator({ token, botUsername: 'rate_test_bot' });
    try {
      const { schoolId, contacts } = await telegramSchool(sim, token, 300);
      const ids = await queueMarks(schoolId, contacts, 2);
      // 27/s: the limit with a margin for a busy machine's timing (the benchmark measures the default 29/s).
      const settings = testNotifySettings({ concurrency: 8 }, { telegramPerSecond: 27, telegramChatIntervalMs: 1100 });
      await Promise.all([worker(settings), worker(settings)]);
      await waitFor('a hundred sent', async () => (sim.sent().length >= 100 ? true : undefined), 120_000, 20);
      sim.rateLimitOnce(3);
      await waitFor('all delivered', async () => {
        const { rows } = await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM notification WHERE school_id = $1 AND status = 'delivered'`, [schoolId]);
        return rows[0]!.n === ids.length ? true : undefined;
      }, 180_000, 250);
      const requests = sim.requests();
      const limited = requests.filter((r) => r.status === 429);
      expect(limited).toHaveLength(1);
      expect(sim.maxInWindow(1000)).toBeLessThanOrEqual(30);
      expect(sim.minGapPerChat()).toBeGreaterThanOrEqual(1000);
      // After the 429: what was already on its way may arrive, then nothing until retry_after is over.
      const at = limited[0]!.at;
      expect(requests.filter((r) => r.at > at + 500 && r.at < at + 3000)).toEqual([]);
      // Each message delivered exactly once: 2 per chat, every (chat, text) pair once.
      const delivered = sim.sent();
      expect(delivered).toHaveLength(ids.length);
      const perChat = new Map<string, number>();
      for (const d of delivered) perChat.set(d.chatId, (perChat.get(d.chatId) ?? 0) + 1);
      expect([...perChat.values()].every((n) => n === 2)).toBe(true);
      expect(new Set(delivered.map((d) => `${d.chatId}|${d.text}`)).size).toBe(ids.length);
    } finally {
      for (const child of children.splice(0)) child.kill('SIGTERM');
      await sim.close();
    }
  });

  it('a sender killed after SMSC took the message and before its commit: sent again with the same id, SMSC says it has it, one message', async () => {
    const sim = await startSmscSimulator({ login: 'school', psw: 'secret-psw' });
    try {
      const schoolId = await createSchool(db.pool);
      await db.pool.query(`INSERT INTO notify_settings (school_id, policy) VALUES ($1, '{"quietHours":{"from":"00:00","to":"00:00"}}')`, [schoolId]);
      await db.pool.query(`INSERT INTO notify_provider (school_id, channel, provider, title, config, secrets) VALUES ($1, 'sms', 'smsc', 'test', $2, $3)`,
        [schoolId, JSON.stringify({ baseUrl: sim.url, sender: 'SCHOOL' }), box.seal({ login: 'school', psw: 'secret-psw' })]);
      const { rows } = await db.pool.query<{ person: string; contact: string }>(
        `WITH p AS (INSERT INTO person (school_id, last_name, first_name, name_key) VALUES ($1, 'Родитель', 'Мария', 'родитель мария') RETURNING id),
              c AS (INSERT INTO contact_point (school_id, person_id, channel, address, origin) SELECT $1, id, 'sms', '+79991112233', 'school' FROM p RETURNING person_id, id),
              k AS (INSERT INTO consent (school_id, person_id, channel, purpose, granted_at, method, granted_by) SELECT $1, person_id, 'sms', 'marks', now(), 'paper_form', 'test' FROM c)
         SELECT person_id::text AS person, id::text AS contact FROM c`, [schoolId]);
      // The gateway takes the message only after a while: long enough to kill its sender before the answer comes back.
      sim.setFaults({ delayMs: 2500, times: 1 });
      const [id] = await withTransaction(db.pool, async (client) => {
        const { rows: made } = await client.query<{ id: string }>(
          `INSERT INTO notification (school_id, event_key, channel, recipient_id, kind, purpose, data, contact_id, status, not_before)
           VALUES ($1, 'e:1', 'sms', $2, 'mark', 'marks', '{"pupilFirstName":"Иван","subject":"Алгебра","date":"2025-09-15","raw":"5"}', $3, 'queued', now()) RETURNING id::text`,
          [schoolId, rows[0]!.person, rows[0]!.contact]);
        await queue.enqueue(client, [{ schoolId, id: made[0]!.id, startAfter: new Date() }]);
        return made.map((m) => m.id);
      });
      const settings = testNotifySettings({ concurrency: 1, tickSeconds: 1 }, { leaseSeconds: 3 });
      const first = await worker(settings);
      await waitFor('the first call', async () => (sim.calls().length === 1 ? true : undefined), 60_000, 10);
      first.kill('SIGKILL');
      await new Promise((resolve) => first.once('exit', resolve));
      await waitFor('SMSC took it', async () => (sim.messages().length === 1 ? true : undefined), 30_000, 50);
      expect((await db.pool.query<{ status: string }>('SELECT status FROM notification WHERE id = $1', [id])).rows[0]!.status).toBe('sending');
      await worker(settings);
      const row = await waitFor('sent', async () => {
        const { rows: now } = await db.pool.query<{ status: string; attempts: number; reason: string | null; provider_message_id: string | null }>(
          'SELECT status, attempts, reason, provider_message_id FROM notification WHERE id = $1', [id]);
        return now[0]!.status === 'sent' ? now[0] : undefined;
      }, 60_000, 100);
      const calls = sim.calls().filter((c) => c.path.endsWith('/send.php'));
      expect(calls).toHaveLength(2);
      expect(calls[1]!.params.id).toBe(calls[0]!.params.id);
      expect(calls[0]!.params.id).toBe(id);
      expect(sim.messages()).toHaveLength(1);
      expect(row).toMatchObject({ attempts: 2, reason: 'the provider already had this message: sent once, before a restart' });
      // One row for the event: what the outbox (and the API) shows is one message.
      expect((await db.pool.query('SELECT 1 FROM notification WHERE school_id = $1', [schoolId])).rowCount).toBe(1);
    } finally {
      for (const child of children.splice(0)) child.kill('SIGTERM');
      await sim.close();
    }
  });
});
