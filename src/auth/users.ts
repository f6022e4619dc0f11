import { hash, verify } from '@node-rs/argon2';
import { withTransaction, type Pool } from '../db/pool.js';
import type { Clock } from '../lib/clock.js';
import { AppError, NotFoundError, ValidationError } from '../lib/errors.js';
import { appendAudit } from './audit.js';
import { ROLES, type Role } from './caller.js';
import type { GrantCache } from './grants.js';

/**
 * People who sign in: staff (password, argon2id, or a one-time code) and parents (one-time code or the
 * linked Telegram bot). A login is an e-mail (lower case), a phone (E.164) or a short user name.
 */
export interface UserView { id: string; kind: 'staff' | 'parent'; login: string; hasPassword: boolean; disabled: boolean; createdAt: string }
export interface MembershipInput { schoolId: string; roles: Role[]; personId?: string | null }
export interface NewUser { kind: 'staff' | 'parent'; login: string; password?: string; memberships: MembershipInput[] }

/** OWASP's argon2id minimum (m = 19 MiB, t = 2, p = 1). */
const ARGON2 = { memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;
export const MIN_PASSWORD = 10;

export function normalizeLogin(login: string): string {
  return login.trim().toLowerCase();
}

export async function hashPassword(password: string): Promise<string> {
  if (password.length < MIN_PASSWORD) throw new ValidationError(`a password has at least ${MIN_PASSWORD} characters`);
  return hash(password, ARGON2);
}

interface Row { id: string; kind: 'staff' | 'parent'; login: string; password_hash: string | null; disabled_at: Date | null; created_at: Date }

export class Users {
  constructor(private readonly pool: Pool, private readonly clock: Clock, private readonly grants?: GrantCache) {}

  /** Creates a user with their schools and roles; `by` is the actor (a user, a key, `cli`). */
  async create(input: NewUser, by: string): Promise<UserView> {
    const login = normalizeLogin(input.login);
    if (!/^[^\s]{3,200}$/.test(login)) throw new ValidationError('a login is an e-mail, a phone or a user name of 3–200 characters without spaces');
    for (const m of input.memberships) checkRoles(m.roles);
    const passwordHash = input.password === undefined ? null : await hashPassword(input.password);
    return withTransaction(this.pool, async (client) => {
      const inserted = await client.query<Row>(
        `INSERT INTO app_user (kind, login, password_hash, password_changed_at) VALUES ($1, $2, $3, CASE WHEN $3::text IS NULL THEN NULL ELSE now() END)
         ON CONFLICT (login) DO NOTHING RETURNING id::text, kind, login, password_hash, disabled_at, created_at`,
        [input.kind, login, passwordHash],
      );
      if (inserted.rowCount === 0) throw new AppError('login_taken', 'a user with this login exists', 409);
      const user = inserted.rows[0]!;
      for (const m of input.memberships) {
        await client.query('INSERT INTO app_membership (school_id, user_id, person_id, roles) VALUES ($1, $2, $3, $4)', [m.schoolId, user.id, m.personId ?? null, m.roles]);
      }
      await appendAudit(client, this.clock, input.memberships.map((m) => m.schoolId), {
        actor: by, action: 'user.created', objectType: 'user', objectIds: [user.id], detail: { kind: input.kind, memberships: input.memberships.map((m) => ({ schoolId: m.schoolId, roles: m.roles, personId: m.personId ?? null })) },
      });
      return viewOf(user);
    });
  }

  /** Sets a user's roles (and person) in one school; an empty list removes them from it. */
  async setMembership(schoolId: string, userId: string, roles: Role[], personId: string | null, by: string): Promise<void> {
    checkRoles(roles);
    await withTransaction(this.pool, async (client) => {
      if (roles.length === 0) await client.query('DELETE FROM app_membership WHERE school_id = $1 AND user_id = $2', [schoolId, userId]);
      else await client.query(
        `INSERT INTO app_membership (school_id, user_id, person_id, roles) VALUES ($1, $2, $3, $4)
         ON CONFLICT (school_id, user_id) DO UPDATE SET roles = EXCLUDED.roles, person_id = EXCLUDED.person_id, updated_at = now()`,
        [schoolId, userId, personId, roles],
      );
      await appendAudit(client, this.clock, [schoolId], { actor: by, action: 'user.roles_changed', objectType: 'user', objectIds: [userId], detail: { roles, personId } });
    });
    this.grants?.forget(userId);
  }

  /** Users of a school with their roles there. */
  async listOf(schoolId: string): Promise<Array<UserView & { roles: Role[]; personId: string | null }>> {
    const { rows } = await this.pool.query<Row & { roles: Role[]; person_id: string | null }>(
      `SELECT u.id::text, u.kind, u.login, u.password_hash, u.disabled_at, u.created_at, m.roles, m.person_id::text
         FROM app_membership m JOIN app_user u ON u.id = m.user_id WHERE m.school_id = $1 ORDER BY u.created_at, u.id`,
      [schoolId],
    );
    return rows.map((r) => ({ ...viewOf(r), roles: r.roles, personId: r.person_id }));
  }

  /** The user a login and password stand for; undefined for any mismatch (the caller says nothing more). */
  async checkPassword(login: string, password: string): Promise<UserView | undefined> {
    const { rows } = await this.pool.query<Row>('SELECT id::text, kind, login, password_hash, disabled_at, created_at FROM app_user WHERE login = $1', [normalizeLogin(login)]);
    const row = rows[0];
    // A missing user costs the same argon2 work as a wrong password, so timing does not tell logins apart.
    const stored = row?.password_hash ?? DUMMY_HASH;
    const ok = await verify(stored, password).catch(() => false);
    if (!row || !row.password_hash || !ok || row.disabled_at) return undefined;
    return viewOf(row);
  }

  async findByLogin(login: string): Promise<UserView | undefined> {
    const { rows } = await this.pool.query<Row>('SELECT id::text, kind, login, password_hash, disabled_at, created_at FROM app_user WHERE login = $1', [normalizeLogin(login)]);
    return rows[0] && !rows[0].disabled_at ? viewOf(rows[0]) : undefined;
  }

  /** Changes a password and revokes every session of the user but `keepSessionId`. */
  async changePassword(userId: string, password: string, by: string, keepSessionId: string | null): Promise<void> {
    const passwordHash = await hashPassword(password);
    await withTransaction(this.pool, async (client) => {
      const updated = await client.query('UPDATE app_user SET password_hash = $2, password_changed_at = $3 WHERE id = $1', [userId, passwordHash, this.clock.now()]);
      if (updated.rowCount === 0) throw new NotFoundError(`user ${userId}`);
      await client.query('UPDATE auth_session SET revoked_at = $3 WHERE user_id = $1 AND revoked_at IS NULL AND id IS DISTINCT FROM $2::uuid', [userId, keepSessionId, this.clock.now()]);
      const schools = (await client.query<{ school_id: string }>('SELECT school_id::text FROM app_membership WHERE user_id = $1', [userId])).rows.map((r) => r.school_id);
      await appendAudit(client, this.clock, schools, { actor: by, action: 'user.password_changed', objectType: 'user', objectIds: [userId] });
    });
  }
}

// A valid argon2id hash of a random string, verified against when the login is unknown.
const DUMMY_HASH = '$argon2id$v=19$m=19456,t=2,p=1$aT6MzsbWeJCAMhD2Y81Eog$okSCsjKC9B3uMWpKOnvf3AFhFejyrsGuqDa4eVmor2M';

function checkRoles(roles: string[]): void {
  const unknown = roles.filter((r) => !(ROLES as readonly string[]).includes(r));
  if (unknown.length > 0) throw new ValidationError(`unknown role ${unknown.join(', ')}; known: ${ROLES.join(', ')}`);
}

function viewOf(row: Row): UserView {
  return { id: row.id, kind: row.kind, login: row.login, hasPassword: row.password_hash !== null, disabled: row.disabled_at !== null, createdAt: row.created_at.toISOString() };
}
