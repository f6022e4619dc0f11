// The Telegram channel against the Bot API simulator on loopback: sends and their error kinds, the bot client's
// updates (offset, long polling, webhook), and the pure helpers (commands, deep links, secrets, windows).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ChannelError, type OutgoingMessage } from '../../src/notify/channels/contract.js';
import { deepLink, parseCommand, telegramBot, telegramProvider, verifyWebhookSecret, type TelegramConfig } from '../../src/notify/channels/telegram.js';
import { maxInWindow, minGapPerChat, simulatedParent, startTelegramSimulator, type TelegramSimulator } from '../../src/notify/simulators/telegram.js';

const TOKEN = '123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11';
const BOT = 'journal_bridge_bot';

let sim: TelegramSimulator;
let nextChat = 500_000_001;
const newChat = () => String(nextChat++);

beforeAll(async () => {
  sim = await startTelegramSimulator({ port: 0, token: TOKEN, botUsername: BOT });
});
afterAll(async () => {
  await sim.close();
});

function send(to: string, text = 'Оценка: 5', config: Partial<TelegramConfig> = {}, token = TOKEN) {
  const message: OutgoingMessage = { clientId: 'msg-1', to, text };
  return telegramProvider.send({ config: { ...sim.config(), ...config }, secrets: { token }, signal: new AbortController().signal }, message);
}

async function failure(promise: Promise<unknown>): Promise<ChannelError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(ChannelError);
  return error as ChannelError;
}

