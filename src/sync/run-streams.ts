import type { Pool } from '../db/pool.js';
import { applyBatch, type ApplyBatchResult } from '../journal/apply-batch.js';
import type { Rejection } from '../journal/context.js';
import type { WakeHook } from '../journal/feed.js';
import type { Clock } from '../lib/clock.js';
import { schoolYearSoFar } from '../lib/dates.js';
import { NotFoundError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { STREAM_ORDER, type AdapterRegistry, type DateRange, type StreamName } from '../ports/adapter.js';
import type { RecordType } from '../ports/records.js';
import { findGone } from './gone.js';
import { createAdapterContext } from './adapter-context.js';
import type { TargetPolicy } from '../lib/net-targets.js';
import type { Limiters } from './host-limits.js';

export interface SyncDeps {
  pool: Pool;
  clock: Clock;
  logger: Logger;
  limiters: Limiters;
  adapters: AdapterRegistry;
  /** Where the run may connect (CONNECTION_ALLOWED_TARGETS and public https). */
  targets?: TargetPolicy;
  /** Wakes the event feed's consumers, in each batch's transaction (src/journal/feed.ts). */
  wake?: WakeHook;
}

export interface SyncInput {
  connectionId: string;
  /** The connection's configuration with its secrets (the caller decrypts them). */
  config: unknown;
  /** Default: the school year so far (1 September to today, school-local). */
  range?: DateRange;
  streams?: StreamName[];
  signal?: AbortSignal;
  /** The run's fencing token (see lease.ts); batches are refused once another run holds the lease. */
  fence?: string;
  /** The run writing (recorded on its history events). */
  runId?: string;
  /** After each stream is read completely, tombstone what the source no longer has in the range. */
  detectGone?: boolean;
  /** Once aborted, the run stops after the batch it is applying (InterruptedError). */
  drain?: AbortSignal;
  onProgress?(stream: StreamName, progress: StreamResult): void;
}

export interface StreamResult {
  stream: StreamName;
  batches: number;
  created: number;
  updated: number;
  unchanged: number;
  deleted: number;
  rejected: Rejection[];
  /** Record types whose deletions were held back as implausible (see gone.ts). */
  guarded: RecordType[];
}

export interface SyncResult {
  streams: StreamResult[];
  requests: number;
}

/**
 * Reads every stream of a connection's adapter, in dependency order, and applies each batch through
 * applyBatch with the stream's cursor. A failing request fails the run (after the client's retries);
 * batches already applied stay applied, with their cursor.
 */
export async function syncStreams(deps: SyncDeps, input: SyncInput): Promise<SyncResult> {
  const connection = await readConnection(deps.pool, input.connectionId);
  const adapter = deps.adapters.get(connection.platform);
  if (!adapter) throw new NotFoundError(`adapter "${connection.platform}"`);
  const ctx = createAdapterContext({
    adapter, config: input.config, timeZone: connection.timeZone, signal: input.signal ?? new AbortController().signal,
    range: input.range ?? schoolYearSoFar(connection.timeZone, deps.clock.now()), clock: deps.clock, logger: deps.logger,
    limiters: deps.limiters, targets: deps.targets,
  });
  const results: StreamResult[] = [];
  for (const name of STREAM_ORDER) {
    const stream = adapter.streams[name];
    if (!stream || (input.streams && !input.streams.includes(name))) continue;
    const result: StreamResult = { stream: name, batches: 0, created: 0, updated: 0, unchanged: 0, deleted: 0, rejected: [], guarded: [] };
    const seen = new Map<RecordType, Set<string>>(STREAM_TYPES[name].map((type) => [type, new Set<string>()]));
    for await (const batch of stream.read(ctx)) {
      for (const record of batch.records) seen.get(record.type)?.add(record.externalId);
      const applied = await applyBatch(deps.pool, deps.clock, {
        connectionId: input.connectionId, stream: name, records: batch.records, goneIds: batch.goneIds, fence: input.fence, vocabulary: adapter.vocabulary,
        runId: input.runId, afterEvents: deps.wake,
      });
      add(result, applied);
      input.onProgress?.(name, result);
      // Leaving the loop closes the stream's generator, which ends its requests.
      if (input.drain?.aborted) throw new InterruptedError();
    }
    if (input.detectGone) await applyGoneIds(deps, input, ctx.range, name, seen, result);
    results.push(result);
  }
  return { streams: results, requests: ctx.stats.requests };
}

/** The process is stopping: the run ends between batches, to be resumed by a later job. */
export class InterruptedError extends Error {
  constructor() {
    super('the service is stopping');
    this.name = 'InterruptedError';
  }
}

/** The record types whose deletions a complete read of a stream reveals. */
const STREAM_TYPES: Record<StreamName, RecordType[]> = {
  roster: ['enrollment'], schedule: ['lesson'], homework: [], marks: ['mark'], attendance: ['attendance'], periodMarks: [],
};

async function applyGoneIds(
  deps: SyncDeps, input: SyncInput, range: DateRange, name: StreamName, seen: Map<RecordType, Set<string>>, result: StreamResult,
): Promise<void> {
  const { gone, guarded } = await findGone(deps.pool, input.connectionId, range, seen);
  result.guarded.push(...guarded);
  if (guarded.length > 0) deps.logger.warn({ connectionId: input.connectionId, stream: name, guarded }, 'implausibly many records gone at once: deletions not applied');
  if (gone.length === 0) return;
  const applied = await applyBatch(deps.pool, deps.clock, { connectionId: input.connectionId, stream: name, records: [], goneIds: gone, fence: input.fence, runId: input.runId, afterEvents: deps.wake });
  add(result, applied);
}

function add(result: StreamResult, applied: ApplyBatchResult): void {
  result.batches += 1;
  result.created += applied.created;
  result.updated += applied.updated;
  result.unchanged += applied.unchanged;
  result.deleted += applied.deleted;
  result.rejected.push(...applied.rejected);
}

async function readConnection(pool: Pool, connectionId: string): Promise<{ platform: string; timeZone: string }> {
  const { rows } = await pool.query<{ platform: string; timeZone: string }>(
    'SELECT c.platform, s.time_zone AS "timeZone" FROM connection c JOIN school s ON s.id = c.school_id WHERE c.id = $1',
    [connectionId],
  );
  if (!rows[0]) throw new NotFoundError(`connection ${connectionId}`);
  return rows[0];
}
