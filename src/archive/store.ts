import type { Pool, PoolClient } from '../db/pool.js';
import type { Clock } from '../lib/clock.js';
import { NotFoundError } from '../lib/errors.js';
import { canonicalJson, sha256Hex } from './digest.js';

/**
 * The archive (000 §3.12; 001 §3.3, Инструкция §4.2; 003 Регламент §4.2): every seal manifest, printout,
 * summary sheet and report filed, with its sha256. Rows are append-only (db/roles.ts HISTORY_TABLES and
 * a trigger), kept in the journal's database so that the backups carry them to both targets.
 */

type Queryable = Pool | PoolClient;

export const ARCHIVE_KINDS = ['seal_manifest', 'journal_pdf', 'summary_pdf', 'summary_xlsx', 'report'] as const;
export type ArchiveKind = (typeof ARCHIVE_KINDS)[number];

export interface ArchiveFiling {
  schoolId: string;
  kind: ArchiveKind;
  title: string;
  filename: string;
  mediaType: string;
  bytes: Buffer;
  periodId?: string | null;
  classGroupId?: string | null;
  sealId?: string | null;
  actor: string;
}

export interface ArchiveItemView {
  id: string;
  schoolId: string;
  kind: ArchiveKind;
  title: string;
  filename: string;
  mediaType: string;
  periodId: string | null;
  classGroupId: string | null;
  sealId: string | null;
  sha256: string;
  size: number;
  createdBy: string;
  createdAt: string;
}

const VIEW = `id::text, school_id::text AS "schoolId", kind, title, filename, media_type AS "mediaType", period_id::text AS "periodId",
  class_group_id::text AS "classGroupId", seal_id::text AS "sealId", sha256, size, created_by AS "createdBy",
  to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "createdAt"`;

export async function fileInArchive(db: Queryable, clock: Clock, item: ArchiveFiling): Promise<ArchiveItemView> {
  const { rows } = await db.query<ArchiveItemView>(
    `INSERT INTO archive_item (school_id, kind, title, filename, media_type, period_id, class_group_id, seal_id, sha256, size, content, created_by, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING ${VIEW}`,
    [item.schoolId, item.kind, item.title, item.filename, item.mediaType, item.periodId ?? null, item.classGroupId ?? null, item.sealId ?? null,
      sha256Hex(item.bytes), item.bytes.length, item.bytes, item.actor, clock.now()],
  );
  return rows[0]!;
}

/** A JSON document filed as it is hashed: canonical JSON. */
export const jsonBytes = (value: unknown): Buffer => Buffer.from(canonicalJson(value), 'utf8');

export interface ArchiveListQuery {
  schoolIds: readonly string[] | undefined;
  kind?: ArchiveKind;
  periodId?: string;
  classId?: string;
  limit: number;
  /** Items filed before this one (id), for the next page. */
  before?: { createdAt: string; id: string };
}

export async function listArchive(db: Queryable, query: ArchiveListQuery): Promise<ArchiveItemView[]> {
  const { rows } = await db.query<ArchiveItemView>(
    `SELECT ${VIEW} FROM archive_item
      WHERE ($1::uuid[] IS NULL OR school_id = ANY($1::uuid[])) AND ($2::text IS NULL OR kind = $2) AND ($3::uuid IS NULL OR period_id = $3)
        AND ($4::uuid IS NULL OR class_group_id = $4) AND ($5::timestamptz IS NULL OR (created_at, id) < ($5::timestamptz, $6::uuid))
      ORDER BY created_at DESC, id DESC LIMIT $7`,
    [query.schoolIds ?? null, query.kind ?? null, query.periodId ?? null, query.classId ?? null, query.before?.createdAt ?? null, query.before?.id ?? null, query.limit],
  );
  return rows;
}

/** One item's description, and with `content` its file too. */
export async function readArchiveItem(db: Queryable, id: string): Promise<ArchiveItemView>;
export async function readArchiveItem(db: Queryable, id: string, content: 'content'): Promise<ArchiveItemView & { content: Buffer }>;
export async function readArchiveItem(db: Queryable, id: string, content?: 'content'): Promise<ArchiveItemView & { content?: Buffer }> {
  const { rows } = await db.query<ArchiveItemView & { content?: Buffer }>(`SELECT ${VIEW}${content ? ', content' : ''} FROM archive_item WHERE id = $1`, [id]);
  if (!rows[0]) throw new NotFoundError(`archive item ${id}`);
  return rows[0];
}

export interface ArchiveCheck {
  items: number;
  /** Items whose stored content no longer has the digest filed with it. */
  corrupt: Array<{ id: string; kind: string; title: string; filed: string; now: string }>;
}

/** Recomputes every filed item's sha256 (in the database, so the contents are not carried to the process). */
export async function verifyArchiveItems(db: Queryable, schoolId: string): Promise<ArchiveCheck> {
  const { rows } = await db.query<{ id: string; kind: string; title: string; sha256: string; now: string }>(
    `SELECT id::text, kind, title, sha256, encode(sha256(content), 'hex') AS now FROM archive_item WHERE school_id = $1 ORDER BY created_at, id`,
    [schoolId],
  );
  return {
    items: rows.length,
    corrupt: rows.filter((r) => r.sha256 !== r.now || r.now.length !== 64).map((r) => ({ id: r.id, kind: r.kind, title: r.title, filed: r.sha256, now: r.now })),
  };
}
