/*
 * Telegram Bot API channel: sendMessage for notifications, and a small bot client (getMe, getUpdates, webhooks,
 * deep links, commands) for linking a parent's chat with `/start <one-time token>`.
 *
 * Shapes, from public evidence:
 * - core.telegram.org/bots/api (mirrored in spontanurlaub/telegram-bot-api-log `api`): requests go to
 *   `https://api.telegram.org/bot<token>/METHOD_NAME`; every reply is `{ok, result}` or
 *   `{ok: false, error_code, description, parameters?: {retry_after, migrate_to_chat_id}}`; getUpdates takes
 *   `offset`, `limit`, `timeout`, `allowed_updates` and "will not work if an outgoing webhook is set up";
 *   setWebhook takes `url`, `secret_token` (sent back in `X-Telegram-Bot-Api-Secret-Token`), `drop_pending_updates`;
 *   sendMessage takes `chat_id`, `text` (1–4096 characters), `link_preview_options: {is_disabled}`.
 * - telegraf/telegraf lib/network/error.js and alirezasarami/Telegram-Bot-Library telebot/exceptions.py: the error
 *   envelope (`error_code`, `description`, `parameters.retry_after`) and the 400/401/403/429 split that clients map
 *   to BadRequest / Unauthorized / Forbidden / RetryAfter.
 * - pub.dev televerse 1.28.0 `LinkPreviewOptions.isDisabled` (Bot API 7.0 replaced `disable_web_page_preview` with
 *   `link_preview_options: {is_disabled: true}`).
 * - /work/shared/channels.md "Telegram Bot API": the 403 descriptions (blocked, deactivated, can't initiate), 400
 *   "chat not found", 409 while a webhook is set, the deep-link payload `[A-Za-z0-9_-]{1,64}`.
 * - 409 "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running" when a
 *   newer poll takes over (e.g. after a restart): lorcalhost/BTB-manager-telegram#69, pengrad/java-telegram-bot-api#261.
 *
 * Plain fetch, not grammY: rate limiting and retries belong to the outbox (shared across processes in Postgres),
 * so this file makes exactly one HTTP request per call and classifies its outcome as a ChannelError.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { ChannelError, type ChannelProvider } from './contract.js';

/** Per-school Telegram settings; the bot token is a secret (`token`), never part of the config. */
export const TelegramConfigSchema = z.object({
  apiRoot: z.url().default('https://api.telegram.org'),
  botUsername: z.string().regex(/^[A-Za-z0-9_]{3,32}$/).optional(),
  timeoutMs: z.number().int().positive().default(15_000),
});
export type TelegramConfig = z.infer<typeof TelegramConfigSchema>;

/** The one secret: the token BotFather gave (`123456:ABC…`); a school without one gets `account` errors, not a crash. */
export interface TelegramSecrets {
  token?: string;
}

/** Telegram's own cap on a message's text. */
export const TELEGRAM_TEXT_LIMIT = 4096;

const UserSchema = z.object({ id: z.number().int(), is_bot: z.boolean(), first_name: z.string(), username: z.string().optional() });
const ChatSchema = z.object({ id: z.number().int(), type: z.string() });
/** The part of a Telegram Message this service reads. */
export const TelegramMessageSchema = z.object({
  message_id: z.number().int(),
  chat: ChatSchema,
  from: UserSchema.optional(),
  text: z.string().optional(),
  date: z.number().int(),
});
export type TelegramMessage = z.infer<typeof TelegramMessageSchema>;
export type TelegramUser = z.infer<typeof UserSchema>;

/** An update: `message` when it is one (validated), any other kind kept (update_id still advances the offset) but ignored. */
export interface TelegramUpdate {
  update_id: number;
  message?: TelegramMessage;
}

const EnvelopeSchema = z.object({
  ok: z.boolean(),
  result: z.unknown().optional(),
  error_code: z.number().int().optional(),
  description: z.string().optional(),
  parameters: z.object({ retry_after: z.number().optional() }).optional(),
});

/** Descriptions Telegram sends as fixed strings: safe to repeat in an error (anything else may quote user input). */
const FIXED_DESCRIPTIONS = /^(Too Many Requests: retry after \d+|Forbidden: (bot was blocked by the user|user is deactivated|bot can't initiate conversation with a user|bot was kicked from the group chat)|Bad Request: (chat not found|user not found|message text is empty|message is too long)|Unauthorized|Not Found|Conflict: (can't use getUpdates method while webhook is active.*|terminated by other getUpdates request.*))$/;
const CONTACT_GONE_400 = /chat not found|user not found|PEER_ID_INVALID/i;

