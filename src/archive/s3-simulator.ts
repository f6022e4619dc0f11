import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';

/**
 * A small S3-compatible store for tests and the demo: node:http on 127.0.0.1 (a port from the OS), path-style
 * addressing (`/bucket/key`), objects in memory. It speaks the operations the backups use as S3 does —
 * PutObject, GetObject, HeadObject, DeleteObject, DeleteObjects, ListObjectsV2 (prefix, delimiter, max-keys,
 * continuation tokens), the multipart upload's four calls — with S3's XML and error codes, and it checks
 * every request's SigV4 signature (recomputed over the method, path, query and signed headers received, and
 * the payload's SHA-256), so a wrong secret gets 403 SignatureDoesNotMatch. Like the strict third-party stores
 * (Yandex Object Storage, older MinIO, Ceph) it refuses `aws-chunked` bodies and the SDK's flexible checksums
 * on uploads with 400 (aws/aws-sdk-js-v3#6810). Tests steer it through the returned object, not over HTTP.
 */
export interface S3Simulator {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** The keys of a bucket, sorted. */
  keys(bucket: string): string[];
  /** Flips one byte in the middle of an object. */
  corrupt(bucket: string, key: string): void;
  /** Requests received (by operation, or all), refused ones included. */
  count(operation?: string): number;
  /** The next `n` requests (of `operation` only, when given) get `status` (500 InternalError or 503 SlowDown). */
  failNext(n: number, status?: 500 | 503, operation?: string): void;
  /** The next `n` GetObject answers send their headers and `afterBytes` of the body, then drop the connection. */
  dropNext(n: number, afterBytes: number): void;
  close(): Promise<void>;
}

interface StoredObject { body: Buffer; etag: string; modified: Date }
interface Upload { bucket: string; key: string; parts: Map<number, StoredObject> }
type Reply = { status: number; headers?: Record<string, string>; body?: string | Buffer };

class S3Error extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

