// The Telegram channel over the Bot API, plain HTTPS with global fetch. Shapes from core.telegram.org/bots/api
// ("Making requests": POST https://api.telegram.org/bot<token>/METHOD, JSON body, the answer
// {"ok": true, "result": …} or {"ok": false, "error_code", "description", "parameters": {"retry_after"}}),
// its sendMessage, getUpdates (offset = last update_id + 1; timeout for long polling; 409 while a webhook is
// set) and setWebhook (secret_token, echoed in X-Telegram-Bot-Api-Secret-Token), "Deep linking"
// (t.me/<bot>?start=<payload>, payload [A-Za-z0-9_-]{1,64}); error texts as clients meet them — "Forbidden:
// bot was blocked by the user", "Forbidden: user is deactivated", "Forbidden: bot can't initiate
// conversation with a user", "Bad Request: chat not found", "Too Many Requests: retry after N"
// (python-telegram-bot's error mapping, grammY's GrammyError with error_code and parameters). Not grammY
// itself: the rate limit and the retries are ours, shared by every process in Postgres (src/notify/rate.ts).
import { z } from 'zod';
import { ChannelError, type ChannelContext, type ChannelProvider, type OutgoingMessage, type SendResult } from './contract.js';

export const TelegramConfigSchema = z.object({
  /** The Bot API's root; the simulator's in the demo and tests. */
  apiRoot: z.url({ protocol: /^https?$/ }).default('https://api.telegram.org'),
  /** The bot's @username (without @): deep links point at it. */
  botUsername: z.string().regex(/^[A-Za-z0-9_]{3,64}$/, 'expected the bot’s username without @'),
  timeoutMs: z.number().int().min(100).max(120_000).default(15_000),
});
export type TelegramConfig = z.infer<typeof TelegramConfigSchema>;
export type TelegramSecrets = { token?: string };

/** Telegram's limit on a message's text. */
const MAX_TEXT = 4096;

interface BotAnswer<T> { ok: boolean; result?: T; error_code?: number; description?: string; parameters?: { retry_after?: number } }

/** One Bot API call; every failure a ChannelError that names the method, never the token, the chat or the text. */
async function call<T>(config: TelegramConfig, token: string | undefined, method: string, body: Record<string, unknown>, signal?: AbortSignal, extraMs = 0): Promise<T> {
  if (!token) throw new ChannelError('account', `telegram ${method}: no bot token configured`);
  const deadline = AbortSignal.timeout(config.timeoutMs + extraMs);
  let response: Response;
  try {
    response = await fetch(`${config.apiRoot.replace(/\/$/, '')}/bot${token}/${method}`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: signal ? AbortSignal.any([signal, deadline]) : deadline,
    });
  } catch (error) {
    const timedOut = deadline.aborted;
    throw new ChannelError('temporary', `telegram ${method}: ${timedOut ? 'timed out' : signal?.aborted ? 'aborted' : 'network error'}`, { code: timedOut ? 'timeout' : 'network', cause: error });
  }
  let answer: BotAnswer<T>;
  try {
    answer = (await response.json()) as BotAnswer<T>;
  } catch {
    throw new ChannelError('temporary', `telegram ${method}: HTTP ${response.status} without a Bot API answer`, { code: String(response.status) });
  }
  if (answer.ok && response.ok) return answer.result as T;
  const code = answer.error_code ?? response.status;
  const description = String(answer.description ?? '');
  // The descriptions are Telegram's fixed texts; only their start is kept (no chat or text is in them).
  const what = `telegram ${method}: ${code} ${description.slice(0, 80)}`.trim();
  if (code === 429) throw new ChannelError('rate_limited', what, { code: '429', retryAfterMs: Math.max(1, answer.parameters?.retry_after ?? 1) * 1000 });
  if (code === 403) throw new ChannelError('permanent', what, { code: '403', contactUnusable: true });
  if (code === 400 && /chat not found|user not found|chat_id is empty|PEER_ID_INVALID/i.test(description)) throw new ChannelError('permanent', what, { code: '400', contactUnusable: true });
  if (code === 401 || code === 404) throw new ChannelError('account', `telegram ${method}: ${code} (the bot token is not valid)`, { code: String(code) });
  if (code >= 500) throw new ChannelError('temporary', what, { code: String(code) });
  throw new ChannelError('permanent', what, { code: String(code) });
}

