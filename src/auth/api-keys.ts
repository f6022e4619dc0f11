import { withTransaction, type Pool, type PoolClient } from '../db/pool.js';
import type { Clock } from '../lib/clock.js';
import { NotFoundError, ValidationError } from '../lib/errors.js';
import { appendAudit, REGION } from './audit.js';
import { actorOf, PERMISSIONS, type ApiCaller, type Caller, type Permission, type SchoolGrant } from './caller.js';
import { API_KEY_PREFIX, hmacOf, newLookup, newSecret, parseApiKey, sameDigest } from './tokens.js';

/** An API key as it is listed: never its secret. */
export interface ApiKeyView {
  id: string;
  name: string;
  /** `jbk_<lookup>_…`: enough to recognise a key, not to use it. */
  hint: string;
  schoolIds: string[] | null;
  scopes: Permission[];
  createdBy: string;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
  rotatedFrom: string | null;
}

export interface NewApiKey { name: string; schoolIds: string[] | null; scopes: Permission[]; expiresAt?: Date | null }

interface Row {
  id: string; lookup: string; name: string; school_ids: string[] | null; scopes: string[]; created_by: string; created_at: Date;
  expires_at: Date | null; revoked_at: Date | null; last_used_at: Date | null; rotated_from: string | null;
}
const COLUMNS = 'id::text, lookup, name, school_ids::text[], scopes, created_by, created_at, expires_at, revoked_at, last_used_at, rotated_from::text';

/** API keys of other systems: created and shown once, kept as an HMAC, scoped to schools and permissions, rotatable with an overlap. */
export class ApiKeys {
  /** Keys used within this many ms are not written back again (last_used_at is a day-to-day hint, not an audit). */
  private static readonly TOUCH_MS = 60_000;
  private readonly touched = new Map<string, number>();

  constructor(private readonly pool: Pool, private readonly hmacKey: Buffer, private readonly clock: Clock) {}

  /** Creates a key; the returned `key` is the only time its secret is seen. `by` is who asked (an actor string). */
  async create(input: NewApiKey, by: string): Promise<{ key: string; view: ApiKeyView }> {
    return withTransaction(this.pool, (client) => this.insert(client, input, by, null));
  }

  /**
   * A new key with the same schools and scopes; the old one keeps working for `overlapSeconds` more
   * (the systems that use it switch over in that time), then expires. One transaction: both or neither.
   */
  async rotate(caller: Caller, id: string, overlapSeconds: number): Promise<{ key: string; view: ApiKeyView }> {
    const old = await this.visible(caller, id);
    if (old.revokedAt) throw new ValidationError(`API key ${id} is revoked; create a new one instead`);
    const until = new Date(this.clock.now().getTime() + overlapSeconds * 1000);
    return withTransaction(this.pool, async (client) => {
      const input = { name: old.name, schoolIds: old.schoolIds, scopes: old.scopes, expiresAt: old.expiresAt ? new Date(old.expiresAt) : null };
      const created = await this.insert(client, input, actorOf(caller), id);
      await client.query(`UPDATE api_key SET expires_at = LEAST(coalesce(expires_at, $2), $2) WHERE id = $1`, [id, until]);
      await appendAudit(client, this.clock, auditSchools(old.schoolIds), { actor: actorOf(caller), action: 'api_key.rotated', objectType: 'api_key', objectIds: [id, created.view.id], detail: { overlapSeconds } });
      return created;
    });
  }

  private async insert(client: PoolClient, input: NewApiKey, by: string, rotatedFrom: string | null): Promise<{ key: string; view: ApiKeyView }> {
    const scopes = checkScopes(input.scopes);
    if (input.schoolIds !== null && input.schoolIds.length === 0) throw new ValidationError('an API key needs at least one school (or --all-schools for a region-level key)');
    const lookup = newLookup();
    const secret = newSecret();
    const { rows } = await client.query<Row>(
      `INSERT INTO api_key (lookup, secret_hmac, name, school_ids, scopes, created_by, expires_at, rotated_from)
       VALUES ($1, $2, $3, $4::uuid[], $5, $6, $7, $8) RETURNING ${COLUMNS}`,
      [lookup, hmacOf(this.hmacKey, secret), input.name, input.schoolIds, scopes, by, input.expiresAt ?? null, rotatedFrom],
    );
    const view = viewOf(rows[0]!);
    await appendAudit(client, this.clock, auditSchools(view.schoolIds), { actor: by, action: 'api_key.created', objectType: 'api_key', objectIds: [view.id], detail: { scopes, name: view.name } });
    return { key: `${API_KEY_PREFIX}${lookup}_${secret}`, view };
  }

