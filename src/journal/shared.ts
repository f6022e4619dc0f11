import { SourceRecordSchemas, type SourceRecord } from '../ports/records.js';
import {
  canonicalSelect, canonicalValue, columnArrays, payloadOf, unnestFrom,
  type CanonicalRow, type Column,
} from './columns.js';
import type { BatchContext, Entry } from './context.js';
import { describeIssues } from './facts.js';
import { newId, UNRESOLVED_HASH } from './ids.js';
import type { RefWrite } from './refs.js';
import { RejectRecord, Resolver } from './resolver.js';

/** Row values built from a record: `undefined` = the source does not say (keep what is stored). */
export type RowValues = Record<string, unknown> & { id?: string };

/** One record on its way to a shared row. */
export interface Pending<R extends SourceRecord> {
  entry: Entry<R>;
  row: RowValues;
  unresolved: boolean;
  targetId?: string;
  /** Set when matching refused the record (already reported). */
  rejected?: boolean;
}

/**
 * How a shared entity (one canonical row that several sources may know) is written. Records of one type
 * go through `applyShared`: unchanged ones are skipped by digest; the others are resolved, matched to
 * an existing row (by this source's ref, then by natural key or `locate`), merged, compared and written
 * set-based, with one history event per row that actually changed.
 */
export interface SharedSpec<R extends SourceRecord> {
  /** Record type; also the entity type of its external refs. */
  type: R['type'];
  /** Entity type in history events. */
  entity: string;
  table: string;
  /** Content columns in payload order. Include `deleted_at` when the table soft-deletes. */
  columns: readonly Column[];
  /** Natural key columns: an unlinked record joins the row with the same key. */
  key: readonly string[];
  /** Columns a new row cannot do without. */
  required: readonly string[];
  /** Values a new row takes for columns the source does not give. */
  defaults?: CanonicalRow;
  /** False for records that only amend rows of another type (homework → lesson). */
  creates?: boolean;
  /** Entity types and ids to load before `toRow`. */
  references(record: R): Array<[string, string | undefined]>;
  toRow(record: R, resolve: Resolver, ctx: BatchContext): RowValues;
  /** Finds existing rows for records without a ref, instead of the natural key (person identity). */
  locate?(ctx: BatchContext, pending: Pending<R>[]): Promise<void>;
  /**
   * After the natural key: the records it matched to no row (about to be created) get another look —
   * subgroups whose sources spell their names differently (subgroups.ts) — and may be linked or rejected.
   */
  rematch?(ctx: BatchContext, fresh: Pending<R>[]): Promise<void>;
}

/**
 * Applies records of one shared type. A record whose digest equals what this source said last time is
 * unchanged and only touched; the others are validated (the malformed ones rejected with their reasons),
 * mapped and written.
 */
export async function applyShared<R extends SourceRecord>(ctx: BatchContext, spec: SharedSpec<R>, entries: Entry<R>[]): Promise<void> {
  await ctx.refs.load(spec.type, entries.map((e) => e.record.externalId));
  const unchanged: string[] = [];
  const changed: Entry<R>[] = [];
  for (const entry of entries) {
    const ref = ctx.refs.get(spec.type, entry.record.externalId);
    if (ref && !ref.gone && ref.payloadHash === entry.hash) unchanged.push(entry.record.externalId);
    else changed.push(entry);
  }
  ctx.count(spec.type, 'unchanged', unchanged.length);
  await ctx.refs.touch(spec.type, unchanged);
  const todo = validate(ctx, spec, changed);
  if (todo.length === 0) return;
  await loadReferences(ctx, spec, todo);
  const pending = buildRows(ctx, spec, todo);
  await locateTargets(ctx, spec, pending);
  const existing = await readRows(ctx, spec, pending.flatMap((p) => (p.targetId ? [p.targetId] : [])));
  const { rows, refs } = mergeAndRecord(ctx, spec, pending, existing);
  await writeRows(ctx, spec, rows, existing);
  await ctx.refs.write(spec.type, refs);
}

function validate<R extends SourceRecord>(ctx: BatchContext, spec: SharedSpec<R>, entries: Entry<R>[]): Entry<R>[] {
  const schema = SourceRecordSchemas[spec.type];
  const valid: Entry<R>[] = [];
  for (const entry of entries) {
    const parsed = schema.safeParse(entry.record);
    if (parsed.success) valid.push({ ...entry, record: parsed.data as R });
    else ctx.reject(entry, describeIssues(parsed.error));
  }
  return valid;
}

async function loadReferences<R extends SourceRecord>(ctx: BatchContext, spec: SharedSpec<R>, entries: Entry<R>[]): Promise<void> {
  const wanted = new Map<string, Set<string>>();
  for (const entry of entries) {
    for (const [type, id] of spec.references(entry.record)) {
      if (id === undefined) continue;
      if (!wanted.has(type)) wanted.set(type, new Set());
      wanted.get(type)!.add(id);
    }
  }
  for (const [type, ids] of wanted) await ctx.refs.load(type, ids);
}

