import { z } from 'zod';
import { withTransaction, type Pool } from '../db/pool.js';
import { AppError, NotFoundError, ValidationError } from '../lib/errors.js';
import { RULES } from './rules/index.js';
import type { DiscrepancyKind, DiscrepancyStatus, Severity } from './types.js';

/**
 * The teacher's inbox: reading and acting on `discrepancy` rows. Filters are school-scoped; pages are
 * keyset-paginated by (day, id), newest day first, with an opaque cursor. Acting on one: acknowledge,
 * dismiss with a reason, open again, reassign (kept by later evaluations), attach a justification (which
 * the rules that need one — silent corrections — honour at the next evaluation).
 */

export const STATUSES = ['open', 'acknowledged', 'resolved', 'dismissed'] as const;
export const KINDS = ['paper', 'cross_source', 'regulation', 'roster'] as const;

export interface DiscrepancyFilter {
  schoolId?: string;
  /** Only these schools' (the caller's). */
  schoolIds?: string[];
  /** A teacher's inbox: assigned to them, of their classes, or of their class × subject pairs (`class:subject`). */
  visibleTo?: { personId: string; classes: string[]; pairs: string[] };
  classId?: string;
  subjectId?: string;
  assigneeId?: string;
  rule?: string;
  status?: DiscrepancyStatus[];
  kind?: DiscrepancyKind;
  cursor?: string;
  limit: number;
}

export interface DiscrepancyView {
  id: string;
  schoolId: string;
  key: string;
  rule: string;
  title: string | null;
  clauses: string[];
  kind: DiscrepancyKind;
  severity: Severity;
  status: DiscrepancyStatus;
  classId: string | null;
  className: string | null;
  subjectId: string | null;
  subjectName: string | null;
  pupilId: string | null;
  lessonId: string | null;
  periodId: string | null;
  day: string | null;
  sources: Array<{ id: string; platform: string; title: string }>;
  expected: unknown;
  found: unknown;
  evidence: number[];
  assignee: { id: string; name: string } | null;
  assignedBy: string | null;
  statusReason: string | null;
  statusBy: string | null;
  statusAt: string | null;
  justification: string | null;
  justifiedBy: string | null;
  justifiedAt: string | null;
  firstSeenAt: string;
  lastSeenAt: string;
  resolvedAt: string | null;
  resolvedSeq: number | null;
}

const SELECT = `
  SELECT d.id::text, d.school_id::text AS "schoolId", d.key, d.rule, d.kind, d.severity, d.status,
         d.class_group_id::text AS "classId", cg.name AS "className", d.subject_id::text AS "subjectId", sj.name AS "subjectName",
         d.pupil_id::text AS "pupilId", d.lesson_id::text AS "lessonId", d.period_id::text AS "periodId", d.day::text AS day,
         COALESCE((SELECT json_agg(json_build_object('id', c.id, 'platform', c.platform, 'title', c.title) ORDER BY array_position(d.source_ids, c.id))
                     FROM connection c WHERE c.id = ANY(d.source_ids)), '[]'::json) AS sources,
         d.expected, d.found, COALESCE(d.evidence, '{}')::float8[] AS evidence,
         CASE WHEN a.id IS NULL THEN NULL ELSE json_build_object('id', a.id, 'name', concat_ws(' ', a.last_name, a.first_name, a.middle_name)) END AS assignee,
         d.assigned_by AS "assignedBy", d.status_reason AS "statusReason", d.status_by AS "statusBy", d.status_at AS "statusAt",
         d.justification, d.justified_by AS "justifiedBy", d.justified_at AS "justifiedAt",
         d.first_seen_at AS "firstSeenAt", d.last_seen_at AS "lastSeenAt", d.resolved_at AS "resolvedAt", d.resolved_seq::float8 AS "resolvedSeq",
         COALESCE(d.day, '1900-01-01')::text AS sort_day
    FROM discrepancy d
    LEFT JOIN class_group cg ON cg.id = d.class_group_id
    LEFT JOIN subject sj ON sj.id = d.subject_id
    LEFT JOIN person a ON a.id = d.assignee_id`;

type Row = Omit<DiscrepancyView, 'title' | 'clauses' | 'statusAt' | 'justifiedAt' | 'firstSeenAt' | 'lastSeenAt' | 'resolvedAt'> & {
  statusAt: Date | null; justifiedAt: Date | null; firstSeenAt: Date; lastSeenAt: Date; resolvedAt: Date | null; sort_day: string;
};

function toView(row: Row): DiscrepancyView {
  const rule = RULES.find((r) => r.id === row.rule);
  const { sort_day: _sortDay, ...rest } = row;
  void _sortDay;
  return {
    ...rest, title: rule?.title ?? null, clauses: rule?.clauses ?? [],
    statusAt: row.statusAt?.toISOString() ?? null, justifiedAt: row.justifiedAt?.toISOString() ?? null,
    firstSeenAt: row.firstSeenAt.toISOString(), lastSeenAt: row.lastSeenAt.toISOString(), resolvedAt: row.resolvedAt?.toISOString() ?? null,
  };
}

const CursorSchema = z.tuple([z.string().regex(/^\d{4}-\d{2}-\d{2}$/), z.uuid()]);

function encodeCursor(row: Row): string {
  return Buffer.from(JSON.stringify([row.sort_day, row.id])).toString('base64url');
}

function decodeCursor(cursor: string): [string, string] {
  try {
    return CursorSchema.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
  } catch {
    throw new ValidationError('query.cursor: not a cursor this API gave out');
  }
}

