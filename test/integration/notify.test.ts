import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Express } from 'express';
import ExcelJS from 'exceljs';
import { authed, keyFor, testAuth, type Authed } from '../support/api.js';
import { createPrisma, type PrismaClient } from '../../src/db/prisma.js';
import { createSchoolRepository } from '../../src/db/repositories/schools.js';
import { createApp } from '../../src/http/app.js';
import { TargetPolicy } from '../../src/lib/net-targets.js';
import { drainConsumer } from '../../src/journal/feed.js';
import { fixedClock } from '../../src/lib/clock.js';
import { createLogger } from '../../src/lib/logger.js';
import { NotifyEngine } from '../../src/notify/engine.js';
import { notifyConsumer } from '../../src/notify/fanout.js';
import { runScheduled } from '../../src/notify/scheduled.js';
import { progressReports } from '../../src/notify/report.js';
import { applyBatch } from '../../src/journal/apply-batch.js';
import { createConnection } from '../support/fixtures.js';
import { putPolicy, putPreferences, putProvider, withdrawConsent } from '../../src/notify/service.js';
import { startSmtpSimulator, type SmtpSimulator } from '../../src/notify/simulators/smtp.js';
import { simulatedParent, startTelegramSimulator, type TelegramSimulator } from '../../src/notify/simulators/telegram.js';
import { createLinkToken, handleBotText } from '../../src/notify/telegram-link.js';
import { webhookSecretOf } from '../../src/notify/telegram-webhook.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { consent, notifySchool, testBox, testNotifySettings, type NotifySchoolFixture } from '../support/notify.js';
import { waitFor } from '../support/processes.js';

const DAY = '2025-09-15';
/** Noon in Moscow on a Monday: outside quiet hours. */
const clock = fixedClock(new Date(`${DAY}T09:00:00Z`));
const logger = createLogger('silent');
const box = testBox();
let db: TestDatabase;
let prisma: PrismaClient;
let engine: NotifyEngine;
let smtp: SmtpSimulator;
let tg: TelegramSimulator;
const TOKEN = '4242:test-bot-token-AAAA';
let app: Express;
let api: Authed;
let auth: ReturnType<typeof testAuth>;

beforeAll(async () => {
  db = await createTestDatabase({ poolSize: 12 });
  prisma = createPrisma(db.url, 2);
  smtp = await startSmtpSimulator();
  tg = await startTelegramSimulator({ token: TOKEN, botUsername: 'school_test_bot' });
  engine = await NotifyEngine.start(db.pool, clock, logger, box, testNotifySettings());
  await engine.work();
  auth = testAuth(db.pool);
  app = createApp({ auth,
    pool: db.pool, schools: createSchoolRepository(prisma), logger, embedded: false, demoStatus: () => ({ status: 'off' }), clock,
    notify: { box, enqueue: engine.enqueue },
  });
  api = authed(app, await keyFor(auth));
});

afterAll(async () => {
  await engine?.stop();
  await smtp?.close();
  await tg?.close();
  await prisma?.$disconnect();
  await db?.drop();
});

async function withEmail(school: NotifySchoolFixture): Promise<void> {
  await putProvider(db.pool, box, school.schoolId, 'email', {
    provider: 'smtp', config: {
      host: smtp.host, port: smtp.port, requireTLS: false, allowInsecure: true, from: { address: 'journal@school.test', name: 'Школа' }, bounceAddress: 'bounces@school.test',
    },
  });
}

async function withTelegram(school: NotifySchoolFixture): Promise<void> {
  await putProvider(db.pool, box, school.schoolId, 'telegram', { provider: 'telegram', config: { apiRoot: tg.url, botUsername: 'school_test_bot' }, secrets: { token: TOKEN } });
}

async function rowsOf(schoolId: string) {
  const { rows } = await db.pool.query<{ id: string; recipient_id: string; channel: string; kind: string; status: string; reason: string | null; attempts: number; body: string | null; event_key: string; fallback_of: string | null }>(
    `SELECT id::text, recipient_id::text, channel, kind, status, reason, attempts, body, event_key, fallback_of::text FROM notification WHERE school_id = $1 ORDER BY created_at, id`, [schoolId]);
  return rows;
}

const settled = (statuses: string[]) => statuses.every((s) => !['queued', 'sending'].includes(s));
const mailTo = (address: string) => smtp.messages().filter((m) => m.envelope.to.includes(address));

