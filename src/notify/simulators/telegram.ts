// A Telegram Bot API simulator for the demo and the tests: the methods and answers of core.telegram.org/bots/api
// that the channel uses (sendMessage, getUpdates with offset and long polling, setWebhook with secret_token,
// deleteWebhook, getMe), Telegram's error answers ({"ok":false,"error_code","description","parameters"}) and
// its limits (about 30 messages/s per bot, 1/s per chat: 429 with retry_after when exceeded, if asked to).
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Request, type Response } from 'express';

export interface TelegramSimulatorOptions {
  port?: number;
  token: string;
  botUsername: string;
  /** Chats that never wrote to the bot may be written to (tests that only measure rates); otherwise 403 as Telegram does. */
  openChats?: boolean;
  /** Answer 429 (retry_after 1) past these rates, as Telegram does. */
  limits?: { perSecond: number; perChatPerSecond: number };
}

/** One sendMessage the simulator saw: `at` when it arrived (ms), `status` what it answered (0: not yet, or never). */
export interface SentRecord { at: number; chatId: string; text: string; messageId?: number; status: number }

export interface TelegramSimulator {
  url: string;
  /** Messages delivered (answered ok), oldest first. */
  sent(): SentRecord[];
  /** Every sendMessage request, refused ones included. */
  requests(): SentRecord[];
  /** The most sendMessage requests that arrived within any window of `ms`. */
  maxInWindow(ms: number): number;
  /** The least time between two requests to one chat (Infinity when no chat got two). */
  minGapPerChat(): number;
  /** A user writes to the bot (it becomes a known chat): an update for getUpdates or the webhook. */
  userSends(chatId: number | string, text: string): void;
  userBlocksBot(chatId: number | string): void;
  deactivate(chatId: number | string): void;
  /** The next sendMessage is answered 429 with this retry_after. */
  rateLimitOnce(retryAfterSeconds: number): void;
  /** The next `n` sendMessage requests are answered with this HTTP status (500, 502). */
  failNext(n: number, status?: number): void;
  setSlowMs(ms: number): void;
  /** sendMessage requests are read and never answered (true) until cleared. */
  setHang(hang: boolean): void;
  webhook(): { url: string; secretToken?: string } | undefined;
  close(): Promise<void>;
}

const denied = (res: Response, code: number, description: string, parameters?: Record<string, unknown>) =>
  res.status(code).json({ ok: false, error_code: code, description, ...(parameters ? { parameters } : {}) });

