import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { TargetRefusedError, type TargetPolicy } from '../lib/net-targets.js';

/** What one POST came to: the answer (its body cut to RESPONSE_BODY_LIMIT characters) or why there was none. */
export interface PostResult {
  statusCode?: number;
  body?: string;
  retryAfter?: string;
  error?: string;
  /** The target policy refused the address: nothing was sent. */
  refused?: boolean;
  durationMs: number;
}

/** Characters of a receiver's answer kept (stored only; the API never returns it raw). */
export const RESPONSE_BODY_LIMIT = 1024;

/**
 * POSTs a signed body to a receiver through the SSRF guard, at connection time: the URL is checked
 * (scheme, credentials, a literal address), the host is resolved through the policy's guarded lookup (so
 * an address that changed since registration — DNS rebinding — is refused before a socket opens), and
 * the address the socket actually reached is checked again. Redirects are never followed (node:http does
 * not; a 3xx is an answer like any other). Never throws: every failure is a result.
 */
export async function postWebhook(policy: TargetPolicy, target: string, headers: Record<string, string>, body: string, timeoutMs: number): Promise<PostResult> {
  const started = performance.now();
  const duration = () => Math.round(performance.now() - started);
  let url: URL;
  let allowedOrigin: boolean;
  try {
    url = new URL(target);
    allowedOrigin = policy.checkUrl(url);
  } catch (error) {
    return { error: (error as Error).message, refused: true, durationMs: duration() };
  }
  return new Promise<PostResult>((resolve) => {
    const client = url.protocol === 'https:' ? https : http;
    const request = client.request(url, {
      method: 'POST', agent: false, lookup: policy.lookup, signal: AbortSignal.timeout(timeoutMs),
      headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'user-agent': 'journal-bridge-webhooks/1' },
    });
    request.on('socket', (socket: Socket) => {
      socket.once('connect', () => {
        const address = socket.remoteAddress;
        if (allowedOrigin || !address || policy.allows(url.origin, address)) return;
        try {
          policy.checkAddress(url.host, address);
        } catch (error) {
          request.destroy(error as Error);
        }
      });
    });
    request.on('response', (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        text += chunk;
        // Enough is kept; the rest of a large answer is not read.
        if (text.length > RESPONSE_BODY_LIMIT) response.destroy();
      });
      const finish = () => resolve({
        statusCode: response.statusCode, body: text.slice(0, RESPONSE_BODY_LIMIT), durationMs: duration(),
        retryAfter: typeof response.headers['retry-after'] === 'string' ? response.headers['retry-after'] : undefined,
      });
      response.on('end', finish);
      response.on('close', finish);
    });
    request.on('error', (error: NodeJS.ErrnoException) => {
      const refused = error instanceof TargetRefusedError;
      const message = error.name === 'AbortError' || error.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : error.message;
      resolve({ error: message, refused, durationMs: duration() });
    });
    request.end(body);
  });
}
