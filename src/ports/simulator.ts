/**
 * What every platform simulator offers the tests and the demo (adapters/<platform>/simulator.ts): it
 * serves a generated school in the platform's own protocol, validates credentials and sessions as the
 * platform does, counts requests, and injects the faults the adapters must survive.
 */
export interface SimulatorFaults {
  /** Every current session / token becomes invalid (the next request sees the platform's "expired"). */
  expireSessions?: boolean;
  /** The next N requests are rate limited the platform's way (HTTP 429 with Retry-After, or its own message). */
  rateLimit?: { requests: number; retryAfterSeconds: number };
  /** The next N requests (Infinity: until cleared) meet maintenance: the platform's 5xx / 550 / HTML error page. */
  maintenance?: { requests: number; style?: 'status' | 'html' };
  /** Every response is delayed by this many milliseconds. */
  slowMs?: number;
  /** One record in list answers is malformed (a broken date, an empty mark value …). */
  malformedRecord?: boolean;
}

export interface SimulatorHandle {
  /** Base URL the adapter's config points at. */
  url: string;
  /** A connection config that works against this simulator, secrets included (no rate limit needed on loopback). */
  connectionConfig(): Record<string, unknown>;
  /** Requests served so far (all of them, faulty ones included). */
  requests(): number;
  /** Replaces the active faults; `{}` clears them. */
  setFaults(faults: SimulatorFaults): void;
  close(): Promise<void>;
}