describe('parents hear of new marks', () => {
  it('one message per event and guardian on their channel; replays of the change and of the feed add nothing', async () => {
    const school = await notifySchool(db.pool, clock, { day: DAY, emails: { g1: 'one.g1@parents.example.org', g2: 'one.g2@parents.example.org', g3: 'one.g3@parents.example.org' } });
    await withEmail(school);
    await consent(db.pool, school.schoolId, school.people.g1!, 'email');
    await consent(db.pool, school.schoolId, school.people.g3!, 'email');
    const marks = [{ id: 'm1', pupil: 'p1', value: '5' }];
    for (let i = 0; i < 3; i++) await school.marks(marks);
    await drainConsumer(db.pool, engine.consumer, school.schoolId);
    await waitFor('both sent', async () => (settled((await rowsOf(school.schoolId)).map((r) => r.status)) ? true : undefined), 30_000, 100);
    // The feed replayed from the start: nothing new.
    await db.pool.query(`UPDATE event_consumer SET seq = 0 WHERE school_id = $1 AND name = 'notify'`, [school.schoolId]);
    await drainConsumer(db.pool, engine.consumer, school.schoolId);
    const rows = await rowsOf(school.schoolId);
    expect(rows.map((r) => [r.recipient_id, r.channel, r.kind, r.status])).toEqual(expect.arrayContaining([
      [school.people.g1, 'email', 'mark', 'sent'],
      [school.people.g3, 'email', 'mark', 'sent'],
    ]));
    // g2 is p2's guardian only: p1's mark is not theirs.
    expect(rows.filter((r) => r.recipient_id === school.people.g2)).toEqual([]);
    expect(rows).toHaveLength(2);
    expect(mailTo('one.g1@parents.example.org')).toHaveLength(1);
    expect(mailTo('one.g3@parents.example.org')).toHaveLength(1);
    const mail = mailTo('one.g1@parents.example.org')[0]!;
    expect(mail.text).toContain('Иван');
    expect(mail.text).toContain('5');
    expect(mail.text).not.toContain('Иванов');
    expect(mail.envelope.from).toBe('bounces@school.test');
    expect(mail.headers.get('message-id')?.[0]).toContain(rows.find((r) => r.recipient_id === school.people.g1)!.id);
    expect(mail.headers.has('list-unsubscribe')).toBe(true);
  });

  it('without consent nothing goes, and the outbox says why; an opt-out takes effect before the next event', async () => {
    const school = await notifySchool(db.pool, clock, { day: DAY, emails: { g1: 'two.g1@parents.example.org', g2: 'two.g2@parents.example.org', g3: 'two.g3@parents.example.org' } });
    await withEmail(school);
    await consent(db.pool, school.schoolId, school.people.g2!, 'email');
    await withdrawConsent(db.pool, clock, school.people.g2!, { channel: 'email', withdrawnBy: 'the parent (paper form)' });
    await school.marks([{ id: 'm1', pupil: 'p2', value: '4' }]);
    await drainConsumer(db.pool, engine.consumer, school.schoolId);
    const rows = await rowsOf(school.schoolId);
    expect(rows.map((r) => [r.recipient_id, r.channel, r.status])).toEqual(expect.arrayContaining([[school.people.g2, 'none', 'skipped'], [school.people.g3, 'none', 'skipped']]));
    const g2 = rows.find((r) => r.recipient_id === school.people.g2)!;
    expect(g2.reason).toContain('email: no consent for marks');
    expect(g2.reason).toContain('telegram: the school has no provider');
    expect(mailTo('two.g2@parents.example.org')).toHaveLength(0);
    expect(smtp.attempts('two.g2@parents.example.org')).toBe(0);
  });

  it('a period mark is news while its period is recent; an absence on today’s lesson goes, one of another day does not', async () => {
    const school = await notifySchool(db.pool, clock, { day: DAY, emails: { g1: 'pm.g1@parents.example.org' } });
    await withEmail(school);
    await consent(db.pool, school.schoolId, school.people.g1!, 'email');
    await applyBatch(db.pool, clock, { connectionId: school.sourceId, stream: 'periods', records: [
      { type: 'period', externalId: 'q4', year: 2024, kind: 'quarter', number: 4, title: '4 четверть', startDate: '2025-04-01', endDate: '2025-05-26' },
      { type: 'period', externalId: 'h1', year: 2025, kind: 'quarter', number: 1, title: '1 четверть', startDate: '2025-09-01', endDate: '2025-09-14' },
    ] });
    await applyBatch(db.pool, clock, { connectionId: school.sourceId, stream: 'periodMarks', records: [
      { type: 'period_mark', externalId: 'pm-old', pupilExternalId: 'p1', subjectExternalId: 'alg', periodExternalId: 'q4', value: '4' },
      { type: 'period_mark', externalId: 'pm-new', pupilExternalId: 'p1', subjectExternalId: 'alg', periodExternalId: 'h1', value: '5' },
    ] });
    await applyBatch(db.pool, clock, { connectionId: school.sourceId, stream: 'roster', records: [
      { type: 'lesson', externalId: 'l0', classExternalId: 'c5a', subjectExternalId: 'alg', date: '2025-09-12', slot: 1 },
    ] });
    await applyBatch(db.pool, clock, { connectionId: school.sourceId, stream: 'attendance', records: [
      { type: 'attendance', externalId: 'a-today', pupilExternalId: 'p1', lessonExternalId: 'l1', code: 'Б', kind: 'ill' },
      { type: 'attendance', externalId: 'a-friday', pupilExternalId: 'p1', lessonExternalId: 'l0', code: 'Н', kind: 'unexcused' },
    ] });
    await drainConsumer(db.pool, engine.consumer, school.schoolId);
    const mine = (await rowsOf(school.schoolId)).filter((r) => r.recipient_id === school.people.g1);
    expect(mine.map((r) => r.kind).sort()).toEqual(['absence', 'period_mark']);
    await waitFor('sent', async () => (mailTo('pm.g1@parents.example.org').length === 2 ? true : undefined), 30_000, 100);
    const texts = mailTo('pm.g1@parents.example.org').map((m) => m.text ?? '');
    expect(texts.some((t) => t.includes('1 четверть — 5'))).toBe(true);
    expect(texts.some((t) => t.includes('отсутствует на уроке «Алгебра» 15.09, 1-й урок (по болезни)'))).toBe(true);
  });

  it('a queued message whose consent is withdrawn before it goes is cancelled, and tried on the next channel', async () => {
    const school = await notifySchool(db.pool, clock, { day: DAY, emails: { g1: 'three.g1@parents.example.org' } });
    await withEmail(school);
    await consent(db.pool, school.schoolId, school.people.g1!, 'email');
    // The first attempt meets greylisting (451): the message is queued again for its retry.
    smtp.setFaults({ recipients: [{ match: 'three.g1@parents.example.org', reply: { code: 451, text: '4.7.1 Greylisted, try again later' } }] });
    try {
      await school.marks([{ id: 'm1', pupil: 'p1', value: '3' }]);
      await drainConsumer(db.pool, engine.consumer, school.schoolId);
      await waitFor('the first attempt', async () => ((await rowsOf(school.schoolId)).some((r) => r.reason?.includes('will retry')) ? true : undefined), 30_000, 20);
      await withdrawConsent(db.pool, clock, school.people.g1!, { channel: 'email', withdrawnBy: 'the parent' });
      await waitFor('cancelled', async () => ((await rowsOf(school.schoolId)).some((r) => r.status === 'cancelled') ? true : undefined), 30_000, 100);
    } finally {
      smtp.setFaults({});
    }
    const rows = await rowsOf(school.schoolId);
    const first = rows.find((r) => r.channel === 'email')!;
    expect(first).toMatchObject({ status: 'cancelled', reason: 'consent for marks by email was withdrawn' });
    expect(smtp.attempts('three.g1@parents.example.org')).toBe(1);
    expect(mailTo('three.g1@parents.example.org')).toHaveLength(0);
    // No other channel has consent: nothing more (a skipped row would say so; the fallback found none).
    expect(rows.filter((r) => r.recipient_id === school.people.g1 && r.channel !== 'email' && r.status !== 'skipped')).toEqual([]);
  });

  it('a hard bounce suppresses the address and falls back; a soft one is retried until it is delivered', async () => {
    const school = await notifySchool(db.pool, clock, { day: DAY, emails: { g1: 'bad@parents.example.org', g2: 'full@parents.example.org', g3: 'four.g3@parents.example.org' } });
    await withEmail(school);
    for (const g of ['g1', 'g2']) await consent(db.pool, school.schoolId, school.people[g]!, 'email');
    smtp.clear();
    await school.marks([{ id: 'm1', pupil: 'p1', value: '5' }, { id: 'm2', pupil: 'p2', value: '4' }]);
    await drainConsumer(db.pool, engine.consumer, school.schoolId);
    await waitFor('settled', async () => {
      const rows = await rowsOf(school.schoolId);
      return rows.length >= 2 && settled(rows.map((r) => r.status)) ? true : undefined;
    }, 60_000, 200);
    const rows = await rowsOf(school.schoolId);
    const g1 = rows.filter((r) => r.recipient_id === school.people.g1);
    expect(g1[0]).toMatchObject({ channel: 'email', status: 'failed', attempts: 1 });
    expect(g1[0]!.reason).toMatch(/^permanent: .*550 5\.1\.1/);
    const contact = await db.pool.query<{ usable: boolean }>(`SELECT usable FROM contact_point WHERE school_id = $1 AND address = 'bad@parents.example.org'`, [school.schoolId]);
    expect(contact.rows).toEqual([{ usable: false }]);
    const g2 = rows.find((r) => r.recipient_id === school.people.g2)!;
    expect(g2).toMatchObject({ channel: 'email', status: 'sent', attempts: 3 });
    expect(smtp.attempts('full@parents.example.org')).toBe(3);
    expect(mailTo('full@parents.example.org')).toHaveLength(1);
    expect(smtp.attempts('bad@parents.example.org')).toBe(1);
  });
});