  async revoke(caller: Caller, id: string): Promise<void> {
    const key = await this.visible(caller, id);
    await withTransaction(this.pool, async (client) => {
      await client.query('UPDATE api_key SET revoked_at = coalesce(revoked_at, $2) WHERE id = $1', [id, this.clock.now()]);
      await appendAudit(client, this.clock, auditSchools(key.schoolIds), { actor: actorOf(caller), action: 'api_key.revoked', objectType: 'api_key', objectIds: [id] });
    });
  }

  /** Keys whose schools all lie within the caller's `access:manage` schools (a region-level key only for a region-level caller). */
  async list(caller: Caller): Promise<ApiKeyView[]> {
    const { rows } = await this.pool.query<Row>(`SELECT ${COLUMNS} FROM api_key ORDER BY created_at, id`);
    return rows.map(viewOf).filter((key) => manages(caller, key));
  }

  async visible(caller: Caller, id: string): Promise<ApiKeyView> {
    const { rows } = await this.pool.query<Row>(`SELECT ${COLUMNS} FROM api_key WHERE id = $1`, [id]);
    const view = rows[0] ? viewOf(rows[0]) : undefined;
    if (!view || !manages(caller, view)) throw new NotFoundError(`API key ${id}`);
    return view;
  }

  /** The caller a presented key stands for, or undefined when it is not a live key. */
  async authenticate(token: string): Promise<ApiCaller | undefined> {
    const parsed = parseApiKey(token);
    if (!parsed) return undefined;
    const { rows } = await this.pool.query<Row & { secret_hmac: Buffer }>(`SELECT ${COLUMNS}, secret_hmac FROM api_key WHERE lookup = $1`, [parsed.lookup]);
    const row = rows[0];
    const now = this.clock.now();
    if (!row || !sameDigest(row.secret_hmac, hmacOf(this.hmacKey, parsed.secret))) return undefined;
    if (row.revoked_at || (row.expires_at && row.expires_at <= now)) return undefined;
    this.touch(row.id, now);
    const scopes = new Set(row.scopes.filter((s): s is Permission => (PERMISSIONS as readonly string[]).includes(s)));
    const grants = new Map<string, SchoolGrant>((row.school_ids ?? []).map((schoolId) => [schoolId, { schoolId, roles: [], permissions: scopes, personId: null }]));
    return { kind: 'api', keyId: row.id, allSchools: row.school_ids === null, scopes, grants };
  }

  private touch(id: string, now: Date): void {
    const last = this.touched.get(id);
    if (last !== undefined && now.getTime() - last < ApiKeys.TOUCH_MS) return;
    this.touched.set(id, now.getTime());
    void this.pool.query('UPDATE api_key SET last_used_at = $2 WHERE id = $1', [id, now]).catch(() => this.touched.delete(id));
  }
}

function manages(caller: Caller, key: ApiKeyView): boolean {
  if (caller.kind === 'api' && caller.allSchools) return caller.scopes.has('access:manage');
  if (key.schoolIds === null) return false;
  return key.schoolIds.every((s) => caller.grants.get(s)?.permissions.has('access:manage'));
}

function checkScopes(scopes: string[]): Permission[] {
  const unknown = scopes.filter((s) => !(PERMISSIONS as readonly string[]).includes(s));
  if (unknown.length > 0) throw new ValidationError(`unknown scope ${unknown.join(', ')}; known: ${PERMISSIONS.join(', ')}`);
  if (scopes.length === 0) throw new ValidationError(`an API key needs at least one scope; known: ${PERMISSIONS.join(', ')}`);
  return [...new Set(scopes)] as Permission[];
}

function auditSchools(schoolIds: string[] | null): string[] {
  return schoolIds ?? [REGION];
}

function viewOf(row: Row): ApiKeyView {
  return {
    id: row.id, name: row.name, hint: `${API_KEY_PREFIX}${row.lookup}_…`, schoolIds: row.school_ids, scopes: row.scopes as Permission[],
    createdBy: row.created_by, createdAt: row.created_at.toISOString(), expiresAt: row.expires_at?.toISOString() ?? null,
    revokedAt: row.revoked_at?.toISOString() ?? null, lastUsedAt: row.last_used_at?.toISOString() ?? null, rotatedFrom: row.rotated_from,
  };
}
