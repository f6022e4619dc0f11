/**
 * Nikita SMS Pro (https://smspro.nikita.kg, Kyrgyzstan): `POST /api/message` and `POST /api/dr`, XML in and out.
 *
 * Shapes, from public sources:
 * - channels.md "SMS gateways": `<message><login/><pwd/><id/><sender/><text/>[<test>1</test>]<phones><phone/>
 *   </phones></message>` → `<response><id/><status/><phones/><smscnt/><message/></response>`, statuses 0–11;
 *   `<dr><login/><pwd/><id/></dr>` → per phone report codes 0–6;
 * - the C# clients dgolovachev/SmsProNikita (SmsProNikitaClient.cs, Statuses/SmsProNikitaStatuses.cs,
 *   Utils/ResponseParser.cs) and taalaibekdev/SmsProNikita (Internal/ProtocolXml.cs, MessageId.cs): the id is
 *   "any Latin letters and digits, up to 12", unique per account, a repeated id is blocked (status 10); phones
 *   `996XXXXXXXXX`; the DR reply is `<response><status/><phone><number/><report/><sendTime/><rcvTime/></phone>…`
 *   with request statuses 0 ok, 1 bad format, 2 bad auth, 3 IP not allowed, 4 no report for this id and phone;
 *   the gateway sometimes puts an xmlns on `<response>` (so elements are read by local name);
 * - the Node client 2rusbekov/smspro-nikita (index.js): report code 7 "delivery report timed out, processing
 *   stopped".
 *
 * Our clientId is up to 40 characters of `[A-Za-z0-9._-]`, longer and wider than Nikita's 12 alphanumerics,
 * so `nikitaMessageId` derives a stable 12-character id from it (itself when it already fits; otherwise 12
 * base-36 digits of its SHA-256): every attempt of one message carries the same Nikita id, and a resend is
 * recognised (status 10 → duplicate).
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ChannelError, type ChannelContext, type ChannelProvider, type DeliveryState, type OutgoingMessage, type SendResult, type StatusResult } from './contract.js';
import { escapeXml, gatewayPhone, postToGateway, xmlElements, xmlText } from './sms-http.js';

/** Nikita connection settings; `login` and `pwd` are secrets. */
export const NikitaConfigSchema = z.object({
  baseUrl: z.url().default('https://smspro.nikita.kg'),
  /** Sender name approved by Nikita's administrator (≤ 11 Latin letters, digits, '.', '-', or 14 digits). */
  sender: z.string().min(1).max(14),
  /** `<test>1</test>`: checked and answered with status 11, neither sent nor charged. */
  test: z.boolean().default(false),
  timeoutMs: z.number().int().positive().default(15_000),
});
export type NikitaConfig = z.infer<typeof NikitaConfigSchema>;
export type NikitaSecrets = { login: string; pwd: string };

/** Nikita's id for our clientId: the clientId itself when it is ≤ 12 Latin letters and digits, else a stable 12-character digest. */
export function nikitaMessageId(clientId: string): string {
  if (/^[A-Za-z0-9]{1,12}$/.test(clientId)) return clientId;
  const digest = BigInt(`0x${createHash('sha256').update(clientId, 'utf8').digest('hex')}`);
  return digest.toString(36).slice(-12).padStart(12, '0');
}

/** The `ChannelError` for a status of /api/message (0, 10 and 11 are not errors and never come here). */
export function classifyNikitaError(endpoint: string, code: number): ChannelError {
  const message = `nikita ${endpoint}: status ${code}`;
  const options = { code: String(code) };
  if (code >= 2 && code <= 5) return new ChannelError('account', message, options);
  if (code === 7) return new ChannelError('permanent', message, { ...options, contactUnusable: true });
  return new ChannelError('permanent', message, options); // 1 bad format, 6 stop words, 8 bad time, 9 spam filter
}

/** Our state for a Nikita delivery report code. */
export function mapNikitaDelivery(code: number): { state: DeliveryState; final: boolean } {
  if (code === 3) return { state: 'delivered', final: true };
  if (code === 0 || code === 1) return { state: 'accepted', final: false };
  if (code === 2 || code === 4 || code === 5) return { state: 'failed', final: true };
  if (code === 7) return { state: 'unknown', final: true }; // Nikita gave up waiting for the operator's report
  return { state: 'unknown', final: false };
}

