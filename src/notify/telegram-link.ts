import { createHash, randomBytes } from 'node:crypto';
import { withTransaction, type Pool, type PoolClient } from '../db/pool.js';
import type { Clock } from '../lib/clock.js';
import { shiftDays, todayIn } from '../lib/dates.js';
import { NotFoundError, ValidationError } from '../lib/errors.js';
import { deepLink } from './channels/telegram.js';
import { PURPOSES } from './policy.js';
import { loadNotifySchool } from './school.js';

/**
 * Linking a parent's Telegram chat (reliability.md 9): the school makes a one-time deep link
 * `https://t.me/<bot>?start=<token>` for one person — 256 random bits, base64url (43 characters), valid 15
 * minutes, only its SHA-256 stored. The parent opens it and Telegram sends the bot `/start <token>`:
 * the token is checked (`^[A-Za-z0-9_-]{1,64}$`, known, unused, unexpired), marked used by that chat, and the
 * chat becomes the person's Telegram contact with consent (method `telegram_link`, the chat as evidence)
 * for marks, attendance and reports. A reused, expired or malformed token links nothing. `/stop`
 * unlinks: the contact becomes unusable and the consents are withdrawn, so nothing more goes to that chat.
 * `/marks` and `/absences` answer a linked parent with their children's week.
 */
export const LINK_TTL_MS = 15 * 60_000;
const PAYLOAD = /^[A-Za-z0-9_-]{1,64}$/;
const hashOf = (token: string) => createHash('sha256').update(token).digest();

export async function createLinkToken(
  pool: Pool, clock: Clock, input: { schoolId: string; personId: string; createdBy: string },
): Promise<{ token: string; url: string; expiresAt: Date }> {
  const { rows } = await pool.query<{ bot: string | null }>(
    `SELECT (SELECT config->>'botUsername' FROM notify_provider WHERE school_id = $1 AND channel = 'telegram' AND enabled) AS bot
       FROM person WHERE school_id = $1 AND id = $2 AND deleted_at IS NULL`, [input.schoolId, input.personId]);
  if (!rows[0]) throw new NotFoundError('person');
  if (!rows[0].bot) throw new ValidationError('the school has no Telegram bot (a telegram provider with botUsername)');
  const token = randomBytes(32).toString('base64url');
  const expiresAt = new Date(clock.now().getTime() + LINK_TTL_MS);
  await pool.query(
    `INSERT INTO telegram_link_token (school_id, token_hash, person_id, expires_at, created_by) VALUES ($1, $2, $3, $4, $5)`,
    [input.schoolId, hashOf(token), input.personId, expiresAt, input.createdBy],
  );
  return { token, url: deepLink(rows[0].bot, token), expiresAt };
}

export type LinkOutcome = 'linked' | 'refused' | 'unlinked' | 'not_linked' | 'answered' | 'ignored';

/**
 * One text a chat sent the bot: what it did, and the reply to send back. `schools` are the schools whose
 * provider is this bot (one, or several when a municipality runs one bot for its schools): a token is
 * looked for among their tokens, a chat among their contacts.
 */
export async function handleBotText(
  pool: Pool, clock: Clock, schools: string | readonly string[], chatId: string, text: string,
): Promise<{ outcome: LinkOutcome; reply?: string }> {
  const schoolIds = typeof schools === 'string' ? [schools] : [...schools];
  const match = /^\/(start|stop|marks|absences|help)(?:@\w+)?(?:\s+(\S+))?\s*$/.exec(text.trim());
  if (!match) return { outcome: 'ignored', reply: 'Команды: /marks — отметки за неделю, /absences — пропуски, /stop — отключить уведомления.' };
  const [, command, arg] = match;
  if (command === 'start') return arg ? link(pool, clock, schoolIds, chatId, arg) : { outcome: 'refused', reply: 'Откройте ссылку, которую выдала школа, чтобы подключить уведомления.' };
  if (command === 'stop') return unlink(pool, clock, schoolIds, chatId);
  if (command === 'help') return { outcome: 'answered', reply: 'Команды: /marks — отметки за неделю, /absences — пропуски, /stop — отключить уведомления.' };
  const parent = await linkedPerson(pool, schoolIds, chatId);
  if (!parent) return { outcome: 'not_linked', reply: 'Этот чат не подключён. Откройте ссылку, которую выдала школа.' };
  return { outcome: 'answered', reply: await weekOf(pool, clock, parent.schoolId, parent.personId, command === 'marks' ? 'marks' : 'absences') };
}

