import { withTransaction, type Pool, type PoolClient } from '../db/pool.js';
import type { Clock } from '../lib/clock.js';
import { AppError, NotFoundError } from '../lib/errors.js';
import {
  MAX_EXTERNAL_ID, type ClassRecord, type GoneId, type RecordType, type SourceRecord,
} from '../ports/records.js';
import type { Vocabulary } from '../ports/values.js';
import { prepareAcademicYears } from './academic-years.js';
import { BatchContext, emptyCounts, isRecordType, type Counts, type Entry, type Rejection, type SourceInfo } from './context.js';
import {
  classSpec, enrollmentSpec, guardianshipSpec, homeworkSpec, lessonSpec, periodSpec, personSpec, staffRoleSpec,
  subjectSpec, teachingAssignmentSpec,
} from './entities.js';
import { attendanceSpec, markSpec, periodMarkSpec } from './fact-specs.js';
import { applyFacts, type FactSpec } from './facts.js';
import { saveConflicts } from './conflicts.js';
import { applyGone } from './gone.js';
import { appendEvents, lockChainHead } from './history.js';
import { payloadHash } from './ids.js';
import { applyShared, type SharedSpec } from './shared.js';

export interface ApplyBatchInput {
  /** The connection (source) the records come from. */
  connectionId: string;
  /** The stream they were read from; names the cursor. */
  stream: string;
  /** Source records; anything malformed is rejected alone with a reason. */
  records: readonly unknown[];
  /** Platform ids that are gone from the source. */
  goneIds?: readonly GoneId[];
  /** The stream's new cursor, saved in the same transaction; leave out to keep the old one. */
  cursor?: unknown;
  /** Who made the change when it is not the source itself (recorded in the history). */
  actor?: string;
  /** How the source's platform spells marks and absence codes (its adapter's `vocabulary`); generic by default. */
  vocabulary?: Vocabulary;
  /**
   * The writing run's fencing token: the batch is refused (StaleRunError) unless it is still the
   * connection's lease (see src/sync/lease.ts), so a run that lost its job cannot write late.
   */
  fence?: string;
  /** The sync run writing the batch: recorded on its history events for the consumers of the feed. */
  runId?: string;
  /**
   * Called inside the batch's transaction when it appended events (the feed's wake-up: a job sent here is
   * committed with the events, or not at all).
   */
  afterEvents?: (client: PoolClient, change: { schoolId: string; seq: number }) => Promise<void>;
}

export interface ApplyBatchResult extends Omit<Counts, 'rejected'> {
  rejected: Rejection[];
  byType: Partial<Record<RecordType, Counts>>;
  /** Events appended to the school's history. */
  events: number;
}

const SHARED = new Map<RecordType, SharedSpec<SourceRecord>>(
  [periodSpec, subjectSpec, classSpec, personSpec, enrollmentSpec, guardianshipSpec, staffRoleSpec,
    teachingAssignmentSpec, lessonSpec, homeworkSpec].map((s) => [s.type, s as unknown as SharedSpec<SourceRecord>]),
);
const FACTS = new Map<RecordType, FactSpec<SourceRecord>>(
  [markSpec, attendanceSpec, periodMarkSpec].map((s) => [s.type, s as unknown as FactSpec<SourceRecord>]),
);

/** Dependency order: what a record refers to is applied before it. */
const ORDER: RecordType[] = [
  'period', 'subject', 'class', 'person', 'enrollment', 'guardianship', 'staff_role', 'teaching_assignment',
  'lesson', 'homework', 'mark', 'attendance', 'period_mark',
];

/**
 * The one write path of the canonical journal. In one transaction: takes the school's history lock,
 * resolves or creates external refs, matches persons, inserts new rows, updates changed ones only,
 * tombstones gone ones, appends a hash-chained event per change and saves the stream cursor. A
 * malformed or unresolvable record is rejected alone, with its reason; anything else that fails rolls
 * the whole batch back (nothing half-written, cursor untouched).
 */
export async function applyBatch(pool: Pool, clock: Clock, input: ApplyBatchInput): Promise<ApplyBatchResult> {
  return withTransaction(pool, (client) => applyBatchIn(client, clock, input));
}

/**
 * applyBatch inside a transaction the caller holds, for a write that must commit with the batch or not
 * at all (the push API's idempotency row). The caller commits or rolls back; on a throw, roll back.
 */
export async function applyBatchIn(client: PoolClient, clock: Clock, input: ApplyBatchInput): Promise<ApplyBatchResult> {
  const source = await readSource(client, input.connectionId, input.fence);
  const head = await lockChainHead(client, source.schoolId);
  const now = clock.now();
  const ctx = new BatchContext(client, source, now, input.vocabulary);
  const groups = groupRecords(ctx, input.records);
  await prepareAcademicYears(ctx, yearsOf(groups));
  for (const type of ORDER) {
    const entries = groups.get(type);
    if (entries && entries.length > 0) await applyType(ctx, type, entries);
  }
  if (input.goneIds && input.goneIds.length > 0) await applyGone(ctx, input.goneIds, { facts: FACTS, shared: SHARED });
  const tip = await appendEvents(client, head, {
    schoolId: source.schoolId, sourceId: source.id, actor: input.actor ?? null, at: now.toISOString(), runId: input.runId ?? null,
  }, ctx.events);
  if (ctx.conflicts.length > 0 || ctx.counts.has('person')) {
    await saveConflicts(client, source.schoolId, source.id, input.runId ?? null, ctx.conflicts);
  }
  if (tip.seq > head.seq && input.afterEvents) await input.afterEvents(client, { schoolId: source.schoolId, seq: tip.seq });
  if (input.cursor !== undefined) await saveCursor(client, source.id, input.stream, input.cursor);
  return summarize(ctx);
}

