/*
 * A Telegram Bot API simulator for tests and the demo: `/bot<token>/<method>` with JSON, urlencoded or query
 * parameters, the `{ok, result}` / `{ok: false, error_code, description, parameters}` envelope and the error
 * descriptions of core.telegram.org/bots/api and /work/shared/channels.md "Telegram Bot API". Simulated parents
 * write to the bot (updates for getUpdates or a webhook), block it or vanish; faults and Telegram's own flood
 * limits answer 429 with `parameters.retry_after`. Deviation: webhooks may be plain http on any port (loopback).
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import type { AddressInfo } from 'node:net';

/** A sendMessage that Telegram accepted. */
export interface SentRecord {
  at: number;
  chatId: string;
  text: string;
  messageId: number;
}

/** Every sendMessage that reached the bot, refused ones too: `at` when it arrived, `status` what it was answered (0: not yet, or never). */
export interface RequestRecord {
  at: number;
  chatId: string;
  text: string;
  messageId?: number;
  status: number;
}

export interface TelegramSimulatorOptions {
  port?: number;
  token: string;
  botUsername: string;
  /** Telegram's flood limits: over them the simulator answers 429 retry_after 1 itself. */
  limits?: { perSecond: number; perChatPerSecond: number };
  /** Accept sends to chats that never wrote to the bot (for tests that only measure rate). */
  openChats?: boolean;
  /** The clock of `at` and of the flood limits (default Date.now): tests of the limits pass their own. */
  now?: () => number;
  /** Pause before a failed webhook delivery is tried again (default 50 ms). */
  webhookRetryMs?: number;
}

type Update = { update_id: number } & Record<string, unknown>;
interface ChatState { blocked: boolean; deactivated: boolean }

const BOT_ID = 7_000_000_001;
const CONFLICT = "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first";
const TERMINATED = 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running';

