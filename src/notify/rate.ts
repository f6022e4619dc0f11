import { createHash } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { Pool } from '../db/pool.js';

/**
 * Outbound send rates shared by every process of a deployment, in Postgres (`send_rate_slot`): a send
 * reserves one instant for all its keys (a Telegram bot and a chat) — the latest of their next free slots —
 * and waits for it, so however many workers send, a key's sends start at least its `interval` apart: ≤ 30
 * messages/s per Telegram bot, ≤ 1/s per chat, an SMS account's rate. No lock is held while waiting; the
 * database's clock decides, so processes on different machines agree.
 *
 * A provider's "wait N seconds" (Telegram 429 `retry_after`) sets the key's hold: every sender checks it
 * right before sending and waits it out. A sender that wakes later than `lateMs` after its slot (a busy
 * machine) takes a new slot rather than bunching up with the next sender.
 *
 * Keys are hashes of what they name (a bot token, a chat): no secret or address is stored.
 */
export const rateKey = (...parts: string[]) => createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 40);

/**
 * A send's instant: the latest of its slot keys' next free slots, their holds and now — unless a gate key
 * (a chat) is not free yet, when nothing is taken and the caller waits for it. Taking it moves every key's
 * next slot to its interval after the instant.
 */
const CLAIM = `
WITH k AS (SELECT * FROM unnest($1::text[], $2::float8[], $3::boolean[]) AS k(key, interval_ms, gate)),
     cur AS (SELECT s.key, s.next_at, s.hold_until, k.gate, k.interval_ms FROM send_rate_slot s JOIN k USING (key)),
     gate AS (SELECT max(next_at) AS free_at FROM cur WHERE gate),
     x AS (SELECT greatest(max(next_at) FILTER (WHERE NOT gate), max(coalesce(hold_until, '-infinity')), clock_timestamp()) AS at FROM cur),
     taken AS (
       UPDATE send_rate_slot s SET next_at = x.at + make_interval(secs => cur.interval_ms / 1000)
         FROM x, cur, gate WHERE s.key = cur.key AND coalesce(gate.free_at, '-infinity') <= clock_timestamp()
       RETURNING 1)
SELECT CASE WHEN EXISTS (SELECT 1 FROM taken) THEN extract(epoch FROM x.at - clock_timestamp())::float8 * 1000 END AS wait_ms,
       extract(epoch FROM gate.free_at - clock_timestamp())::float8 * 1000 AS gate_ms
  FROM x, gate`;

const HELD = `SELECT greatest(extract(epoch FROM hold_until - clock_timestamp())::float8 * 1000, 0) AS held_ms FROM send_rate_slot WHERE key = ANY($1::text[]) AND hold_until > clock_timestamp()`;

const HOLD = `
INSERT INTO send_rate_slot AS s (key, next_at, hold_until) VALUES ($1, clock_timestamp(), clock_timestamp() + make_interval(secs => $2::float8 / 1000))
ON CONFLICT (key) DO UPDATE SET hold_until = greatest(s.hold_until, clock_timestamp() + make_interval(secs => $2::float8 / 1000))`;

export interface RateLimit {
  key: string;
  intervalMs: number;
  /**
   * A gate (a chat): the send waits until the key is free instead of reserving a slot ahead — so a message
   * to a chat that has just had one does not hold back the bot's slots for every other chat meanwhile.
   */
  gate?: boolean;
}

export class SendRates {
  constructor(private readonly pool: Pool, private readonly lateMs = 25) {}

  /**
   * Waits until a send under every limit may start. Every key of the send gets the same instant, reserved
   * in one transaction (the rows locked in key order): the send starts then, at least each key's interval
   * after that key's previous send, whichever process made it. Holds are checked again after the wait (a
   * 429 may have come meanwhile); a sender that wakes more than `lateMs` after its instant takes a new one.
   * A gate that stays closed longer than `maxGateWaitMs` returns `deferMs` instead of waiting.
   */
  async acquire(limits: readonly RateLimit[], options: { signal?: AbortSignal; maxGateWaitMs?: number } = {}): Promise<{ deferMs?: number }> {
    const { signal } = options;
    const keys = limits.map((l) => l.key);
    for (let round = 0; round < 200; round++) {
      const started = performance.now();
      const claimed = await this.claim(keys, limits);
      if (claimed.gateMs !== undefined) {
        // A gate closed for long: the caller had better put the send off than hold a sender meanwhile.
        if (options.maxGateWaitMs !== undefined && claimed.gateMs > options.maxGateWaitMs) return { deferMs: claimed.gateMs };
        await delay(Math.max(1, claimed.gateMs), undefined, { signal });
        continue;
      }
      const waitMs = claimed.waitMs;
      const due = started + waitMs;
      if (waitMs > 0) await delay(waitMs, undefined, { signal });
      const held = await this.heldMs(keys);
      if (held > 0) {
        await delay(held, undefined, { signal });
        continue;
      }
      if (performance.now() - due <= this.lateMs) return {};
    }
    return {};
  }

  private async claim(keys: string[], limits: readonly RateLimit[]): Promise<{ waitMs: number; gateMs?: undefined } | { gateMs: number; waitMs?: undefined }> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`INSERT INTO send_rate_slot (key, next_at) SELECT k, '-infinity' FROM unnest($1::text[]) AS k ON CONFLICT (key) DO NOTHING`, [keys]);
      await client.query('SELECT 1 FROM send_rate_slot WHERE key = ANY($1::text[]) ORDER BY key FOR UPDATE', [keys]);
      const { rows } = await client.query<{ wait_ms: number | null; gate_ms: number | null }>(
        CLAIM, [keys, limits.map((l) => l.intervalMs), limits.map((l) => l.gate === true)]);
      await client.query('COMMIT');
      const row = rows[0]!;
      return row.wait_ms === null ? { gateMs: row.gate_ms ?? 1 } : { waitMs: Math.max(0, row.wait_ms) };
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
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
