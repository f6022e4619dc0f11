import { createHash } from 'node:crypto';
import pLimit, { type LimitFunction } from 'p-limit';
import type { Pool } from '../db/pool.js';
import { AdapterError } from '../ports/adapter.js';
import { DEFAULT_BREAKER, MemoryHostGate, PgHostGate, type BreakerSettings, type HostGate, type Turn } from './host-gate.js';

const MAX_SLOT_TRIES = 4;
/** A request this late for its slot is sent anyway (see HostLimiter.takeSlot). */
const MIN_LATE_TOLERANCE_MS = 20;

/**
 * The host's circuit breaker is open: the request was not sent. Not retried by the HTTP client; the
 * executor reschedules the run for `retryAt` instead of spending one of its retries.
 */
export class PlatformUnavailableError extends AdapterError {
  readonly host: string;
  readonly retryAt: Date;

  constructor(host: string, retryAt: Date, retryInMs: number, options: { cause?: unknown } = {}) {
    // The failure that opened the breaker says why (its text is the adapter's, already redacted).
    const why = options.cause instanceof Error ? ` (${options.cause.message})` : '';
    super('transient', `platform ${host} is unavailable${why}, retrying at ${retryAt.toISOString()}`, { retryAfterMs: retryInMs, cause: options.cause });
    this.name = 'PlatformUnavailableError';
    this.host = host;
    this.retryAt = retryAt;
  }
}

/** The PlatformUnavailableError an error is or was caused by (an adapter may have wrapped it). */
export function unavailableIn(error: unknown): PlatformUnavailableError | undefined {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof PlatformUnavailableError) return e;
  }
  return undefined;
}

/**
 * One platform host and credential as this process sees it: at most `concurrency` requests at once
 * here (p-limit), each started in a slot of the gate (shared by every process when the gate is in
 * Postgres) and only while the host's breaker lets it. A transient failure (network, timeout, 5xx)
 * counts against the host's breaker; the failure that opens it comes back as PlatformUnavailableError.
 */
export class HostLimiter {
  private readonly slots: LimitFunction;
  private readonly intervalMs: number;
  private readonly lateToleranceMs: number;

  constructor(
    private readonly gate: HostGate, private readonly host: string, private readonly credential: string,
    requestsPerSecond: number, concurrency: number, private readonly probeMs: number,
  ) {
    this.slots = pLimit(concurrency);
    this.intervalMs = 1000 / requestsPerSecond;
    // Half a slot, but never below a timer's granularity: at hundreds of requests a second every request
    // is a millisecond late, and a fresh slot each time would cost a statement per try for nothing.
    this.lateToleranceMs = Math.max(this.intervalMs / 2, MIN_LATE_TOLERANCE_MS);
  }

  schedule<T>(work: () => Promise<T>, signal: AbortSignal): Promise<T> {
    return this.slots(async () => {
      const turn = await this.takeSlot(signal);
      let result: T;
      try {
        result = await work();
      } catch (error) {
        if (error instanceof AdapterError && error.kind === 'transient' && !signal.aborted) {
          const open = await this.gate.failed(this.host);
          if (open) throw new PlatformUnavailableError(this.host, open.retryAt, open.retryInMs, { cause: error });
        } else if (error instanceof AdapterError && turn.failing) {
          await this.gate.succeeded(this.host); // the host answered (4xx, 429): it is up
        }
        throw error;
      }
      if (turn.failing) await this.gate.succeeded(this.host);
      return result;
    });
  }

  /**
   * Waits for a slot of the key. A process held up past its slot by more than half an interval (its
   * event loop was busy applying a batch) takes a fresh slot instead of sending late, which would crowd
   * the requests of the next slots into one second; after a few tries it sends anyway. The breaker's
   * probe keeps its turn (it is the host's only request, and a fresh reservation would find the
   * breaker held for the probe).
   */
  private async takeSlot(signal: AbortSignal): Promise<Extract<Turn, { waitMs: number }>> {
    for (let tries = 1; ; tries++) {
      signal.throwIfAborted();
      const asked = performance.now();
      const turn = await this.gate.reserve(this.host, this.credential, this.intervalMs, this.probeMs);
      if (turn.refused) throw new PlatformUnavailableError(this.host, turn.refused.retryAt, turn.refused.retryInMs);
      const due = asked + turn.waitMs;
      if (due > performance.now()) await sleep(due - performance.now(), signal);
      if (turn.probing || performance.now() - due <= this.lateToleranceMs || tries >= MAX_SLOT_TRIES) return turn;
    }
  }

  stop(): void {
    this.slots.clearQueue();
  }
}

export interface LimitersOptions {
  /** Slots and breakers in Postgres, shared with every process of the deployment; without it, in memory. */
  pool?: Pool;
  breaker?: BreakerSettings;
}

/** The limiters of one process, one per platform host, credential and concurrency, over one gate. */
export class Limiters {
  private readonly byKey = new Map<string, HostLimiter>();
  private readonly gate: HostGate;

  constructor(options: LimitersOptions = {}) {
    const breaker = options.breaker ?? DEFAULT_BREAKER;
    this.gate = options.pool ? new PgHostGate(options.pool, breaker) : new MemoryHostGate(breaker);
  }

  /**
   * The limiter of a host and credential. The rate is shared by every caller of the key (across
   * processes with a Postgres gate); `concurrency` is this process's cap, so callers asking for another
   * cap (a serial capture) get a limiter of their own over the same slots.
   */
  get(host: string, credentialKey: string, limits: { requestsPerSecond: number; concurrency: number; probeMs: number }): HostLimiter {
    // Never the credential itself in the table: a hash of the adapter's credential key.
    const credential = createHash('sha256').update(credentialKey).digest('hex').slice(0, 32);
    const key = `${host}|${credential}|${limits.requestsPerSecond}|${limits.concurrency}`;
    let limiter = this.byKey.get(key);
    if (!limiter) {
      limiter = new HostLimiter(this.gate, host, credential, limits.requestsPerSecond, limits.concurrency, limits.probeMs);
      this.byKey.set(key, limiter);
    }
    return limiter;
  }

  async stop(): Promise<void> {
    for (const limiter of this.byKey.values()) limiter.stop();
    this.byKey.clear();
  }
}

export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