/** Starts the simulator on 127.0.0.1 (`port: 0`: the OS picks). */
export async function startTelegramSimulator(options: TelegramSimulatorOptions) {
  const state = {
    chats: new Map<string, ChatState>(),
    updates: [] as Update[],
    nextUpdateId: 100_000,
    nextMessageId: 1,
    sent: [] as SentRecord[],
    requests: [] as RequestRecord[],
    hanging: new Set<Response>(),
    calls: [] as { method: string; params: Record<string, unknown> }[],
    throttled: [] as { at: number; chatId: string }[],
    webhook: undefined as { url: string; secretToken?: string } | undefined,
    deliveries: [] as { updateId: number; status: number; secretToken?: string }[],
    pumping: false,
    closed: false,
    waiters: new Set<() => void>(),
    /** Ends the long poll now waiting: Telegram answers an older poll 409 when a newer one arrives. */
    supersede: undefined as (() => void) | undefined,
    faults: { rateLimitOnce: undefined as number | undefined, failNext: 0, failStatus: 500, slowMs: 0, hang: false },
  };
  const clock = options.now ?? Date.now;
  const bot = { id: BOT_ID, is_bot: true, first_name: 'Journal Bridge', username: options.botUsername };

  const wake = () => {
    for (const waiter of [...state.waiters]) waiter();
    void pumpWebhook();
  };
  const enqueue = (update: Omit<Update, 'update_id'>) => {
    const full = { update_id: state.nextUpdateId++, ...update } as Update;
    state.updates.push(full);
    wake();
    return full.update_id;
  };
  const chatOf = (chatId: string) => {
    const chat = state.chats.get(chatId) ?? { blocked: false, deactivated: false };
    state.chats.set(chatId, chat);
    return chat;
  };
  const person = (chatId: string) => ({ id: Number(chatId), first_name: 'Parent' });

  async function pumpWebhook(): Promise<void> {
    if (state.pumping) return;
    state.pumping = true;
    try {
      while (!state.closed && state.webhook && state.updates.length > 0) {
        const { url, secretToken } = state.webhook;
        const update = state.updates[0]!;
        const status = await postUpdate(url, secretToken, update);
        state.deliveries.push({ updateId: update.update_id, status, ...(secretToken ? { secretToken } : {}) });
        if (status >= 200 && status < 300) state.updates.shift();
        else await new Promise((resolve) => setTimeout(resolve, options.webhookRetryMs ?? 50));
      }
    } finally {
      state.pumping = false;
    }
  }

  const app = express();
  app.use(express.json(), express.urlencoded({ extended: false }));
  app.all(/^\/bot([^/]+)\/([A-Za-z]+)$/, async (req: Request, res: Response) => {
    const params = { ...(req.query as Record<string, unknown>), ...((req.body ?? {}) as Record<string, unknown>) };
    const [token, method] = [(req.params as Record<string, string>)[0], (req.params as Record<string, string>)[1]!];
    if (token !== options.token) return fail(res, 401, 'Unauthorized');
    state.calls.push({ method, params });
    const handler = handlers[method];
    if (!handler) return fail(res, 404, 'Not Found');
    await handler(params, req, res);
  });
  app.use((_req: Request, res: Response) => fail(res, 404, 'Not Found'));
  app.use((_error: unknown, _req: Request, res: Response, _next: NextFunction) => fail(res, 400, "Bad Request: can't parse request body"));

  type Handler = (params: Record<string, unknown>, req: Request, res: Response) => void | Promise<void>;
  const handlers: Record<string, Handler> = {
    getMe: (_params, _req, res) => ok(res, bot),
    // Faults hit sendMessage only, so a bot's long poll running beside a test never takes one.
    sendMessage: async (params, _req, res) => {
      const chatId = String(params.chat_id ?? '');
      const text = typeof params.text === 'string' ? params.text : '';
      const record: RequestRecord = { at: clock(), chatId, text, status: 0 };
      state.requests.push(record);
      res.once('finish', () => void (record.status = res.statusCode));
      if (state.faults.hang) return void state.hanging.add(res); // never answered: the client's timeout must fire
      if (state.faults.slowMs > 0) await new Promise((resolve) => setTimeout(resolve, state.faults.slowMs));
      if (state.faults.failNext > 0) {
        state.faults.failNext -= 1;
        return fail(res, state.faults.failStatus, state.faults.failStatus === 502 ? 'Bad Gateway' : 'Internal Server Error');
      }
      if (!chatId) return fail(res, 400, 'Bad Request: chat_id is empty');
      if (!text.trim()) return fail(res, 400, 'Bad Request: message text is empty');
      if (text.length > 4096) return fail(res, 400, 'Bad Request: message is too long');
      const now = record.at;
      if (state.faults.rateLimitOnce !== undefined) {
        const retryAfter = state.faults.rateLimitOnce;
        state.faults.rateLimitOnce = undefined;
        return fail(res, 429, `Too Many Requests: retry after ${retryAfter}`, { retry_after: retryAfter });
      }
      if (options.limits && overLimits(state.sent, options.limits, chatId, now)) {
        state.throttled.push({ at: now, chatId });
        return fail(res, 429, 'Too Many Requests: retry after 1', { retry_after: 1 });
      }
      if (!/^-?[1-9]\d{0,19}$/.test(chatId)) return fail(res, 400, 'Bad Request: chat not found');
      const chat = state.chats.get(chatId);
      if (!chat && !options.openChats) return fail(res, 403, "Forbidden: bot can't initiate conversation with a user");
      if (chat?.deactivated) return fail(res, 403, 'Forbidden: user is deactivated');
      if (chat?.blocked) return fail(res, 403, 'Forbidden: bot was blocked by the user');
      const messageId = state.nextMessageId++;
      record.messageId = messageId;
      state.sent.push({ at: now, chatId, text, messageId });
      ok(res, { message_id: messageId, from: bot, chat: { id: Number(chatId), type: 'private', first_name: 'Parent' }, date: Math.floor(now / 1000), text });
    },
    getUpdates: async (params, _req, res) => {
      if (state.webhook) return fail(res, 409, CONFLICT);
      const offset = Number(params.offset ?? 0);
      if (offset > 0) state.updates = state.updates.filter((u) => u.update_id >= offset);
      const timeoutMs = Math.min(Number(params.timeout ?? 0), 50) * 1000;
      state.supersede?.();
      if (state.updates.length === 0 && timeoutMs > 0 && (await waitForUpdate(timeoutMs, res)) === 'superseded') return fail(res, 409, TERMINATED);
      if (state.webhook) return fail(res, 409, CONFLICT);
      ok(res, state.updates.slice(0, Math.min(Number(params.limit ?? 100), 100)));
    },
    setWebhook: (params, _req, res) => {
      const url = typeof params.url === 'string' ? params.url : '';
      const secretToken = typeof params.secret_token === 'string' && params.secret_token ? params.secret_token : undefined;
      if (secretToken && !/^[A-Za-z0-9_-]{1,256}$/.test(secretToken)) return fail(res, 400, 'Bad Request: secret token contains unallowed characters');
      if (String(params.drop_pending_updates) === 'true') state.updates = [];
      if (!url) {
        state.webhook = undefined;
        return ok(res, true, 'Webhook was deleted');
      }
      if (!/^https?:\/\//.test(url)) return fail(res, 400, 'Bad Request: bad webhook: An HTTPS URL must be provided for webhook');
      state.webhook = { url, ...(secretToken ? { secretToken } : {}) };
      ok(res, true, 'Webhook was set');
      wake();
    },
    deleteWebhook: (params, _req, res) => {
      const had = Boolean(state.webhook);
      state.webhook = undefined;
      if (String(params.drop_pending_updates) === 'true') state.updates = [];
      ok(res, true, had ? 'Webhook was deleted' : 'Webhook is already deleted');
    },
  };

  // The response's close, not the request's: a request closes once its body is read, a response when the client goes.
  function waitForUpdate(timeoutMs: number, res: Response): Promise<'woken' | 'superseded'> {
    return new Promise((resolve) => {
      const finish = (how: 'woken' | 'superseded') => {
        clearTimeout(timer);
        state.waiters.delete(done);
        res.off('close', done);
        if (state.supersede === supersede) state.supersede = undefined;
        resolve(how);
      };
      const done = () => finish('woken');
      const supersede = () => finish('superseded');
      const timer = setTimeout(done, timeoutMs);
      state.waiters.add(done);
      state.supersede = supersede;
      res.once('close', done);
    });
  }

  const server = app.listen(options.port ?? 0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    /** Give this as the provider's `apiRoot`. */
    apiRoot: url,
    url,
    token: options.token,
    botUsername: options.botUsername,
    config: (timeoutMs = 15_000) => ({ apiRoot: url, botUsername: options.botUsername, timeoutMs }),
    secrets: () => ({ token: options.token }),
    /** The user `chatId` types `text` to the bot (e.g. `/start <token>`); returns the update_id. */
    userSends: (chatIdOrNumber: string | number, text: string) => {
      const chatId = String(chatIdOrNumber);
      chatOf(chatId);
      const command = /^\/\S+/.exec(text)?.[0];
      const now = Math.floor(clock() / 1000);
      return enqueue({ message: {
        message_id: state.nextMessageId++, from: { ...person(chatId), is_bot: false }, chat: { ...person(chatId), type: 'private' }, date: now, text,
        ...(command ? { entities: [{ type: 'bot_command', offset: 0, length: command.length }] } : {}),
      } });
    },
    /** The user blocks the bot: later sends answer 403, and Telegram reports a my_chat_member update (not a message). */
    userBlocksBot: (chatIdOrNumber: string | number) => {
      const chatId = String(chatIdOrNumber);
      chatOf(chatId).blocked = true;
      const member = (status: string) => ({ user: bot, status });
      enqueue({ my_chat_member: { chat: { ...person(chatId), type: 'private' }, from: { ...person(chatId), is_bot: false }, date: Math.floor(clock() / 1000), old_chat_member: member('member'), new_chat_member: member('kicked') } });
    },
    deactivate: (chatId: string | number) => void (chatOf(String(chatId)).deactivated = true),
    /** The next sendMessage answers 429 with `parameters.retry_after`. */
    rateLimitOnce: (retryAfterSeconds: number) => void (state.faults.rateLimitOnce = retryAfterSeconds),
    /** The next `n` sendMessage requests answer `status` (500 or 502). */
    failNext: (n: number, status = 500) => void Object.assign(state.faults, { failNext: n, failStatus: status }),
    setSlowMs: (ms: number) => void (state.faults.slowMs = ms),
    /** While on, sendMessage requests are read and never answered; turning it off drops the held ones. */
    setHang: (on: boolean) => {
      state.faults.hang = on;
      if (!on) for (const res of state.hanging) res.destroy();
      if (!on) state.hanging.clear();
    },
    sent: () => state.sent.map((s) => ({ ...s })),
    /** Every sendMessage that reached the bot, refused ones (429, 403, faults) included, with the status answered. */
    requests: () => state.requests.map((r) => ({ ...r })),
    /** The 429s the flood limits (not `rateLimitOnce`) answered. */
    throttled: () => state.throttled.map((t) => ({ ...t })),
    /** Every Bot API call with a valid token: method and parameters as received. */
    calls: () => state.calls.map((c) => ({ ...c })),
    /** Long polls waiting for an update now. */
    waitingPolls: () => state.waiters.size,
    webhookDeliveries: () => state.deliveries.map((d) => ({ ...d })),
    pendingUpdates: () => state.updates.length,
    webhook: () => (state.webhook ? { ...state.webhook } : undefined),
    /** The most sendMessage requests (accepted or refused: what the client did) that arrived within any window of `ms`. */
    maxInWindow: (ms: number) => maxInWindow(state.requests.map((r) => r.at), ms),
    /** The least time between two sendMessage requests to one chat (Infinity when no chat got two). */
    minGapPerChat: () => minGapPerChat(state.requests),
    close: async () => {
      state.closed = true;
      wake();
      for (const res of state.hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** What startTelegramSimulator returns. */
export type TelegramSimulator = Awaited<ReturnType<typeof startTelegramSimulator>>;

/** The most timestamps inside any half-open window [t, t + ms) — how bursty the sends were. */
export function maxInWindow(times: readonly number[], ms: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let start = 0, end = 0; start < sorted.length; start += 1) {
    while (end < sorted.length && sorted[end]! - sorted[start]! < ms) end += 1;
    best = Math.max(best, end - start);
  }
  return best;
}

/** The shortest gap in ms between two consecutive sends to the same chat; Infinity when no chat got two. */
export function minGapPerChat(sent: readonly Pick<SentRecord, 'at' | 'chatId'>[]): number {
  const last = new Map<string, number>();
  let best = Infinity;
  for (const { at, chatId } of [...sent].sort((a, b) => a.at - b.at)) {
    const previous = last.get(chatId);
    if (previous !== undefined) best = Math.min(best, at - previous);
    last.set(chatId, at);
  }
  return best;
}

/** A parent in the demo: opens the bot's deep link (sends `/start <payload>`) and reads the texts the bot sent. */
export function simulatedParent(sim: TelegramSimulator, chatIdOrNumber: string | number) {
  const chatId = String(chatIdOrNumber);
  return {
    chatId,
    link: (deepLinkUrl: string) => {
      const url = new URL(deepLinkUrl);
      const payload = url.searchParams.get('start') ?? '';
      if (url.hostname !== 't.me' || url.pathname !== `/${sim.botUsername}` || !/^[A-Za-z0-9_-]{1,64}$/.test(payload)) {
        throw new RangeError('simulated parent: not a deep link to this bot');
      }
      return sim.userSends(chatId, `/start ${payload}`);
    },
    say: (text: string) => sim.userSends(chatId, text),
    blockBot: () => sim.userBlocksBot(chatId),
    inbox: () => sim.sent().filter((s) => s.chatId === chatId).map((s) => s.text),
  };
}

function overLimits(sent: readonly SentRecord[], limits: { perSecond: number; perChatPerSecond: number }, chatId: string, now: number): boolean {
  let all = 0;
  let chat = 0;
  for (let i = sent.length - 1; i >= 0 && now - sent[i]!.at < 1000; i -= 1) {
    all += 1;
    if (sent[i]!.chatId === chatId) chat += 1;
  }
  return all >= limits.perSecond || chat >= limits.perChatPerSecond;
}

async function postUpdate(url: string, secretToken: string | undefined, update: Update): Promise<number> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(secretToken ? { 'x-telegram-bot-api-secret-token': secretToken } : {}) },
      body: JSON.stringify(update),
      signal: AbortSignal.timeout(10_000),
    });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return 0;
  }
}

function ok(res: Response, result: unknown, description?: string): void {
  res.json({ ok: true, result, ...(description ? { description } : {}) });
}

function fail(res: Response, code: number, description: string, parameters?: Record<string, number>): void {
  res.status(code).json({ ok: false, error_code: code, description, ...(parameters ? { parameters } : {}) });
}