/**
 * The connection and its school. With a fence, the connection row is share-locked until commit, so a
 * new run cannot take the lease over while this batch writes, and this batch cannot write after it has.
 */
async function readSource(client: PoolClient, connectionId: string, fence: string | undefined): Promise<SourceInfo> {
  const { rows } = await client.query<SourceInfo & { lease: string | null }>(
    `SELECT c.id::text AS id, c.school_id::text AS "schoolId", c.platform, s.time_zone AS "timeZone", c.lease_token AS lease
       FROM connection c JOIN school s ON s.id = c.school_id WHERE c.id = $1 ${fence === undefined ? '' : 'FOR SHARE OF c'}`,
    [connectionId],
  );
  const row = rows[0];
  if (!row) throw new NotFoundError(`connection ${connectionId}`);
  if (fence !== undefined && row.lease !== fence) throw new StaleRunError(connectionId);
  return { id: row.id, schoolId: row.schoolId, platform: row.platform, timeZone: row.timeZone };
}

/** A batch of a run that no longer holds its connection's lease. Nothing of it was written. */
export class StaleRunError extends AppError {
  constructor(connectionId: string) {
    super('stale_run', `this run no longer holds the lease of connection ${connectionId}; its writes are refused`, 409);
  }
}

/**
 * Sorts records by type after the checks every record needs (an object of a known type with an
 * external id). A platform id sent twice in one batch keeps its last version; the earlier ones are
 * reported, not silently dropped.
 */
function groupRecords(ctx: BatchContext, records: readonly unknown[]): Map<RecordType, Entry[]> {
  const groups = new Map<RecordType, Map<string, Entry>>();
  records.forEach((record, index) => {
    const shape = record as { type?: unknown; externalId?: unknown } | null;
    if (typeof shape !== 'object' || shape === null || typeof shape.type !== 'string' || !isRecordType(shape.type)) {
      ctx.reject({ index, record }, `not a source record: expected an object with a known "type"`);
      return;
    }
    const problem = externalIdProblem(shape.externalId);
    if (problem) {
      ctx.reject({ index, record }, `externalId: ${problem}`);
      return;
    }
    const id = shape.externalId as string;
    const byId = groups.get(shape.type) ?? new Map<string, Entry>();
    groups.set(shape.type, byId);
    const earlier = byId.get(id);
    if (earlier) ctx.reject(earlier, `superseded by record #${index} with the same externalId in this batch`);
    byId.set(id, { index, record: record as SourceRecord, hash: payloadHash(record) });
  });
  return new Map([...groups].map(([type, byId]) => [type, [...byId.values()]]));
}

/** The checks of ExternalIdSchema, written out: this runs for every record of every batch. */
function externalIdProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'expected a string';
  if (value.length === 0 || value.length > MAX_EXTERNAL_ID || value.trim() !== value) {
    return `expected 1–${MAX_EXTERNAL_ID} characters without surrounding spaces`;
  }
  return undefined;
}

function yearsOf(groups: Map<RecordType, Entry[]>): number[] {
  const years: number[] = [];
  for (const type of ['period', 'class'] as const) {
    for (const entry of groups.get(type) ?? []) {
      const year = (entry.record as { year?: unknown }).year;
      if (typeof year === 'number' && Number.isInteger(year) && year >= 2000 && year <= 2100) years.push(year);
    }
  }
  return years;
}

async function applyType(ctx: BatchContext, type: RecordType, entries: Entry[]): Promise<void> {
  const fact = FACTS.get(type);
  if (fact) return applyFacts(ctx, fact, entries);
  const spec = SHARED.get(type)!;
  if (type !== 'class') return applyShared(ctx, spec, entries);
  // Subgroups name their class: classes first.
  const isSubgroup = (e: Entry) => (e.record as Partial<ClassRecord>).parentExternalId !== undefined;
  await applyShared(ctx, spec, entries.filter((e) => !isSubgroup(e)));
  await applyShared(ctx, spec, entries.filter(isSubgroup));
}

async function saveCursor(client: PoolClient, connectionId: string, stream: string, cursor: unknown): Promise<void> {
  await client.query(
    `INSERT INTO sync_cursor (connection_id, stream, cursor, updated_at) VALUES ($1, $2, $3::jsonb, now())
     ON CONFLICT (connection_id, stream) DO UPDATE SET cursor = EXCLUDED.cursor, updated_at = now()`,
    [connectionId, stream, JSON.stringify(cursor)],
  );
}

function summarize(ctx: BatchContext): ApplyBatchResult {
  const total = emptyCounts();
  for (const counts of ctx.counts.values()) {
    for (const key of Object.keys(total) as Array<keyof Counts>) total[key] += counts[key];
  }
  return {
    created: total.created,
    updated: total.updated,
    unchanged: total.unchanged,
    deleted: total.deleted,
    rejected: ctx.rejected,
    byType: Object.fromEntries(ctx.counts),
    events: ctx.events.length,
  };
}
