import type { z } from 'zod';
import type { SourceRecord } from '../ports/records.js';
import {
  canonicalSelect, canonicalValue, columnArrays, copyField, payloadOf, plainArray, unnestFrom,
  type CanonicalRow, type Column,
} from './columns.js';
import type { BatchContext, Entry } from './context.js';
import { copyLines } from './history.js';
import { factId } from './ids.js';
import { RejectRecord, Resolver } from './resolver.js';
import type { RowValues } from './shared.js';

/**
 * How a source-owned fact (mark, absence, period mark) is written. Facts are keyed by a name-based id
 * (source, type, the source's id), so one primary-key probe per record tells new, unchanged (same
 * digest) and changed apart; only new and changed records are validated, mapped and written — new ones
 * with COPY, changed ones with one UPDATE … FROM unnest — each with one history event.
 */
export interface FactSpec<R extends SourceRecord> {
  type: R['type'];
  table: string;
  schema: z.ZodType<R>;
  /** Content columns in payload order. */
  columns: readonly Column[];
  references(record: R): Array<[string, string | undefined]>;
  /** Loads what toRow needs beyond refs (lesson dates and subjects). */
  prepare?(ctx: BatchContext, records: R[]): Promise<void>;
  toRow(record: R, resolve: Resolver, ctx: BatchContext): RowValues;
}

/** A record whose stored row is missing or differs (by digest). */
interface Stored {
  id: string;
  exists: boolean;
  deleted: boolean;
}

interface Change {
  entry: Entry;
  id: string;
  row: CanonicalRow;
}

export async function applyFacts<R extends SourceRecord>(ctx: BatchContext, spec: FactSpec<R>, entries: Entry[]): Promise<void> {
  const ids = entries.map((e) => factId(ctx.source.id, spec.type, (e.record as { externalId: string }).externalId));
  const changed = await probeChanged(ctx, spec, ids, entries.map((e) => e.hash));
  const todo: Array<{ entry: Entry; id: string; stored: Stored }> = [];
  entries.forEach((entry, i) => {
    const stored = changed.get(ids[i]!);
    if (stored) todo.push({ entry, id: ids[i]!, stored });
  });
  ctx.count(spec.type, 'unchanged', entries.length - todo.length);
  if (todo.length === 0) return;
  const valid = validate(ctx, spec, todo);
  await loadReferences(ctx, spec, valid.map((t) => t.record));
  const changes = buildChanges(ctx, spec, valid);
  const existing = new Set(todo.filter((t) => t.stored.exists).map((t) => t.id));
  const before = await readBefore(ctx, spec, changes.filter((c) => existing.has(c.id)).map((c) => c.id));
  const inserts: Change[] = [];
  const updates: Change[] = [];
  for (const change of changes) {
    (existing.has(change.id) ? updates : inserts).push(change);
    recordChange(ctx, spec, change, before.get(change.id) ?? null, existing.has(change.id));
  }
  await insertFacts(ctx, spec, inserts);
  await updateFacts(ctx, spec, updates);
}

/** The ids among `ids` whose row is missing, tombstoned, or stored with another digest. */
async function probeChanged<R extends SourceRecord>(
  ctx: BatchContext, spec: FactSpec<R>, ids: string[], hashes: number[],
): Promise<Map<string, Stored>> {
  const { rows } = await ctx.client.query<Stored>(
    // The inner = ANY keeps the lookup on the primary key whatever the planner thinks of unnest's size.
    `SELECT u.id::text AS id, t.id IS NOT NULL AS exists, t.deleted_at IS NOT NULL AS deleted
       FROM unnest($1::uuid[], $2::int8[]) AS u(id, payload_hash)
       LEFT JOIN (SELECT id, payload_hash, deleted_at FROM ${spec.table} WHERE id = ANY($1::uuid[])) t ON t.id = u.id
      WHERE t.id IS NULL OR t.payload_hash <> u.payload_hash OR t.deleted_at IS NOT NULL`,
    [plainArray(ids), plainArray(hashes)],
  );
  return new Map(rows.map((r) => [r.id, r]));
}

function validate<R extends SourceRecord>(
  ctx: BatchContext, spec: FactSpec<R>, todo: Array<{ entry: Entry; id: string }>,
): Array<{ entry: Entry; id: string; record: R }> {
  const valid: Array<{ entry: Entry; id: string; record: R }> = [];
  for (const item of todo) {
    const parsed = spec.schema.safeParse(item.entry.record);
    if (parsed.success) valid.push({ ...item, record: parsed.data });
    else ctx.reject(item.entry, describeIssues(parsed.error));
  }
  return valid;
}

