import type { Pool } from '../db/pool.js';

/**
 * What every request to a platform passes first: its (host, credential)'s next free request slot, and
 * the host's circuit breaker. In a service both live in Postgres (PgHostGate), so N worker processes
 * together keep one platform's rate and all stop at once when it is down; a process without a
 * database (`connections try`, offline adapter tests) keeps them in memory (MemoryHostGate), with the
 * same rules.
 *
 * Slots: each request reserves the time `interval` after the previous reservation of its key (or now,
 * if that is past) and waits for it, so requests start at least 1/requestsPerSecond apart whatever
 * process sends them; no lock is held while waiting. The database's clock decides, so processes on
 * different machines agree.
 *
 * Breaker: `failures` consecutive transient failures of a host (network errors, timeouts, 5xx) open
 * it for `openMs`: every request is refused at once. When that has passed, one request (the probe)
 * may go, the others are still refused for the probe's time; its success closes the breaker, its
 * failure opens it again. Any answer that is not a transient failure (2xx, 4xx) counts as a success.
 */
export interface HostGate {
  reserve(host: string, credential: string, intervalMs: number, probeMs: number): Promise<Turn>;
  /** A transient failure of the host: returns when it is retried if the breaker is open now. */
  failed(host: string): Promise<Refusal | undefined>;
  /** The host answered: its failures are forgotten, the breaker closes. */
  succeeded(host: string): Promise<void>;
}

export interface BreakerSettings {
  /** Consecutive transient failures of a host that open its breaker. */
  failures: number;
  /** How long it stays open before one probe may try the host again. */
  openMs: number;
}

export const DEFAULT_BREAKER: BreakerSettings = { failures: 5, openMs: 60_000 };

/** The host's breaker is open: no request before `retryAt` (`retryInMs` from now, by the gate's clock). */
export interface Refusal {
  retryAt: Date;
  retryInMs: number;
}

export type Turn =
  | { refused: Refusal }
  /** Wait `waitMs` for the slot; `failing`: the host has failed lately (or this is the probe), so report a success. */
  | { refused?: undefined; waitMs: number; failing: boolean; probing: boolean };

const RESERVE = `
WITH breaker AS (
  SELECT failures, open_until FROM platform_breaker WHERE host = $1::text
), probe AS (
  UPDATE platform_breaker SET open_until = clock_timestamp() + make_interval(secs => $4::float8 / 1000), updated_at = now()
   WHERE host = $1::text AND failures >= $5::int AND open_until <= clock_timestamp()
  RETURNING 1
), refused AS (
  SELECT CASE WHEN open_until > clock_timestamp() THEN open_until ELSE clock_timestamp() + make_interval(secs => $4::float8 / 1000) END AS until
    FROM breaker WHERE failures >= $5::int AND NOT EXISTS (SELECT 1 FROM probe)
), slot AS (
  INSERT INTO platform_rate_limit AS l (host, credential_hash, next_at)
  SELECT $1, $2, clock_timestamp() + make_interval(secs => $3::float8 / 1000) WHERE NOT EXISTS (SELECT 1 FROM refused)
  ON CONFLICT (host, credential_hash) DO UPDATE SET next_at = greatest(l.next_at, clock_timestamp()) + make_interval(secs => $3::float8 / 1000)
  RETURNING next_at
)
SELECT extract(epoch FROM (SELECT next_at FROM slot) - clock_timestamp())::float8 * 1000 - $3::float8 AS wait_ms,
       (SELECT until FROM refused) AS until,
       extract(epoch FROM (SELECT until FROM refused) - clock_timestamp())::float8 * 1000 AS until_ms,
       coalesce((SELECT failures FROM breaker), 0) > 0 AS failing,
       EXISTS (SELECT 1 FROM probe) AS probing`;

const FAIL = `
INSERT INTO platform_breaker AS b (host, failures, open_until)
VALUES ($1, 1, CASE WHEN $2::int <= 1 THEN clock_timestamp() + make_interval(secs => $3::float8 / 1000) END)
ON CONFLICT (host) DO UPDATE SET failures = b.failures + 1, updated_at = now(),
  open_until = CASE WHEN b.failures + 1 >= $2::int THEN clock_timestamp() + make_interval(secs => $3::float8 / 1000) ELSE b.open_until END
RETURNING failures >= $2::int AS open, open_until, extract(epoch FROM open_until - clock_timestamp())::float8 * 1000 AS until_ms`;

/** The gate of a deployment: slots and breakers in Postgres, one statement per request. */
export class PgHostGate implements HostGate {
  constructor(private readonly pool: Pool, private readonly settings: BreakerSettings = DEFAULT_BREAKER) {}

  async reserve(host: string, credential: string, intervalMs: number, probeMs: number): Promise<Turn> {
    const { rows } = await this.pool.query<{ wait_ms: number | null; until: Date | null; until_ms: number | null; failing: boolean; probing: boolean }>(
      RESERVE, [host, credential, intervalMs, probeMs, this.settings.failures],
    );
    const row = rows[0]!;
    if (row.until) return { refused: { retryAt: row.until, retryInMs: Math.max(0, row.until_ms ?? 0) } };
    return { waitMs: Math.max(0, row.wait_ms ?? 0), failing: row.failing, probing: row.probing };
  }

  async failed(host: string): Promise<Refusal | undefined> {
    const { rows } = await this.pool.query<{ open: boolean; open_until: Date | null; until_ms: number | null }>(FAIL, [host, this.settings.failures, this.settings.openMs]);
    const row = rows[0]!;
    return row.open && row.open_until ? { retryAt: row.open_until, retryInMs: Math.max(0, row.until_ms ?? 0) } : undefined;
  }

  async succeeded(host: string): Promise<void> {
    await this.pool.query('UPDATE platform_breaker SET failures = 0, open_until = NULL, updated_at = now() WHERE host = $1 AND failures > 0', [host]);
  }
}

/** The same rules in this process's memory, for a process without a database. */
export class MemoryHostGate implements HostGate {
  private readonly nextAt = new Map<string, number>();
  private readonly breakers = new Map<string, { failures: number; openUntil: number }>();

  constructor(private readonly settings: BreakerSettings = DEFAULT_BREAKER) {}

  async reserve(host: string, credential: string, intervalMs: number, probeMs: number): Promise<Turn> {
    const now = Date.now();
    const breaker = this.breakers.get(host);
    const probing = breaker !== undefined && breaker.failures >= this.settings.failures;
    if (breaker && probing) {
      if (breaker.openUntil > now) return { refused: refusal(breaker.openUntil, now) };
      breaker.openUntil = now + probeMs;
    }
    const key = `${host}\n${credential}`;
    const slot = Math.max(this.nextAt.get(key) ?? now, now);
    this.nextAt.set(key, slot + intervalMs);
    return { waitMs: slot - now, failing: (breaker?.failures ?? 0) > 0, probing };
  }

  async failed(host: string): Promise<Refusal | undefined> {
    const now = Date.now();
    const breaker = this.breakers.get(host) ?? { failures: 0, openUntil: 0 };
    breaker.failures += 1;
    if (breaker.failures >= this.settings.failures) breaker.openUntil = now + this.settings.openMs;
    this.breakers.set(host, breaker);
    return breaker.failures >= this.settings.failures ? refusal(breaker.openUntil, now) : undefined;
  }

  async succeeded(host: string): Promise<void> {
    this.breakers.delete(host);
  }
}

function refusal(until: number, now: number): Refusal {
  return { retryAt: new Date(until), retryInMs: until - now };
}
