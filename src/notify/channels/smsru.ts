/**
 * SMS.ru (https://sms.ru): `POST /sms/send` and `POST /sms/status`, form-encoded UTF-8, `json=1` replies.
 *
 * Shapes, from public sources:
 * - channels.md "SMS gateways" (the project's summary of sms.ru/api/send and /api/status);
 * - SMS.ru's own PHP sample (as copied in llISparkIll/misc1 smsru_send.php): `api_id`, `to`, `msg`, `json=1`,
 *   reply `{status, status_code, sms: {PHONE: {status, status_code, sms_id | status_text}}, balance}`;
 * - the code tables in Bitrix's SMS.ru provider (avshatalov48/bitrix24-core-corp
 *   modules/crm/lang/ru/lib/integration/sms/provider/smsru.php): 201 no funds … 209 stop list, 230 daily
 *   limit per number, 231 identical messages per number per minute, 232 identical per number per day,
 *   301–305 auth; and the delivery codes −1, 100–108, 150 of the status method.
 *
 * SMS.ru takes no client id: a resend is a second SMS. So `send` never retries on its own; after a timeout
 * the outbox must not resend blindly (channels.md). The per-number limits 230–233 are classified temporary:
 * they lift by themselves (next minute or next day) and concern this number only — not `rate_limited`,
 * which would pause the whole credential, and not `permanent`, since the number is fine.
 */
import { z } from 'zod';
import { ChannelError, type ChannelContext, type ChannelProvider, type DeliveryState, type SendResult, type StatusResult } from './contract.js';
import { gatewayPhone, parseGatewayJson, postToGateway } from './sms-http.js';

/** SMS.ru connection settings; the `api_id` is a secret. */
export const SmsRuConfigSchema = z.object({
  baseUrl: z.url().default('https://sms.ru'),
  /** Sender name approved by SMS.ru (`from`); the account's default sender when absent. */
  from: z.string().min(1).max(11).optional(),
  /** `test=1`: SMS.ru checks and answers but sends nothing and charges nothing. */
  test: z.boolean().default(false),
  timeoutMs: z.number().int().positive().default(15_000),
});
export type SmsRuConfig = z.infer<typeof SmsRuConfigSchema>;
export type SmsRuSecrets = { api_id: string };

// 206 is the account's own daily limit (a setting in its cabinet): the admin's business, like no funds.
const ACCOUNT = new Set([200, 201, 204, 206, 300, 301, 302, 303, 304, 305]);
const TEMPORARY = new Set([220, 230, 231, 232, 233, 500]);
const BAD_NUMBER = new Set([202, 207, 209, 215]);

/** The `ChannelError` for an SMS.ru error code of /sms/send (top level or per number). */
export function classifySmsRuError(endpoint: string, code: number): ChannelError {
  const message = `smsru ${endpoint}: status_code ${code}`;
  const options = { code: String(code) };
  if (ACCOUNT.has(code)) return new ChannelError('account', message, options);
  if (TEMPORARY.has(code)) return new ChannelError('temporary', message, options);
  return new ChannelError('permanent', message, { ...options, contactUnusable: BAD_NUMBER.has(code) });
}

/** Our state for an SMS.ru delivery code of /sms/status. */
export function mapSmsRuDelivery(code: number): { state: DeliveryState; final: boolean } {
  if (code === 103) return { state: 'delivered', final: true };
  if (code >= 100 && code <= 102) return { state: 'accepted', final: false };
  if ((code >= 104 && code <= 108) || code === 150) return { state: 'failed', final: true };
  return { state: 'unknown', final: false };
}

const EntrySchema = z.object({
  status: z.string().optional(),
  status_code: z.coerce.number(),
  sms_id: z.string().optional(),
});
const ReplySchema = z.object({
  status: z.string(),
  status_code: z.coerce.number(),
  sms: z.record(z.string(), EntrySchema).optional(),
});

function parseReply(endpoint: string, text: string): z.infer<typeof ReplySchema> {
  const parsed = ReplySchema.safeParse(parseGatewayJson('smsru', endpoint, text));
  if (!parsed.success) throw new ChannelError('temporary', `smsru ${endpoint}: unexpected reply shape`, { code: 'bad_reply' });
  if (parsed.data.status !== 'OK') throw classifySmsRuError(endpoint, parsed.data.status_code);
  return parsed.data;
}

function apiId(secrets: Partial<SmsRuSecrets>): string {
  if (!secrets.api_id) throw new ChannelError('account', 'smsru: the api_id secret is not set', { code: 'no_credentials' });
  return secrets.api_id;
}

async function send(ctx: ChannelContext<SmsRuConfig, SmsRuSecrets>, message: { to: string; text: string }): Promise<SendResult> {
  const config = SmsRuConfigSchema.parse(ctx.config);
  const phone = gatewayPhone('smsru', message.to);
  const form = new URLSearchParams({ api_id: apiId(ctx.secrets), to: phone, msg: message.text, json: '1' });
  if (config.from) form.set('from', config.from);
  if (config.test) form.set('test', '1');
  const reply = await postToGateway({ provider: 'smsru', endpoint: '/sms/send', baseUrl: config.baseUrl, body: form, timeoutMs: config.timeoutMs, signal: ctx.signal });
  const entry = parseReply('/sms/send', reply.text).sms?.[phone];
  if (!entry) throw new ChannelError('temporary', 'smsru /sms/send: the reply has no entry for the recipient', { code: 'bad_reply' });
  if (entry.status !== 'OK' || !entry.sms_id) throw classifySmsRuError('/sms/send', entry.status_code);
  return { providerMessageId: entry.sms_id, state: 'accepted', raw: String(entry.status_code) };
}

async function status(ctx: ChannelContext<SmsRuConfig, SmsRuSecrets>, message: { providerMessageId?: string }): Promise<StatusResult> {
  const config = SmsRuConfigSchema.parse(ctx.config);
  const id = message.providerMessageId;
  if (!id) return { state: 'unknown', raw: 'no_sms_id', final: false };
  const form = new URLSearchParams({ api_id: apiId(ctx.secrets), sms_id: id, json: '1' });
  const reply = await postToGateway({ provider: 'smsru', endpoint: '/sms/status', baseUrl: config.baseUrl, body: form, timeoutMs: config.timeoutMs, signal: ctx.signal });
  const entry = parseReply('/sms/status', reply.text).sms?.[id];
  if (!entry) throw new ChannelError('temporary', 'smsru /sms/status: the reply has no entry for the id', { code: 'bad_reply' });
  return { ...mapSmsRuDelivery(entry.status_code), raw: String(entry.status_code) };
}

/** The SMS.ru provider of channel `sms`. */
export const smsRuProvider: ChannelProvider<SmsRuConfig, SmsRuSecrets> = {
  id: 'smsru',
  channel: 'sms',
  title: 'SMS.ru',
  configSchema: SmsRuConfigSchema,
  secretKeys: ['api_id'],
  send,
  status,
};
