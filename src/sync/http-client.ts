import http from 'node:http';
import https from 'node:https';
import axios, { type AxiosInstance } from 'axios';
import pRetry, { AbortError } from 'p-retry';
import { AdapterError, type HttpClient, type HttpClientOptions, type HttpRequest, type HttpResponse } from '../ports/adapter.js';
import type { AdapterLogger } from '../ports/adapter.js';
import { TargetRefusedError, type TargetPolicy } from '../lib/net-targets.js';
import { PlatformUnavailableError, sleep, type Limiters } from './host-limits.js';

/**
 * The HTTP client adapters get (src/ports HttpClient): axios underneath, a limiter per platform host
 * and credential (src/sync/host-limits.ts: request slots shared across processes, a circuit breaker
 * per host), p-retry for transient and rate-limited failures honouring Retry-After, the run's abort
 * signal, a timeout, no redirects, and a request count.
 */

export interface HttpDeps {
  limiters: Limiters;
  signal: AbortSignal;
  logger: AdapterLogger;
  /** Counts every request sent (retries included). */
  stats: { requests: number };
  /** Sees every answer as it came, before it is classified (a capture records them: src/sync/capture.ts). */
  observe?(exchange: Exchange): void;
  /** One request at a time whatever the adapter asks for (a capture wants a reproducible order). */
  serial?: boolean;
  /** Where requests may go: checked per request and again when each socket resolves its host (DNS rebinding). */
  targets?: TargetPolicy;
}

/** One request and the platform's answer, as sent and received. */
export interface Exchange {
  method: string;
  /** Absolute, with the query. */
  url: string;
  requestHeaders: Record<string, string>;
  /** The body as sent (JSON or form text). */
  requestBody?: string;
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

const MAX_RETRY_WAIT_MS = 5 * 60_000;

export function createHttpClient(options: HttpClientOptions, deps: HttpDeps): HttpClient {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const instance = axios.create({
    baseURL: options.baseUrl,
    timeout: timeoutMs,
    maxRedirects: 0,
    validateStatus: () => true,
    responseType: 'arraybuffer',
    headers: options.headers,
    ...(deps.targets && { httpAgent: new http.Agent({ keepAlive: true, lookup: deps.targets.lookup }), httpsAgent: new https.Agent({ keepAlive: true, lookup: deps.targets.lookup }) }),
  });
  // A serial run keeps a limiter of its own (one at a time here), over the same shared slots.
  const limiter = deps.limiters.get(new URL(options.baseUrl).host, options.credentialKey, {
    requestsPerSecond: options.requestsPerSecond ?? 5, concurrency: deps.serial ? 1 : options.concurrency ?? 2, probeMs: timeoutMs,
  });
  return {
    request: <T>(request: HttpRequest) =>
      pRetry(() => limiter.schedule(() => send<T>(instance, options, deps, request), deps.signal).catch(stopUnlessRetryable), {
        retries: (options.attempts ?? 5) - 1,
        minTimeout: 250,
        factor: 2,
        maxTimeout: 30_000,
        signal: deps.signal,
        onFailedAttempt: (error) => waitRetryAfter(error, deps),
      }),
  };
}

async function send<T>(instance: AxiosInstance, options: HttpClientOptions, deps: HttpDeps, request: HttpRequest): Promise<HttpResponse<T>> {
  deps.signal.throwIfAborted();
  refuseTarget(deps, () => deps.targets?.checkUrl(new URL(request.url, options.baseUrl)));
  deps.stats.requests += 1;
  const { data, headers: contentHeaders } = bodyOf(request);
  let raw;
  try {
    raw = await instance.request({
      method: request.method ?? 'GET', url: request.url, params: request.query, data,
      headers: { ...contentHeaders, ...request.headers }, signal: deps.signal,
    });
  } catch (error) {
    if (deps.signal.aborted) throw deps.signal.reason;
    refuseTarget(deps, () => {
      const cause = (error as { cause?: unknown }).cause;
      if (error instanceof TargetRefusedError || cause instanceof TargetRefusedError) throw cause instanceof TargetRefusedError ? cause : error;
    });
    throw new AdapterError('transient', `network error on ${request.method ?? 'GET'} ${pathOf(request.url)}: ${(error as Error).message}`, { cause: error });
  }
  const body = bytesOf(raw.data);
  const response: HttpResponse<T> = {
    status: raw.status,
    headers: raw.headers as HttpResponse['headers'],
    data: decode(body, String(raw.headers['content-type'] ?? ''), request.responseType) as T,
    url: new URL(request.url, options.baseUrl).toString(),
  };
  deps.observe?.({
    method: request.method ?? 'GET', url: instance.getUri({ url: request.url, params: request.query }),
    requestHeaders: { ...options.headers, ...contentHeaders, ...request.headers }, requestBody: data,
    status: response.status, headers: response.headers, body,
  });
  deps.logger.debug({ method: request.method ?? 'GET', path: pathOf(request.url), status: response.status }, 'platform request');
  const failure = options.classify(response) ?? byStatus(response, request);
  if (failure) throw withRetryAfter(failure, response);
  return response;
}

/** A refused target is a permanent failure of the configuration: no retry would reach anywhere else. */
function refuseTarget(deps: HttpDeps, check: () => unknown): void {
  try {
    check();
  } catch (error) {
    if (error instanceof TargetRefusedError) throw new AdapterError('permanent', `refused target: ${error.message}`, { cause: error });
    throw error;
  }
}

/** axios hands Node's Buffer back for `arraybuffer`; copying it again cost a tenth of a no-op sync's CPU. */
function bytesOf(data: unknown): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer);
}