async function link(pool: Pool, clock: Clock, schoolIds: string[], chatId: string, token: string): Promise<{ outcome: LinkOutcome; reply: string }> {
  const refused = { outcome: 'refused' as const, reply: 'Ссылка недействительна или устарела. Попросите в школе новую.' };
  if (!PAYLOAD.test(token)) return refused;
  return withTransaction(pool, async (client) => {
    const { rows } = await client.query<{ school_id: string; person_id: string }>(
      `UPDATE telegram_link_token SET used_at = $4, used_chat = $3
        WHERE school_id = ANY($1::uuid[]) AND token_hash = $2 AND used_at IS NULL AND expires_at > $4 RETURNING school_id::text, person_id::text`,
      [schoolIds, hashOf(token), chatId, clock.now()],
    );
    const personId = rows[0]?.person_id;
    const schoolId = rows[0]?.school_id;
    if (!personId || !schoolId) return refused;
    // One chat is one person's: a chat linked before to someone else is theirs no more.
    await client.query(
      `UPDATE contact_point SET usable = false, unusable_reason = 'linked to another person', unusable_at = now(), updated_at = now()
        WHERE school_id = $1 AND channel = 'telegram' AND address = $2 AND person_id <> $3 AND usable`, [schoolId, chatId, personId]);
    await client.query(
      `INSERT INTO contact_point (school_id, person_id, channel, address, origin) VALUES ($1, $2, 'telegram', $3, 'telegram_link')
       ON CONFLICT (school_id, person_id, channel, address) DO UPDATE SET usable = true, unusable_reason = NULL, unusable_at = NULL, updated_at = now()`,
      [schoolId, personId, chatId]);
    for (const purpose of PURPOSES.filter((p) => p !== 'announcements')) {
      await client.query(
        `INSERT INTO consent (school_id, person_id, channel, purpose, granted_at, method, evidence, granted_by)
         VALUES ($1, $2, 'telegram', $3, $4, 'telegram_link', $5, 'the person (Telegram /start)')
         ON CONFLICT (school_id, person_id, channel, purpose) WHERE withdrawn_at IS NULL DO NOTHING`,
        [schoolId, personId, purpose, clock.now(), `chat ${chatId}`]);
    }
    return { outcome: 'linked' as const, reply: 'Готово: уведомления школы будут приходить в этот чат. /stop — отключить.' };
  });
}

async function unlink(pool: Pool, clock: Clock, schoolIds: string[], chatId: string): Promise<{ outcome: LinkOutcome; reply: string }> {
  return withTransaction(pool, async (client) => {
    const { rows } = await client.query<{ school_id: string; person_id: string }>(
      `UPDATE contact_point SET usable = false, unusable_reason = 'unlinked by the person (/stop)', unusable_at = now(), updated_at = now()
        WHERE school_id = ANY($1::uuid[]) AND channel = 'telegram' AND address = $2 AND usable RETURNING school_id::text, person_id::text`, [schoolIds, chatId]);
    if (rows.length === 0) return { outcome: 'not_linked' as const, reply: 'Этот чат не был подключён.' };
    for (const row of rows) await withdrawTelegram(client, clock, row.school_id, [row.person_id]);
    return { outcome: 'unlinked' as const, reply: 'Уведомления в этот чат отключены.' };
  });
}

