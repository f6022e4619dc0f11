import type { z } from 'zod';
import type { GoneId, SourceRecord } from './records.js';
import type { Endpoint } from './response.js';
import type { SimulatorFactory } from './simulator.js';
import type { Vocabulary } from './values.js';

/**
 * The adapter contract (ARCHITECTURE.md "The adapter contract"). An adapter is one stateless object per
 * platform that reads the platform through the context it is handed and yields source records in
 * batches; it never touches the database. Everything an adapter may use lives in src/ports.
 */

/** The streams of a sync, in the order they are applied (what a stream refers to comes before it). */
export const STREAM_ORDER = ['roster', 'schedule', 'homework', 'marks', 'attendance', 'periodMarks'] as const;
export type StreamName = (typeof STREAM_ORDER)[number];

/** How finely a platform lets a stream be read: the whole school at once, class by class, or pupil by pupil. */
export type Granularity = 'school' | 'class' | 'pupil';

export type AdapterErrorKind = 'auth' | 'rate_limited' | 'not_found' | 'transient' | 'permanent';

/**
 * The only error an adapter throws. Its kind decides what happens next: `transient` and `rate_limited`
 * are retried (after `retryAfterMs` when the platform said so); `auth` and `permanent` fail the run and
 * raise an alert; `not_found` fails the one request.
 */
export class AdapterError extends Error {
  readonly kind: AdapterErrorKind;
  readonly retryAfterMs?: number;
  readonly status?: number;

  constructor(kind: AdapterErrorKind, message: string, options: { retryAfterMs?: number; status?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'AdapterError';
    this.kind = kind;
    this.retryAfterMs = options.retryAfterMs;
    this.status = options.status;
  }

  get retryable(): boolean {
    return this.kind === 'transient' || this.kind === 'rate_limited';
  }
}

export interface HttpRequest {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Relative to the client's base URL, or absolute. */
  url: string;
  query?: Record<string, string | number | boolean | undefined>;
  headers?: Record<string, string>;
  /** Sent as JSON. */
  json?: unknown;
  /** Sent as application/x-www-form-urlencoded. */
  form?: Record<string, string>;
  /** How to read the body: parsed JSON (default), text, or raw bytes. */
  responseType?: 'json' | 'text' | 'bytes';
}

export interface HttpResponse<T = unknown> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  data: T;
  /** The final URL (after redirects, which the client does not follow: 3xx come back as responses). */
  url: string;
}

/**
 * Turns a platform's answer into an AdapterError, or returns undefined when it is a success. Every
 * platform says "failed" differently (an HTML page with 200, `{type: "authorizationFailed"}`, 409 …).
 */
export type ResponseClassifier = (response: HttpResponse<unknown>) => AdapterError | undefined;

export interface HttpClientOptions {
  baseUrl: string;
  /** Requests of one platform host and credential share one rate limit: this names the credential. */
  credentialKey: string;
  /** Sustained requests per second allowed (default 5) and how many at once (default 2). */
  requestsPerSecond?: number;
  concurrency?: number;
  /** Per-request timeout (default 30 s). */
  timeoutMs?: number;
  /** Attempts for retryable failures, the first included (default 5). */
  attempts?: number;
  classify: ResponseClassifier;
  /** Headers on every request. */
  headers?: Record<string, string>;
}

/**
 * An HTTP client that waits for its rate limit, retries transient and rate-limited failures (honouring
 * Retry-After), aborts with the context's signal, times out, and counts requests. Network errors and
 * 5xx are `transient`, 429 `rate_limited` unless the classifier says otherwise.
 */
export interface HttpClient {
  request<T = unknown>(request: HttpRequest): Promise<HttpResponse<T>>;
}

/** The logger an adapter gets: structured, with its secrets blanked wherever they appear. */
export interface AdapterLogger {
  debug(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

/** The calendar range a read covers (school-local dates, inclusive). */
export interface DateRange {
  from: string;
  to: string;
}

export interface AdapterContext<Config> {
  /** The connection's configuration, secrets included, validated by the adapter's configSchema. */
  config: Config;
  http(options: HttpClientOptions): HttpClient;
  logger: AdapterLogger;
  signal: AbortSignal;
  now(): Date;
  /** What to read: the sync window (for a full sync, the school year so far). */
  range: DateRange;
  /** The school's IANA time zone. */
  timeZone: string;
  /** A WebSocket to the platform (NetSchool's report hub), closed when the run is aborted; counts as a request. */
  socket(url: string, options?: SocketOptions): PlatformSocket;
  /**
   * How many units of work (pupils, pages) to run at once, given what the configuration asks for: the
   * configured number, or 1 when the run must be reproducible (a capture, see `connections record`).
   */
  parallelism(configured: number): number;
  /** A per-run scratchpad shared by the streams of one sync (a login, the school's id), never persisted. */
  session: Map<string, unknown>;
}

export interface SocketOptions {
  headers?: Record<string, string>;
  /** How long the opening handshake may take (default 30 s). */
  handshakeTimeoutMs?: number;
}

/** A text WebSocket as adapters see it: `open`, then `message`s, then one `close`; `refused` when the upgrade is answered with an HTTP status. */
export interface PlatformSocket {
  send(text: string): void;
  close(): void;
  on(event: 'open' | 'close', listener: () => void): this;
  on(event: 'message', listener: (text: string) => void): this;
  on(event: 'error', listener: (error: Error) => void): this;
  on(event: 'refused', listener: (status: number) => void): this;
}

/**
 * One page of a stream, applied in one transaction. Streams do not resume from a cursor: a run reads
 * its whole window (see src/sync/executor.ts), and a retried run reads it again; what was applied stays
 * applied and is skipped as unchanged.
 */
export interface SourceBatch {
  records: SourceRecord[];
  goneIds?: GoneId[];
}

export interface AdapterStream<Config> {
  granularity: Granularity;
  read(ctx: AdapterContext<Config>): AsyncIterable<SourceBatch>;
}

export interface Adapter<Config = unknown> {
  id: string;
  title: string;
  configSchema: z.ZodType<Config>;
  /** Config keys that are secrets: stored encrypted, blanked in logs, never returned. */
  secretKeys: readonly string[];
  /**
   * The platform's public instances, offered by name (`"instance": "<name>"` in a connection's config
   * stands for their settings). Every host the adapter connects to is a config field named `baseUrl`
   * (at any depth): that is what decides where a connection's secrets may be sent.
   */
  instances?: readonly PlatformInstance[];
  streams: Partial<Record<StreamName, AdapterStream<Config>>>;
  /** Logs in and reads something small; throws AdapterError when the configuration cannot work. */
  checkConnection(ctx: AdapterContext<Config>): Promise<void>;
  /**
   * Every endpoint the adapter reads, with the schema its answers are parsed by (src/ports/response.ts).
   * Tests parse the platform's fixtures with them; the adapter parses every live answer with them.
   */
  endpoints: ReadonlyArray<Endpoint<unknown>>;
  /** How the platform spells mark values and attendance codes that the generic tables read otherwise. */
  vocabulary: Vocabulary;
  /** The platform's simulator (adapters/<platform>/simulator.ts), loaded only when asked for: tests and the demo. */
  simulator(): Promise<SimulatorFactory>;
}

/** A public instance of a platform: its name, what it is, and the settings it stands for. */
export interface PlatformInstance {
  name: string;
  title: string;
  config: Record<string, unknown>;
}

export type AnyAdapter = Adapter<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
export type AdapterRegistry = ReadonlyMap<string, AnyAdapter>;
