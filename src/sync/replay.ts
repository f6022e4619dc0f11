import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { readCapture, type CaptureManifest, type CapturedExchange } from './capture.js';

/**
 * Serves a capture (src/sync/capture.ts) on a loopback port as the platform answered it, so an adapter
 * can be run against it without the platform: the answer to a request is the next unused recorded one
 * with the same method, path, query and body (bodies differ where the adapter computes them from a
 * pseudonymized secret, so the body is only a tie-breaker), then the same without the body; a request
 * asked more often than recorded gets the last recorded answer again; one never recorded gets 404.
 * WebSockets replay their conversation: after each frame the adapter sends, the frames that followed
 * it in the recording. Every origin the capture names is served from this one, and `configFor` points
 * the capture's configuration at it.
 */
export interface ReplayServer {
  url: string;
  manifest: CaptureManifest;
  /** The capture's configuration with every recorded origin replaced by this server's. */
  config(): Record<string, unknown>;
  /** Requests that matched nothing in the capture (method and path). */
  unmatched(): string[];
  close(): Promise<void>;
}

export async function startReplay(dir: string): Promise<ReplayServer> {
  const { manifest, body } = await readCapture(dir);
  const used = new Set<CapturedExchange>();
  const unmatched: string[] = [];
  const server = createServer((req, res) => {
    void answer(req, res).catch((error: unknown) => {
      res.statusCode = 500;
      res.end(String(error));
    });
  });

  async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestBody = await readBody(req);
    const target = new URL(req.url ?? '/', 'http://replay');
    const sameRequest = (e: CapturedExchange) => e.method === req.method && relative(e.url) === `${target.pathname}${target.search}`;
    const candidates = manifest.exchanges.filter(sameRequest);
    const exchange = candidates.find((e) => !used.has(e) && (e.requestBody ?? '') === requestBody)
      ?? candidates.find((e) => !used.has(e)) ?? candidates.at(-1);
    if (!exchange) {
      unmatched.push(`${req.method} ${target.pathname}`);
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'not in the capture' }));
      return;
    }
    used.add(exchange);
    res.writeHead(exchange.status, exchange.headers);
    res.end(await body(exchange.body));
  }

  const sockets = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    const recorded = manifest.sockets.find((s) => URL.canParse(s.url) && new URL(s.url).pathname === new URL(req.url ?? '/', 'http://replay').pathname);
    if (!recorded) return void socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
    sockets.handleUpgrade(req, socket, head, (ws) => converse(ws, recorded.frames));
  });

  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const origins = [...new Set([...manifest.exchanges, ...manifest.sockets].map((e) => (URL.canParse(e.url) ? new URL(e.url).origin : '')).filter(Boolean))];
  return {
    url,
    manifest,
    config: () => repoint(manifest.config, origins, url) as Record<string, unknown>,
    unmatched: () => [...unmatched],
    close: async () => {
      for (const client of sockets.clients) client.terminate();
      sockets.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The recorded conversation: the frames received before the first frame sent, then after each sent frame its answers. */
function converse(ws: WebSocket, frames: CaptureManifest['sockets'][number]['frames']): void {
  let next = 0;
  const sendAnswers = () => {
    while (next < frames.length && frames[next]!.direction === 'in') ws.send(frames[next++]!.text);
  };
  sendAnswers();
  ws.on('message', (raw) => {
    const text = raw.toString();
    // The frame the adapter sent stands for the next recorded one (the same text in a faithful replay).
    const same = frames.findIndex((f, i) => i >= next && f.direction === 'out' && f.text === text);
    const at = same >= 0 ? same : frames.findIndex((f, i) => i >= next && f.direction === 'out');
    // A frame beyond the recording is not answered (and does not rewind the conversation).
    if (at < 0) return;
    next = at + 1;
    sendAnswers();
  });
}

function relative(url: string): string {
  if (!URL.canParse(url)) return url;
  const parsed = new URL(url);
  return `${parsed.pathname}${parsed.search}`;
}

function repoint(value: unknown, origins: string[], url: string): unknown {
  if (typeof value === 'string') return origins.reduce((text, origin) => (text.startsWith(origin) ? url + text.slice(origin.length) : text), value);
  if (Array.isArray(value)) return value.map((v) => repoint(v, origins, url));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, repoint(v, origins, url)]));
  return value;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