describe('Telegram', () => {
  it('links a chat by the one-time deep link; the same token from another chat, an expired one and a malformed one are refused; /stop unlinks', async () => {
    const school = await notifySchool(db.pool, clock, { day: DAY, emails: { g1: 'tg.g1@parents.example.org' } });
    await withTelegram(school);
    await withEmail(school);
    await consent(db.pool, school.schoolId, school.people.g1!, 'email');
    const link = await createLinkToken(db.pool, clock, { schoolId: school.schoolId, personId: school.people.g1!, createdBy: 'test' });
    const token = new URL(link.url).searchParams.get('start')!;
    expect(link.url).toMatch(/^https:\/\/t\.me\/school_test_bot\?start=[A-Za-z0-9_-]{43}$/);
    expect(await handleBotText(db.pool, clock, school.schoolId, '5001', `/start ${token}`)).toMatchObject({ outcome: 'linked' });
    expect(await handleBotText(db.pool, clock, school.schoolId, '5002', `/start ${token}`)).toMatchObject({ outcome: 'refused' });
    const other = await createLinkToken(db.pool, clock, { schoolId: school.schoolId, personId: school.people.g2!, createdBy: 'test' });
    const later = fixedClock(new Date(clock.now().getTime() + 16 * 60_000));
    expect(await handleBotText(db.pool, later, school.schoolId, '5003', `/start ${new URL(other.url).searchParams.get('start')!}`)).toMatchObject({ outcome: 'refused' });
    expect(await handleBotText(db.pool, clock, school.schoolId, '5003', '/start ../../etc/passwd')).toMatchObject({ outcome: 'refused' });
    expect(await handleBotText(db.pool, clock, school.schoolId, '5003', `/start ${'a'.repeat(65)}`)).toMatchObject({ outcome: 'refused' });
    expect(await handleBotText(db.pool, clock, school.schoolId, '5003', '/marks')).toMatchObject({ outcome: 'not_linked' });
    // A's chat gets g1's marks; after /stop the next one goes by e-mail instead.
    tg.userSends(5001, 'hello');
    await school.marks([{ id: 'm1', pupil: 'p1', value: '5' }]);
    await drainConsumer(db.pool, engine.consumer, school.schoolId);
    await waitFor('by Telegram', async () => (tg.sent().some((s) => s.chatId === '5001') ? true : undefined), 30_000, 50);
    const week = await handleBotText(db.pool, clock, school.schoolId, '5001', '/marks');
    expect(week.outcome).toBe('answered');
    expect(week.reply).toContain('Алгебра: 5');
    expect(await handleBotText(db.pool, clock, school.schoolId, '5001', '/stop')).toMatchObject({ outcome: 'unlinked' });
    await school.marks([{ id: 'm2', pupil: 'p1', value: '4', lesson: 'l2' }]);
    await drainConsumer(db.pool, engine.consumer, school.schoolId);
    await waitFor('by e-mail', async () => (mailTo('tg.g1@parents.example.org').length === 1 ? true : undefined), 30_000, 50);
    expect(tg.sent().filter((s) => s.chatId === '5001')).toHaveLength(1);
    const consents = await db.pool.query<{ withdrawn: boolean }>(`SELECT withdrawn_at IS NOT NULL AS withdrawn FROM consent WHERE person_id = $1 AND channel = 'telegram'`, [school.people.g1]);
    expect(consents.rows.length).toBeGreaterThan(0);
    expect(consents.rows.every((c) => c.withdrawn)).toBe(true);
  });

  it('through the bot: the school’s poller links a simulated parent who opened the link, and answers /absences', async () => {
    const school = await notifySchool(db.pool, clock, { day: DAY });
    await withTelegram(school);
    const polling = await NotifyEngine.start(db.pool, clock, logger, box, testNotifySettings({ telegramPolling: true, concurrency: 1 }));
    try {
      await polling.schedule();
      const parent = simulatedParent(tg, 6001);
      parent.link((await createLinkToken(db.pool, clock, { schoolId: school.schoolId, personId: school.people.g2!, createdBy: 'test' })).url);
      await waitFor('the bot’s answer', async () => (parent.inbox().length > 0 ? true : undefined), 30_000, 50);
      expect(parent.inbox()[0]).toContain('Готово');
      parent.say('/absences');
      await waitFor('the week', async () => (parent.inbox().length > 1 ? true : undefined), 30_000, 50);
      expect(parent.inbox()[1]).toMatch(/^Пропуски с \d\d\.\d\d по \d\d\.\d\d: нет\.$/);
      const contact = await db.pool.query(`SELECT origin FROM contact_point WHERE person_id = $1 AND channel = 'telegram' AND usable`, [school.people.g2]);
      expect(contact.rows).toEqual([{ origin: 'telegram_link' }]);
    } finally {
      await polling.stop();
    }
  });

  it('by webhook: an update without the secret token header is refused; with it, /start links the chat', async () => {
    const school = await notifySchool(db.pool, clock, { day: DAY });
    await withTelegram(school);
    const provider = (await db.pool.query<{ id: string }>(`SELECT id::text FROM notify_provider WHERE school_id = $1 AND channel = 'telegram'`, [school.schoolId])).rows[0]!.id;
    const link = await createLinkToken(db.pool, clock, { schoolId: school.schoolId, personId: school.people.g1!, createdBy: 'test' });
    const update = { update_id: 1, message: { message_id: 1, date: 1, chat: { id: 8001, type: 'private' }, text: `/start ${new URL(link.url).searchParams.get('start')!}` } };
    await api.post(`/v1/telegram/${provider}/webhook`).send(update).expect(401);
    await api.post(`/v1/telegram/${provider}/webhook`).set('x-telegram-bot-api-secret-token', 'wrong').send(update).expect(401);
    tg.userSends(8001, 'hi');
    await api.post(`/v1/telegram/${provider}/webhook`).set('x-telegram-bot-api-secret-token', webhookSecretOf(TOKEN)).send(update).expect(200);
    expect((await db.pool.query(`SELECT origin FROM contact_point WHERE person_id = $1 AND channel = 'telegram' AND address = '8001'`, [school.people.g1])).rows).toEqual([{ origin: 'telegram_link' }]);
    expect(tg.sent().filter((m) => m.chatId === '8001').map((m) => m.text)[0]).toContain('Готово');
  });

  it('403 (blocked) marks the chat unusable and falls back; 429 holds the bot for retry_after; 500 is retried', async () => {
    const school = await notifySchool(db.pool, clock, { day: DAY, emails: { g1: 'tg2.g1@parents.example.org' } });
    await withTelegram(school);
    await withEmail(school);
    for (const [g, chat] of [['g1', 7001], ['g2', 7002], ['g3', 7003]] as const) {
      tg.userSends(chat, 'hi');
      await db.pool.query(`INSERT INTO contact_point (school_id, person_id, channel, address, origin) VALUES ($1, $2, 'telegram', $3, 'telegram_link')`, [school.schoolId, school.people[g], String(chat)]);
      await consent(db.pool, school.schoolId, school.people[g]!, 'telegram', ['marks']);
    }
    await consent(db.pool, school.schoolId, school.people.g1!, 'email', ['marks']);
    tg.userBlocksBot(7001);
    await school.marks([{ id: 'm1', pupil: 'p1', value: '5' }]);
    await drainConsumer(db.pool, engine.consumer, school.schoolId);
    const g1 = await waitFor('the fallback mail', async () => {
      const mine = (await rowsOf(school.schoolId)).filter((r) => r.recipient_id === school.people.g1);
      return mailTo('tg2.g1@parents.example.org').length === 1 && mine.length === 2 && settled(mine.map((r) => r.status)) ? mine : undefined;
    }, 30_000, 50);
    expect(g1.map((r) => [r.channel, r.status])).toEqual([['telegram', 'failed'], ['email', 'sent']]);
    expect(g1[0]!.reason).toContain('403');
    expect(g1[1]!.fallback_of).toBe(g1[0]!.id);
    expect((await db.pool.query(`SELECT usable FROM contact_point WHERE address = '7001'`)).rows).toEqual([{ usable: false }]);
    // g3 is p1's guardian too: its message went. Now a 429 for p2's mark (g2 and g3), then a 500.
    tg.rateLimitOnce(2);
    const before = tg.requests().length;
    await school.marks([{ id: 'm2', pupil: 'p2', value: '4' }]);
    await drainConsumer(db.pool, engine.consumer, school.schoolId);
    await waitFor('both sent', async () => (tg.sent().filter((s) => s.chatId === '7002' || s.chatId === '7003').length === 3 ? true : undefined), 30_000, 50);
    const after = tg.requests().slice(before);
    const limited = after.find((r) => r.status === 429)!;
    expect(after.filter((r) => r.status === 429)).toHaveLength(1);
    // Every request that started after the 429 was answered waited its 2 s.
    expect(after.filter((r) => r.at > limited.at + 200).every((r) => r.at >= limited.at + 2000)).toBe(true);
    tg.failNext(1, 502);
    const m3 = async () => {
      const { rows } = await db.pool.query<{ seq: string }>(`SELECT max(seq)::text AS seq FROM journal_event WHERE school_id = $1`, [school.schoolId]);
      return `e:${rows[0]!.seq}`;
    };
    await school.marks([{ id: 'm3', pupil: 'p2', value: '3', lesson: 'l2' }]);
    const key = await m3();
    await drainConsumer(db.pool, engine.consumer, school.schoolId);
    const retried = await waitFor('retried', async () => {
      const mine = (await rowsOf(school.schoolId)).filter((r) => r.event_key === key);
      return mine.length === 2 && settled(mine.map((r) => r.status)) ? mine : undefined;
    }, 30_000, 100);
    // g2 and g3 (both p2's guardians): one of them met the 502 and went on its second attempt.
    expect(retried.map((r) => [r.status, r.attempts]).sort()).toEqual([['delivered', 1], ['delivered', 2]]);
  });
});

