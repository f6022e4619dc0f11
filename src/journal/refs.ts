import type { PoolClient } from '../db/pool.js';

/** What a source's id of a shared entity points at. */
export interface RefInfo {
  canonicalId: string;
  payloadHash: number;
  gone: boolean;
}

export interface RefWrite {
  externalId: string;
  canonicalId: string;
  payloadHash: number;
}

/**
 * The external references of one connection, read on demand and cached for one batch. Reads are
 * set-based (one query per entity type and batch); writes happen per entity type, so later record
 * types of the same batch (marks after lessons) see the refs created before them.
 */
export class RefStore {
  private readonly cache = new Map<string, Map<string, RefInfo | null>>();

  constructor(
    private readonly client: PoolClient,
    private readonly connectionId: string,
  ) {}

  /** Loads the refs of `externalIds` not yet cached (missing ones are cached as null). */
  async load(entityType: string, externalIds: Iterable<string>): Promise<void> {
    const known = this.typeCache(entityType);
    const missing = [...new Set(externalIds)].filter((id) => !known.has(id));
    if (missing.length === 0) return;
    const { rows } = await this.client.query<{ external_id: string; canonical_id: string; payload_hash: string; gone: boolean }>(
      `SELECT external_id, canonical_id::text, payload_hash, gone_at IS NOT NULL AS gone
         FROM external_ref WHERE connection_id = $1 AND entity_type = $2 AND external_id = ANY($3::text[])`,
      [this.connectionId, entityType, missing],
    );
    for (const id of missing) known.set(id, null);
    for (const row of rows) {
      known.set(row.external_id, { canonicalId: row.canonical_id, payloadHash: Number(row.payload_hash), gone: row.gone });
    }
  }

  /** The ref as stored (gone ones included), after `load`. */
  get(entityType: string, externalId: string): RefInfo | undefined {
    return this.typeCache(entityType).get(externalId) ?? undefined;
  }

  /** The canonical id a live ref points at, after `load`. */
  resolve(entityType: string, externalId: string | undefined): string | undefined {
    if (externalId === undefined) return undefined;
    const ref = this.get(entityType, externalId);
    return ref && !ref.gone ? ref.canonicalId : undefined;
  }

  /** Creates or repoints refs (and revives gone ones) in one statement. */
  async write(entityType: string, refs: readonly RefWrite[]): Promise<void> {
    if (refs.length === 0) return;
    await this.client.query(
      `INSERT INTO external_ref (connection_id, entity_type, external_id, canonical_id, payload_hash)
       SELECT $1, $2, u.external_id, u.canonical_id, u.payload_hash
         FROM unnest($3::text[], $4::uuid[], $5::int8[]) AS u(external_id, canonical_id, payload_hash)
       ON CONFLICT (connection_id, entity_type, external_id) DO UPDATE
         SET canonical_id = EXCLUDED.canonical_id, payload_hash = EXCLUDED.payload_hash,
             last_seen_at = now(), gone_at = NULL`,
      [this.connectionId, entityType, refs.map((r) => r.externalId), refs.map((r) => r.canonicalId), refs.map((r) => r.payloadHash)],
    );
    const known = this.typeCache(entityType);
    for (const ref of refs) known.set(ref.externalId, { canonicalId: ref.canonicalId, payloadHash: ref.payloadHash, gone: false });
  }

  /**
   * Marks refs as seen again. Written at most hourly per ref, so re-reading an unchanged source writes
   * nothing (last_seen_at is "seen within the hour").
   */
  async touch(entityType: string, externalIds: readonly string[]): Promise<void> {
    if (externalIds.length === 0) return;
    await this.client.query(
      `UPDATE external_ref SET last_seen_at = now()
        WHERE connection_id = $1 AND entity_type = $2 AND external_id = ANY($3::text[])
          AND last_seen_at < now() - interval '1 hour'`,
      [this.connectionId, entityType, externalIds],
    );
  }

  /** Marks refs gone; returns the canonical ids they pointed at. */
  async markGone(entityType: string, externalIds: readonly string[]): Promise<string[]> {
    if (externalIds.length === 0) return [];
    const { rows } = await this.client.query<{ canonical_id: string; external_id: string }>(
      `UPDATE external_ref SET gone_at = now()
        WHERE connection_id = $1 AND entity_type = $2 AND external_id = ANY($3::text[]) AND gone_at IS NULL
        RETURNING canonical_id::text, external_id`,
      [this.connectionId, entityType, externalIds],
    );
    const known = this.typeCache(entityType);
    for (const row of rows) known.delete(row.external_id);
    return rows.map((r) => r.canonical_id);
  }

  private typeCache(entityType: string): Map<string, RefInfo | null> {
    let map = this.cache.get(entityType);
    if (!map) {
      map = new Map();
      this.cache.set(entityType, map);
    }
    return map;
  }
}
