import type { AdapterContext, AdapterLogger, AnyAdapter, DateRange } from '../ports/adapter.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import type { TargetPolicy } from '../lib/net-targets.js';
import { createHttpClient, type Exchange } from './http-client.js';
import type { Limiters } from './host-limits.js';
import { openSocket, type Frame } from './socket.js';

export interface RunStats {
  requests: number;
}

/** What a capture (src/sync/capture.ts) sees of a run: every HTTP answer and every socket frame. */
export interface RunObserver {
  exchange(exchange: Exchange): void;
  socket(url: string): (frame: Frame) => void;
}

export interface ContextOptions {
  adapter: AnyAdapter;
  /** The connection's whole configuration (secrets included); validated here by the adapter's schema. */
  config: unknown;
  range: DateRange;
  timeZone: string;
  signal: AbortSignal;
  clock: Clock;
  logger: Logger;
  limiters: Limiters;
  stats?: RunStats;
  observer?: RunObserver;
  /** One request and one unit of work at a time: a reproducible order of requests (captures). */
  serial?: boolean;
  /** Where the run may connect (every run of a stored connection has one; a CLI probe of given settings may not). */
  targets?: TargetPolicy;
}

/**
 * Builds what an adapter sees of the world for one run: its validated config, the HTTP client factory,
 * a logger that blanks the config's secrets, the abort signal, the clock and the range to read.
 */
export function createAdapterContext(options: ContextOptions): AdapterContext<unknown> & { stats: RunStats } {
  const config = options.adapter.configSchema.parse(options.config);
  const secrets = secretValues(config, options.adapter.secretKeys);
  const logger = redactingLogger(options.logger.child({ adapter: options.adapter.id }), secrets, options.adapter.secretKeys);
  const stats = options.stats ?? { requests: 0 };
  const { observer, serial, targets } = options;
  return {
    config,
    logger,
    signal: options.signal,
    now: () => options.clock.now(),
    range: options.range,
    timeZone: options.timeZone,
    session: new Map(),
    stats,
    parallelism: (configured) => (serial ? 1 : Math.max(1, configured)),
    socket: (url, socketOptions = {}) => openSocket(url, socketOptions, {
      signal: options.signal,
      count: () => {
        stats.requests += 1;
      },
      observe: observer ? (u) => observer.socket(u) : undefined,
      targets,
    }),
    http: (httpOptions) => createHttpClient(httpOptions, {
      limiters: options.limiters, signal: options.signal, logger, stats, serial, targets,
      observe: observer ? (e) => observer.exchange(e) : undefined,
    }),
  };
}

/** The values of the config's secret keys, at any depth (Kundoluk's accounts hold a password each). */
function secretValues(config: unknown, keys: readonly string[]): string[] {
  const values: string[] = [];
  const visit = (value: unknown) => {
    if (!value || typeof value !== 'object') return;
    for (const [key, item] of Object.entries(value)) {
      if (keys.includes(key) && typeof item === 'string' && item.length > 0) values.push(item);
      else visit(item);
    }
  };
  visit(config);
  return values;
}

const REDACTED = '[redacted]';

/** A logger that replaces every secret value (and every field named like a secret key) before writing. */
export function redactingLogger(base: Logger, secrets: string[], keys: readonly string[]): AdapterLogger {
  const scrub = (value: unknown): unknown => {
    if (typeof value === 'string') return secrets.reduce((text, secret) => text.split(secret).join(REDACTED), value);
    if (Array.isArray(value)) return value.map(scrub);
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, keys.includes(k) ? REDACTED : scrub(v)]));
    }
    return value;
  };
  const write = (level: 'debug' | 'info' | 'warn' | 'error') => (fields: Record<string, unknown>, message: string) =>
    base[level](scrub(fields) as Record<string, unknown>, scrub(message) as string);
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}