describe('quiet hours, digests and the school’s clock', () => {
  it('at 23:10 in Bishkek a new mark waits for 08:00 local: the job starts after it', async () => {
    const late = fixedClock(new Date('2025-09-15T17:10:00Z'));
    const school = await notifySchool(db.pool, late, { day: DAY, timeZone: 'Asia/Bishkek', emails: { g1: 'five.g1@parents.example.org' } });
    await withEmail(school);
    await consent(db.pool, school.schoolId, school.people.g1!, 'email');
    await school.marks([{ id: 'm1', pupil: 'p1', value: '5' }]);
    await drainConsumer(db.pool, notifyConsumer(late, async () => undefined), school.schoolId);
    const { rows } = await db.pool.query<{ id: string; not_before: Date }>(`SELECT id::text, not_before FROM notification WHERE school_id = $1 AND recipient_id = $2`, [school.schoolId, school.people.g1]);
    expect(rows[0]!.not_before.toISOString()).toBe('2025-09-16T02:00:00.000Z');
    // Through the queue: the send job's startAfter is the same instant.
    const queued = await notifySchool(db.pool, late, { day: DAY, timeZone: 'Asia/Bishkek', emails: { g1: 'five.b@parents.example.org' } });
    await withEmail(queued);
    await consent(db.pool, queued.schoolId, queued.people.g1!, 'email');
    await queued.marks([{ id: 'm1', pupil: 'p1', value: '5' }]);
    const recorded: Date[] = [];
    await drainConsumer(db.pool, notifyConsumer(late, async (_client, jobs) => void recorded.push(...jobs.map((j) => j.startAfter))), queued.schoolId);
    expect(recorded.map((d) => d.toISOString())).toEqual(['2025-09-16T02:00:00.000Z']);
  });

  it('a parent on the digest gets one message a day with every mark; a low mark goes at once', async () => {
    const school = await notifySchool(db.pool, clock, { day: DAY, emails: { g1: 'six.g1@parents.example.org' } });
    await withEmail(school);
    await consent(db.pool, school.schoolId, school.people.g1!, 'email');
    await putPreferences(db.pool, school.people.g1!, { marks: 'digest' });
    await school.marks([{ id: 'm1', pupil: 'p1', value: '5' }, { id: 'm2', pupil: 'p1', value: '4', lesson: 'l2' }, { id: 'm3', pupil: 'p1', value: '2', lesson: 'l2' }]);
    await drainConsumer(db.pool, engine.consumer, school.schoolId);
    let rows = await rowsOf(school.schoolId);
    expect(rows.filter((r) => r.recipient_id === school.people.g1).map((r) => [r.kind, r.status]).sort()).toEqual([['low_mark', expect.any(String)], ['mark', 'held'], ['mark', 'held']].sort());
    // 19:05 Moscow: the digest slot.
    const evening = fixedClock(new Date(`${DAY}T16:05:00Z`));
    await runScheduled(db.pool, evening, engine.enqueue, school.schoolId);
    await runScheduled(db.pool, evening, engine.enqueue, school.schoolId);
    await waitFor('the digest and the low mark sent', async () => {
      const mine = (await rowsOf(school.schoolId)).filter((r) => r.recipient_id === school.people.g1);
      return mine.some((r) => r.kind === 'marks_digest') && settled(mine.map((r) => r.status)) ? true : undefined;
    }, 30_000, 100);
    rows = await rowsOf(school.schoolId);
    const digests = rows.filter((r) => r.kind === 'marks_digest' && r.recipient_id === school.people.g1);
    expect(digests).toHaveLength(1);
    expect(rows.filter((r) => r.kind === 'mark' && r.recipient_id === school.people.g1).map((r) => r.status)).toEqual(['digested', 'digested']);
    expect(mailTo('six.g1@parents.example.org')).toHaveLength(2);
  });
});