function configOf(ctx: ChannelContext<TelegramConfig, TelegramSecrets>): TelegramConfig {
  return TelegramConfigSchema.parse(ctx.config);
}

export const telegramProvider: ChannelProvider<TelegramConfig, TelegramSecrets> = {
  id: 'telegram',
  channel: 'telegram',
  title: 'Telegram Bot API',
  configSchema: TelegramConfigSchema as z.ZodType<TelegramConfig>,
  secretKeys: ['token'],
  async send(ctx, message: OutgoingMessage): Promise<SendResult> {
    if (!/^-?\d{1,20}$/.test(message.to)) throw new ChannelError('permanent', 'telegram sendMessage: the chat id is not a number', { code: 'chat-id', contactUnusable: true });
    const text = message.text.length > MAX_TEXT ? `${message.text.slice(0, MAX_TEXT - 1)}…` : message.text;
    const result = await call<{ message_id: number }>(configOf(ctx), ctx.secrets.token, 'sendMessage', {
      chat_id: message.to, text, link_preview_options: { is_disabled: true },
    }, ctx.signal);
    return { state: 'delivered', providerMessageId: String(result.message_id), raw: 'ok' };
  },
};

const UpdateSchema = z.object({
  update_id: z.number().int(),
  message: z.object({
    message_id: z.number().int(),
    date: z.number().int(),
    chat: z.object({ id: z.number().int(), type: z.string() }),
    from: z.object({ id: z.number().int(), is_bot: z.boolean().optional() }).optional(),
    text: z.string().optional(),
  }).optional(),
});
export type TelegramUpdate = z.infer<typeof UpdateSchema>;

/** A bot of one school: updates (long polling or webhook) and direct replies to a chat. */
export function telegramBot(config: TelegramConfig, secrets: TelegramSecrets) {
  const parsed = TelegramConfigSchema.parse(config);
  return {
    getMe: () => call<{ id: number; username?: string }>(parsed, secrets.token, 'getMe', {}),
    /** Updates after `offset` (long polling up to `timeoutSeconds`); an update of a shape not known is skipped, its id still confirmed. */
    async getUpdates(o: { offset?: number; timeoutSeconds: number; signal?: AbortSignal }): Promise<TelegramUpdate[]> {
      const raw = await call<unknown[]>(parsed, secrets.token, 'getUpdates', { offset: o.offset, timeout: o.timeoutSeconds, allowed_updates: ['message'] }, o.signal, o.timeoutSeconds * 1000);
      return (Array.isArray(raw) ? raw : []).flatMap((u) => {
        const update = UpdateSchema.safeParse(u);
        if (update.success) return [update.data];
        const id = (u as { update_id?: unknown })?.update_id;
        return typeof id === 'number' ? [{ update_id: id }] : [];
      });
    },
    setWebhook: (o: { url: string; secretToken: string }) => call<boolean>(parsed, secrets.token, 'setWebhook', { url: o.url, secret_token: o.secretToken, allowed_updates: ['message'] }),
    deleteWebhook: () => call<boolean>(parsed, secrets.token, 'deleteWebhook', {}),
    sendMessage: (chatId: string, text: string) => call<{ message_id: number }>(parsed, secrets.token, 'sendMessage', { chat_id: chatId, text: text.slice(0, MAX_TEXT) }),
  };
}

/** The deep link that opens the bot with `/start <token>`. */
export function deepLink(botUsername: string, token: string): string {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(token)) throw new Error('a deep-link payload is 1–64 characters of A–Z, a–z, 0–9, _ and -');
  return `https://t.me/${botUsername}?start=${token}`;
}