interface CallOptions {
  apiRoot: string;
  token: string | undefined;
  timeoutMs: number;
  signal?: AbortSignal;
}

/** Turns a Bot API error reply into a ChannelError by kind; the message names the method and code, never the chat or text. */
export function classifyTelegramError(method: string, errorCode: number, description = '', retryAfter?: number): ChannelError {
  const code = String(errorCode);
  const said = FIXED_DESCRIPTIONS.test(description) ? description : 'error';
  const message = `telegram ${method}: ${code} ${said}`;
  if (errorCode === 429) return new ChannelError('rate_limited', message, { code, retryAfterMs: Math.max(1, retryAfter ?? 1) * 1000 });
  if (errorCode === 401 || errorCode === 404) return new ChannelError('account', message, { code });
  // 409: a webhook is set (the bot's set-up is wrong), or a newer poll took over (another instance, or our own restart).
  if (errorCode === 409) return new ChannelError(/terminated by other getUpdates/.test(description) ? 'temporary' : 'account', message, { code });
  if (errorCode === 403) return new ChannelError('permanent', message, { code, contactUnusable: true });
  if (errorCode === 400) return new ChannelError('permanent', message, { code, contactUnusable: CONTACT_GONE_400.test(description) });
  if (errorCode >= 500) return new ChannelError('temporary', message, { code });
  return new ChannelError('permanent', message, { code });
}

/** One Bot API call: POST JSON to `${apiRoot}/bot${token}/${method}`; the URL (it holds the token) never reaches an error. */
async function callBotApi<T>(options: CallOptions, method: string, body: Record<string, unknown>, result: z.ZodType<T>, extraMs = 0): Promise<T> {
  if (!options.token) throw new ChannelError('account', `telegram ${method}: no bot token configured`, { code: 'no-token' });
  const deadline = AbortSignal.timeout(options.timeoutMs + extraMs);
  const signal = options.signal ? AbortSignal.any([options.signal, deadline]) : deadline;
  let response: Response;
  let text: string;
  try {
    response = await fetch(`${options.apiRoot.replace(/\/+$/, '')}/bot${options.token}/${method}`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal,
    });
    text = await response.text();
  } catch (error) {
    // Not the error itself as the cause: fetch's messages may quote the URL, and the URL holds the token.
    const reason = options.signal?.aborted ? 'aborted' : deadline.aborted ? 'timeout' : networkCode(error);
    throw new ChannelError('temporary', `telegram ${method}: ${reason}`, { code: reason });
  }
  const envelope = EnvelopeSchema.safeParse(parseJson(text));
  if (!envelope.success) throw new ChannelError('temporary', `telegram ${method}: HTTP ${response.status}, not a Bot API reply`, { code: String(response.status) });
  const reply = envelope.data;
  if (!reply.ok) throw classifyTelegramError(method, reply.error_code ?? response.status, reply.description, reply.parameters?.retry_after);
  const parsed = result.safeParse(reply.result);
  if (!parsed.success) throw new ChannelError('temporary', `telegram ${method}: unexpected result shape`, { code: 'shape' });
  return parsed.data;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function networkCode(error: unknown): string {
  // Duck-typed, not instanceof: fetch's errors may come from another realm (vm contexts, workers).
  const cause = typeof error === 'object' && error !== null ? (error as { cause?: { code?: unknown } }).cause : undefined;
  return typeof cause?.code === 'string' && /^[A-Z_]+$/.test(cause.code) ? cause.code : 'network error';
}

