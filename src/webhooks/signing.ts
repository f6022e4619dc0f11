import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

/**
 * Standard Webhooks signing (reliability.md 10) through the `standardwebhooks` package, so that what we
 * sign is exactly what the receivers' own library checks: `v1,<base64 HMAC-SHA256(secret, id.ts.body)>`.
 */

const PREFIX = 'whsec_';

/** A new endpoint secret: `whsec_` + base64 of 32 random bytes. */
export function generateSecret(): string {
  return PREFIX + randomBytes(32).toString('base64');
}

/** The message's id as receivers see it in `webhook-id`: stable across retries, replays and recovery. */
export function webhookIdOf(messageId: string): string {
  return `msg_${messageId.replaceAll('-', '')}`;
}

/** Secrets an endpoint signs with now: the current one and, during a rotation's grace period, the previous one. */
export interface SigningSecrets {
  current: string;
  previous?: string;
  /** ISO instant the previous secret stops being used. */
  previousUntil?: string;
}

/** The secrets to sign with at `now` (the previous one only within its grace period). */
export function activeSecrets(secrets: SigningSecrets, now: Date): string[] {
  const previous = secrets.previous && secrets.previousUntil && Date.parse(secrets.previousUntil) > now.getTime() ? [secrets.previous] : [];
  return [secrets.current, ...previous];
}

/** The three Standard Webhooks headers for one attempt; several signatures are space-separated. */
export function signedHeaders(webhookId: string, at: Date, body: string, secrets: readonly string[]): Record<string, string> {
  const signatures = secrets.map((secret) => new Webhook(secret).sign(webhookId, at, body));
  return {
    'webhook-id': webhookId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': signatures.join(' '),
  };
}