/** "date: expected a date YYYY-MM-DD; value: empty mark value" */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => (i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
}

async function loadReferences<R extends SourceRecord>(ctx: BatchContext, spec: FactSpec<R>, records: R[]): Promise<void> {
  const wanted = new Map<string, Set<string>>();
  for (const record of records) {
    for (const [type, id] of spec.references(record)) {
      if (id === undefined) continue;
      if (!wanted.has(type)) wanted.set(type, new Set());
      wanted.get(type)!.add(id);
    }
  }
  for (const [type, ids] of wanted) await ctx.refs.load(type, ids);
  await spec.prepare?.(ctx, records);
}

function buildChanges<R extends SourceRecord>(
  ctx: BatchContext, spec: FactSpec<R>, valid: Array<{ entry: Entry; id: string; record: R }>,
): Change[] {
  const changes: Change[] = [];
  for (const { entry, id, record } of valid) {
    try {
      const values = spec.toRow(record, new Resolver(ctx), ctx);
      const row: CanonicalRow = {};
      for (const column of spec.columns) row[column.name] = canonicalValue(column.kind, values[column.name]);
      changes.push({ entry, id, row });
    } catch (error) {
      if (!(error instanceof RejectRecord)) throw error;
      ctx.reject(entry, error.message);
    }
  }
  return changes;
}

async function readBefore<R extends SourceRecord>(ctx: BatchContext, spec: FactSpec<R>, ids: string[]): Promise<Map<string, CanonicalRow & { id: string; deleted: boolean }>> {
  if (ids.length === 0) return new Map();
  const { rows } = await ctx.client.query<CanonicalRow & { id: string; deleted: boolean }>(
    `SELECT t.id::text AS id, t.deleted_at IS NOT NULL AS deleted, ${spec.columns.map((c) => canonicalSelect(c)).join(', ')}
       FROM ${spec.table} t WHERE t.id = ANY($1::uuid[])`,
    [ids],
  );
  return new Map(rows.map((r) => [r.id, r]));
}

function recordChange<R extends SourceRecord>(
  ctx: BatchContext, spec: FactSpec<R>, change: Change, before: (CanonicalRow & { deleted: boolean }) | null, exists: boolean,
): void {
  const after = payloadOf(change.row, spec.columns);
  if (!exists) {
    ctx.count(spec.type, 'created');
    ctx.events.push({ entityType: spec.type, entityId: change.id, op: 'create', before: null, after });
    return;
  }
  const previous = before ? payloadOf(before, spec.columns) : null;
  if (previous === after && !before?.deleted) {
    // The source re-sent the record differently (another field, another order) with the same content.
    ctx.count(spec.type, 'unchanged');
    return;
  }
  ctx.count(spec.type, before?.deleted ? 'created' : 'updated');
  ctx.events.push({
    entityType: spec.type, entityId: change.id, op: before?.deleted ? 'create' : 'update',
    before: before?.deleted ? null : previous, after,
  });
}

const FIXED = ['id', 'school_id', 'source_id', 'external_id', 'payload_hash'];

async function insertFacts<R extends SourceRecord>(ctx: BatchContext, spec: FactSpec<R>, inserts: Change[]): Promise<void> {
  if (inserts.length === 0) return;
  const { schoolId, id: sourceId } = ctx.source;
  function* lines(): Generator<string> {
    for (const c of inserts) {
      let line = `${c.id}\t${schoolId}\t${sourceId}\t${copyField((c.entry.record as { externalId: string }).externalId)}\t${c.entry.hash}`;
      for (const column of spec.columns) line += `\t${copyField(c.row[column.name])}`;
      yield line;
    }
  }
  const columns = [...FIXED, ...spec.columns.map((c) => c.name)].map((n) => `"${n}"`).join(', ');
  await copyLines(ctx.client, `COPY ${spec.table} (${columns}) FROM STDIN`, lines());
}

async function updateFacts<R extends SourceRecord>(ctx: BatchContext, spec: FactSpec<R>, updates: Change[]): Promise<void> {
  if (updates.length === 0) return;
  const columns: Column[] = [{ name: 'id', kind: 'uuid' }, { name: 'payload_hash', kind: 'bigint' }, ...spec.columns];
  const rows = updates.map((c) => ({ ...c.row, id: c.id, payload_hash: c.entry.hash }));
  await ctx.client.query(
    `UPDATE ${spec.table} AS t
        SET ${columns.slice(1).map((c) => `"${c.name}" = u."${c.name}"`).join(', ')}, deleted_at = NULL, updated_at = now()
       FROM ${unnestFrom(columns, 1)}
      WHERE t.id = u.id`,
    columnArrays(rows, columns),
  );
}