function bodyOf(request: HttpRequest): { data?: string; headers: Record<string, string> } {
  if (request.json !== undefined) return { data: JSON.stringify(request.json), headers: { 'content-type': 'application/json' } };
  if (request.form) return { data: new URLSearchParams(request.form).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } };
  return { headers: {} };
}

/** JSON when it parses as JSON (an HTML error page stays text for the classifier), text, or bytes. */
function decode(body: Buffer, contentType: string, as: HttpRequest['responseType'] = 'json'): unknown {
  if (as === 'bytes') return body;
  const text = body.toString('utf8');
  if (as === 'text' || (!contentType.includes('json') && !/^\s*[[{]/.test(text))) return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function byStatus(response: HttpResponse, request: HttpRequest): AdapterError | undefined {
  const where = `${request.method ?? 'GET'} ${pathOf(request.url)}`;
  const { status } = response;
  if (status === 429) return new AdapterError('rate_limited', `rate limited on ${where}`, { status, retryAfterMs: retryAfterOf(response) });
  if (status >= 500) return new AdapterError('transient', `HTTP ${status} on ${where}`, { status, retryAfterMs: retryAfterOf(response) });
  if (status === 401 || status === 403) return new AdapterError('auth', `HTTP ${status} on ${where}`, { status });
  if (status === 404) return new AdapterError('not_found', `HTTP 404 on ${where}`, { status });
  if (status >= 400) return new AdapterError('permanent', `HTTP ${status} on ${where}`, { status });
  // 3xx come back as responses (a form login answers 302 with its cookie); an adapter that does not
  // expect one says so in its classifier.
  return undefined;
}

/** A platform's own error classes keep the Retry-After the HTTP layer carried. */
function withRetryAfter(error: AdapterError, response: HttpResponse): AdapterError {
  const retryAfterMs = retryAfterOf(response);
  if (!error.retryable || error.retryAfterMs !== undefined || retryAfterMs === undefined) return error;
  return new AdapterError(error.kind, error.message, { status: error.status, retryAfterMs, cause: error.cause });
}

/** Retry-After in seconds or as an HTTP date. */
export function retryAfterOf(response: HttpResponse): number | undefined {
  const header = response.headers['retry-after'];
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

function pathOf(url: string): string {
  return url.split('?')[0] ?? url;
}

/**
 * Only transient and rate-limited failures are retried, and not when the host's breaker is open (the
 * run is rescheduled instead); p-retry hands anything else back unwrapped.
 */
function stopUnlessRetryable(error: unknown): never {
  if (error instanceof AdapterError && error.retryable && !(error instanceof PlatformUnavailableError)) throw error;
  throw new AbortError(error instanceof Error ? error : new Error(String(error)));
}

/** p-retry backs off by itself; a platform's Retry-After, when longer, wins. */
async function waitRetryAfter(context: { error: Error; attemptNumber: number }, deps: HttpDeps): Promise<void> {
  const error = context.error;
  if (!(error instanceof AdapterError) || error.retryAfterMs === undefined) return;
  deps.logger.info({ kind: error.kind, retryAfterMs: error.retryAfterMs, attempt: context.attemptNumber }, 'platform asked to wait');
  await sleep(Math.min(error.retryAfterMs, MAX_RETRY_WAIT_MS), deps.signal);
}