/** Cuts text to Telegram's 4096 UTF-16 units, never splitting a surrogate pair, marking the cut with an ellipsis. */
export function fitTelegramText(text: string): string {
  if (text.length <= TELEGRAM_TEXT_LIMIT) return text;
  let end = TELEGRAM_TEXT_LIMIT - 1;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}…`;
}

/** The bot client the linking flow and the demo use: the same HTTP path and error kinds as the provider. */
export interface TelegramBot {
  getMe(): Promise<TelegramUser>;
  /** Long polling: waits up to `timeoutSeconds` (0 = answer at once); `offset` = last update_id + 1 confirms earlier ones. */
  getUpdates(options?: { offset?: number; timeoutSeconds?: number; signal?: AbortSignal }): Promise<TelegramUpdate[]>;
  setWebhook(options: { url: string; secretToken: string }): Promise<void>;
  deleteWebhook(): Promise<void>;
  /** Plain text (no parse_mode), link previews off, cut to 4096. */
  sendMessage(chatId: string, text: string, signal?: AbortSignal): Promise<TelegramMessage>;
}

const UpdateHeadSchema = z.object({ update_id: z.number().int() });

function toUpdate(raw: unknown): TelegramUpdate {
  const head = UpdateHeadSchema.parse(raw);
  const message = TelegramMessageSchema.safeParse((raw as { message?: unknown }).message);
  return message.success ? { update_id: head.update_id, message: message.data } : { update_id: head.update_id };
}

const UpdatesSchema = z.array(z.unknown()).transform((list, ctx) => {
  try {
    return list.map(toUpdate);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'update without update_id' });
    return z.NEVER;
  }
});

/** Builds a bot client from a school's config (defaults applied here) and its token. */
export function telegramBot(config: z.input<typeof TelegramConfigSchema>, secrets: TelegramSecrets): TelegramBot {
  const { apiRoot, timeoutMs } = TelegramConfigSchema.parse(config);
  const call = <T>(method: string, body: Record<string, unknown>, result: z.ZodType<T>, signal?: AbortSignal, extraMs = 0) =>
    callBotApi({ apiRoot, token: secrets.token, timeoutMs, signal }, method, body, result, extraMs);
  return {
    getMe: () => call('getMe', {}, UserSchema),
    getUpdates: ({ offset, timeoutSeconds = 0, signal } = {}) =>
      call('getUpdates', { ...(offset === undefined ? {} : { offset }), timeout: timeoutSeconds, allowed_updates: ['message'] }, UpdatesSchema, signal, timeoutSeconds * 1000),
    setWebhook: async ({ url, secretToken }) => {
      if (!/^[A-Za-z0-9_-]{1,256}$/.test(secretToken)) throw new RangeError('telegram setWebhook: the secret token must be 1-256 of [A-Za-z0-9_-]');
      await call('setWebhook', { url, secret_token: secretToken, allowed_updates: ['message'] }, z.literal(true));
    },
    deleteWebhook: async () => void (await call('deleteWebhook', {}, z.literal(true))),
    sendMessage: (chatId, text, signal) =>
      call('sendMessage', { chat_id: chatId, text: fitTelegramText(text), link_preview_options: { is_disabled: true } }, TelegramMessageSchema, signal),
  };
}

/** The notification provider: one sendMessage per message; `to` is the chat id the parent's `/start` linked. */
export const telegramProvider: ChannelProvider<TelegramConfig, TelegramSecrets> = {
  id: 'telegram',
  channel: 'telegram',
  title: 'Telegram (Bot API)',
  configSchema: TelegramConfigSchema,
  secretKeys: ['token'],
  async send(ctx, message) {
    const sent = await telegramBot(ctx.config, ctx.secrets).sendMessage(message.to, message.text, ctx.signal);
    // A message_id is Telegram's word that the chat has the message: there is no later status to ask for.
    return { state: 'delivered', providerMessageId: String(sent.message_id), raw: 'ok' };
  },
};

const DEEP_LINK_TOKEN = /^[A-Za-z0-9_-]{1,64}$/;

/** `https://t.me/<bot>?start=<token>`: the link a parent opens to connect the chat; the token is one-time and random, never a person id. */
export function deepLink(botUsername: string, token: string): string {
  if (!/^[A-Za-z0-9_]{3,32}$/.test(botUsername)) throw new RangeError('telegram deep link: bad bot username');
  if (!DEEP_LINK_TOKEN.test(token)) throw new RangeError('telegram deep link: the start token must be 1-64 of [A-Za-z0-9_-]');
  return `https://t.me/${botUsername}?start=${token}`;
}

/** A bot command; the known ones are named, others pass through lower-cased. */
export type TelegramCommand = 'start' | 'stop' | 'marks' | 'absences' | 'help' | (string & {});

/**
 * Reads `/command[@BotName] [arg]` from a message text; undefined for plain text, or when `botUsername` is given
 * and the command names another bot (group chats).
 */
export function parseCommand(text: string, botUsername?: string): { command: TelegramCommand; arg?: string } | undefined {
  const match = /^\/([A-Za-z0-9_]{1,32})(?:@([A-Za-z0-9_]{3,32}))?(?:\s+([\s\S]*))?$/.exec(text.trim());
  if (!match) return undefined;
  const [, command, addressee, rest] = match;
  if (addressee && botUsername && addressee.toLowerCase() !== botUsername.toLowerCase()) return undefined;
  const arg = rest?.trim();
  return arg ? { command: command!.toLowerCase(), arg } : { command: command!.toLowerCase() };
}

/** Checks the X-Telegram-Bot-Api-Secret-Token header in constant time (hashes first, so lengths do not leak). */
export function verifyWebhookSecret(headerValue: string | string[] | undefined, expected: string): boolean {
  if (typeof headerValue !== 'string' || expected.length === 0) return false;
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(headerValue), digest(expected));
}