export async function startS3Simulator(options: { buckets?: string[]; accessKeyId?: string; secretAccessKey?: string } = {}): Promise<S3Simulator> {
  const credentials = { accessKeyId: options.accessKeyId ?? 'SIMULATORACCESSKEY', secretAccessKey: options.secretAccessKey ?? randomBytes(20).toString('base64url') };
  const buckets = new Map((options.buckets ?? ['backups']).map((b) => [b, new Map<string, StoredObject>()]));
  const uploads = new Map<string, Upload>();
  const counts = new Map<string, number>();
  const failing = { left: 0, status: 503 as 500 | 503, operation: undefined as string | undefined };
  const dropping = { left: 0, afterBytes: 0 };
  const server = createServer((req, res) => {
    void handle(req, res).catch(() => send(res, req, { status: 500 }));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://simulator');
    const [bucketName = '', ...rest] = url.pathname.slice(1).split('/');
    const key = rest.map(decodeURIComponent).join('/');
    const operation = operationOf(req.method ?? 'GET', key, url.searchParams);
    counts.set(operation, (counts.get(operation) ?? 0) + 1);
    try {
      if (failing.left > 0 && (failing.operation === undefined || failing.operation === operation)) {
        failing.left -= 1;
        throw failing.status === 503 ? new S3Error(503, 'SlowDown', 'Please reduce your request rate.') : new S3Error(500, 'InternalError', 'We encountered an internal error. Please try again.');
      }
      refuseChunked(req, operation);
      await checkSignature(req, url, body, credentials);
      const bucket = buckets.get(decodeURIComponent(bucketName));
      if (!bucket) throw new S3Error(404, 'NoSuchBucket', 'The specified bucket does not exist');
      const reply = route(operation, { bucketName, bucket, key, query: url.searchParams, body, req });
      if (operation === 'GetObject' && dropping.left > 0 && Buffer.isBuffer(reply.body)) {
        dropping.left -= 1;
        res.writeHead(reply.status, { 'x-amz-request-id': randomBytes(8).toString('hex'), ...reply.headers });
        res.write(reply.body.subarray(0, dropping.afterBytes), () => res.socket?.destroy());
        return;
      }
      send(res, req, reply);
    } catch (error) {
      if (!(error instanceof S3Error)) throw error;
      send(res, req, { status: error.status, body: xml('Error', `<Code>${error.code}</Code><Message>${escape(error.message)}</Message><Resource>${escape(url.pathname)}</Resource><RequestId>${randomBytes(8).toString('hex')}</RequestId>`) });
    }
  }

  function route(operation: string, r: { bucketName: string; bucket: Map<string, StoredObject>; key: string; query: URLSearchParams; body: Buffer; req: IncomingMessage }): Reply {
    const found = () => {
      const object = r.bucket.get(r.key);
      if (!object) throw new S3Error(404, 'NoSuchKey', 'The specified key does not exist.');
      return object;
    };
    const upload = () => {
      const u = uploads.get(r.query.get('uploadId') ?? '');
      if (!u || u.bucket !== r.bucketName || u.key !== r.key) throw new S3Error(404, 'NoSuchUpload', 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.');
      return u;
    };
    switch (operation) {
      case 'ListObjectsV2': return listObjects(r.bucketName, r.bucket, r.query);
      case 'GetObject': case 'HeadObject': {
        const o = found();
        const ifMatch = r.req.headers['if-match'];
        if (ifMatch !== undefined && ifMatch !== '*' && !ifMatch.split(',').map((t) => t.trim()).includes(o.etag)) {
          throw new S3Error(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
        }
        const range = operation === 'GetObject' ? byteRange(r.req.headers.range, o.body.length) : undefined;
        if (range) {
          const part = o.body.subarray(range.start, range.end + 1);
          return { status: 206, headers: { ...objectHeaders(o), 'Content-Length': String(part.length), 'Content-Range': `bytes ${range.start}-${range.end}/${o.body.length}` }, body: part };
        }
        return { status: 200, headers: objectHeaders(o), body: operation === 'GetObject' ? o.body : undefined };
      }
      case 'PutObject': {
        const o = stored(r.body);
        r.bucket.set(r.key, o);
        return { status: 200, headers: { ETag: o.etag } };
      }
      case 'DeleteObject':
        r.bucket.delete(r.key);
        return { status: 204 };
      case 'DeleteObjects': {
        const keys = [...r.body.toString('utf8').matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => unescape(m[1]!));
        if (keys.length > 1000) throw new S3Error(400, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema');
        for (const k of keys) r.bucket.delete(k);
        const quiet = /<Quiet>true<\/Quiet>/.test(r.body.toString('utf8'));
        return { status: 200, body: xml('DeleteResult', quiet ? '' : keys.map((k) => `<Deleted><Key>${escape(k)}</Key></Deleted>`).join('')) };
      }
      case 'CreateMultipartUpload': {
        const id = randomBytes(16).toString('base64url');
        uploads.set(id, { bucket: r.bucketName, key: r.key, parts: new Map() });
        return { status: 200, body: xml('InitiateMultipartUploadResult', `<Bucket>${escape(r.bucketName)}</Bucket><Key>${escape(r.key)}</Key><UploadId>${id}</UploadId>`) };
      }
      case 'UploadPart': {
        const n = Number(r.query.get('partNumber'));
        if (!Number.isInteger(n) || n < 1 || n > 10000) throw new S3Error(400, 'InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive');
        const part = stored(r.body);
        upload().parts.set(n, part);
        return { status: 200, headers: { ETag: part.etag } };
      }
      case 'CompleteMultipartUpload': return completeUpload(r.bucket, upload(), r.query.get('uploadId')!, r.body.toString('utf8'));
      case 'AbortMultipartUpload':
        upload();
        uploads.delete(r.query.get('uploadId')!);
        return { status: 204 };
      default: throw new S3Error(501, 'NotImplemented', 'A header or query you provided implies functionality that is not implemented.');
    }
  }

  function completeUpload(bucket: Map<string, StoredObject>, upload: Upload, id: string, text: string): Reply {
    const listed = [...text.matchAll(/<Part>[\s\S]*?<\/Part>/g)].map((m) => ({
      n: Number(/<PartNumber>(\d+)<\/PartNumber>/.exec(m[0])?.[1]), etag: unescape(/<ETag>([^<]*)<\/ETag>/.exec(m[0])?.[1] ?? ''),
    }));
    if (listed.length === 0) throw new S3Error(400, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema');
    const parts = listed.map(({ n, etag }, i) => {
      const part = upload.parts.get(n);
      if (!part || part.etag !== etag) throw new S3Error(400, 'InvalidPart', 'One or more of the specified parts could not be found.');
      if (i > 0 && n <= listed[i - 1]!.n) throw new S3Error(400, 'InvalidPartOrder', 'The list of parts was not in ascending order.');
      if (i < listed.length - 1 && part.body.length < 5 * 1024 * 1024) throw new S3Error(400, 'EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed object size.');
      return part;
    });
    const md5s = Buffer.concat(parts.map((p) => Buffer.from(p.etag.replace(/"/g, ''), 'hex')));
    const etag = `"${createHash('md5').update(md5s).digest('hex')}-${parts.length}"`;
    bucket.set(upload.key, { body: Buffer.concat(parts.map((p) => p.body)), etag, modified: new Date() });
    uploads.delete(id);
    return { status: 200, body: xml('CompleteMultipartUploadResult', `<Location>/${escape(upload.bucket)}/${escape(upload.key)}</Location><Bucket>${escape(upload.bucket)}</Bucket><Key>${escape(upload.key)}</Key><ETag>${escape(etag)}</ETag>`) };
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    credentials,
    keys: (bucket) => [...(buckets.get(bucket)?.keys() ?? [])].sort(),
    corrupt: (bucket, key) => {
      const object = buckets.get(bucket)?.get(key);
      if (!object || object.body.length === 0) throw new Error(`no object ${bucket}/${key} to corrupt`);
      const at = Math.floor(object.body.length / 2);
      object.body[at] = object.body[at]! ^ 0xff;
    },
    count: (operation) => (operation ? counts.get(operation) ?? 0 : [...counts.values()].reduce((a, b) => a + b, 0)),
    dropNext: (n, afterBytes) => {
      dropping.left = n;
      dropping.afterBytes = afterBytes;
    },
    failNext: (n, status = 503, operation) => {
      failing.left = n;
      failing.status = status;
      failing.operation = operation;
    },
    close: () => new Promise<void>((resolve, reject) => {
      server.closeAllConnections();
      server.close((error) => (error ? reject(error) : resolve()));
    }),
  };
}

function operationOf(method: string, key: string, query: URLSearchParams): string {
  if (key === '') {
    if (method === 'GET' && query.get('list-type') === '2') return 'ListObjectsV2';
    if (method === 'POST' && query.has('delete')) return 'DeleteObjects';
    return `${method} bucket`;
  }
  if (method === 'POST' && query.has('uploads')) return 'CreateMultipartUpload';
  if (method === 'POST' && query.has('uploadId')) return 'CompleteMultipartUpload';
  if (method === 'PUT' && query.has('uploadId')) return 'UploadPart';
  if (method === 'DELETE' && query.has('uploadId')) return 'AbortMultipartUpload';
  return ({ GET: 'GetObject', HEAD: 'HeadObject', PUT: 'PutObject', DELETE: 'DeleteObject' } as Record<string, string>)[method] ?? `${method} object`;
}

/** What strict S3-compatible stores do with the SDK's streamed-checksum uploads (aws/aws-sdk-js-v3#6810). */
function refuseChunked(req: IncomingMessage, operation: string): void {
  const sha = String(req.headers['x-amz-content-sha256'] ?? '');
  if (String(req.headers['content-encoding'] ?? '').includes('aws-chunked') || sha.startsWith('STREAMING-') || req.headers['x-amz-decoded-content-length'] !== undefined) {
    throw new S3Error(400, 'InvalidArgument', 'aws-chunked encoding is not supported');
  }
  const checksum = Object.keys(req.headers).find((h) => h.startsWith('x-amz-checksum-') || h === 'x-amz-sdk-checksum-algorithm' || h === 'x-amz-trailer');
  if (checksum && (operation === 'PutObject' || operation === 'UploadPart')) throw new S3Error(400, 'InvalidArgument', `${checksum} is not supported`);
}

/** Recomputes the request's SigV4 signature from what was received and compares; S3's codes when it differs. */
async function checkSignature(req: IncomingMessage, url: URL, body: Buffer, credentials: { accessKeyId: string; secretAccessKey: string }): Promise<void> {
  const auth = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/\d{8}\/([^/]+)\/s3\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(req.headers.authorization ?? '');
  if (!auth) throw new S3Error(403, 'AccessDenied', 'Access Denied');
  const [, accessKeyId, region, signedHeaders, signature] = auth as unknown as [string, string, string, string, string];
  if (accessKeyId !== credentials.accessKeyId) throw new S3Error(403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.');
  const payloadHash = String(req.headers['x-amz-content-sha256'] ?? '');
  if (payloadHash !== 'UNSIGNED-PAYLOAD' && payloadHash !== createHash('sha256').update(body).digest('hex')) {
    throw new S3Error(400, 'XAmzContentSHA256Mismatch', 'The provided \'x-amz-content-sha256\' header does not match what was computed.');
  }
  const names = signedHeaders.split(';');
  const headers = Object.fromEntries(names.map((n) => [n, ([] as string[]).concat(req.headers[n] ?? '').join(',')]));
  const date = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(headers['x-amz-date'] ?? '');
  if (!date || !names.includes('host')) throw new S3Error(403, 'AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of url.searchParams) query[k] = k in query ? ([] as string[]).concat(query[k]!, v) : v;
  const signer = new SignatureV4({ service: 's3', region, credentials, sha256: Sha256, uriEscapePath: false, applyChecksum: false });
  const signed = await signer.sign(
    { method: req.method ?? 'GET', protocol: 'http:', hostname: headers.host!.replace(/:\d+$/, ''), path: (req.url ?? '/').split('?')[0]!, query, headers },
    { signingDate: new Date(Date.UTC(+date[1]!, +date[2]! - 1, +date[3]!, +date[4]!, +date[5]!, +date[6]!)), signingRegion: region, signableHeaders: new Set(names) },
  );
  const expected = /Signature=([0-9a-f]{64})/.exec(String(signed.headers.authorization ?? ''))?.[1] ?? '';
  if (expected.length !== signature.length || !timingSafeEqual(Buffer.from(expected), Buffer.from(signature))) {
    throw new S3Error(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.');
  }
}

function listObjects(name: string, bucket: Map<string, StoredObject>, query: URLSearchParams): Reply {
  const prefix = query.get('prefix') ?? '';
  const delimiter = query.get('delimiter') ?? '';
  const maxKeys = Math.min(1000, Math.max(0, Number(query.get('max-keys') ?? 1000) || 0));
  const token = query.get('continuation-token');
  const after = token ? Buffer.from(token, 'base64url').toString('utf8') : (query.get('start-after') ?? '');
  // Each key once, or the common prefix it rolls up into; in key order.
  const entries = new Map<string, { key: string; object?: StoredObject }>();
  for (const key of [...bucket.keys()].sort()) {
    if (!key.startsWith(prefix)) continue;
    const cut = delimiter ? key.indexOf(delimiter, prefix.length) : -1;
    const entry = cut === -1 ? { key, object: bucket.get(key) } : { key: key.slice(0, cut + delimiter.length) };
    if (entry.key > after && !entries.has(entry.key)) entries.set(entry.key, entry);
  }
  const all = [...entries.values()];
  const page = all.slice(0, maxKeys);
  const truncated = all.length > page.length;
  const contents = page.filter((e) => e.object).map((e) => `<Contents><Key>${escape(e.key)}</Key><LastModified>${e.object!.modified.toISOString()}</LastModified><ETag>${escape(e.object!.etag)}</ETag><Size>${e.object!.body.length}</Size><StorageClass>STANDARD</StorageClass></Contents>`);
  const prefixes = page.filter((e) => !e.object).map((e) => `<CommonPrefixes><Prefix>${escape(e.key)}</Prefix></CommonPrefixes>`);
  const next = truncated ? `<NextContinuationToken>${Buffer.from(page.at(-1)!.key).toString('base64url')}</NextContinuationToken>` : '';
  return {
    status: 200,
    body: xml('ListBucketResult', `<Name>${escape(name)}</Name><Prefix>${escape(prefix)}</Prefix>${token ? `<ContinuationToken>${escape(token)}</ContinuationToken>` : ''}<KeyCount>${page.length}</KeyCount><MaxKeys>${maxKeys}</MaxKeys>${delimiter ? `<Delimiter>${escape(delimiter)}</Delimiter>` : ''}<IsTruncated>${truncated}</IsTruncated>${next}${contents.join('')}${prefixes.join('')}`),
  };
}

/** `Range: bytes=<first>-[<last>]` (one range, as S3 serves); past the end → 416 InvalidRange; anything else is ignored, as S3 does. */
function byteRange(header: string | undefined, size: number): { start: number; end: number } | undefined {
  const m = /^bytes=(\d+)-(\d*)$/.exec(header ?? '');
  if (!m) return undefined;
  const start = Number(m[1]);
  if (start >= size) throw new S3Error(416, 'InvalidRange', 'The requested range is not satisfiable');
  return { start, end: Math.min(size - 1, m[2] ? Number(m[2]) : size - 1) };
}

function stored(body: Buffer): StoredObject {
  return { body, etag: `"${createHash('md5').update(body).digest('hex')}"`, modified: new Date() };
}

function objectHeaders(o: StoredObject): Record<string, string> {
  return { 'Accept-Ranges': 'bytes', ETag: o.etag, 'Last-Modified': o.modified.toUTCString(), 'Content-Type': 'application/octet-stream', 'Content-Length': String(o.body.length) };
}

function send(res: ServerResponse, req: IncomingMessage, reply: Reply): void {
  const body = reply.body === undefined ? undefined : Buffer.isBuffer(reply.body) ? reply.body : Buffer.from(reply.body);
  const headers: Record<string, string> = { 'x-amz-request-id': randomBytes(8).toString('hex'), ...(body && !reply.headers?.['Content-Type'] ? { 'Content-Type': 'application/xml' } : {}), ...reply.headers };
  if (!headers['Content-Length']) headers['Content-Length'] = String(body?.length ?? 0);
  res.writeHead(reply.status, headers);
  res.end(req.method === 'HEAD' ? undefined : body);
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

function xml(root: string, inner: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${inner}</${root}>`;
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function unescape(text: string): string {
  return text.replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}