function buildRows<R extends SourceRecord>(ctx: BatchContext, spec: SharedSpec<R>, entries: Entry<R>[]): Pending<R>[] {
  const pending: Pending<R>[] = [];
  for (const entry of entries) {
    const resolver = new Resolver(ctx);
    try {
      const row = spec.toRow(entry.record, resolver, ctx);
      pending.push({ entry, row, unresolved: resolver.unresolved });
    } catch (error) {
      if (!(error instanceof RejectRecord)) throw error;
      ctx.reject(entry, error.message);
    }
  }
  return pending;
}

function keyOf(spec: SharedSpec<SourceRecord>, row: RowValues | CanonicalRow): string {
  return JSON.stringify(spec.key.map((k) => row[k] ?? null));
}

async function locateTargets<R extends SourceRecord>(ctx: BatchContext, spec: SharedSpec<R>, pending: Pending<R>[]): Promise<void> {
  const unlinked: Pending<R>[] = [];
  for (const p of pending) {
    const ref = ctx.refs.get(spec.type, p.entry.record.externalId);
    if (p.row.id) p.targetId = p.row.id;
    else if (ref) p.targetId = ref.canonicalId;
    else unlinked.push(p);
  }
  if (spec.locate) await spec.locate(ctx, unlinked);
  else if (spec.key.length > 0) {
    const fresh = await locateByKey(ctx, spec, pending);
    if (spec.rematch && fresh.length > 0) await spec.rematch(ctx, fresh);
  }
}

/**
 * Matches records to rows by natural key; records of this batch with one key share one row. A record
 * whose ref points at one row while its key now names another is rejected (the platform moved it onto
 * an occupied key). Returns the records that got a new row (first of their key in this batch).
 */
async function locateByKey<R extends SourceRecord>(ctx: BatchContext, spec: SharedSpec<R>, pending: Pending<R>[]): Promise<Pending<R>[]> {
  const keyColumns = spec.columns.filter((c) => spec.key.includes(c.name));
  const keyed = pending.map((p) => Object.fromEntries(keyColumns.map((c) => [c.name, canonicalValue(c.kind, p.row[c.name])])));
  // `=` where a key column is never null, so the unique index serves the join.
  const on = keyColumns
    .map((c) => (spec.required.includes(c.name) ? `t."${c.name}" = k."${c.name}"` : `t."${c.name}" IS NOT DISTINCT FROM k."${c.name}"`))
    .join(' AND ');
  const { rows } = await ctx.client.query<CanonicalRow & { id: string }>(
    `SELECT DISTINCT t.id::text AS id, ${keyColumns.map((c) => canonicalSelect(c)).join(', ')}
       FROM ${spec.table} t JOIN (SELECT DISTINCT * FROM ${unnestFrom(keyColumns, 2, 'k')}) k ON ${on}
      WHERE t.school_id = $1`,
    [ctx.source.schoolId, ...columnArrays(keyed, keyColumns)],
  );
  const byKey = new Map(rows.map((r) => [keyOf(spec as SharedSpec<SourceRecord>, r), r.id]));
  const fresh: Pending<R>[] = [];
  pending.forEach((p, i) => {
    const key = keyOf(spec as SharedSpec<SourceRecord>, keyed[i]!);
    const holder = byKey.get(key);
    if (p.targetId && holder && holder !== p.targetId) {
      ctx.reject(p.entry, `another ${spec.entity} already has this ${spec.key.join(' + ')}; the source moved this one onto it`);
      p.rejected = true;
      return;
    }
    if (!p.targetId && !holder) fresh.push(p);
    p.targetId ??= holder ?? newId();
    byKey.set(key, p.targetId);
  });
  return fresh;
}

type StoredRow = CanonicalRow & { id: string };

async function readRows<R extends SourceRecord>(ctx: BatchContext, spec: SharedSpec<R>, ids: string[]): Promise<Map<string, StoredRow>> {
  if (ids.length === 0) return new Map();
  const { rows } = await ctx.client.query<StoredRow>(
    `SELECT t.id::text AS id, ${spec.columns.map((c) => canonicalSelect(c)).join(', ')}
       FROM ${spec.table} t WHERE t.id = ANY($1::uuid[])`,
    [[...new Set(ids)]],
  );
  return new Map(rows.map((r) => [r.id, r]));
}

