import type { z } from 'zod';

/**
 * The contract every outbound provider (SMTP, Telegram, SMS.ru, SMSC, Nikita) implements, one provider per
 * file in this folder, like the platform adapters: a config schema, the secrets it needs, `send` and, where
 * the provider can say what became of a message, `status`. A provider never touches the database; the
 * outbox (src/notify/outbox.ts) decides what to send, records the result and retries.
 *
 * Errors are `ChannelError` with a kind, which decides what the sender does:
 * - `temporary`: try the same message again later with backoff (SMTP 4xx, network errors and timeouts,
 *   HTTP 5xx, SMS.ru 220/500, Nikita/SMSC server trouble);
 * - `rate_limited`: the provider asked to wait `retryAfterMs` (Telegram 429 `parameters.retry_after`): the
 *   whole provider credential waits that long, then the message goes again;
 * - `permanent`: this message to this address will never go (SMTP 550 5.1.1, Telegram 403 blocked, a bad
 *   number): no retry; with `contactUnusable` the address is marked unusable and the parent's next channel
 *   is tried (fallback);
 * - `account`: the provider account itself is wrong (no funds, bad credentials, sender not approved, IP
 *   not allowed): no retry of this message now, the provider is paused for the school and its admin alerted.
 *
 * Messages carry `clientId`, our id for the message (the outbox row's id, `[A-Za-z0-9._-]`, ≤ 40 chars):
 * providers that accept a client id (SMSC `id`, Nikita `<id>`, SMTP Message-ID) send it, so a resend after a
 * crash is recognised by the provider (SMSC error 9, Nikita status 10 → `duplicate: true`, counted as sent).
 *
 * Error messages never contain personal data (addresses, phone numbers, message text) or secrets: they
 * name the provider, the endpoint and the provider's code.
 */

export type ChannelKind = 'email' | 'telegram' | 'sms';

export type ChannelErrorKind = 'temporary' | 'rate_limited' | 'permanent' | 'account';

export class ChannelError extends Error {
  readonly kind: ChannelErrorKind;
  readonly retryAfterMs?: number;
  /** The provider's own code (SMTP reply code and enhanced status "550 5.1.1", Telegram error_code, SMS.ru status_code, SMSC error_code, Nikita status). */
  readonly code?: string;
  /** Permanent errors about the address itself (no such mailbox, blocked bot, bad number): the contact is marked unusable. */
  readonly contactUnusable: boolean;

  constructor(kind: ChannelErrorKind, message: string, options: { retryAfterMs?: number; code?: string; contactUnusable?: boolean; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'ChannelError';
    this.kind = kind;
    this.retryAfterMs = options.retryAfterMs;
    this.code = options.code;
    this.contactUnusable = options.contactUnusable ?? false;
  }
}

export interface OutgoingMessage {
  /** Our id of this message: the same on every attempt (see above). */
  clientId: string;
  /** E-mail address, Telegram chat id, or phone in E.164 (+79991234567). */
  to: string;
  /** E-mail subject; other channels ignore it. */
  subject?: string;
  /** Plain text (SMS: already fitted to its parts; Telegram: ≤ 4096 characters). */
  text: string;
  /** E-mail only: an HTML alternative. */
  html?: string;
  /** E-mail only: extra headers (List-Unsubscribe…). */
  headers?: Record<string, string>;
}

/** Where a message got to, in our words; `raw` keeps the provider's own status code. */
export type DeliveryState = 'accepted' | 'delivered' | 'failed' | 'unknown';

export interface SendResult {
  /** The provider's id of the message (SMS.ru sms_id, SMSC id, Nikita id, Telegram message_id, SMTP queue id / response). */
  providerMessageId?: string;
  /** The provider said it already has this client id (SMSC error 9, Nikita status 10): counted as sent. */
  duplicate?: boolean;
  state: DeliveryState;
  /** SMS parts the provider counted or charged, when it says. */
  parts?: number;
  /** The provider's raw status code or reply, for the outbox's delivery status. */
  raw?: string;
}

export interface StatusResult {
  state: DeliveryState;
  raw: string;
  /** Terminal: nothing will change any more (delivered, expired, undeliverable…). */
  final: boolean;
}

/** What a provider is given for each call: its config and secrets as entered for this school, and a deadline. */
export interface ChannelContext<C = Record<string, unknown>, S = Record<string, string>> {
  config: C;
  secrets: S;
  signal: AbortSignal;
}

export interface ChannelProvider<C = Record<string, unknown>, S = Record<string, string>> {
  /** `smtp`, `telegram`, `smsru`, `smsc`, `nikita`. */
  id: string;
  channel: ChannelKind;
  title: string;
  configSchema: z.ZodType<C>;
  /** Names of the secrets (`password`, `token`, `api_id`…): stored sealed, never logged or returned. */
  secretKeys: readonly string[];
  send(ctx: ChannelContext<C, S>, message: OutgoingMessage): Promise<SendResult>;
  /** What became of a sent message, by the ids `send` returned (SMS gateways); absent where the provider cannot say. */
  status?(ctx: ChannelContext<C, S>, message: { clientId: string; providerMessageId?: string; to: string }): Promise<StatusResult>;
}
