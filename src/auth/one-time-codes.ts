import { randomInt } from 'node:crypto';
import { withTransaction, type Pool, type PoolClient } from '../db/pool.js';
import type { Clock } from '../lib/clock.js';
import { RateLimitedError } from '../lib/errors.js';
import { hmacOf, sameDigest, sha256 } from './tokens.js';
import { normalizeLogin, type UserView } from './users.js';

/** How long a code lives, and how many may be asked per login and per address within a window (shared by every process). */
export interface CodeLimits { ttlSeconds: number; perLogin: number; perAddress: number; windowSeconds: number }

/** Sends a code to a user's consented contact point (notify/sign-in.ts): false when none can be reached. */
export type SendCode = (codeId: string, user: { id: string }, code: string) => Promise<boolean>;

const ATTEMPTS = 5;

/**
 * One-time sign-in codes: six digits, kept as an HMAC under a server key, five attempts, a few minutes,
 * one use. Asking is limited per login and per address in Postgres (every process counts the same
 * window), before anything is looked up or sent, so 20 requests in a minute for one phone send at most
 * the limit — and the sends themselves are within the school's daily SMS budget (notify/sender.ts).
 */
export class OneTimeCodes {
  constructor(private readonly pool: Pool, private readonly clock: Clock, private readonly hmacKey: Buffer, private readonly limits: CodeLimits, private readonly send?: SendCode) {}

  /**
   * Asks for a code for `login` from `address`. Answers the same whether or not the login exists or
   * could be reached (a probe learns nothing); throws RateLimitedError past a limit.
   */
  async request(login: string, address: string, findUser: (login: string) => Promise<UserView | undefined>): Promise<void> {
    const key = normalizeLogin(login);
    await this.count([`code:login:${sha256(key).toString('hex')}`, this.limits.perLogin], [`code:address:${address}`, this.limits.perAddress]);
    const user = await findUser(key);
    if (!user || !this.send) return;
    const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    const expiresAt = new Date(this.clock.now().getTime() + this.limits.ttlSeconds * 1000);
    const { rows } = await this.pool.query<{ id: string }>(
      'INSERT INTO one_time_code (user_id, code_hmac, channel, expires_at) VALUES ($1, $2, $3, $4) RETURNING id::text',
      [user.id, hmacOf(this.hmacKey, code), 'notify', expiresAt],
    );
    await this.send(rows[0]!.id, user, code);
  }

  /** The user a code stands for (used up by this), or undefined: wrong, expired, used, or too many attempts. */
  async verify(userId: string, code: string): Promise<boolean> {
    return withTransaction(this.pool, async (client) => {
      const { rows } = await client.query<{ id: string; code_hmac: Buffer; attempts: number }>(
        `SELECT id::text, code_hmac, attempts FROM one_time_code WHERE user_id = $1 AND used_at IS NULL AND expires_at > $2
          ORDER BY created_at DESC LIMIT 1 FOR UPDATE`,
        [userId, this.clock.now()],
      );
      const row = rows[0];
      if (!row || row.attempts >= ATTEMPTS) return false;
      const ok = /^\d{6}$/.test(code) && sameDigest(row.code_hmac, hmacOf(this.hmacKey, code));
      await client.query(ok ? 'UPDATE one_time_code SET used_at = $2 WHERE id = $1' : 'UPDATE one_time_code SET attempts = attempts + 1 WHERE id = $1', ok ? [row.id, this.clock.now()] : [row.id]);
      return ok;
    });
  }

  /** Counts one request in each bucket's current window; past a bucket's limit, 429 (nothing else is done). */
  private async count(...buckets: Array<[string, number]>): Promise<void> {
    const windowMs = this.limits.windowSeconds * 1000;
    const now = this.clock.now().getTime();
    const windowStart = new Date(Math.floor(now / windowMs) * windowMs);
    const retryAfter = Math.max(1, Math.ceil((windowStart.getTime() + windowMs - now) / 1000));
    await withTransaction(this.pool, async (client: PoolClient) => {
      for (const [bucket, limit] of buckets) {
        const { rows } = await client.query<{ count: number }>(
          `INSERT INTO auth_rate (bucket, window_start, count) VALUES ($1, $2, 1)
           ON CONFLICT (bucket, window_start) DO UPDATE SET count = auth_rate.count + 1 RETURNING count`,
          [bucket, windowStart],
        );
        if (rows[0]!.count > limit) throw new RateLimitedError('too many sign-in codes asked for; try again later', retryAfter);
      }
      await client.query('DELETE FROM auth_rate WHERE window_start < $1', [new Date(windowStart.getTime() - windowMs)]);
    });
  }
}
