import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fixedClock, type Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import { STREAM_ORDER, type AnyAdapter, type DateRange, type StreamName } from '../ports/adapter.js';
import type { SourceRecord } from '../ports/records.js';
import { createAdapterContext, type RunObserver } from './adapter-context.js';
import { CaptureRecorder, writeCapture, type CaptureManifest } from './capture.js';
import { Limiters } from './host-limits.js';
import { Pseudonymizer } from './pseudonymize.js';
import { startReplay } from './replay.js';

/**
 * A read-only pass of an adapter without the journal: what `connections try` prints and what
 * `connections record` captures. The streams are read in the sync's order with one context (they share
 * a login and what they read once), and nothing is written anywhere.
 */
export interface ProbeOptions {
  adapter: AnyAdapter;
  /** The connection's configuration, secrets included. */
  config: unknown;
  range: DateRange;
  timeZone: string;
  /** Default: every stream of the adapter. */
  streams?: StreamName[];
  clock: Clock;
  logger: Logger;
  signal?: AbortSignal;
  observer?: RunObserver;
  /** One request and one unit of work at a time (a capture's order must replay). */
  serial?: boolean;
}

export interface ProbeResult {
  /** Records per stream, in the order read. */
  streams: Array<{ stream: StreamName; records: SourceRecord[] }>;
  requests: number;
}

/** The streams an adapter has, of those asked for, in the order a sync reads them. */
export function streamsOf(adapter: AnyAdapter, wanted?: readonly string[]): StreamName[] {
  const unknown = (wanted ?? []).filter((s) => !(s in adapter.streams));
  if (unknown.length > 0) throw new Error(`${adapter.id} has no stream ${unknown.join(', ')}; it has ${Object.keys(adapter.streams).join(', ')}`);
  return STREAM_ORDER.filter((s) => adapter.streams[s] && (!wanted || wanted.length === 0 || wanted.includes(s)));
}

export async function probe(options: ProbeOptions, onBatch?: (stream: StreamName, records: SourceRecord[]) => void): Promise<ProbeResult> {
  const limiters = new Limiters();
  const ctx = createAdapterContext({
    adapter: options.adapter, config: options.config, range: options.range, timeZone: options.timeZone,
    signal: options.signal ?? new AbortController().signal, clock: options.clock, logger: options.logger, limiters,
    observer: options.observer, serial: options.serial,
  });
  const result: ProbeResult = { streams: [], requests: 0 };
  try {
    for (const name of streamsOf(options.adapter, options.streams)) {
      const records: SourceRecord[] = [];
      for await (const batch of options.adapter.streams[name]!.read(ctx)) {
        records.push(...batch.records);
        onBatch?.(name, batch.records);
      }
      result.streams.push({ stream: name, records });
    }
  } finally {
    result.requests = ctx.stats.requests;
    await limiters.stop();
  }
  return result;
}

export interface RecordResult {
  manifest: CaptureManifest;
  /** Records the live pass mapped, and what the adapter maps of the written capture (the same, unless pseudonyms changed meaning). */
  liveRecords: number;
  replayedRecords: number;
  /** Name words and values replaced (counts only). */
  replaced: { words: number; values: number };
}

/**
 * `connections record`: a serial, read-only pass recorded into `dir` with personal data replaced, then
 * replayed through the adapter to write `records.jsonl` — what the capture maps to, as a fixture's
 * expected output.
 */
export async function recordCapture(options: Omit<ProbeOptions, 'observer' | 'serial'>, dir: string): Promise<RecordResult> {
  const recorder = new CaptureRecorder();
  const now = options.clock.now();
  const live = await probe({ ...options, clock: fixedClock(now), observer: recorder, serial: true });
  const scrub = new Pseudonymizer();
  scrub.learnConfig(options.config, options.adapter.secretKeys);
  scrub.learnRecords(live.streams.flatMap((s) => s.records));
  for (const e of recorder.exchanges) {
    const cookies = e.headers['set-cookie'];
    scrub.learnAnswer(e.body.toString('utf8'), Array.isArray(cookies) ? cookies : cookies ? [cookies] : []);
  }
  for (const s of recorder.sockets) for (const f of s.frames) scrub.learnAnswer(f.text);
  const manifest = await writeCapture(dir, recorder, {
    platform: options.adapter.id, config: options.config as Record<string, unknown>, range: options.range, timeZone: options.timeZone,
    now, streams: live.streams.map((s) => s.stream), endpoints: options.adapter.endpoints,
  }, scrub);
  const replayed = await replayCapture(options.adapter, dir, options.logger);
  await writeFile(path.join(dir, 'records.jsonl'), replayed.streams.flatMap((s) => s.records.map((r) => `${JSON.stringify({ stream: s.stream, ...r })}\n`)).join(''));
  const count = (r: ProbeResult) => r.streams.reduce((n, s) => n + s.records.length, 0);
  return { manifest, liveRecords: count(live), replayedRecords: count(replayed), replaced: scrub.learnt };
}

/** Runs the adapter against a capture (the streams, range, zone and clock it was recorded with). */
export async function replayCapture(adapter: AnyAdapter, dir: string, logger: Logger, streams?: StreamName[]): Promise<ProbeResult & { unmatched: string[] }> {
  const replay = await startReplay(dir);
  try {
    const { manifest } = replay;
    if (manifest.platform !== adapter.id) throw new Error(`${dir} is a capture of ${manifest.platform}, not of ${adapter.id}`);
    const result = await probe({
      adapter, config: replay.config(), range: manifest.range, timeZone: manifest.timeZone, clock: fixedClock(new Date(manifest.now)),
      logger, streams: streams ?? (manifest.streams as StreamName[]), serial: true,
    });
    return { ...result, unmatched: replay.unmatched() };
  } finally {
    await replay.close();
  }
}
