import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { DateRange, StreamName } from '../ports/adapter.js';
import { findEndpoint, type Endpoint } from '../ports/response.js';
import type { RunObserver } from './adapter-context.js';
import type { Exchange } from './http-client.js';
import type { Pseudonymizer } from './pseudonymize.js';
import type { Frame } from './socket.js';

/**
 * A capture: every answer a platform gave one read-only pass of an adapter, in order, with the
 * connection's configuration, so that the pass can be replayed without the platform (src/sync/replay.ts)
 * — by the maintainers a school hands it to, and as a test fixture (test/fixtures/<platform>/captures/).
 * On disk: `capture.json` (what was asked and answered) and `bodies/` (each answer's body as received,
 * personal data replaced by src/sync/pseudonymize.ts), and `records.jsonl` (what the adapter maps of it).
 */

const CAPTURE_FORMAT = 1;

const HeadersSchema = z.record(z.string(), z.union([z.string(), z.array(z.string())]));

const CapturedExchangeSchema = z.object({
  method: z.string(),
  /** Absolute, as recorded (with the platform's origin; the replay serves every origin it names). */
  url: z.string(),
  requestBody: z.string().optional(),
  status: z.number().int(),
  headers: HeadersSchema,
  /** The catalogued endpoint it answered, when it is one (`GET /v2/users/me/context`). */
  endpoint: z.string().optional(),
  /** File under bodies/. */
  body: z.string(),
});

const CapturedSocketSchema = z.object({
  url: z.string(),
  frames: z.array(z.object({ direction: z.enum(['out', 'in']), text: z.string() })),
});

const CaptureManifestSchema = z.object({
  format: z.literal(CAPTURE_FORMAT),
  platform: z.string(),
  /** The configuration as replayed: secrets and logins pseudonymized, the platform's URLs kept. */
  config: z.record(z.string(), z.unknown()),
  range: z.object({ from: z.string(), to: z.string() }),
  timeZone: z.string(),
  /** The instant the adapter's clock said during the pass (replays use it). */
  now: z.string(),
  streams: z.array(z.string()),
  exchanges: z.array(CapturedExchangeSchema),
  sockets: z.array(CapturedSocketSchema),
});

export type CaptureManifest = z.infer<typeof CaptureManifestSchema>;
export type CapturedExchange = z.infer<typeof CapturedExchangeSchema>;

/** Headers worth keeping: what decides how an answer is read (its type, a redirect, a cookie, a wait). */
const KEPT_HEADERS = ['content-type', 'location', 'set-cookie', 'retry-after', 'auth-error'];

/** Collects a pass's exchanges and socket frames (an adapter context's observer). */
export class CaptureRecorder implements RunObserver {
  readonly exchanges: Exchange[] = [];
  readonly sockets: Array<{ url: string; frames: Frame[] }> = [];

  exchange(exchange: Exchange): void {
    this.exchanges.push(exchange);
  }

  socket(url: string): (frame: Frame) => void {
    const socket = { url, frames: [] as Frame[] };
    this.sockets.push(socket);
    return (frame) => socket.frames.push(frame);
  }
}

export interface CaptureMeta {
  platform: string;
  config: Record<string, unknown>;
  range: DateRange;
  timeZone: string;
  now: Date;
  streams: StreamName[];
  endpoints: ReadonlyArray<Endpoint<unknown>>;
}

/** Writes the recorded pass into `dir`, every text through the pseudonymizer (which has learnt the pass). */
export async function writeCapture(dir: string, recorder: CaptureRecorder, meta: CaptureMeta, scrub: Pseudonymizer): Promise<CaptureManifest> {
  await mkdir(path.join(dir, 'bodies'), { recursive: true });
  const exchanges: CapturedExchange[] = [];
  for (const [i, e] of recorder.exchanges.entries()) {
    const contentType = String(e.headers['content-type'] ?? '');
    const text = e.body.toString('utf8');
    const extension = /json/.test(contentType) || /^\s*[[{]/.test(text) ? 'json' : /html/.test(contentType) || /<html/i.test(text) ? 'html' : 'txt';
    const file = `${String(i + 1).padStart(4, '0')}-${e.method.toLowerCase()}-${slug(scrub.applyText(e.url))}.${extension}`;
    await writeFile(path.join(dir, 'bodies', file), scrub.apply(text));
    const endpoint = findEndpoint(meta.endpoints, e.method, e.url);
    exchanges.push({
      method: e.method, url: scrub.applyText(e.url), requestBody: e.requestBody === undefined ? undefined : scrub.apply(e.requestBody),
      status: e.status, headers: keptHeaders(e.headers, scrub), endpoint: endpoint ? `${endpoint.method} ${endpoint.path}` : undefined, body: file,
    });
  }
  const manifest: CaptureManifest = {
    format: CAPTURE_FORMAT, platform: meta.platform, config: JSON.parse(scrub.apply(JSON.stringify(meta.config))) as Record<string, unknown>,
    range: meta.range, timeZone: meta.timeZone, now: meta.now.toISOString(), streams: meta.streams, exchanges,
    sockets: recorder.sockets.map((s) => ({ url: scrub.applyText(s.url), frames: s.frames.map((f) => ({ direction: f.direction, text: scrub.apply(f.text) })) })),
  };
  await writeFile(path.join(dir, 'capture.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/** Reads a capture's manifest (checked) and gives its bodies by file name. */
export async function readCapture(dir: string): Promise<{ manifest: CaptureManifest; body(file: string): Promise<Buffer> }> {
  const text = await readFile(path.join(dir, 'capture.json'), 'utf8').catch(() => {
    throw new Error(`${dir} holds no capture.json: not a capture written by \`connections record\``);
  });
  const parsed = CaptureManifestSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`${dir}/capture.json is not a capture of format ${CAPTURE_FORMAT}: ${parsed.error.issues[0]?.message ?? ''}`);
  return { manifest: parsed.data, body: (file) => readFile(path.join(dir, 'bodies', path.basename(file))) };
}

function keptHeaders(headers: Exchange['headers'], scrub: Pseudonymizer): Record<string, string | string[]> {
  const kept: Record<string, string | string[]> = {};
  for (const name of KEPT_HEADERS) {
    const value = headers[name];
    if (value !== undefined) kept[name] = Array.isArray(value) ? value.map((v) => scrub.applyText(v)) : scrub.applyText(String(value));
  }
  return kept;
}

/** `https://api.dnevnik.ru/v2/edu-groups/123/persons?x=1` → `v2-edu-groups-123-persons` (a readable file name). */
function slug(url: string): string {
  const pathname = URL.canParse(url) ? new URL(url).pathname : url;
  return pathname.replace(/[^a-zA-Z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 80) || 'root';
}
