/**
 * SMSC.ru (https://smsc.ru): `POST /sys/send.php` and `POST /sys/status.php`, form-encoded, `charset=utf-8`,
 * `fmt=3` (JSON replies).
 *
 * Shapes, from public sources:
 * - channels.md "SMS gateways" (the project's summary of smsc.ru/api/http/): `login` + `psw` or `apikey`,
 *   `phones`, `mes`, `sender`, `id` (client-assigned, ≤ 40 of `[A-Za-z0-9._-]`), `cost`, reply
 *   `{id, cnt, cost}` or `{error, error_code}`; status `{status, last_date, err}`;
 * - SMSC's own client classes: the Python `smsc_api.py` and PHP `smsc_api.php` (e.g. hublotik/sms_sending-smsc-laravel
 *   app/smsc_api.php): `send.php` with `phones`, `mes`, `id`, `sender`, `cost=3`, `charset`; `status.php` with
 *   `phone` + `id`, and their reading of replies (`(id, cnt, cost, balance)` or `(id, -error)`); error codes
 *   1–9 as listed in channels.md (4 "IP temporarily blocked", 9 "the same message again within a minute").
 *   Those older classes describe `id` as a 32-bit number; the current API (channels.md) takes ≤ 40 characters,
 *   which is what we send: our clientId as it is.
 *
 * The client id makes a resend safe: the same `id` and phone again within SMSC's window answers error 9, which
 * we report as `duplicate` (already sent) and then follow by `status` with that id. Error 4 blocks the
 * caller's IP as a whole for a while, so it is `rate_limited` (the credential waits), not a per-message retry.
 * Test mode (`test: true`) sends `cost=1`: SMSC prices the message and sends nothing.
 */
import { z } from 'zod';
import { ChannelError, type ChannelContext, type ChannelProvider, type DeliveryState, type OutgoingMessage, type SendResult, type StatusResult } from './contract.js';
import { gatewayPhone, parseGatewayJson, postToGateway } from './sms-http.js';

/** SMSC connection settings; `login` + `psw` or `apikey` are secrets. */
export const SmscConfigSchema = z.object({
  baseUrl: z.url().default('https://smsc.ru'),
  /** Approved sender name (`sender`); the account's default when absent. */
  sender: z.string().min(1).max(11).optional(),
  /** Price the message (`cost=1`) instead of sending it. */
  test: z.boolean().default(false),
  timeoutMs: z.number().int().positive().default(15_000),
});
export type SmscConfig = z.infer<typeof SmscConfigSchema>;
export type SmscSecrets = { login?: string; psw?: string; apikey?: string };

/** How long an IP block (error 4) is waited out when SMSC does not say. */
const IP_BLOCK_WAIT_MS = 60_000;
const CLIENT_ID = /^[A-Za-z0-9._-]{1,40}$/;

/** The `ChannelError` for an SMSC `error_code` (never called for send's 9, which is a duplicate). */
export function classifySmscError(endpoint: string, code: number): ChannelError {
  const message = `smsc ${endpoint}: error_code ${code}`;
  const options = { code: String(code) };
  switch (code) {
    case 2:
    case 3:
      return new ChannelError('account', message, options);
    case 4:
      return new ChannelError('rate_limited', message, { ...options, retryAfterMs: IP_BLOCK_WAIT_MS });
    case 7:
    case 8:
      return new ChannelError('permanent', message, { ...options, contactUnusable: true });
    case 9: // status.php: too many status requests for one message
      return new ChannelError('temporary', message, options);
    default: // 1 bad parameters, 5 bad date, 6 message forbidden, and anything new
      return new ChannelError('permanent', message, options);
  }
}

/** Our state for an SMSC message status of status.php. */
export function mapSmscDelivery(code: number): { state: DeliveryState; final: boolean } {
  if (code === 1 || code === 2) return { state: 'delivered', final: true };
  if (code === -1 || code === 0) return { state: 'accepted', final: false };
  if (code === -2 || code === 3 || code === 20 || (code >= 22 && code <= 25)) return { state: 'failed', final: true };
  return { state: 'unknown', final: false };
}

