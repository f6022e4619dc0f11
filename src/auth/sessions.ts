import { randomBytes } from 'node:crypto';
import type { Pool } from '../db/pool.js';
import type { Clock } from '../lib/clock.js';
import type { ParentCaller, StaffCaller } from './caller.js';
import type { GrantCache } from './grants.js';
import { SESSION_PREFIX, isSessionToken, sha256 } from './tokens.js';

export type SessionKind = 'cookie' | 'bearer';

/** Sessions of signed-in people: a random token (kept as its SHA-256), with an absolute expiry and revocation. */
export class Sessions {
  constructor(private readonly pool: Pool, private readonly clock: Clock, private readonly ttlSeconds: number, private readonly grants: GrantCache) {}

  /** A new session; `maxAgeSeconds` is its lifetime, for a cookie (the browser's clock need not agree with ours). */
  async create(userId: string, kind: SessionKind): Promise<{ token: string; id: string; expiresAt: Date; maxAgeSeconds: number }> {
    const token = `${SESSION_PREFIX}${randomBytes(32).toString('base64url')}`;
    const expiresAt = new Date(this.clock.now().getTime() + this.ttlSeconds * 1000);
    const { rows } = await this.pool.query<{ id: string }>(
      'INSERT INTO auth_session (token_hash, user_id, kind, expires_at) VALUES ($1, $2, $3, $4) RETURNING id::text',
      [sha256(token), userId, kind, expiresAt],
    );
    return { token, id: rows[0]!.id, expiresAt, maxAgeSeconds: this.ttlSeconds };
  }

  async revoke(sessionId: string): Promise<void> {
    await this.pool.query('UPDATE auth_session SET revoked_at = coalesce(revoked_at, $2) WHERE id = $1', [sessionId, this.clock.now()]);
  }

  /** The person a live session token stands for, with their grants; undefined when it is not one. */
  async authenticate(token: string): Promise<StaffCaller | ParentCaller | undefined> {
    if (!isSessionToken(token)) return undefined;
    const { rows } = await this.pool.query<{ id: string; user_id: string; kind: 'staff' | 'parent'; login: string }>(
      `SELECT s.id::text, s.user_id::text, u.kind, u.login FROM auth_session s JOIN app_user u ON u.id = s.user_id
        WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > $2 AND u.disabled_at IS NULL`,
      [sha256(token), this.clock.now()],
    );
    const row = rows[0];
    if (!row) return undefined;
    const grants = await this.grants.get(row.user_id);
    return { kind: row.kind, userId: row.user_id, sessionId: row.id, login: row.login, grants };
  }
}
