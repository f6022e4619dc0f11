/**
 * The delivery policy of a webhook message as pure functions (reliability.md 11, the Svix schedule):
 * attempt 1 at once, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h after each failure, each delay
 * stretched by up to JITTER of itself so that an endpoint coming back is not hit by every message at once.
 */

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** Delays before attempts 2…8, after the failure of the attempt before. */
export const RETRY_DELAYS_MS: readonly number[] = [5 * SECOND, 5 * MINUTE, 30 * MINUTE, 2 * HOUR, 5 * HOUR, 10 * HOUR, 10 * HOUR];

/** Attempts of one message before it is `failed` (the first and one per delay). */
export const MAX_ATTEMPTS = RETRY_DELAYS_MS.length + 1;

/** The most a delay is stretched by, as a fraction of it. */
export const JITTER = 0.1;

/** What an answer means for the message and its endpoint. */
export type Verdict = 'success' | 'disable' | 'throttled' | 'failure';

/** Only 2xx is success; a redirect is a failure (never followed); 410 Gone disables the endpoint. */
export function verdictOf(status: number): Verdict {
  if (status >= 200 && status < 300) return 'success';
  if (status === 410) return 'disable';
  if (status === 429 || status === 502 || status === 503 || status === 504) return 'throttled';
  return 'failure';
}

/**
 * The delay before the next attempt after `attempts` failed ones (1-based), or undefined when none is
 * left. `random` is in [0, 1) (Math.random by default; a test passes its own).
 */
export function retryDelayMs(attempts: number, random: () => number = Math.random): number | undefined {
  const base = RETRY_DELAYS_MS[attempts - 1];
  if (base === undefined) return undefined;
  return Math.round(base * (1 + JITTER * random()));
}

/**
 * A receiver's Retry-After (429/502/503/504) within [scheduled, 2 × scheduled]: it may slow us down but
 * not stall the message, nor make it go sooner than the schedule says (the Svix rule).
 */
export function clampRetryAfter(scheduledMs: number, retryAfterMs: number | undefined): number {
  if (retryAfterMs === undefined || !Number.isFinite(retryAfterMs)) return scheduledMs;
  return Math.min(Math.max(retryAfterMs, scheduledMs), 2 * scheduledMs);
}

/** Retry-After as milliseconds from `now`: delta seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now: Date): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * SECOND;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now.getTime());
}

/** The delay before the next attempt, all rules applied; undefined when the message has had its last attempt. */
export function nextDelayMs(attempts: number, verdict: Verdict, retryAfterMs: number | undefined, random?: () => number): number | undefined {
  const scheduled = retryDelayMs(attempts, random);
  if (scheduled === undefined) return undefined;
  return verdict === 'throttled' ? clampRetryAfter(scheduled, retryAfterMs) : scheduled;
}
