import { PassThrough, Readable, Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  DeleteObjectCommand, DeleteObjectsCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client, S3ServiceException,
  type ListObjectsV2CommandOutput,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { describeS3, type S3Settings } from './backup-s3-spec.js';
import { safe, type BackupTarget, type TargetWriter } from './backup-targets.js';

/**
 * An S3-compatible bucket (AWS, Yandex Object Storage, MinIO, Ceph…) as a backup target. A backup is the
 * objects `<prefix>/<backup name>/<file>`, each streamed up by lib-storage's Upload (multipart past one 5 MiB
 * part, nothing buffered beyond a few parts). A bucket has no rename, so a backup becomes visible by a
 * `<prefix>/<backup name>/.complete` marker written after every file's upload has finished; `list()` shows only
 * backups that carry it, and `abort()` stops the uploads and deletes what was written. `remove()` deletes the
 * marker first, so a backup whose removal is cut short is no longer listed as complete.
 *
 * Errors name the target, the operation and S3's error code (SignatureDoesNotMatch, NoSuchBucket…), never
 * the credentials or the server's own message.
 */
export const MARKER = '.complete';
/** lib-storage's smallest part (S3 refuses smaller ones but the last). */
const PART_SIZE = 5 * 1024 * 1024;
/** Failed reads of one object in a row (each after the SDK's own three attempts) before its stream fails. */
const READ_ATTEMPTS = 5;
/** Bytes a dropped read must have delivered for the next drop to count as a first one again. */
const PROGRESS = 8 * 1024 * 1024;
const NETWORK_CODES = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNREFUSED', 'ECONNABORTED', 'EAI_AGAIN', 'ERR_STREAM_PREMATURE_CLOSE']);

/** A connection dropped or timed out, or the store's 5xx / throttling: worth reading again from where it stopped. */
function retryableRead(error: unknown): boolean {
  if (error instanceof S3ServiceException) {
    const status = error.$metadata.httpStatusCode ?? 0;
    return status >= 500 || status === 429 || error.name === 'SlowDown';
  }
  const e = error as (NodeJS.ErrnoException & { name?: string }) | undefined;
  return NETWORK_CODES.has(e?.code ?? '') || e?.name === 'TimeoutError' || e?.message === 'aborted';
}

export class S3Target implements BackupTarget {
  readonly describe: string;
  private readonly client: S3Client;

  constructor(readonly name: string, readonly region: string, private readonly settings: S3Settings) {
    this.describe = describeS3(settings);
    this.client = new S3Client({
      region: settings.signingRegion,
      ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
      forcePathStyle: settings.forcePathStyle,
      credentials: { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey.reveal() },
      // Since 3.729.0 (January 2025) the client adds a CRC32 checksum to every upload and sends streamed bodies
      // `aws-chunked` with a trailing checksum, and asks for checksums on reads (aws/aws-sdk-js-v3#6810,
      // "Announcement: S3 default integrity change"). Many S3-compatible stores refuse those requests (Yandex
      // Object Storage, older MinIO, Ceph RGW; Cloudflare R2 answered 501 NotImplemented): checksums only where
      // an operation requires them. The files' integrity is ours anyway: the manifest's SHA-256 per file.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  async begin(backupName: string): Promise<TargetWriter> {
    const dir = this.keyOf(safe(backupName), '');
    // A cheap first request: wrong credentials or a missing bucket fail the target here, before any data.
    await this.call('ListObjectsV2', () => this.client.send(new ListObjectsV2Command({ Bucket: this.settings.bucket, Prefix: dir, MaxKeys: 1 })));
    const uploads: Array<{ upload: Upload; done: Promise<void> }> = [];
    return {
      file: (file) => {
        const { stream, upload, done } = this.upload(`${dir}${safe(file)}`);
        uploads.push({ upload, done });
        return stream;
      },
      commit: async () => {
        await Promise.all(uploads.map((u) => u.done));
        await this.call('PutObject', () => this.client.send(new PutObjectCommand({ Bucket: this.settings.bucket, Key: `${dir}${MARKER}`, Body: new Uint8Array(0) })));
      },
      abort: async () => {
        await Promise.allSettled(uploads.map((u) => u.upload.abort()));
        await Promise.allSettled(uploads.map((u) => u.done));
        await this.deleteUnder(dir);
      },
    };
  }

  async list(): Promise<string[]> {
    const root = this.keyOf('', '');
    const names: string[] = [];
    await this.eachPage({ Prefix: root, Delimiter: '/' }, (page) => {
      for (const p of page.CommonPrefixes ?? []) {
        const name = (p.Prefix ?? '').slice(root.length).replace(/\/$/, '');
        if (/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) names.push(name);
      }
    });
    const complete = await Promise.all(names.map((n) => this.exists(`${root}${n}/${MARKER}`)));
    return names.filter((_, i) => complete[i]).sort().reverse();
  }

  /**
   * The object as a stream that survives a dropped connection: a read cut short (ECONNRESET, a timeout, a 5xx
   * after the SDK's own retries) is resumed with `Range: bytes=<delivered>-` and `If-Match: <the first ETag>`, so
   * a restore of a large backup over a real network does not start over or splice two versions of an object.
   * A store that answers a ranged read with the whole object is skipped ahead, not trusted; after
   * READ_ATTEMPTS failures in a row the stream fails naming the target, GetObject and the error's code.
   */
  read(backupName: string, file: string): Readable {
    return Readable.from(this.chunks(this.keyOf(safe(backupName), safe(file))), { objectMode: false, highWaterMark: 64 * 1024 });
  }

  private async *chunks(key: string): AsyncGenerator<Buffer> {
    let delivered = 0;
    let etag: string | undefined;
    let size: number | undefined;
    for (let failures = 0; ;) {
      let body: Readable | undefined;
      const from = delivered;
      try {
        const resuming = delivered > 0;
        const got = await this.client.send(new GetObjectCommand({
          Bucket: this.settings.bucket, Key: key, ...(resuming ? { Range: `bytes=${delivered}-`, ...(etag ? { IfMatch: etag } : {}) } : {}),
        }));
        body = got.Body as Readable;
        if (!resuming) {
          etag = got.ETag;
          size = got.ContentLength;
        }
        // A ranged read answered without a range (a 200) is the whole object again: skip what was delivered.
        const range = got.ContentRange ?? '';
        let skip = resuming && !range ? delivered : 0;
        if (resuming && range && !range.startsWith(`bytes ${delivered}-`)) {
          throw new Error(`S3 target "${this.name}" (${this.describe}): GetObject failed: the store answered a read from byte ${delivered} with ${range}`);
        }
        for await (const chunk of body as AsyncIterable<Buffer>) {
          let piece = chunk;
          if (skip > 0) {
            const cut = Math.min(skip, piece.length);
            skip -= cut;
            piece = piece.subarray(cut);
            if (piece.length === 0) continue;
          }
          delivered += piece.length;
          yield piece;
        }
        return;
      } catch (error) {
        body?.destroy();
        if (size !== undefined && delivered >= size && retryableRead(error)) return;
        // A read that got far before it dropped starts the count again; drops that make little headway do not.
        if (delivered - from >= PROGRESS) failures = 0;
        if (!retryableRead(error) || ++failures >= READ_ATTEMPTS) throw this.failure('GetObject', error);
        await sleep(Math.min(2000, 100 * 2 ** failures) * (0.5 + Math.random() / 2));
      }
    }
  }

  async readText(backupName: string, file: string): Promise<string> {
    const parts: Buffer[] = [];
    for await (const chunk of this.chunks(this.keyOf(safe(backupName), safe(file)))) parts.push(chunk);
    return Buffer.concat(parts).toString('utf8');
  }

  async files(backupName: string): Promise<Map<string, number>> {
    const dir = this.keyOf(safe(backupName), '');
    const sizes = new Map<string, number>();
    await this.eachPage({ Prefix: dir }, (page) => {
      for (const o of page.Contents ?? []) {
        const name = (o.Key ?? '').slice(dir.length);
        if (name && !name.startsWith('.') && !name.includes('/')) sizes.set(name, o.Size ?? 0);
      }
    });
    return sizes;
  }

  /** The marker first (the backup stops being listed), then every object under the backup's prefix. */
  async remove(backupName: string): Promise<void> {
    const dir = this.keyOf(safe(backupName), '');
    await this.call('DeleteObject', () => this.client.send(new DeleteObjectCommand({ Bucket: this.settings.bucket, Key: `${dir}${MARKER}` })));
    await this.deleteUnder(dir);
  }

  /** `<prefix>/<backup>/<file>`; with an empty file, the backup's own prefix (ending in '/'); both empty: the root. */
  private keyOf(backupName: string, file: string): string {
    const root = this.settings.prefix ? `${this.settings.prefix}/` : '';
    return backupName ? `${root}${backupName}/${file}` : root;
  }

  /** A writable whose 'close' comes only after the object is stored; its 'error' names the target and code. */
  private upload(key: string): { stream: Writable; upload: Upload; done: Promise<void> } {
    const body = new PassThrough();
    const upload = new Upload({ client: this.client, params: { Bucket: this.settings.bucket, Key: key, Body: body }, partSize: PART_SIZE, queueSize: 2, leavePartsOnError: false });
    const done = upload.done().then(() => undefined, (error: unknown) => {
      throw this.failure('Upload', error);
    });
    const stream = new Writable({
      write: (chunk: Buffer, _encoding, callback) => (body.write(chunk) ? callback() : body.once('drain', () => callback())),
      final: (callback) => {
        body.end();
        done.then(() => callback(), callback);
      },
      destroy: (error, callback) => {
        if (error) void upload.abort().catch(() => undefined);
        callback(error);
      },
    });
    done.catch((error: Error) => stream.destroy(error));
    return { stream, upload, done };
  }

  private async exists(key: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.settings.bucket, Key: key }));
      return true;
    } catch (error) {
      if (error instanceof S3ServiceException && (error.$metadata.httpStatusCode === 404 || error.name === 'NotFound' || error.name === 'NoSuchKey')) return false;
      throw this.failure('HeadObject', error);
    }
  }

  /** Every page of a ListObjectsV2, following continuation tokens. */
  private async eachPage(query: { Prefix: string; Delimiter?: string }, visit: (page: ListObjectsV2CommandOutput) => void): Promise<void> {
    let token: string | undefined;
    do {
      const page = await this.call('ListObjectsV2', () => this.client.send(new ListObjectsV2Command({ Bucket: this.settings.bucket, ...query, ContinuationToken: token })));
      visit(page);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  /** Deletes every object under `dir`, a thousand per DeleteObjects (S3's limit). */
  private async deleteUnder(dir: string): Promise<void> {
    const keys: string[] = [];
    await this.eachPage({ Prefix: dir }, (page) => keys.push(...(page.Contents ?? []).map((o) => o.Key!).filter(Boolean)));
    for (let at = 0; at < keys.length; at += 1000) {
      const batch = keys.slice(at, at + 1000);
      await this.call('DeleteObjects', () => this.client.send(new DeleteObjectsCommand({ Bucket: this.settings.bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } })));
    }
  }

  private async call<T>(operation: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw this.failure(operation, error);
    }
  }

  /** The error as reports may show it: target, operation, S3's code and HTTP status; nothing the server said beyond that. */
  private failure(operation: string, error: unknown): Error {
    if (error instanceof Error && error.message.startsWith(`S3 target "${this.name}"`)) return error;
    if (error instanceof S3ServiceException) {
      return new Error(`S3 target "${this.name}" (${this.describe}): ${operation} failed: ${error.name} (HTTP ${error.$metadata.httpStatusCode ?? '?'})`);
    }
    const code = (error as NodeJS.ErrnoException | undefined)?.code ?? (error as Error | undefined)?.name ?? 'Error';
    return new Error(`S3 target "${this.name}" (${this.describe}): ${operation} failed: ${code}`);
  }
}