describe('the fortnightly progress and attendance report', () => {
  it('says per pupil what the journal holds for the fortnight, from the school’s own source, and goes to each guardian on the report day', async () => {
    const school = await notifySchool(db.pool, clock, { day: DAY, emails: { g1: 'rep.g1@parents.example.org', g3: 'rep.g3@parents.example.org' } });
    await withEmail(school);
    await drainConsumer(db.pool, engine.consumer, school.schoolId);
    await consent(db.pool, school.schoolId, school.people.g1!, 'email', ['reports']);
    await applyBatch(db.pool, clock, { connectionId: school.sourceId, stream: 'marks', records: [
      { type: 'mark', externalId: 'r1', pupilExternalId: 'p1', lessonExternalId: 'l1', value: '5', weight: 2 },
      { type: 'mark', externalId: 'r2', pupilExternalId: 'p1', lessonExternalId: 'l2', value: '3' },
      { type: 'mark', externalId: 'r3', pupilExternalId: 'p1', lessonExternalId: 'l2', value: 'н/а', kind: 'other' },
      { type: 'mark', externalId: 'r4', pupilExternalId: 'p1', subjectExternalId: 'alg', date: '2025-09-01', value: '2' },
      { type: 'mark', externalId: 'r5', pupilExternalId: 'p2', lessonExternalId: 'l1', value: '4' },
    ] });
    await applyBatch(db.pool, clock, { connectionId: school.sourceId, stream: 'attendance', records: [
      { type: 'attendance', externalId: 'a1', pupilExternalId: 'p1', lessonExternalId: 'l1', code: 'Б', kind: 'ill' },
      { type: 'attendance', externalId: 'a2', pupilExternalId: 'p1', lessonExternalId: 'l2', code: 'ОП', kind: 'late', lateMinutes: 5 },
      { type: 'attendance', externalId: 'a3', pupilExternalId: 'p2', lessonExternalId: 'l2', code: 'Н', kind: 'unexcused' },
    ] });
    // Another source's marks are not the school's record.
    const other = await createConnection(db.pool, school.schoolId, 'netschool');
    await applyBatch(db.pool, clock, { connectionId: other, stream: 'roster', records: [
      { type: 'class', externalId: 'x5a', year: 2025, name: '5А', grade: 5 },
      { type: 'subject', externalId: 'xalg', name: 'Алгебра' },
      { type: 'person', externalId: 'xp1', role: 'pupil', lastName: 'Иванов', firstName: 'Иван', classExternalId: 'x5a' },
      { type: 'lesson', externalId: 'xl1', classExternalId: 'x5a', subjectExternalId: 'xalg', date: DAY, slot: 1 },
      { type: 'mark', externalId: 'xm1', pupilExternalId: 'xp1', lessonExternalId: 'xl1', value: '2' },
    ] });
    const reports = await progressReports(db.pool, { schoolId: school.schoolId, sourceId: school.sourceId, from: '2025-09-13', to: '2025-09-26' });
    expect(reports.get(school.people.p1!)).toMatchObject({
      pupilFirstName: 'Иван', className: '5А',
      subjects: [{ subject: 'Алгебра', marks: ['5', '3', 'н/а'], count: 3, average: 4.33 }],
      absences: { ill: 1, valid: 0, unexcused: 0, unknown: 0, late: 1, total: 1 }, noMarks: [],
    });
    expect(reports.get(school.people.p2!)).toMatchObject({ subjects: [{ marks: ['4'], average: 4 }], absences: { unexcused: 1, total: 1 } });
    // Friday 26 September 2025, 17:05 Moscow: the end of the year's second fortnight.
    const friday = fixedClock(new Date('2025-09-26T14:05:00Z'));
    await runScheduled(db.pool, friday, engine.enqueue, school.schoolId);
    // The mail reaches the SMTP server before its row is marked sent: wait for both.
    const rows = await waitFor('the report mailed', async () => {
      const reportRows = (await rowsOf(school.schoolId)).filter((r) => r.kind === 'progress_report');
      return mailTo('rep.g1@parents.example.org').length === 1 && settled(reportRows.map((r) => r.status)) ? reportRows : undefined;
    }, 30_000, 100);
    // g1 (p1) by e-mail; g3 (p1 and p2) has no consent for reports: two skipped rows, one per child.
    expect(rows.map((r) => [r.recipient_id, r.status]).sort()).toEqual([
      [school.people.g1, 'sent'], [school.people.g2, 'skipped'], [school.people.g3, 'skipped'], [school.people.g3, 'skipped'],
    ].sort());
    const mail = mailTo('rep.g1@parents.example.org')[0]!;
    expect(mail.text).toContain('Алгебра: 5 3 н/а (средний 4,33)');
    expect(mail.text).toContain('Пропущено уроков: 1 (по болезни 1');
  });
});

