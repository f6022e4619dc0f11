import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import { AdapterError, type PlatformSocket, type SocketOptions } from '../ports/adapter.js';
import type { TargetPolicy } from '../lib/net-targets.js';

/** One frame of a platform WebSocket, as sent (`out`) or received (`in`). */
export interface Frame {
  direction: 'out' | 'in';
  text: string;
}

export interface SocketDeps {
  signal: AbortSignal;
  /** Counts the connection as one platform request. */
  count(): void;
  /** Sees the socket's URL and every frame (a capture records them). */
  observe?(url: string): (frame: Frame) => void;
  /** Where sockets may connect (the run's policy; its lookup refuses what resolves to a refused address). */
  targets?: TargetPolicy;
}

/**
 * A platform WebSocket on `ws`: text frames only, terminated when the run is aborted, its upgrade
 * refusal reported as `refused` with the HTTP status (so an adapter can tell a lost session from a
 * network failure).
 */
export function openSocket(url: string, options: SocketOptions, deps: SocketDeps): PlatformSocket {
  const events = new EventEmitter();
  const headers = options.headers ?? {};
  const record = deps.observe?.(url);
  deps.count();
  try {
    deps.targets?.checkUrl(url.replace(/^ws/, 'http'));
  } catch (error) {
    throw new AdapterError('permanent', `refused target: ${(error as Error).message}`, { cause: error });
  }
  const ws = new WebSocket(url, { headers, handshakeTimeout: options.handshakeTimeoutMs ?? 30_000, ...(deps.targets && { lookup: deps.targets.lookup }) });
  const onAbort = () => ws.terminate();
  deps.signal.addEventListener('abort', onAbort, { once: true });
  ws.on('open', () => events.emit('open'));
  ws.on('message', (raw: WebSocket.RawData) => {
    const text = Buffer.isBuffer(raw) ? raw.toString('utf8') : Buffer.concat(raw as Buffer[]).toString('utf8');
    record?.({ direction: 'in', text });
    events.emit('message', text);
  });
  ws.on('unexpected-response', (_req, res) => {
    events.emit('refused', res.statusCode ?? 0);
    ws.terminate();
  });
  ws.on('error', (error) => events.emit('error', error));
  ws.on('close', () => {
    deps.signal.removeEventListener('abort', onAbort);
    events.emit('close');
  });
  const socket: PlatformSocket = {
    send(text) {
      record?.({ direction: 'out', text });
      ws.send(text);
    },
    close: () => ws.close(),
    on(event: string, listener: (...args: never[]) => void) {
      events.on(event, listener as (...args: unknown[]) => void);
      return socket;
    },
  };
  return socket;
}