const ReplySchema = z.object({
  id: z.union([z.string(), z.number()]).optional(),
  cnt: z.coerce.number().optional(),
  error_code: z.coerce.number().optional(),
  status: z.coerce.number().optional(),
});

function parseReply(endpoint: string, text: string): z.infer<typeof ReplySchema> {
  const parsed = ReplySchema.safeParse(parseGatewayJson('smsc', endpoint, text));
  if (!parsed.success) throw new ChannelError('temporary', `smsc ${endpoint}: unexpected reply shape`, { code: 'bad_reply' });
  return parsed.data;
}

function credentials(secrets: SmscSecrets): Record<string, string> {
  if (secrets.apikey) return { apikey: secrets.apikey };
  if (secrets.login && secrets.psw) return { login: secrets.login, psw: secrets.psw };
  throw new ChannelError('account', 'smsc: neither apikey nor login and psw are set', { code: 'no_credentials' });
}

async function call(ctx: ChannelContext<SmscConfig, SmscSecrets>, endpoint: string, params: Record<string, string>) {
  const config = SmscConfigSchema.parse(ctx.config);
  const form = new URLSearchParams({ ...credentials(ctx.secrets), ...params, charset: 'utf-8', fmt: '3' });
  const reply = await postToGateway({ provider: 'smsc', endpoint, baseUrl: config.baseUrl, body: form, timeoutMs: config.timeoutMs, signal: ctx.signal });
  return parseReply(endpoint, reply.text);
}

async function send(ctx: ChannelContext<SmscConfig, SmscSecrets>, message: OutgoingMessage): Promise<SendResult> {
  const config = SmscConfigSchema.parse(ctx.config);
  if (!CLIENT_ID.test(message.clientId)) throw new ChannelError('permanent', 'smsc /sys/send.php: the client id is not 1–40 of [A-Za-z0-9._-]', { code: 'bad_client_id' });
  const params: Record<string, string> = { phones: gatewayPhone('smsc', message.to), mes: message.text, id: message.clientId, cost: config.test ? '1' : '2' };
  if (config.sender) params.sender = config.sender;
  const reply = await call(ctx, '/sys/send.php', params);
  if (reply.error_code === 9) return { providerMessageId: message.clientId, duplicate: true, state: 'accepted', raw: '9' };
  if (reply.error_code !== undefined) throw classifySmscError('/sys/send.php', reply.error_code);
  if (config.test) return { state: 'accepted', parts: reply.cnt, raw: 'cost_only' };
  if (reply.id === undefined) throw new ChannelError('temporary', 'smsc /sys/send.php: the reply has no id', { code: 'bad_reply' });
  return { providerMessageId: String(reply.id), state: 'accepted', parts: reply.cnt, raw: 'ok' };
}

async function status(ctx: ChannelContext<SmscConfig, SmscSecrets>, message: { clientId: string; providerMessageId?: string; to: string }): Promise<StatusResult> {
  const id = message.providerMessageId ?? message.clientId;
  const reply = await call(ctx, '/sys/status.php', { phone: gatewayPhone('smsc', message.to), id });
  if (reply.error_code !== undefined) throw classifySmscError('/sys/status.php', reply.error_code);
  if (reply.status === undefined) throw new ChannelError('temporary', 'smsc /sys/status.php: the reply has no status', { code: 'bad_reply' });
  return { ...mapSmscDelivery(reply.status), raw: String(reply.status) };
}

/** The SMSC.ru provider of channel `sms`. */
export const smscProvider: ChannelProvider<SmscConfig, SmscSecrets> = {
  id: 'smsc',
  channel: 'sms',
  title: 'SMSC.ru',
  configSchema: SmscConfigSchema,
  secretKeys: ['login', 'psw', 'apikey'],
  send,
  status,
};