async function waitFor(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

/** A chat that wrote `/start` to the bot, so the bot may write to it. */
function linkedChat(): string {
  const chat = newChat();
  sim.userSends(chat, '/start');
  return chat;
}

describe('telegram provider: send', () => {
  it('sends plain text with link previews off and returns the message_id', async () => {
    const chat = linkedChat();
    const result = await send(chat, 'Иванов Пётр: 5 по алгебре');
    const record = sim.sent().find((s) => s.chatId === chat)!;
    expect(result).toEqual({ state: 'delivered', providerMessageId: String(record.messageId), raw: 'ok' });
    expect(record.text).toBe('Иванов Пётр: 5 по алгебре');
    const params = sim.calls().filter((c) => c.method === 'sendMessage').at(-1)!.params;
    expect(params).toEqual({ chat_id: chat, text: 'Иванов Пётр: 5 по алгебре', link_preview_options: { is_disabled: true } });
  });

  it('cuts a text longer than 4096 characters', async () => {
    const chat = linkedChat();
    await send(chat, 'я'.repeat(5000));
    const text = sim.sent().find((s) => s.chatId === chat)!.text;
    expect(text).toHaveLength(4096);
    expect(text.endsWith('…')).toBe(true);
  });

  it('429 is rate_limited with retry_after in ms', async () => {
    sim.rateLimitOnce(3);
    const error = await failure(send(linkedChat()));
    expect(error).toMatchObject({ kind: 'rate_limited', retryAfterMs: 3000, code: '429' });
  });

  it('a chat that blocked the bot or was deactivated is permanent and unusable, and its id stays out of the error', async () => {
    const blocked = linkedChat();
    sim.userBlocksBot(blocked);
    const error = await failure(send(blocked));
    expect(error).toMatchObject({ kind: 'permanent', contactUnusable: true, code: '403' });
    expect(error.message).toBe('telegram sendMessage: 403 Forbidden: bot was blocked by the user');
    const gone = linkedChat();
    sim.deactivate(gone);
    expect(await failure(send(gone))).toMatchObject({ kind: 'permanent', contactUnusable: true, message: 'telegram sendMessage: 403 Forbidden: user is deactivated' });
  });

  it('a user who never wrote to the bot is permanent and unusable', async () => {
    const stranger = newChat();
    const error = await failure(send(stranger));
    expect(error).toMatchObject({ kind: 'permanent', contactUnusable: true, code: '403' });
    expect(error.message).not.toContain(stranger);
  });

  it('400 chat not found is permanent and unusable; another 400 is permanent only', async () => {
    expect(await failure(send('@no_such_chat'))).toMatchObject({ kind: 'permanent', contactUnusable: true, code: '400', message: 'telegram sendMessage: 400 Bad Request: chat not found' });
    expect(await failure(send(linkedChat(), '   '))).toMatchObject({ kind: 'permanent', contactUnusable: false, code: '400' });
  });

  it('500 and 502 are temporary, and the next send goes', async () => {
    sim.failNext(2, 500);
    expect(await failure(send(linkedChat()))).toMatchObject({ kind: 'temporary', code: '500' });
    expect(await failure(send(linkedChat()))).toMatchObject({ kind: 'temporary', code: '500' });
    sim.failNext(1, 502);
    expect(await failure(send(linkedChat()))).toMatchObject({ kind: 'temporary', code: '502' });
    await expect(send(linkedChat())).resolves.toMatchObject({ state: 'delivered' });
  });

  it('a hung server and a short timeout are temporary', async () => {
    sim.setHang(true);
    try {
      expect(await failure(send(linkedChat(), 'text', { timeoutMs: 200 }))).toMatchObject({ kind: 'temporary', code: 'timeout' });
    } finally {
      sim.setHang(false);
    }
  });

  it('a slow server past the timeout is temporary too', async () => {
    sim.setSlowMs(1000);
    try {
      expect(await failure(send(linkedChat(), 'text', { timeoutMs: 100 }))).toMatchObject({ kind: 'temporary', code: 'timeout' });
    } finally {
      sim.setSlowMs(0);
    }
  });

  it("over Telegram's flood limits the simulator answers 429 retry_after 1 and records it", async () => {
    let now = 1_000_000;
    const limited = await startTelegramSimulator({ port: 0, token: TOKEN, botUsername: BOT, openChats: true, limits: { perSecond: 3, perChatPerSecond: 1 }, now: () => now });
    const to = (chat: string) => telegramProvider.send({ config: limited.config(), secrets: limited.secrets(), signal: new AbortController().signal }, { clientId: 'c', to: chat, text: 'x' });
    try {
      await to('1');
      expect(await failure(to('1'))).toMatchObject({ kind: 'rate_limited', retryAfterMs: 1000, code: '429' });
      await to('2');
      now += 999;
      await to('3');
      expect(await failure(to('4'))).toMatchObject({ kind: 'rate_limited', retryAfterMs: 1000 });
      now += 1;
      await to('1');
      expect(limited.throttled()).toEqual([{ at: 1_000_000, chatId: '1' }, { at: 1_000_999, chatId: '4' }]);
      expect(limited.sent().map((s) => [s.at, s.chatId])).toEqual([[1_000_000, '1'], [1_000_000, '2'], [1_000_999, '3'], [1_001_000, '1']]);
      expect(limited.requests().map((r) => [r.at, r.chatId, r.status])).toEqual([
        [1_000_000, '1', 200], [1_000_000, '1', 429], [1_000_000, '2', 200], [1_000_999, '3', 200], [1_000_999, '4', 429], [1_001_000, '1', 200],
      ]);
      // What the client did: every request counts, refused ones too.
      expect(limited.maxInWindow(1000)).toBe(5);
      expect(limited.minGapPerChat()).toBe(0);
    } finally {
      await limited.close();
    }
  });

  it('a bad token is an account error that never shows the token', async () => {
    const wrong = '999999:THE-WRONG-token_value';
    const error = await failure(send(linkedChat(), 'text', {}, wrong));
    expect(error).toMatchObject({ kind: 'account', code: '401', message: 'telegram sendMessage: 401 Unauthorized' });
    expect(`${error.message} ${String(error.cause)} ${JSON.stringify(error)}`).not.toContain(wrong);
    expect(await failure(send(linkedChat(), 'text', {}, ''))).toMatchObject({ kind: 'account', code: 'no-token' });
    expect(await failure(telegramBot(sim.config(), {}).getMe())).toMatchObject({ kind: 'account', code: 'no-token' });
    // A malformed token path: Telegram answers 404, which is the token's fault too.
    expect(await failure(send(linkedChat(), 'text', {}, 'x/y'))).toMatchObject({ kind: 'account', code: '404' });
  });

  it('the simulator answers a wrong token exactly as Telegram does', async () => {
    const response = await fetch(`${sim.apiRoot}/botnot-the-token/getMe`);
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ ok: false, error_code: 401, description: 'Unauthorized' });
  });

  it('a reply that is not JSON, or no server at all, is temporary', async () => {
    const html = http.createServer((_req, res) => res.writeHead(502, { 'content-type': 'text/html' }).end('<html>502 Bad Gateway</html>'));
    await new Promise<void>((resolve) => html.listen(0, '127.0.0.1', resolve));
    const apiRoot = `http://127.0.0.1:${(html.address() as AddressInfo).port}`;
    try {
      expect(await failure(send('1', 'text', { apiRoot }))).toMatchObject({ kind: 'temporary', code: '502' });
    } finally {
      await new Promise((resolve) => html.close(resolve));
    }
    const error = await failure(send('1', 'text', { apiRoot }));
    expect(error).toMatchObject({ kind: 'temporary', code: 'ECONNREFUSED' });
    expect(error.message).not.toContain(TOKEN);
  });
});