/** Merges each record onto its row, records one event per real change, and collects rows and refs to write. */
function mergeAndRecord<R extends SourceRecord>(
  ctx: BatchContext,
  spec: SharedSpec<R>,
  pending: Pending<R>[],
  existing: Map<string, StoredRow>,
): { rows: Map<string, CanonicalRow>; refs: RefWrite[] } {
  const rows = new Map<string, CanonicalRow>();
  const refs: RefWrite[] = [];
  for (const p of pending) {
    if (p.rejected) continue;
    if (!p.targetId) {
      ctx.reject(p.entry, `no ${spec.entity} to apply this ${spec.type} to`);
      continue;
    }
    const before = rows.get(p.targetId) ?? existing.get(p.targetId) ?? null;
    if (!before && spec.creates === false) {
      ctx.reject(p.entry, `no ${spec.entity} to apply this ${spec.type} to`);
      continue;
    }
    const after = merge(spec, p.row, before);
    const missing = before ? [] : spec.required.filter((c) => after[c] === null);
    if (missing.length > 0) {
      ctx.reject(p.entry, `cannot create a ${spec.entity} without ${missing.join(', ')}`);
      continue;
    }
    recordChange(ctx, spec, p, before, after);
    rows.set(p.targetId, after);
    refs.push({ externalId: p.entry.record.externalId, canonicalId: p.targetId, payloadHash: p.unresolved ? UNRESOLVED_HASH : p.entry.hash });
  }
  return { rows, refs };
}

function merge<R extends SourceRecord>(spec: SharedSpec<R>, row: RowValues, before: CanonicalRow | null): CanonicalRow {
  const after: CanonicalRow = {};
  for (const column of spec.columns) {
    const value = row[column.name];
    const kept = before ? before[column.name] : spec.defaults?.[column.name];
    after[column.name] = value === undefined ? (kept ?? null) : canonicalValue(column.kind, value);
  }
  if ('deleted_at' in after) after.deleted_at = null;
  return after;
}

function recordChange<R extends SourceRecord>(
  ctx: BatchContext, spec: SharedSpec<R>, p: Pending<R>, before: CanonicalRow | null, after: CanonicalRow,
): void {
  const afterPayload = payloadOf(after, spec.columns);
  const beforePayload = before ? payloadOf(before, spec.columns) : null;
  if (beforePayload === afterPayload) {
    ctx.count(spec.type, 'unchanged');
    return;
  }
  ctx.count(spec.type, before ? 'updated' : 'created');
  ctx.events.push({ entityType: spec.entity, entityId: p.targetId!, op: before ? 'update' : 'create', before: beforePayload, after: afterPayload });
}

/** One upsert for all changed rows; unchanged rows are filtered out again by IS DISTINCT FROM. */
async function writeRows<R extends SourceRecord>(
  ctx: BatchContext, spec: SharedSpec<R>, rows: Map<string, CanonicalRow>, existing: Map<string, StoredRow>,
): Promise<void> {
  const changed = [...rows].filter(([id, row]) => {
    const old = existing.get(id);
    return !old || payloadOf(old, spec.columns) !== payloadOf(row, spec.columns);
  });
  if (changed.length === 0) return;
  if (spec.creates === false) return updateRows(ctx, spec, changed);
  const columns = spec.columns;
  const names = columns.map((c) => `"${c.name}"`).join(', ');
  const updates = columns.map((c) => `"${c.name}" = EXCLUDED."${c.name}"`).join(', ');
  const distinct = `(${columns.map((c) => `t."${c.name}"`).join(', ')}) IS DISTINCT FROM (${columns.map((c) => `EXCLUDED."${c.name}"`).join(', ')})`;
  await ctx.client.query(
    `INSERT INTO ${spec.table} AS t (id, school_id, ${names})
     SELECT u.id, $1, ${columns.map((c) => `u."${c.name}"`).join(', ')}
       FROM ${unnestFrom([{ name: 'id', kind: 'uuid' }, ...columns], 2)}
     ON CONFLICT (id) DO UPDATE SET ${updates}, updated_at = now() WHERE ${distinct}`,
    [ctx.source.schoolId, changed.map(([id]) => id), ...columnArrays(changed.map(([, row]) => row), columns)],
  );
}

/** For specs that only amend existing rows: a set-based UPDATE, never an insert. */
async function updateRows<R extends SourceRecord>(ctx: BatchContext, spec: SharedSpec<R>, changed: [string, CanonicalRow][]): Promise<void> {
  const columns = spec.columns;
  await ctx.client.query(
    `UPDATE ${spec.table} AS t SET ${columns.map((c) => `"${c.name}" = u."${c.name}"`).join(', ')}, updated_at = now()
       FROM ${unnestFrom([{ name: 'id', kind: 'uuid' }, ...columns], 1)}
      WHERE t.id = u.id`,
    [changed.map(([id]) => id), ...columnArrays(changed.map(([, row]) => row), columns)],
  );
}
