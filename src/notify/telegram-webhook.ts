import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Pool } from '../db/pool.js';
import type { Clock } from '../lib/clock.js';
import type { SecretBox } from '../lib/secret-box.js';
import { PROVIDERS } from './channels/index.js';
import { telegramBot } from './channels/telegram.js';
import { handleBotText } from './telegram-link.js';

/**
 * Telegram updates by webhook (production): Telegram POSTs each update to
 * `/v1/telegram/{providerId}/webhook` with the `X-Telegram-Bot-Api-Secret-Token` given to setWebhook —
 * derived from the bot token (HMAC), so nothing more is stored; a request without it is refused (401)
 * before anything is read. Non-2xx answers make Telegram retry, so a handled update answers 200.
 */
export function webhookSecretOf(token: string): string {
  return createHmac('sha256', token).update('journal-bridge telegram webhook').digest('base64url');
}

export async function telegramWebhook(pool: Pool, clock: Clock, box: SecretBox, providerId: string, header: string | undefined, body: unknown): Promise<number> {
  const { rows } = await pool.query<{ school_id: string; config: Record<string, unknown>; secrets: Buffer | null }>(
    `SELECT school_id::text, config, secrets FROM notify_provider WHERE id = $1 AND channel = 'telegram' AND enabled`, [providerId]);
  const row = rows[0];
  if (!row?.secrets) return 404;
  const secrets = box.open(row.secrets) as Record<string, string>;
  const expected = Buffer.from(webhookSecretOf(secrets.token ?? ''));
  const given = Buffer.from(header ?? '');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 401;
  const update = body as { message?: { chat?: { id?: number | string }; text?: string } } | undefined;
  const chatId = update?.message?.chat?.id;
  const text = update?.message?.text;
  if (chatId === undefined || typeof text !== 'string') return 200;
  // The schools this bot serves (a municipality's bot may serve several).
  const { rows: sharing } = await pool.query<{ school_id: string; secrets: Buffer | null }>(
    `SELECT school_id::text, secrets FROM notify_provider WHERE channel = 'telegram' AND enabled AND config->>'botUsername' = $1`, [String(row.config.botUsername ?? '')]);
  const schools = sharing.filter((s) => s.secrets && (box.open(s.secrets) as Record<string, string>).token === secrets.token).map((s) => s.school_id);
  const { reply } = await handleBotText(pool, clock, schools, String(chatId), text);
  if (reply) {
    const bot = telegramBot(PROVIDERS.get('telegram')!.configSchema.parse(row.config) as never, secrets as never);
    await bot.sendMessage(String(chatId), reply).catch(() => undefined);
  }
  return 200;
}
