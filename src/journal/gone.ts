import type { GoneId, RecordType } from '../ports/records.js';
import { canonicalSelect, payloadOf, type CanonicalRow } from './columns.js';
import type { BatchContext } from './context.js';
import type { FactSpec } from './facts.js';
import { factId } from './ids.js';
import type { SharedSpec } from './shared.js';
import type { SourceRecord } from '../ports/records.js';

/**
 * Ids the source no longer has. Facts (marks, absences, period marks) become tombstones
 * (deleted_at) with a delete event. A shared row is tombstoned only when no other source still knows
 * it; a person is never deleted (a pupil leaves: the enrollment ends); an enrollment gets an end date
 * instead; separately published homework is cleared from its lesson.
 */
export async function applyGone(
  ctx: BatchContext,
  gone: readonly GoneId[],
  specs: { facts: Map<RecordType, FactSpec<SourceRecord>>; shared: Map<RecordType, SharedSpec<SourceRecord>> },
): Promise<void> {
  const byType = new Map<RecordType, string[]>();
  for (const g of gone) byType.set(g.type, [...(byType.get(g.type) ?? []), g.externalId]);
  for (const [type, externalIds] of byType) {
    const fact = specs.facts.get(type);
    if (fact) await tombstoneFacts(ctx, fact, externalIds);
    const shared = specs.shared.get(type);
    if (shared) await retireShared(ctx, shared, externalIds);
  }
}

async function tombstoneFacts(ctx: BatchContext, spec: FactSpec<SourceRecord>, externalIds: string[]): Promise<void> {
  const ids = externalIds.map((e) => factId(ctx.source.id, spec.type, e));
  const { rows } = await ctx.client.query<CanonicalRow & { id: string }>(
    `UPDATE ${spec.table} t SET deleted_at = $2, updated_at = now()
      WHERE t.id = ANY($1::uuid[]) AND t.deleted_at IS NULL
      RETURNING t.id::text AS id, ${spec.columns.map((c) => canonicalSelect(c)).join(', ')}`,
    [ids, ctx.now],
  );
  for (const row of rows) {
    ctx.events.push({ entityType: spec.type, entityId: row.id, op: 'delete', before: payloadOf(row, spec.columns), after: null });
  }
  ctx.count(spec.type, 'deleted', rows.length);
}

async function retireShared(ctx: BatchContext, spec: SharedSpec<SourceRecord>, externalIds: string[]): Promise<void> {
  const canonicalIds = await ctx.refs.markGone(spec.type, externalIds);
  if (canonicalIds.length === 0 || spec.type === 'person') return;
  const { rows: known } = await ctx.client.query<{ canonical_id: string }>(
    `SELECT DISTINCT canonical_id::text FROM external_ref
      WHERE entity_type = $1 AND canonical_id = ANY($2::uuid[]) AND gone_at IS NULL`,
    [spec.type, canonicalIds],
  );
  const stillKnown = new Set(known.map((r) => r.canonical_id));
  const orphans = [...new Set(canonicalIds)].filter((id) => !stillKnown.has(id));
  if (orphans.length === 0) return;
  const [set, where, op, value] = retirement(ctx, spec.type);
  const { rows } = await ctx.client.query<CanonicalRow & { id: string }>(
    `WITH old AS (SELECT t.id AS row_id, ${spec.columns.map((c) => canonicalSelect(c)).join(', ')}
                    FROM ${spec.table} t WHERE t.id = ANY($1::uuid[]) AND ${where} FOR UPDATE)
     UPDATE ${spec.table} t SET ${set}, updated_at = now() FROM old WHERE t.id = old.row_id
     RETURNING old.row_id::text AS id, ${spec.columns.map((c) => `old."${c.name}"`).join(', ')},
               ${spec.columns.map((c) => canonicalSelect(c, 't', `new_${c.name}`)).join(', ')}`,
    value === undefined ? [orphans] : [orphans, value],
  );
  for (const row of rows) {
    const after = Object.fromEntries(spec.columns.map((c) => [c.name, row[`new_${c.name}`] ?? null]));
    ctx.events.push({
      entityType: spec.entity, entityId: row.id, op,
      before: payloadOf(row, spec.columns), after: op === 'delete' ? null : payloadOf(after, spec.columns),
    });
  }
  ctx.count(spec.type, 'deleted', rows.length);
}

/** What retiring a row of this type means: [SET clause, the rows it applies to, event op, $2]. */
function retirement(ctx: BatchContext, type: RecordType): [string, string, 'delete' | 'update', unknown?] {
  if (type === 'enrollment') {
    return ['end_date = $2::date', '(t.end_date IS NULL OR t.end_date > $2::date)', 'update', ctx.today()];
  }
  if (type === 'homework') return ['homework = NULL', 't.homework IS NOT NULL', 'update'];
  return ['deleted_at = $2', 't.deleted_at IS NULL', 'delete', ctx.now];
}
