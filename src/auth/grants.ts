import { LRUCache } from 'lru-cache';
import type { Pool, PoolClient } from '../db/pool.js';
import { permissionsOf, ROLES, type Role, type SchoolGrant } from './caller.js';

/**
 * A user's grants: the roles entered for them per school (app_membership) joined with what the journal
 * says the linked person is there — a teacher (subject_teacher), a class teacher, a deputy or director
 * (staff_role), a parent (guardianship). One query for all the user's schools.
 */
export async function readGrants(db: Pool | PoolClient, userId: string): Promise<Map<string, SchoolGrant>> {
  const { rows } = await db.query<{ school_id: string; person_id: string | null; roles: string[] }>(
    `SELECT m.school_id::text, m.person_id::text,
            array(SELECT DISTINCT r FROM unnest(m.roles || coalesce(j.roles, '{}'::text[])) AS r) AS roles
       FROM app_membership m
       LEFT JOIN LATERAL (
         SELECT array_agg(CASE s.role WHEN 'teacher' THEN 'subject_teacher' ELSE s.role END) ||
                CASE WHEN EXISTS (SELECT 1 FROM guardianship g WHERE g.guardian_id = m.person_id AND g.deleted_at IS NULL) THEN '{parent}'::text[] ELSE '{}'::text[] END AS roles
           FROM staff_role s WHERE s.person_id = m.person_id AND s.deleted_at IS NULL
       ) j ON m.person_id IS NOT NULL
      WHERE m.user_id = $1`,
    [userId],
  );
  return new Map(rows.map((row) => {
    const roles = row.roles.filter((r): r is Role => (ROLES as readonly string[]).includes(r));
    return [row.school_id, { schoolId: row.school_id, roles, permissions: permissionsOf(roles), personId: row.person_id }];
  }));
}

/**
 * Grants per user, kept for GRANTS_TTL_MS: a session is checked against the database on every request
 * (revocation is immediate), but what the journal says a person is changes rarely and costs a query. A
 * change made through this process (a role set, a user created) forgets the user at once; one made by a
 * sync or another process shows within the TTL.
 */
export class GrantCache {
  static readonly TTL_MS = 30_000;
  private readonly cache = new LRUCache<string, Map<string, SchoolGrant>>({ max: 20_000, ttl: GrantCache.TTL_MS });

  constructor(private readonly pool: Pool) {}

  async get(userId: string): Promise<Map<string, SchoolGrant>> {
    const cached = this.cache.get(userId);
    if (cached) return cached;
    const grants = await readGrants(this.pool, userId);
    this.cache.set(userId, grants);
    return grants;
  }

  forget(userId: string): void {
    this.cache.delete(userId);
  }
}
