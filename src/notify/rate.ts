import { createHash } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { Pool } from '../db/pool.js';

/**
 * Outbound send rates shared by every process of a deployment, in Postgres (`send_rate_slot`): a send
 * reserves the next free slot of its key (`interval` after the previous reservation, or now) and waits for
 * it, so however many workers send, a key's sends start at least `interval` apart — ≤ 30 messages/s per
 * Telegram bot, ≤ 1/s per chat, an SMS account's rate. No lock is held while waiting; the database's clock
 * decides, so processes on different machines agree.
 *
 * A provider's "wait N seconds" (Telegram 429 `retry_after`) sets the key's hold: every sender checks it
 * right before sending and waits it out. A sender that wakes later than `lateMs` after its slot (a busy
 * machine) takes a new slot rather than bunching up with the next sender.
 *
 * Keys are hashes of what they name (a bot token, a chat): no secret or address is stored.
 */
export const rateKey = (...parts: string[]) => createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 40);

const RESERVE = `
INSERT INTO send_rate_slot AS s (key, next_at) VALUES ($1, clock_timestamp() + make_interval(secs => $2::float8 / 1000))
ON CONFLICT (key) DO UPDATE SET next_at = greatest(s.next_at, s.hold_until, clock_timestamp()) + make_interval(secs => $2::float8 / 1000)
RETURNING extract(epoch FROM next_at - clock_timestamp())::float8 * 1000 - $2::float8 AS wait_ms`;

const HELD = `SELECT greatest(extract(epoch FROM hold_until - clock_timestamp())::float8 * 1000, 0) AS held_ms FROM send_rate_slot WHERE key = ANY($1::text[]) AND hold_until > clock_timestamp()`;

const HOLD = `
INSERT INTO send_rate_slot AS s (key, next_at, hold_until) VALUES ($1, clock_timestamp(), clock_timestamp() + make_interval(secs => $2::float8 / 1000))
ON CONFLICT (key) DO UPDATE SET hold_until = greatest(s.hold_until, clock_timestamp() + make_interval(secs => $2::float8 / 1000))`;

export interface RateLimit {
  key: string;
  intervalMs: number;
}

export class SendRates {
  constructor(private readonly pool: Pool, private readonly lateMs = 25) {}

  /** Waits until a send under every limit may start (each key's slot reserved in turn, holds waited out). */
  async acquire(limits: readonly RateLimit[], signal?: AbortSignal): Promise<void> {
    for (let round = 0; round < 20; round++) {
      let late = false;
      for (const limit of limits) {
        const { rows } = await this.pool.query<{ wait_ms: number }>(RESERVE, [limit.key, limit.intervalMs]);
        const waitMs = Math.max(0, rows[0]!.wait_ms);
        const due = performance.now() + waitMs;
        if (waitMs > 0) await delay(waitMs, undefined, { signal });
        if (performance.now() - due > this.lateMs) late = true;
      }
      const held = await this.heldMs(limits.map((l) => l.key));
      if (held > 0) {
        await delay(held, undefined, { signal });
        continue;
      }
      if (!late) return;
    }
  }

  /** The provider asked every sender of this key to wait `ms`. */
  async hold(key: string, ms: number): Promise<void> {
    await this.pool.query(HOLD, [key, ms]);
  }

  private async heldMs(keys: string[]): Promise<number> {
    const { rows } = await this.pool.query<{ held_ms: number }>(HELD, [keys]);
    return rows.reduce((max, r) => Math.max(max, r.held_ms), 0);
  }
}