/** A page of discrepancies, newest day first, and the cursor of the next page (null on the last). */
export async function listDiscrepancies(pool: Pool, filter: DiscrepancyFilter): Promise<{ items: DiscrepancyView[]; nextCursor: string | null }> {
  const where: string[] = [];
  const values: unknown[] = [];
  const add = (sql: string, value: unknown) => {
    values.push(value);
    where.push(sql.replaceAll('?', `$${values.length}`));
  };
  if (filter.schoolId) add('d.school_id = ?', filter.schoolId);
  if (filter.schoolIds) add('d.school_id = ANY(?::uuid[])', filter.schoolIds);
  if (filter.visibleTo) {
    const { personId, classes, pairs } = filter.visibleTo;
    values.push(personId, classes, pairs);
    const n = values.length;
    where.push(`(d.assignee_id = $${n - 2}::uuid OR d.class_group_id = ANY($${n - 1}::uuid[])
                 OR (d.class_group_id::text || ':' || d.subject_id::text) = ANY($${n}::text[]))`);
  }
  // A class takes its subgroups' discrepancies too.
  if (filter.classId) add('(d.class_group_id = ? OR cg.parent_id = ?)', filter.classId);
  if (filter.subjectId) add('d.subject_id = ?', filter.subjectId);
  if (filter.assigneeId) add('d.assignee_id = ?', filter.assigneeId);
  if (filter.rule) add('d.rule = ?', filter.rule);
  if (filter.kind) add('d.kind = ?', filter.kind);
  if (filter.status && filter.status.length > 0) add('d.status = ANY(?::text[])', filter.status);
  if (filter.cursor) {
    const [day, id] = decodeCursor(filter.cursor);
    values.push(day, id);
    where.push(`(COALESCE(d.day, '1900-01-01'), d.id) < ($${values.length - 1}::date, $${values.length}::uuid)`);
  }
  values.push(filter.limit + 1);
  const sql = `${SELECT} ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
    ORDER BY COALESCE(d.day, '1900-01-01') DESC, d.id DESC LIMIT $${values.length}`;
  const { rows } = await pool.query<Row>(sql, values);
  const more = rows.length > filter.limit;
  const page = more ? rows.slice(0, filter.limit) : rows;
  return { items: page.map(toView), nextCursor: more ? encodeCursor(page[page.length - 1]!) : null };
}

export async function getDiscrepancy(pool: Pool, id: string, schoolId?: string): Promise<DiscrepancyView> {
  const { rows } = await pool.query<Row>(`${SELECT} WHERE d.id = $1 ${schoolId ? 'AND d.school_id = $2' : ''}`, schoolId ? [id, schoolId] : [id]);
  if (!rows[0]) throw new NotFoundError(`discrepancy ${id}`);
  return toView(rows[0]);
}

export const DiscrepancyPatchSchema = z.strictObject({
  status: z.enum(['open', 'acknowledged', 'dismissed']).optional(),
  reason: z.string().trim().min(1).max(2000).optional(),
  assigneeId: z.uuid().nullable().optional(),
  justification: z.string().trim().min(1).max(4000).optional(),
}).refine((p) => Object.keys(p).length > 0, 'nothing to change')
  .refine((p) => p.status !== 'dismissed' || p.reason !== undefined, { message: 'a dismissal needs a reason', path: ['reason'] });

export type DiscrepancyPatch = z.infer<typeof DiscrepancyPatchSchema>;

/** Acts on one discrepancy as `actor`. A resolved one can be reassigned or justified, not acknowledged or dismissed. */
export async function patchDiscrepancy(pool: Pool, id: string, patch: DiscrepancyPatch, actor: string): Promise<DiscrepancyView> {
  await withTransaction(pool, async (client) => {
    const { rows } = await client.query<{ school_id: string; status: DiscrepancyStatus }>(
      'SELECT school_id::text, status FROM discrepancy WHERE id = $1 FOR UPDATE', [id],
    );
    const row = rows[0];
    if (!row) throw new NotFoundError(`discrepancy ${id}`);
    if (patch.status && row.status === 'resolved') {
      throw new AppError('conflict', `discrepancy ${id} is resolved: the journal no longer shows it`, 409);
    }
    if (patch.assigneeId) await requireStaff(client, row.school_id, patch.assigneeId);
    await client.query(
      `UPDATE discrepancy SET
         status = COALESCE($2, status),
         status_reason = CASE WHEN $2::text IS NULL THEN status_reason ELSE $3 END,
         status_by = CASE WHEN $2::text IS NULL THEN status_by ELSE $6 END,
         status_at = CASE WHEN $2::text IS NULL THEN status_at ELSE now() END,
         assignee_id = CASE WHEN $4 THEN $5::uuid ELSE assignee_id END,
         assigned_by = CASE WHEN $4 THEN (CASE WHEN $5::uuid IS NULL THEN NULL ELSE $6 END) ELSE assigned_by END,
         justification = COALESCE($7, justification),
         justified_by = CASE WHEN $7::text IS NULL THEN justified_by ELSE $6 END,
         justified_at = CASE WHEN $7::text IS NULL THEN justified_at ELSE now() END
       WHERE id = $1`,
      [id, patch.status ?? null, patch.reason ?? null, patch.assigneeId !== undefined, patch.assigneeId ?? null, actor, patch.justification ?? null],
    );
  });
  return getDiscrepancy(pool, id);
}

async function requireStaff(client: { query: Pool['query'] }, schoolId: string, personId: string): Promise<void> {
  const { rows } = await client.query(
    `SELECT 1 FROM staff_role WHERE school_id = $1 AND person_id = $2 AND deleted_at IS NULL LIMIT 1`, [schoolId, personId],
  );
  if (rows.length === 0) throw new AppError('invalid_assignee', `assignee ${personId} is not a staff member of this school`, 422);
}