async function withdrawTelegram(client: PoolClient, clock: Clock, schoolId: string, personIds: string[]): Promise<void> {
  await client.query(
    `UPDATE consent SET withdrawn_at = $3, withdrawn_by = 'the person (Telegram /stop)'
      WHERE school_id = $1 AND person_id = ANY($2::uuid[]) AND channel = 'telegram' AND withdrawn_at IS NULL`, [schoolId, personIds, clock.now()]);
}

async function linkedPerson(pool: Pool, schoolIds: string[], chatId: string): Promise<{ schoolId: string; personId: string } | undefined> {
  const { rows } = await pool.query<{ school_id: string; person_id: string }>(
    `SELECT school_id::text, person_id::text FROM contact_point WHERE school_id = ANY($1::uuid[]) AND channel = 'telegram' AND address = $2 AND usable
      ORDER BY updated_at DESC LIMIT 1`, [schoolIds, chatId]);
  return rows[0] ? { schoolId: rows[0].school_id, personId: rows[0].person_id } : undefined;
}

/** The parent's children's marks (or absences) from Monday of this week to today, from the school's news source. */
async function weekOf(pool: Pool, clock: Clock, schoolId: string, parentId: string, what: 'marks' | 'absences'): Promise<string> {
  const school = await loadNotifySchool(pool, schoolId);
  if (!school?.newsSourceId) return 'Журнал школы пока пуст.';
  const today = todayIn(school.timeZone, clock.now());
  const weekday = (new Date(`${today}T00:00:00Z`).getUTCDay() + 6) % 7;
  const monday = shiftDays(today, -weekday);
  const ddmm = (d: string) => `${d.slice(8, 10)}.${d.slice(5, 7)}`;
  const { rows } = what === 'marks'
    ? await pool.query<{ first_name: string; line: string }>(
      `SELECT p.first_name, s.name || ': ' || string_agg(m.raw, ' ' ORDER BY m.date, m.created_at) AS line
         FROM guardianship g JOIN person p ON p.id = g.pupil_id JOIN mark m ON m.school_id = g.school_id AND m.pupil_id = g.pupil_id
         JOIN subject s ON s.id = m.subject_id
        WHERE g.school_id = $1 AND g.guardian_id = $2 AND g.deleted_at IS NULL AND m.source_id = $3 AND m.deleted_at IS NULL AND m.date BETWEEN $4 AND $5
        GROUP BY p.first_name, g.pupil_id, s.name ORDER BY p.first_name, s.name`, [schoolId, parentId, school.newsSourceId, monday, today])
    : await pool.query<{ first_name: string; line: string }>(
      `SELECT p.first_name, to_char(a.date, 'DD.MM') || ' ' || s.name || ' (' || a.raw || ')' AS line
         FROM guardianship g JOIN person p ON p.id = g.pupil_id JOIN attendance a ON a.school_id = g.school_id AND a.pupil_id = g.pupil_id
         JOIN lesson l ON l.id = a.lesson_id JOIN subject s ON s.id = l.subject_id
        WHERE g.school_id = $1 AND g.guardian_id = $2 AND g.deleted_at IS NULL AND a.source_id = $3 AND a.deleted_at IS NULL AND a.date BETWEEN $4 AND $5
          AND a.kind IN ('ill', 'valid', 'unexcused', 'unknown', 'late')
        ORDER BY p.first_name, a.date, l.slot`, [schoolId, parentId, school.newsSourceId, monday, today]);
  const title = what === 'marks' ? `Отметки с ${ddmm(monday)} по ${ddmm(today)}` : `Пропуски с ${ddmm(monday)} по ${ddmm(today)}`;
  if (rows.length === 0) return `${title}: нет.`;
  const lines: string[] = [title];
  let current = '';
  for (const r of rows) {
    if (r.first_name !== current) lines.push(`\n${(current = r.first_name)}:`);
    lines.push(r.line);
  }
  return lines.join('\n').slice(0, 4000);
}