describe('teachers hear of discrepancies', () => {
  it('a severe one alerts its assignee at once (once); the morning digest lists the open ones', async () => {
    const school = await notifySchool(db.pool, clock, { day: DAY });
    await withEmail(school);
    // The teacher's work e-mail comes from the platform's roster, through the feed.
    await drainConsumer(db.pool, engine.consumer, school.schoolId);
    const { rows: cls } = await db.pool.query<{ id: string; subject: string }>(
      `SELECT cg.id::text, (SELECT id::text FROM subject WHERE school_id = $1 LIMIT 1) AS subject FROM class_group cg WHERE cg.school_id = $1`, [school.schoolId]);
    const insert = (rule: string, severity: string, key: string) => db.pool.query(
      `INSERT INTO discrepancy (school_id, key, rule, kind, severity, class_group_id, subject_id, day, fingerprint, assignee_id)
       VALUES ($1, $2, $3, 'regulation', $4, $5, $6, $7, $2, $8)`, [school.schoolId, key, rule, severity, cls[0]!.id, cls[0]!.subject, DAY, school.people.t1]);
    await insert('mark_silent_correction', 'severe', 'k1');
    await insert('topic_missing', 'warning', 'k2');
    await insert('topic_missing', 'warning', 'k3');
    // 06:00 Moscow: before the digest's 07:30; the severe one goes now.
    const dawn = fixedClock(new Date(`${DAY}T03:00:00Z`));
    await runScheduled(db.pool, dawn, engine.enqueue, school.schoolId);
    await runScheduled(db.pool, dawn, engine.enqueue, school.schoolId);
    let rows = (await rowsOf(school.schoolId)).filter((r) => r.recipient_id === school.people.t1);
    expect(rows.map((r) => [r.kind, r.channel])).toEqual([['teacher_alert', 'email']]);
    // It goes before a backlog of parents' marks: its job has a higher priority.
    const job = await db.pool.query<{ priority: number }>(`SELECT priority FROM pgboss.job WHERE name = 'notify-send' AND data->>'id' = $1`, [rows[0]!.id]);
    expect(job.rows).toEqual([{ priority: 4 }]);
    const morning = fixedClock(new Date(`${DAY}T04:35:00Z`));
    await runScheduled(db.pool, morning, engine.enqueue, school.schoolId);
    await waitFor('both sent', async () => {
      const mine = (await rowsOf(school.schoolId)).filter((r) => r.recipient_id === school.people.t1);
      return mine.length === 2 && settled(mine.map((r) => r.status)) ? true : undefined;
    }, 30_000, 100);
    rows = (await rowsOf(school.schoolId)).filter((r) => r.recipient_id === school.people.t1);
    expect(rows.map((r) => [r.kind, r.status])).toEqual([['teacher_alert', 'sent'], ['teacher_digest', 'sent']]);
    const digest = await db.pool.query<{ data: { total: number; byRule: Array<{ rule: string; count: number }> } }>(
      `SELECT data FROM notification WHERE school_id = $1 AND kind = 'teacher_digest'`, [school.schoolId]);
    expect(digest.rows[0]!.data).toMatchObject({ total: 3, byRule: [{ rule: 'topic_missing', count: 2 }, { rule: 'mark_silent_correction', count: 1 }] });
    expect(mailTo('teacher@school.example.org')).toHaveLength(2);
  });
});

