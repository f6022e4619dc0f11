import { randomUUID } from 'node:crypto';
import { createPool, withTransaction, type Pool } from '../src/db/pool.js';
import { loadDemoSchool } from '../src/demo/load.js';
import { APP_ROLE, grantApplicationRole } from '../src/db/roles.js';
import { applyBatch } from '../src/journal/apply-batch.js';
import { advanceCursor, drainConsumer, FeedQueue, lockCursor, readEvents } from '../src/journal/feed.js';
import { fixedClock, systemClock } from '../src/lib/clock.js';
import { createLogger } from '../src/lib/logger.js';
import { SecretBox } from '../src/lib/secret-box.js';
import { projectContacts } from '../src/notify/contacts.js';
import { NotifyEngine } from '../src/notify/engine.js';
import { notifyConsumer, NOTIFY_CONSUMER } from '../src/notify/fanout.js';
import { DEFAULT_SENDER } from '../src/notify/sender.js';
import { startTelegramSimulator } from '../src/notify/simulators/telegram.js';
import type { SourceRecord } from '../src/ports/records.js';
import type { Metric } from './metrics.js';

export interface NotifyBenchOptions {
  pool: Pool;
  /** The application role's connection: the send queue (pg-boss's schema is the application's). */
  appUrl: string;
  pupils: number;
  log(message: string): void;
}

/** The generated school's last loaded day, and "now" at noon of it (Moscow): no quiet hours. */
const DAY = '2025-10-23';
const clock = fixedClock(new Date(`${DAY}T09:00:00Z`));
const logger = createLogger('warn');

/**
 * Notifications on the generated school:
 * - `notify.fanout_s`: a day of new marks (three per pupil) → outbox rows, by the feed consumer, every
 *   guardian with a contact and consent; against `notify.fanout_insert_s`, one plain INSERT of as many rows;
 * - `notify.telegram_rate_vs_limit`: 600 messages to 300 chats through the Bot API simulator by one
 *   engine (16 sends in flight) — the achieved rate ÷ Telegram's 30/s, with none lost or doubled;
 * - `notify.latency_p95_s`: from a mark's commit to its message's sendMessage at the simulator, the
 *   production path (the feed's wake-up job, its 2 s debounce, the consumer, the send job), outside quiet hours.
 */
