import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';

/** One request a test receiver took: its headers and the exact bytes of its body. */
export interface Captured {
  path: string;
  headers: Record<string, string>;
  body: string;
}

export interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

/**
 * A loopback HTTP receiver on a port from the OS: it counts TCP connections (a refused target must
 * see none), keeps every request, and answers what `answer` says (by default 204).
 */
export class TestReceiver {
  readonly captured: Captured[] = [];
  connections = 0;
  answer: (request: Captured, index: number) => Answer = () => ({ status: 204 });
  private readonly server: Server;
  port = 0;

  private constructor() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const request = { path: req.url ?? '/', headers: flat(req.headers), body: Buffer.concat(chunks).toString('utf8') };
        this.captured.push(request);
        const answer = this.answer(request, this.captured.length - 1);
        res.writeHead(answer.status, answer.headers);
        res.end(answer.body ?? '');
      });
    });
    this.server.on('connection', () => {
      this.connections++;
    });
  }

  static async start(): Promise<TestReceiver> {
    const receiver = new TestReceiver();
    await new Promise<void>((resolve) => receiver.server.listen(0, '127.0.0.1', resolve));
    const address = receiver.server.address();
    receiver.port = typeof address === 'object' && address ? address.port : 0;
    return receiver;
  }

  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

function flat(headers: IncomingHttpHeaders): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : String(v ?? '')]));
}