describe('telegram bot client: updates', () => {
  it('getMe names the bot', async () => {
    await expect(telegramBot(sim.config(), sim.secrets()).getMe()).resolves.toMatchObject({ is_bot: true, username: BOT });
  });

  it("getUpdates returns a parent's /start and honours the offset; other update kinds are kept without a message", async () => {
    const bot = telegramBot(sim.config(), sim.secrets());
    const drained = await bot.getUpdates();
    const after = drained.length ? drained.at(-1)!.update_id + 1 : undefined;
    const chat = newChat();
    const parent = simulatedParent(sim, chat);
    const first = parent.link(deepLink(BOT, 'abc'));
    const thanks = sim.userSends(chat, 'спасибо');
    parent.blockBot();
    const all = await bot.getUpdates({ offset: after });
    expect(all.map((u) => u.update_id)).toEqual([first, thanks, thanks + 1]);
    expect(all[0]!.message).toMatchObject({ chat: { id: Number(chat), type: 'private' }, text: '/start abc' });
    expect(parseCommand(all[0]!.message!.text!)).toEqual({ command: 'start', arg: 'abc' });
    expect(all[2]!.message).toBeUndefined();
    const rest = await bot.getUpdates({ offset: first + 1 });
    expect(rest.map((u) => u.update_id)).toEqual([thanks, thanks + 1]);
    await expect(bot.getUpdates({ offset: thanks + 2 })).resolves.toEqual([]);
    // Confirmed updates are gone even without an offset.
    await expect(bot.getUpdates()).resolves.toEqual([]);
  });

  it('a long poll returns as soon as an update arrives', async () => {
    const bot = telegramBot(sim.config(), sim.secrets());
    const pending = await bot.getUpdates();
    const offset = pending.length ? pending.at(-1)!.update_id + 1 : undefined;
    const poll = bot.getUpdates({ offset, timeoutSeconds: 50 });
    await waitFor(() => sim.waitingPolls() === 1);
    const id = sim.userSends(newChat(), '/marks');
    const updates = await poll;
    expect(updates.map((u) => u.update_id)).toEqual([id]);
    expect(updates[0]!.message?.text).toBe('/marks');
  });

  it('a newer long poll ends the older one with 409 Conflict (temporary)', async () => {
    const bot = telegramBot(sim.config(), sim.secrets());
    const pending = await bot.getUpdates();
    const offset = pending.length ? pending.at(-1)!.update_id + 1 : undefined;
    const older = failure(bot.getUpdates({ offset, timeoutSeconds: 50 }));
    await waitFor(() => sim.waitingPolls() === 1);
    const newer = bot.getUpdates({ offset, timeoutSeconds: 50 });
    expect(await older).toMatchObject({ kind: 'temporary', code: '409', message: expect.stringContaining('terminated by other getUpdates request') });
    await waitFor(() => sim.waitingPolls() === 1);
    const id = sim.userSends(newChat(), '/absences');
    expect((await newer).map((u) => u.update_id)).toEqual([id]);
  });

  it('with a webhook set, updates are POSTed with the secret header (retried after a non-2xx) and getUpdates answers 409', async () => {
    const bot = telegramBot(sim.config(), sim.secrets());
    const before = await bot.getUpdates();
    if (before.length) await bot.getUpdates({ offset: before.at(-1)!.update_id + 1 });
    const received: { secretOk: boolean; body: { update_id: number; message?: { text?: string } } }[] = [];
    const receiver = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        received.push({ secretOk: verifyWebhookSecret(req.headers['x-telegram-bot-api-secret-token'], 'hook-Secret_1'), body: JSON.parse(body) });
        res.writeHead(received.length === 1 ? 500 : 200).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      await bot.setWebhook({ url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/telegram`, secretToken: 'hook-Secret_1' });
      const conflict = await failure(bot.getUpdates());
      expect(conflict).toMatchObject({ kind: 'account', code: '409' });
      const id = sim.userSends(newChat(), '/start xyz');
      // The simulator's record, not the receiver's: the receiver sees a request before the simulator reads its answer.
      await waitFor(() => sim.webhookDeliveries().some((d) => d.updateId === id && d.status === 200));
      expect(received.map((r) => [r.secretOk, r.body.update_id, r.body.message?.text])).toEqual([[true, id, '/start xyz'], [true, id, '/start xyz']]);
      expect(sim.webhookDeliveries().filter((d) => d.updateId === id).map((d) => d.status)).toEqual([500, 200]);
      expect(sim.pendingUpdates()).toBe(0);
      await bot.deleteWebhook();
      await expect(bot.getUpdates()).resolves.toEqual([]);
    } finally {
      await bot.deleteWebhook();
      receiver.closeAllConnections();
      await new Promise((resolve) => receiver.close(resolve));
    }
  });

  it('a simulated parent links through the deep link and reads its inbox', async () => {
    const bot = telegramBot(sim.config(), sim.secrets());
    const before = await bot.getUpdates();
    const offset = before.length ? before.at(-1)!.update_id + 1 : undefined;
    const parent = simulatedParent(sim, newChat());
    parent.link(deepLink(BOT, 'tok_123-x'));
    const [update] = await bot.getUpdates({ offset });
    const start = parseCommand(update!.message!.text!, BOT);
    expect(start).toEqual({ command: 'start', arg: 'tok_123-x' });
    await bot.sendMessage(String(update!.message!.chat.id), 'Подключено');
    expect(parent.inbox()).toEqual(['Подключено']);
    expect(() => parent.link('https://t.me/other_bot?start=abc')).toThrow(RangeError);
  });
});

describe('telegram helpers', () => {
  it('parseCommand reads /command@Bot arg and ignores other bots and plain text', () => {
    expect(parseCommand('/start abc')).toEqual({ command: 'start', arg: 'abc' });
    expect(parseCommand('/start@Journal_Bridge_Bot abc', BOT)).toEqual({ command: 'start', arg: 'abc' });
    expect(parseCommand('/start@other_bot abc', BOT)).toBeUndefined();
    expect(parseCommand('  /STOP  ')).toEqual({ command: 'stop' });
    expect(parseCommand('/absences')).toEqual({ command: 'absences' });
    expect(parseCommand('/marks   week 2 ')).toEqual({ command: 'marks', arg: 'week 2' });
    expect(parseCommand('hello /start')).toBeUndefined();
    expect(parseCommand('/')).toBeUndefined();
  });

  it('deepLink builds t.me links and refuses bad payloads', () => {
    expect(deepLink(BOT, 'Ab_-9')).toBe(`https://t.me/${BOT}?start=Ab_-9`);
    expect(deepLink(BOT, 'x'.repeat(64))).toHaveLength(`https://t.me/${BOT}?start=`.length + 64);
    for (const bad of ['', 'x'.repeat(65), 'a b', 'a=b', 'ё']) expect(() => deepLink(BOT, bad)).toThrow(RangeError);
    expect(() => deepLink('no/bot', 'abc')).toThrow(RangeError);
  });

  it('verifyWebhookSecret accepts only the exact secret', () => {
    expect(verifyWebhookSecret('s3cret', 's3cret')).toBe(true);
    expect(verifyWebhookSecret('s3cret-', 's3cret')).toBe(false);
    expect(verifyWebhookSecret(undefined, 's3cret')).toBe(false);
    expect(verifyWebhookSecret(['s3cret'], 's3cret')).toBe(false);
    expect(verifyWebhookSecret('', '')).toBe(false);
  });

  it('maxInWindow and minGapPerChat measure bursts', async () => {
    expect(maxInWindow([], 1000)).toBe(0);
    expect(maxInWindow([0, 999, 1000, 1500, 1999, 2600], 1000)).toBe(3);
    expect(maxInWindow([5, 5, 5, 3000], 1)).toBe(3);
    expect(maxInWindow([2000, 0, 1000], 1000)).toBe(1);
    expect(minGapPerChat([{ at: 0, chatId: 'a' }, { at: 300, chatId: 'b' }, { at: 1200, chatId: 'a' }, { at: 1400, chatId: 'b' }])).toBe(1100);
    expect(minGapPerChat([{ at: 0, chatId: 'a' }])).toBe(Infinity);
    const open = await startTelegramSimulator({ port: 0, token: TOKEN, botUsername: BOT, openChats: true });
    try {
      const bot = telegramBot(open.config(), open.secrets());
      for (const chat of ['1', '2', '1']) await bot.sendMessage(chat, 'x');
      const times = open.requests().map((s) => s.at);
      expect(open.maxInWindow(1000)).toBe(maxInWindow(times, 1000));
      expect(open.minGapPerChat()).toBe(times[2]! - times[0]!);
      expect(open.throttled()).toEqual([]);
    } finally {
      await open.close();
    }
  });
});
