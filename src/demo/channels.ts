import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { withTransaction, type Pool } from '../db/pool.js';
import type { Clock } from '../lib/clock.js';
import { describeError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import type { SecretBox } from '../lib/secret-box.js';
import type { TargetPolicy } from '../lib/net-targets.js';
import { CHANNELS } from '../notify/policy.js';
import { putPolicy, putProvider } from '../notify/service.js';
import { createLinkToken } from '../notify/telegram-link.js';
import type { SmsGatewaySimulator } from '../notify/simulators/sms-gateway.js';
import { startSmscSimulator, type SmscFaults } from '../notify/simulators/smsc.js';
import { startSmtpSimulator, type SmtpSimulator } from '../notify/simulators/smtp.js';
import { simulatedParent, startTelegramSimulator, type TelegramSimulator } from '../notify/simulators/telegram.js';

/**
 * The demo's delivery side: a local SMTP server that keeps mail (DKIM-signed by the demo school's key), a
 * Telegram Bot API simulator with parents who link their chats by the school's deep link, and an SMSC.ru
 * simulator — the demo school's providers point at them (again on every start: new ports). The first
 * start also records the demo parents' consents as a school would from its paper forms: most by e-mail,
 * some by SMS, a few none at all (their messages are `skipped`, and the outbox says why), a few on the
 * daily digest; two school-entered addresses show a hard bounce (bad@) and a soft one (full@) with the
 * fallback to the next channel. The demo turns quiet hours off so that its messages show at any hour
 * (a school's default is 21:00–08:00).
 */
export interface DemoChannels {
  outbox(): DemoOutbox;
  close(): Promise<void>;
}

export interface DemoOutbox {
  email: Array<{ to: string[]; subject?: string; text?: string; dkim: boolean; receivedAt: string }>;
  telegram: Array<{ chatId: string; text: string; at: string }>;
  sms: Array<{ phone: string; text: string; state: string }>;
}

const BOT = 'journal_bridge_demo_bot';
const DOMAIN = 'school.example.org';
/** How many demo parents link Telegram on the first start. */
const LINKED = 3;

export async function startDemoChannels(
  deps: { pool: Pool; clock: Clock; logger: Logger; box: SecretBox; targets?: TargetPolicy }, schoolId: string,
): Promise<DemoChannels> {
  const smtp: SmtpSimulator = await startSmtpSimulator();
  const token = `${100000 + (randomBytes(2).readUInt16BE() % 899999)}:${randomBytes(24).toString('base64url')}`;
  const telegram: TelegramSimulator = await startTelegramSimulator({ port: 0, token, botUsername: BOT, limits: { perSecond: 30, perChatPerSecond: 1 } });
  const smsc: SmsGatewaySimulator<SmscFaults> = await startSmscSimulator({ port: 0, login: 'demo', psw: 'demo-password', deliverAfterMs: 3000 });
  try {
    // Loopback is refused to providers as to connections: the demo allows exactly its own simulators.
    for (const url of [`https://${smtp.host}:${smtp.port}`, telegram.url, smsc.url]) deps.targets?.allowOrigin(url);
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    await putProvider(deps.pool, deps.box, schoolId, 'email', {
      provider: 'smtp', title: 'Демо · локальный SMTP',
      config: {
        host: smtp.host, port: smtp.port, secure: false, requireTLS: false, allowInsecure: true,
        from: { address: `journal@${DOMAIN}`, name: 'Школа: электронный журнал' }, bounceAddress: `bounces@${DOMAIN}`,
        dkim: { domainName: DOMAIN, keySelector: 'demo' },
      },
      secrets: { dkimPrivateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() },
    }, deps.targets);
    await putProvider(deps.pool, deps.box, schoolId, 'telegram', {
      provider: 'telegram', title: 'Демо · Telegram-бот (симулятор)', config: { apiRoot: telegram.url, botUsername: BOT }, secrets: { token },
    }, deps.targets);
    await putProvider(deps.pool, deps.box, schoolId, 'sms', {
      provider: 'smsc', title: 'Демо · SMSC.ru (симулятор)', config: { baseUrl: smsc.url, sender: 'SCHOOL' }, secrets: { login: 'demo', psw: 'demo-password' },
    }, deps.targets);
    const first = await firstStart(deps.pool, schoolId);
    if (first) {
      await putPolicy(deps.pool, schoolId, { quietHours: { from: '00:00', to: '00:00' } });
      await recordConsents(deps.pool, schoolId);
      void linkSomeParents(deps, schoolId, telegram).catch((error: unknown) => deps.logger.warn({ error: describeError(error) }, 'demo: the simulated parents did not link Telegram'));
    }
    deps.logger.info({ smtp: `${smtp.host}:${smtp.port}`, botApi: telegram.url, smsc: smsc.url }, 'demo delivery simulators started (GET /v1/demo/outbox shows what they received)');
  } catch (error) {
    await Promise.allSettled([smtp.close(), telegram.close(), smsc.close()]);
    throw error;
  }
  return {
    outbox: () => ({
      email: smtp.messages().slice(-200).map((m) => ({
        to: m.envelope.to, subject: m.subject, text: m.text, dkim: m.headers.has('dkim-signature'), receivedAt: m.receivedAt.toISOString(),
      })),
      telegram: telegram.sent().slice(-200).map((s) => ({ chatId: String(s.chatId), text: s.text, at: new Date(s.at).toISOString() })),
      sms: smsc.messages().slice(-200).map((m) => ({ phone: m.phone, text: m.text, state: String(m.state) })),
    }),
    close: async () => void (await Promise.allSettled([smtp.close(), telegram.close(), smsc.close()])),
  };
}

/** Whether the demo school has no consents yet (the first start). */
async function firstStart(pool: Pool, schoolId: string): Promise<boolean> {
  const { rowCount } = await pool.query('SELECT 1 FROM consent WHERE school_id = $1 LIMIT 1', [schoolId]);
  return !rowCount;
}

/**
 * The paper forms of the demo parents, by their number in the school: 6 in 10 by e-mail, 3 in 10 by SMS
 * (for marks and absences), 1 in 10 none; every 8th on the daily digest. Two parents get a school-entered
 * address that bounces (bad@ hard, full@ soft) ahead of their platform one.
 */
async function recordConsents(pool: Pool, schoolId: string): Promise<void> {
  await withTransaction(pool, async (client) => {
    const { rows } = await client.query<{ id: string; n: number }>(
      `SELECT p.id::text, (row_number() OVER (ORDER BY p.name_key, p.id))::int AS n FROM person p
        WHERE p.school_id = $1 AND p.deleted_at IS NULL AND EXISTS (SELECT 1 FROM guardianship g WHERE g.guardian_id = p.id AND g.deleted_at IS NULL)`, [schoolId]);
    const email = rows.filter((r) => r.n % 10 < 6).map((r) => r.id);
    const sms = rows.filter((r) => r.n % 10 >= 6 && r.n % 10 < 9).map((r) => r.id);
    const insert = (ids: string[], channel: string, purposes: string[]) => client.query(
      `INSERT INTO consent (school_id, person_id, channel, purpose, granted_at, method, evidence, granted_by)
       SELECT $1, p, $3, u, now(), 'paper_form', 'заявление № ' || (1000 + n), 'классный руководитель' FROM unnest($2::uuid[]) WITH ORDINALITY AS x(p, n), unnest($4::text[]) AS u
       ON CONFLICT DO NOTHING`, [schoolId, ids, channel, purposes]);
    await insert(email, 'email', ['marks', 'attendance', 'reports']);
    await insert(sms, 'sms', ['marks', 'attendance']);
    // The SMS parents may also be written to by e-mail for reports: the fallback has somewhere to go.
    await insert(sms, 'email', ['reports']);
    await client.query(
      `INSERT INTO notify_preference (school_id, person_id, channels, marks) SELECT $1, p, $3::text[], 'digest' FROM unnest($2::uuid[]) AS p ON CONFLICT DO NOTHING`,
      [schoolId, rows.filter((r) => r.n % 8 === 0).map((r) => r.id), [...CHANNELS]]);
    const [hard, soft] = email;
    for (const [id, address] of [[hard, `bad@${DOMAIN}`], [soft, `full@${DOMAIN}`]] as const) {
      if (!id) continue;
      await client.query(`INSERT INTO contact_point (school_id, person_id, channel, address, origin) VALUES ($1, $2, 'email', $3, 'school') ON CONFLICT DO NOTHING`, [schoolId, id, address]);
      await client.query(`INSERT INTO consent (school_id, person_id, channel, purpose, granted_at, method, evidence, granted_by)
                          VALUES ($1, $2, 'sms', 'marks', now(), 'paper_form', 'заявление (SMS)', 'классный руководитель') ON CONFLICT DO NOTHING`, [schoolId, id]);
    }
  });
}

/** A few parents open the school's deep link in Telegram, as a parent would: their chats are linked by `/start <token>`. */
async function linkSomeParents(deps: { pool: Pool; clock: Clock }, schoolId: string, sim: TelegramSimulator): Promise<void> {
  const { rows } = await deps.pool.query<{ id: string }>(
    `SELECT p.id::text FROM person p WHERE p.school_id = $1 AND p.deleted_at IS NULL
        AND EXISTS (SELECT 1 FROM guardianship g WHERE g.guardian_id = p.id AND g.deleted_at IS NULL)
      ORDER BY p.name_key DESC, p.id LIMIT $2`, [schoolId, LINKED]);
  for (const [i, row] of rows.entries()) {
    const link = await createLinkToken(deps.pool, deps.clock, { schoolId, personId: row.id, createdBy: 'demo' });
    await simulatedParent(sim, 700000001 + i).link(link.url);
  }
}
