import { createHash, type Hash } from 'node:crypto';
import { Transform, Writable, type TransformCallback } from 'node:stream';

/**
 * Stream pieces of the backup: one pass over each table's COPY output counts its rows, compresses it, hashes
 * the compressed bytes and writes them to every target at once; a target that fails is dropped from the rest
 * of the backup and the others go on. Nothing holds more than a chunk in memory.
 */

/** Counts lines of COPY text output (one per row: newlines inside values are escaped as \n). */
export class LineCounter extends Transform {
  lines = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) this.lines += 1;
    callback(null, chunk);
  }
}

/** SHA-256 and size of the bytes passing through. */
export class Digest extends Transform {
  bytes = 0;
  private readonly hash: Hash = createHash('sha256');

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    this.hash.update(chunk);
    callback(null, chunk);
  }

  hex(): string {
    return this.hash.digest('hex');
  }
}

/** Consumes a stream, keeping only its digest (to check a file against its manifest). */
export class DigestSink extends Writable {
  bytes = 0;
  private readonly hash: Hash = createHash('sha256');

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.bytes += chunk.length;
    this.hash.update(chunk);
    callback();
  }

  hex(): string {
    return this.hash.digest('hex');
  }
}

export interface Sink {
  target: string;
  stream: Writable;
}

/**
 * Writes each chunk to every live sink, waiting for the slowest (back-pressure); a sink that errors is marked
 * in `failed` and skipped from then on. It fails itself only when no sink is left.
 */
export class FanOut extends Writable {
  constructor(private readonly sinks: Sink[], private readonly failed: Map<string, string>) {
    super();
    for (const sink of sinks) sink.stream.on('error', (error: Error) => this.fail(sink, error));
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    void Promise.all(this.live().map((sink) => this.writeTo(sink, chunk))).then(() => callback(this.noneLeft()));
  }

  override _final(callback: (error?: Error | null) => void): void {
    void Promise.all(this.live().map((sink) => new Promise<void>((resolve) => {
      sink.stream.once('close', resolve);
      sink.stream.once('error', () => resolve());
      sink.stream.end();
    }))).then(() => callback(this.noneLeft()));
  }

  private live(): Sink[] {
    return this.sinks.filter((s) => !this.failed.has(s.target));
  }

  private writeTo(sink: Sink, chunk: Buffer): Promise<void> {
    return new Promise((resolve) => {
      if (sink.stream.write(chunk)) return resolve();
      const done = () => {
        sink.stream.off('drain', done);
        sink.stream.off('error', done);
        resolve();
      };
      sink.stream.once('drain', done);
      sink.stream.once('error', done);
    });
  }

  private fail(sink: Sink, error: Error): void {
    if (!this.failed.has(sink.target)) this.failed.set(sink.target, error.message);
  }

  private noneLeft(): Error | null {
    return this.live().length === 0 ? new Error('every backup target failed') : null;
  }
}