function credentials(secrets: Partial<NikitaSecrets>): string {
  if (!secrets.login || !secrets.pwd) throw new ChannelError('account', 'nikita: the login and pwd secrets are not set', { code: 'no_credentials' });
  return `<login>${escapeXml(secrets.login)}</login><pwd>${escapeXml(secrets.pwd)}</pwd>`;
}

async function post(ctx: ChannelContext<NikitaConfig, NikitaSecrets>, endpoint: string, xml: string): Promise<{ text: string; status: number }> {
  const config = NikitaConfigSchema.parse(ctx.config);
  const reply = await postToGateway({
    provider: 'nikita', endpoint, baseUrl: config.baseUrl, body: `<?xml version="1.0" encoding="UTF-8"?>${xml}`,
    contentType: 'text/xml; charset=utf-8', timeoutMs: config.timeoutMs, signal: ctx.signal,
  });
  const response = xmlElements(reply.text, 'response')[0];
  const status = Number(response === undefined ? NaN : xmlText(response, 'status'));
  if (response === undefined || !Number.isInteger(status)) throw new ChannelError('temporary', `nikita ${endpoint}: unexpected reply shape`, { code: 'bad_reply' });
  return { text: response, status };
}

async function send(ctx: ChannelContext<NikitaConfig, NikitaSecrets>, message: OutgoingMessage): Promise<SendResult> {
  const config = NikitaConfigSchema.parse(ctx.config);
  const id = nikitaMessageId(message.clientId);
  const phone = gatewayPhone('nikita', message.to);
  const xml = `<message>${credentials(ctx.secrets)}<id>${id}</id><sender>${escapeXml(config.sender)}</sender>`
    + `<text>${escapeXml(message.text)}</text><phones><phone>${phone}</phone></phones>${config.test ? '<test>1</test>' : ''}</message>`;
  const reply = await post(ctx, '/api/message', xml);
  const parts = Number(xmlText(reply.text, 'smscnt'));
  const counted = Number.isInteger(parts) && parts > 0 ? { parts } : {};
  if (reply.status === 0 || reply.status === 11) return { providerMessageId: id, state: 'accepted', raw: String(reply.status), ...counted };
  if (reply.status === 10) return { providerMessageId: id, duplicate: true, state: 'accepted', raw: '10' };
  throw classifyNikitaError('/api/message', reply.status);
}

async function status(ctx: ChannelContext<NikitaConfig, NikitaSecrets>, message: { clientId: string; providerMessageId?: string; to: string }): Promise<StatusResult> {
  const id = message.providerMessageId ?? nikitaMessageId(message.clientId);
  const phone = gatewayPhone('nikita', message.to);
  const reply = await post(ctx, '/api/dr', `<dr>${credentials(ctx.secrets)}<id>${escapeXml(id)}</id><phone>${phone}</phone></dr>`);
  if (reply.status === 4) return { state: 'unknown', raw: 'dr_4', final: false };
  if (reply.status === 2 || reply.status === 3) throw new ChannelError('account', `nikita /api/dr: status ${reply.status}`, { code: String(reply.status) });
  if (reply.status !== 0) throw new ChannelError('permanent', `nikita /api/dr: status ${reply.status}`, { code: String(reply.status) });
  const entry = xmlElements(reply.text, 'phone').find((element) => xmlText(element, 'number')?.replace(/^\+/, '') === phone);
  const report = Number(entry === undefined ? NaN : xmlText(entry, 'report'));
  if (!Number.isInteger(report)) throw new ChannelError('temporary', 'nikita /api/dr: the reply has no report for the recipient', { code: 'bad_reply' });
  return { ...mapNikitaDelivery(report), raw: String(report) };
}

/** The Nikita (smspro.nikita.kg) provider of channel `sms`. */
export const nikitaProvider: ChannelProvider<NikitaConfig, NikitaSecrets> = {
  id: 'nikita',
  channel: 'sms',
  title: 'Nikita SMS Pro (Kyrgyzstan)',
  configSchema: NikitaConfigSchema,
  secretKeys: ['login', 'pwd'],
  send,
  status,
};