export async function startTelegramSimulator(options: TelegramSimulatorOptions): Promise<TelegramSimulator> {
  const requests: SentRecord[] = [];
  const known = new Set<string>();
  const blocked = new Map<string, string>();
  const updates: Array<{ update_id: number; message: Record<string, unknown> }> = [];
  const waiting = new Set<() => void>();
  const hanging = new Set<Response>();
  let nextUpdate = 1;
  let nextMessage = 1;
  let confirmed = 0;
  let rateLimit: number | undefined;
  let failures: { n: number; status: number } = { n: 0, status: 500 };
  let slowMs = 0;
  let hang = false;
  let hook: { url: string; secretToken?: string } | undefined;

  const app = express();
  app.use(express.json({ limit: '1mb' }), express.urlencoded({ extended: false }));
  app.all('/bot:token/:method', async (req: Request, res: Response) => {
    if (req.params.token !== options.token) return denied(res, 401, 'Unauthorized');
    const body = { ...(req.query as Record<string, unknown>), ...((req.body ?? {}) as Record<string, unknown>) };
    switch (req.params.method) {
      case 'getMe':
        return res.json({ ok: true, result: { id: Number(options.token.split(':')[0]) || 1, is_bot: true, first_name: 'Школа', username: options.botUsername } });
      case 'sendMessage':
        return sendMessage(body, res);
      case 'getUpdates':
        return getUpdates(body, res);
      case 'setWebhook':
        hook = { url: String(body.url ?? ''), secretToken: body.secret_token === undefined ? undefined : String(body.secret_token) };
        return res.json({ ok: true, result: true, description: 'Webhook was set' });
      case 'deleteWebhook':
        hook = undefined;
        return res.json({ ok: true, result: true, description: 'Webhook was deleted' });
      default:
        return denied(res, 404, 'Not Found');
    }
  });

  async function sendMessage(body: Record<string, unknown>, res: Response) {
    const at = Date.now();
    const chatId = String(body.chat_id ?? '');
    const text = String(body.text ?? '');
    const record: SentRecord = { at, chatId, text, status: 0 };
    requests.push(record);
    if (hang) {
      hanging.add(res);
      return;
    }
    if (slowMs > 0) await new Promise((r) => setTimeout(r, slowMs));
    const refuse = (status: number, description: string, parameters?: Record<string, unknown>) => {
      record.status = status;
      return denied(res, status, description, parameters);
    };
    if (failures.n > 0) {
      failures.n -= 1;
      return refuse(failures.status, 'Internal Server Error');
    }
    if (rateLimit !== undefined) {
      const retryAfter = rateLimit;
      rateLimit = undefined;
      return refuse(429, `Too Many Requests: retry after ${retryAfter}`, { retry_after: retryAfter });
    }
    if (!chatId || !/^-?\d+$/.test(chatId)) return refuse(400, 'Bad Request: chat not found');
    if (!text) return refuse(400, 'Bad Request: message text is empty');
    if (text.length > 4096) return refuse(400, 'Bad Request: message is too long');
    if (blocked.has(chatId)) return refuse(403, blocked.get(chatId)!);
    if (!known.has(chatId) && !options.openChats) return refuse(403, "Forbidden: bot can't initiate conversation with a user");
    if (options.limits) {
      const ok = requests.filter((r) => r !== record && r.status === 200);
      const lastSecond = ok.filter((r) => r.at > at - 1000);
      if (lastSecond.length >= options.limits.perSecond || lastSecond.filter((r) => r.chatId === chatId).length >= options.limits.perChatPerSecond) {
        return refuse(429, 'Too Many Requests: retry after 1', { retry_after: 1 });
      }
    }
    record.messageId = nextMessage++;
    record.status = 200;
    return res.json({ ok: true, result: { message_id: record.messageId, date: Math.floor(at / 1000), chat: { id: Number(chatId), type: 'private' }, text } });
  }

  async function getUpdates(body: Record<string, unknown>, res: Response) {
    if (hook) return denied(res, 409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first");
    const offset = Number(body.offset ?? 0);
    if (offset > 0) confirmed = Math.max(confirmed, offset - 1);
    const pending = () => updates.filter((u) => u.update_id > confirmed);
    const timeout = Math.min(50, Math.max(0, Number(body.timeout ?? 0)));
    if (pending().length === 0 && timeout > 0) {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          waiting.delete(done);
          resolve();
        };
        const timer = setTimeout(done, timeout * 1000);
        waiting.add(done);
        res.on('close', done);
      });
    }
    if (res.writableEnded || res.destroyed) return;
    return res.json({ ok: true, result: pending().slice(0, 100) });
  }

  async function deliverToWebhook(update: { update_id: number }) {
    for (let attempt = 0; attempt < 5 && hook; attempt++) {
      try {
        const response = await fetch(hook.url, {
          method: 'POST', headers: { 'content-type': 'application/json', ...(hook.secretToken ? { 'x-telegram-bot-api-secret-token': hook.secretToken } : {}) },
          body: JSON.stringify(update), signal: AbortSignal.timeout(10_000),
        });
        if (response.ok) return;
      } catch {
        // retried, as Telegram does
      }
      await new Promise((r) => setTimeout(r, 200 * (attempt + 1)));
    }
  }

  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(options.port ?? 0, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    sent: () => requests.filter((r) => r.status === 200),
    requests: () => [...requests],
    maxInWindow(ms) {
      const times = requests.map((r) => r.at).sort((a, b) => a - b);
      let max = 0;
      for (let i = 0, j = 0; i < times.length; i++) {
        while (times[i]! - times[j]! >= ms) j++;
        max = Math.max(max, i - j + 1);
      }
      return max;
    },
    minGapPerChat() {
      const last = new Map<string, number>();
      let min = Infinity;
      for (const r of [...requests].sort((a, b) => a.at - b.at)) {
        const before = last.get(r.chatId);
        if (before !== undefined) min = Math.min(min, r.at - before);
        last.set(r.chatId, r.at);
      }
      return min;
    },
    userSends(chatId, text) {
      const id = String(chatId);
      known.add(id);
      const update = {
        update_id: nextUpdate++,
        message: { message_id: nextMessage++, date: Math.floor(Date.now() / 1000), chat: { id: Number(id), type: 'private' }, from: { id: Number(id), is_bot: false, first_name: 'Родитель' }, text },
      };
      updates.push(update);
      if (hook) void deliverToWebhook(update);
      for (const wake of [...waiting]) wake();
    },
    userBlocksBot: (chatId) => void blocked.set(String(chatId), 'Forbidden: bot was blocked by the user'),
    deactivate: (chatId) => void blocked.set(String(chatId), 'Forbidden: user is deactivated'),
    rateLimitOnce: (seconds) => void (rateLimit = seconds),
    failNext: (n, status = 500) => void (failures = { n, status }),
    setSlowMs: (ms) => void (slowMs = ms),
    setHang(value) {
      hang = value;
      if (!value) for (const res of hanging) res.destroy();
      if (!value) hanging.clear();
    },
    webhook: () => hook,
    async close() {
      for (const wake of [...waiting]) wake();
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A parent on the simulated Telegram: opens the school's deep link (the bot gets `/start <payload>`) and reads what the bot sent. */
export function simulatedParent(sim: TelegramSimulator, chatId: number) {
  return {
    chatId: String(chatId),
    link(url: string) {
      const payload = new URL(url).searchParams.get('start');
      if (!payload) throw new Error('not a deep link with a start payload');
      sim.userSends(chatId, `/start ${payload}`);
    },
    say: (text: string) => sim.userSends(chatId, text),
    inbox: () => sim.sent().filter((s) => s.chatId === String(chatId)).map((s) => s.text),
  };
}