export async function benchNotify(o: NotifyBenchOptions): Promise<Metric[]> {
  const box = new SecretBox(Buffer.alloc(32, 7));
  const loaded = await loadDemoSchool({ pool: o.pool, clock, logger }, { seed: 11, pupils: o.pupils, year: 2025, until: DAY });
  const schoolId = loaded.schoolId;
  await prepareReach(o.pool, schoolId, box);
  const marks = await dayOfMarks(o.pool, schoolId, loaded.connectionId);
  const events = await o.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM journal_event WHERE school_id = $1`, [schoolId]);
  o.log(`${o.pupils} pupils, ${events.rows[0]!.n} events loaded; the cursor at the head, then ${marks.length} new marks of ${DAY}`);
  await withTransaction(o.pool, async (client) => {
    await lockCursor(client, NOTIFY_CONSUMER, schoolId);
    const head = await client.query<{ seq: string }>('SELECT seq::text FROM journal_head WHERE school_id = $1', [schoolId]);
    await advanceCursor(client, NOTIFY_CONSUMER, schoolId, Number(head.rows[0]!.seq));
  });
  await applyBatch(o.pool, clock, { connectionId: loaded.connectionId, stream: 'marks', records: marks });
  const noJobs = async () => undefined;
  const t0 = performance.now();
  await drainConsumer(o.pool, notifyConsumer(clock, noJobs), schoolId);
  const fanoutS = (performance.now() - t0) / 1000;
  const { rows: made } = await o.pool.query<{ status: string; n: number }>(
    `SELECT status, count(*)::int AS n FROM notification WHERE school_id = $1 GROUP BY status ORDER BY status`, [schoolId]);
  const rows = made.reduce((s, r) => s + r.n, 0);
  o.log(`fan-out: ${rows} outbox rows (${made.map((r) => `${r.status} ${r.n}`).join(', ')}) in ${fanoutS.toFixed(3)} s`);
  const t1 = performance.now();
  await o.pool.query(
    `INSERT INTO notification (school_id, event_key, channel, recipient_id, kind, purpose, data, status)
     SELECT $1, 'bench:' || g, 'email', (SELECT id FROM person WHERE school_id = $1 LIMIT 1), 'mark', 'marks', '{"raw":"5"}'::jsonb, 'queued'
       FROM generate_series(1, $2) g`, [schoolId, rows]);
  const insertS = (performance.now() - t1) / 1000;
  await o.pool.query(`DELETE FROM notification WHERE school_id = $1 AND event_key LIKE 'bench:%'`, [schoolId]);
  o.log(`one INSERT of as many rows: ${insertS.toFixed(3)} s`);
  // The application role's rights, as the service grants them after its migrations (the bench migrates as the owner).
  await grantApplicationRole(o.pool, APP_ROLE).catch(() => undefined);
  const app = createPool(o.appUrl, 12);
  let rate: Awaited<ReturnType<typeof telegramRate>>;
  let latency: number;
  try {
    rate = await telegramRate(o, app, box);
    latency = await latencyP95(o, app, box);
  } finally {
    await app.end();
  }
  return [
    { name: 'notify.fanout_s', value: round(fanoutS), unit: 's' },
    { name: 'notify.fanout_rows', value: rows, unit: 'rows' },
    { name: 'notify.fanout_insert_s', value: round(insertS), unit: 's' },
    { name: 'notify.fanout_vs_insert', value: round(fanoutS / insertS), unit: 'ratio' },
    { name: 'notify.telegram_rate_vs_limit', value: round(rate.ratio), unit: 'ratio' },
    { name: 'notify.telegram_lost', value: rate.lost, unit: 'messages' },
    { name: 'notify.telegram_doubled', value: rate.doubled, unit: 'messages' },
    { name: 'notify.latency_p95_s', value: round(latency), unit: 's' },
  ];
}

const round = (v: number) => Number(v.toFixed(3));

/** Every guardian's contacts from the platform events, consent by e-mail and SMS for everything, the school's e-mail and SMS providers. */
async function prepareReach(pool: Pool, schoolId: string, box: SecretBox): Promise<void> {
  await withTransaction(pool, async (client) => {
    let after = 0;
    for (;;) {
      const events = (await readEvents(client, schoolId, after, 20_000));
      if (events.length === 0) break;
      await projectContacts(client, schoolId, events.filter((e) => e.entityType === 'person'), 'RU');
      after = events[events.length - 1]!.seq;
    }
    await client.query(
      `INSERT INTO consent (school_id, person_id, channel, purpose, granted_at, method, granted_by)
       SELECT $1, g.guardian_id, c.channel, p.purpose, now(), 'paper_form', 'bench'
         FROM (SELECT DISTINCT guardian_id FROM guardianship WHERE school_id = $1) g, unnest(ARRAY['email', 'sms']) c(channel), unnest(ARRAY['marks', 'attendance', 'reports']) p(purpose)`,
      [schoolId]);
    await client.query(
      `INSERT INTO notify_provider (school_id, channel, provider, title, config, secrets) VALUES
         ($1, 'email', 'smtp', 'bench', '{"host":"127.0.0.1","port":2525,"allowInsecure":true,"requireTLS":false,"from":{"address":"journal@school.example.org"},"bounceAddress":"bounces@school.example.org"}', NULL),
         ($1, 'sms', 'smsc', 'bench', '{}', $2)`, [schoolId, box.seal({ login: 'bench', psw: 'bench' })]);
  });
}

/** Three new marks per pupil on DAY's lessons of their class (as a platform adds a day's marks). */
async function dayOfMarks(pool: Pool, schoolId: string, connectionId: string): Promise<SourceRecord[]> {
  const { rows } = await pool.query<{ pupil: string; lesson: string }>(
    `SELECT pr.external_id AS pupil, lr.external_id AS lesson
       FROM (SELECT e.person_id, l.id AS lesson_id, row_number() OVER (PARTITION BY e.person_id ORDER BY l.slot) AS n
               FROM lesson l JOIN enrollment e ON e.class_group_id = l.class_group_id
              WHERE l.school_id = $1 AND l.date = $3 AND l.deleted_at IS NULL) x
       JOIN external_ref pr ON pr.connection_id = $2 AND pr.entity_type = 'person' AND pr.canonical_id = x.person_id
       JOIN external_ref lr ON lr.connection_id = $2 AND lr.entity_type = 'lesson' AND lr.canonical_id = x.lesson_id
      WHERE x.n <= 3`,
    [schoolId, connectionId, DAY]);
  const values = ['5', '4', '3', '5', '4', '2'];
  return rows.map((r, i) => ({ type: 'mark', externalId: `bench-${r.pupil}-${r.lesson}`, pupilExternalId: r.pupil, lessonExternalId: r.lesson, value: values[i % values.length]! }));
}

async function telegramRate(o: NotifyBenchOptions, app: Pool, box: SecretBox): Promise<{ ratio: number; lost: number; doubled: number }> {
  const token = `123456:${randomUUID().replace(/-/g, '')}`;
  const sim = await startTelegramSimulator({ port: 0, token, botUsername: 'bench_bot', openChats: true });
  const engine = await NotifyEngine.start(app, systemClock, logger, box, {
    sender: { ...DEFAULT_SENDER, leaseSeconds: 60 }, concurrency: 16, retryLimit: 3, retryDelaySeconds: 1, tickSeconds: 3600, telegramPolling: false,
  });
  try {
    const schoolId = (await o.pool.query<{ id: string }>(`INSERT INTO school (name, region, time_zone) VALUES ('Bench rate', 'bench', 'Europe/Moscow') RETURNING id::text`)).rows[0]!.id;
    await o.pool.query(`INSERT INTO notify_settings (school_id, policy) VALUES ($1, '{"quietHours":{"from":"00:00","to":"00:00"}}')`, [schoolId]);
    await o.pool.query(`INSERT INTO notify_provider (school_id, channel, provider, title, config, secrets) VALUES ($1, 'telegram', 'telegram', 'bench', $2, $3)`,
      [schoolId, JSON.stringify({ apiRoot: sim.url, botUsername: 'bench_bot' }), box.seal({ token })]);
    const chats = 300;
    const ids = await queueTelegram(app, engine, schoolId, chats, 2);
    await engine.work();
    const t = performance.now();
    while (sim.sent().length < ids.length && performance.now() - t < 120_000) await new Promise((r) => setTimeout(r, 100));
    const sent = sim.sent();
    const first = Math.min(...sent.map((s) => s.at));
    const last = Math.max(...sent.map((s) => s.at));
    const achieved = (sent.length - 1) / ((last - first) / 1000);
    const texts = new Map<string, number>();
    for (const s of sent) texts.set(s.text, (texts.get(s.text) ?? 0) + 1);
    const doubled = [...texts.values()].filter((n) => n > 1).length;
    const lost = ids.length - texts.size;
    o.log(`telegram: ${sent.length} sendMessage in ${((last - first) / 1000).toFixed(2)} s = ${achieved.toFixed(2)}/s (max ${sim.maxInWindow(1000)} in any 1 s); lost ${lost}, doubled ${doubled}`);
    return { ratio: achieved / 30, lost, doubled };
  } finally {
    await engine.stop();
    await sim.close();
  }
}

/** `perChat` messages to each of `chats` linked parents, queued as the outbox queues them (test kind: no template data needed). */
async function queueTelegram(pool: Pool, engine: NotifyEngine, schoolId: string, chats: number, perChat: number): Promise<string[]> {
  return withTransaction(pool, async (client) => {
    const { rows: people } = await client.query<{ id: string }>(
      `INSERT INTO person (school_id, last_name, first_name, name_key) SELECT $1, 'Родитель', 'Р' || g, 'родитель р' || g FROM generate_series(1, $2) g RETURNING id::text`,
      [schoolId, chats]);
    await client.query(
      `INSERT INTO contact_point (school_id, person_id, channel, address, origin) SELECT $1, p, 'telegram', (1000000 + n)::text, 'telegram_link' FROM unnest($2::uuid[]) WITH ORDINALITY AS u(p, n)`,
      [schoolId, people.map((p) => p.id)]);
    await client.query(
      `INSERT INTO consent (school_id, person_id, channel, purpose, granted_at, method, granted_by) SELECT $1, id, 'telegram', 'marks', now(), 'telegram_link', 'bench' FROM unnest($2::uuid[]) AS id`,
      [schoolId, people.map((p) => p.id)]);
    // Each message says something of its own (the chat's name, the k-th mark): lost and doubled ones show.
    const { rows } = await client.query<{ id: string }>(
      `INSERT INTO notification (school_id, event_key, channel, recipient_id, kind, purpose, data, contact_id, status, not_before)
       SELECT $1, 'bench:' || k, 'telegram', c.person_id, 'mark', 'marks',
              jsonb_build_object('pupilFirstName', 'Ученик ' || c.address, 'subject', 'Алгебра', 'date', '2025-10-23', 'raw', k::text), c.id, 'queued', now()
         FROM contact_point c, generate_series(1, $2) k WHERE c.school_id = $1 RETURNING id::text`, [schoolId, perChat]);
    await engine.enqueue(client, rows.map((r) => ({ schoolId, id: r.id, startAfter: new Date() })));
    return rows.map((r) => r.id);
  });
}

async function latencyP95(o: NotifyBenchOptions, app: Pool, box: SecretBox): Promise<number> {
  const token = `654321:${randomUUID().replace(/-/g, '')}`;
  const sim = await startTelegramSimulator({ port: 0, token, botUsername: 'bench_latency_bot', openChats: true });
  const now = systemClock;
  const engine = await NotifyEngine.start(app, now, logger, box, {
    sender: { ...DEFAULT_SENDER }, concurrency: 4, retryLimit: 3, retryDelaySeconds: 1, tickSeconds: 3600, telegramPolling: false,
  });
  const feed = await FeedQueue.start(app, logger, [engine.consumer]);
  try {
    const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Moscow' }).format(new Date());
    const schoolId = (await o.pool.query<{ id: string }>(`INSERT INTO school (name, region, time_zone) VALUES ('Bench latency', 'bench', 'Europe/Moscow') RETURNING id::text`)).rows[0]!.id;
    const source = (await o.pool.query<{ id: string }>(`INSERT INTO connection (school_id, platform, title) VALUES ($1, 'demo', 'bench') RETURNING id::text`, [schoolId])).rows[0]!.id;
    await o.pool.query('UPDATE school SET primary_source_id = $2 WHERE id = $1', [schoolId, source]);
    await o.pool.query(`INSERT INTO notify_settings (school_id, policy) VALUES ($1, '{"quietHours":{"from":"00:00","to":"00:00"},"channels":["telegram"]}')`, [schoolId]);
    await o.pool.query(`INSERT INTO notify_provider (school_id, channel, provider, title, config, secrets) VALUES ($1, 'telegram', 'telegram', 'bench', $2, $3)`,
      [schoolId, JSON.stringify({ apiRoot: sim.url, botUsername: 'bench_latency_bot' }), box.seal({ token })]);
    const n = 40;
    const records: SourceRecord[] = [
      { type: 'class', externalId: 'c', year: 2025, name: '5А', grade: 5 },
      { type: 'subject', externalId: 's', name: 'Алгебра' },
      { type: 'lesson', externalId: 'l', classExternalId: 'c', subjectExternalId: 's', date: today, slot: 1 },
    ];
    for (let i = 0; i < n; i++) {
      records.push({ type: 'person', externalId: `p${i}`, role: 'pupil', lastName: 'Ученик', firstName: `У${i}`, classExternalId: 'c' });
      records.push({ type: 'person', externalId: `g${i}`, role: 'guardian', lastName: 'Родитель', firstName: `Р${i}`, pupilExternalIds: [`p${i}`] });
      records.push({ type: 'guardianship', externalId: `gp${i}`, guardianExternalId: `g${i}`, pupilExternalId: `p${i}` });
    }
    await applyBatch(o.pool, now, { connectionId: source, stream: 'roster', records });
    await o.pool.query(
      `INSERT INTO contact_point (school_id, person_id, channel, address, origin)
       SELECT $1, r.canonical_id, 'telegram', (2000000 + substr(r.external_id, 2)::int)::text, 'telegram_link' FROM external_ref r WHERE r.connection_id = $2 AND r.entity_type = 'person' AND r.external_id LIKE 'g%'`,
      [schoolId, source]);
    await o.pool.query(
      `INSERT INTO consent (school_id, person_id, channel, purpose, granted_at, method, granted_by) SELECT $1, person_id, 'telegram', 'marks', now(), 'telegram_link', 'bench' FROM contact_point WHERE school_id = $1`, [schoolId]);
    await drainConsumer(app, engine.consumer, schoolId);
    await engine.work();
    await feed.work(60);
    const latencies: number[] = [];
    for (let i = 0; i < n; i++) {
      const before = sim.sent().length;
      await applyBatch(app, now, { connectionId: source, stream: 'marks', afterEvents: feed.wake, records: [{ type: 'mark', externalId: `m${i}`, pupilExternalId: `p${i}`, lessonExternalId: 'l', value: '5' }] });
      const committed = Date.now();
      const t = performance.now();
      while (sim.sent().length === before && performance.now() - t < 30_000) await new Promise((r) => setTimeout(r, 10));
      latencies.push((sim.sent()[before]?.at ?? Date.now()) - committed);
    }
    latencies.sort((a, b) => a - b);
    const p95 = latencies[Math.ceil(latencies.length * 0.95) - 1]! / 1000;
    o.log(`latency, mark commit → sendMessage: median ${(latencies[Math.floor(latencies.length / 2)]! / 1000).toFixed(2)} s, p95 ${p95.toFixed(2)} s over ${n} marks`);
    return p95;
  } finally {
    await feed.stop();
    await engine.stop();
    await sim.close();
  }
}