describe('the API', () => {
  it('lists the outbox with masked addresses and shows a message’s path; refuses a bad policy; never returns secrets', async () => {
    const school = await notifySchool(db.pool, clock, { day: DAY, emails: { g1: 'bad@api.example.org' } });
    await withEmail(school);
    await consent(db.pool, school.schoolId, school.people.g1!, 'email');
    await consent(db.pool, school.schoolId, school.people.g1!, 'sms', ['marks']);
    await school.marks([{ id: 'm1', pupil: 'p1', value: '5' }]);
    await drainConsumer(db.pool, engine.consumer, school.schoolId);
    await waitFor('failed', async () => ((await rowsOf(school.schoolId)).some((r) => r.status === 'failed') ? true : undefined), 30_000, 100);
    const list = await api.get(`/v1/notifications?school=${school.schoolId}&person=${school.people.g1}`).expect(200);
    const failed = list.body.items.find((n: { status: string }) => n.status === 'failed');
    expect(failed).toMatchObject({ channel: 'email', to: 'b***@api.example.org', kind: 'mark' });
    // No SMS provider: the fallback to SMS is skipped, and says why.
    const path = await api.get(`/v1/notifications/${failed.id as string}`).expect(200);
    expect(path.body.path.map((p: { channel: string; status: string }) => [p.channel, p.status])).toEqual([['email', 'failed']]);
    await api.get(`/v1/notifications?status=bogus`).expect(400);
    const bad = await api.put(`/v1/schools/${school.schoolId}/notify-policy`).send({ quietHours: { from: '25:00' } }).expect(400);
    expect(bad.body.error.message).toContain('quietHours.from');
    await api.put(`/v1/schools/${school.schoolId}/notify-policy`).send({ marks: 'digest' }).expect(200);
    expect((await api.get(`/v1/schools/${school.schoolId}/notify-policy`).expect(200)).body).toMatchObject({ marks: 'digest', quietHours: { from: '21:00', to: '08:00' } });
    await api.put(`/v1/schools/${school.schoolId}/notify-providers/email`).send({
      provider: 'smtp', config: { host: smtp.host, port: smtp.port, allowInsecure: true, requireTLS: false, from: { address: 'a@school.test' }, bounceAddress: 'b@school.test' },
      secrets: { user: 'u', password: 'very-secret-password' },
    }).expect(200);
    const providers = await api.get(`/v1/schools/${school.schoolId}/notify-providers`).expect(200);
    expect(JSON.stringify(providers.body)).not.toContain('very-secret-password');
    await api.put(`/v1/schools/${school.schoolId}/notify-providers/email`).send({ provider: 'smsc' }).expect(400);
    // With the connections' target policy (as the service runs it), a provider cannot point at the service's own network.
    const guarded = createApp({ auth,
      pool: db.pool, schools: createSchoolRepository(prisma), logger, embedded: false, demoStatus: () => ({ status: 'off' }), clock,
      notify: { box, enqueue: engine.enqueue, targets: new TargetPolicy() },
    });
    for (const apiRoot of [tg.url, 'http://169.254.169.254', 'https://10.0.0.5', 'file:///etc/passwd']) {
      const refused = await authed(guarded, await keyFor(auth)).put(`/v1/schools/${school.schoolId}/notify-providers/telegram`).send({ provider: 'telegram', config: { apiRoot, botUsername: 'x_bot' }, secrets: { token: 't' } });
      expect([apiRoot, refused.status]).toEqual([apiRoot, 400]);
    }
    const smtpRefused = await authed(guarded, await keyFor(auth)).put(`/v1/schools/${school.schoolId}/notify-providers/email`).send({
      provider: 'smtp', config: { host: '127.0.0.1', port: smtp.port, allowInsecure: true, requireTLS: false, from: { address: 'a@school.test' }, bounceAddress: 'b@school.test' },
    }).expect(400);
    expect(smtpRefused.body.error.message).toContain('may not point there');
    await api.post(`/v1/people/${school.people.g1}/contacts`).send({ channel: 'sms', address: 'not a phone' }).expect(400);
    const phone = await api.post(`/v1/people/${school.people.g1}/contacts`).send({ channel: 'sms', address: '8 (912) 345-67-89' }).expect(201);
    expect(phone.body).toMatchObject({ address: '+79123456789', origin: 'school', usable: true });
    await putPolicy(db.pool, school.schoolId, {});
  });

  it('takes a class’s parents sheet back filled from the paper forms: contacts and consents written, a bad row rejected alone', async () => {
    const school = await notifySchool(db.pool, clock, { day: DAY });
    await drainConsumer(db.pool, engine.consumer, school.schoolId);
    const classId = (await db.pool.query<{ id: string }>('SELECT id::text FROM class_group WHERE school_id = $1', [school.schoolId])).rows[0]!.id;
    const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
    const template = await api.get(`/v1/classes/${classId}/parents-sheet`).buffer(true).parse((res, done) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => done(null, Buffer.concat(chunks)));
    }).expect(200);
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(template.body as ArrayBuffer);
    const sheet = workbook.getWorksheet('Родители')!;
    const rows = new Map<string, ExcelJS.Row>();
    sheet.eachRow((row, r) => { if (r > 2) rows.set(`${String(row.getCell(3).value)}|${String(row.getCell(4).value)}`, row); });
    expect([...rows.keys()].sort()).toEqual(['Иванов Иван|Иванова Мария', 'Иванов Иван|Сидорова Ольга', 'Петрова Анна|Петров Олег', 'Петрова Анна|Сидорова Ольга']);
    const g1 = rows.get('Иванов Иван|Иванова Мария')!;
    expect(g1.getCell(6).value).toBe('+79991000001');
    g1.getCell(9).value = 'да';
    g1.getCell(10).value = '17';
    const g2 = rows.get('Петрова Анна|Петров Олег')!;
    g2.getCell(6).value = 'не телефон';
    g2.getCell(9).value = 'да';
    const upload = Buffer.from(await workbook.xlsx.writeBuffer());
    const result = await api.post(`/v1/classes/${classId}/parents-sheet`).set('content-type', XLSX).send(upload).expect(200);
    expect(result.body).toMatchObject({ rows: 4, consentsGranted: 3 });
    expect(result.body.rejected).toEqual([{ cell: expect.stringMatching(/^Родители!F\d+$/), reason: 'not a phone number' }, { cell: expect.stringMatching(/^Родители!F\d+$/), reason: 'consent by SMS needs a phone number' }]);
    const consents = await api.get(`/v1/people/${school.people.g1}/consents`).expect(200);
    expect(consents.body.items.map((c: { channel: string; purpose: string; evidence: string; grantedBy: string }) => [c.channel, c.purpose, c.evidence, c.grantedBy]).sort())
      .toEqual([['sms', 'attendance', 'заявление № 17', expect.stringMatching(/^api:/)], ['sms', 'marks', 'заявление № 17', expect.stringMatching(/^api:/)], ['sms', 'reports', 'заявление № 17', expect.stringMatching(/^api:/)]]);
    await api.post(`/v1/classes/${classId}/parents-sheet`).set('content-type', XLSX).send(Buffer.from('not a workbook')).expect(422);
  });
});
