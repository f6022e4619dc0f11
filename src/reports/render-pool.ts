import { Worker } from 'node:worker_threads';
import type { JournalDocument, SummarySheet } from './types.js';

/**
 * Printing off the service's thread. Laying out a class's sealed journal takes pdfmake seconds of CPU (a
 * year's pages of a large class, more), and the API and the sync engine share the process's one event
 * loop: the close's printouts are rendered in a worker thread instead, one document at a time, and only
 * the bytes come back. The thread starts with the first document and does not keep the process alive.
 */
export type RenderJob =
  | { id: number; kind: 'journal'; doc: JournalDocument }
  | { id: number; kind: 'summary_pdf' | 'summary_xlsx'; doc: SummarySheet; date: string };

type Reply = { id: number; bytes: Uint8Array } | { id: number; error: string };

type JobOf<K> = K extends 'journal' ? { kind: 'journal'; doc: JournalDocument } : { kind: 'summary_pdf' | 'summary_xlsx'; doc: SummarySheet; date: string };

class RenderThread {
  private worker: Worker | undefined;
  private next = 1;
  private readonly pending = new Map<number, { resolve: (b: Buffer) => void; reject: (e: Error) => void }>();
  private idle: NodeJS.Timeout | undefined;

  render<K extends RenderJob['kind']>(job: JobOf<K>): Promise<Buffer> {
    clearTimeout(this.idle);
    const worker = this.worker ?? this.start();
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ ...job, id });
    });
  }

  private start(): Worker {
    const worker = new Worker(new URL('./render-worker.mjs', import.meta.url));
    worker.unref();
    worker.on('message', (reply: Reply) => {
      const waiting = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (this.pending.size === 0) this.stopWhenIdle();
      if (!waiting) return;
      if ('error' in reply) waiting.reject(new Error(`rendering failed: ${reply.error}`));
      else waiting.resolve(Buffer.from(reply.bytes.buffer, reply.bytes.byteOffset, reply.bytes.byteLength));
    });
    const fail = (error: Error) => {
      this.worker = undefined;
      for (const waiting of this.pending.values()) waiting.reject(error);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the rendering thread exited (${code})`)));
    this.worker = worker;
    return worker;
  }

  /** A thread with nothing to do for IDLE_MS ends (the next document starts another). */
  private stopWhenIdle(): void {
    clearTimeout(this.idle);
    this.idle = setTimeout(() => {
      const worker = this.worker;
      if (!worker || this.pending.size > 0) return;
      this.worker = undefined;
      worker.removeAllListeners('exit');
      void worker.terminate();
    }, IDLE_MS);
    this.idle.unref();
  }
}

const IDLE_MS = 5000;

/** The process's rendering thread. */
export const renderThread = new RenderThread();
