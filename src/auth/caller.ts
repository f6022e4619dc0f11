import { ForbiddenError, NotFoundError } from '../lib/errors.js';

/**
 * Who is asking. Every route resolves one (src/http/auth.ts) and every service takes it: a staff user,
 * a parent, or an API client (another school system), each with what it may do per school.
 *
 * A caller holds *school-level* grants only; what a teacher or a parent may see inside a school (their
 * classes, their lessons, their children) is the object-level scope of src/auth/access.ts, read from the
 * journal's staff roles, teaching assignments and guardianships when it is needed.
 */

/** What a caller may do in a school. API keys carry these as scopes; people get them from their roles. */
export const PERMISSIONS = [
  'journal:read', 'records:write', 'connections:manage', 'sync:run', 'webhooks:manage',
  'discrepancies:read', 'discrepancies:write', 'compliance:read', 'checks:run', 'profile:manage',
  'notifications:read', 'notifications:manage', 'access:manage', 'audit:read',
  'reports:read', 'archive:read', 'periods:close', 'periods:confirm', 'backups:manage',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** People's roles in a school. Teachers' and parents' roles also narrow what they see (access.ts). */
export const ROLES = ['it_admin', 'director', 'deputy', 'class_teacher', 'subject_teacher', 'parent'] as const;
export type Role = (typeof ROLES)[number];

const ALL: readonly Permission[] = PERMISSIONS;
const READ_SCHOOL: readonly Permission[] = ['journal:read', 'discrepancies:read', 'discrepancies:write', 'compliance:read', 'checks:run', 'profile:manage', 'notifications:read', 'audit:read', 'reports:read', 'archive:read'];
/** The period close (001 Инструкция §4): deputies run it, the director signs it off, teachers confirm their pages. */
const CLOSE: readonly Permission[] = ['periods:close', 'periods:confirm'];
/** What each role may do; the object-level scope (access.ts) then narrows teachers and parents to their own. */
export const ROLE_PERMISSIONS: Readonly<Record<Role, readonly Permission[]>> = {
  it_admin: ALL,
  director: [...READ_SCHOOL, ...CLOSE],
  deputy: [...READ_SCHOOL, ...CLOSE],
  class_teacher: ['journal:read', 'records:write', 'discrepancies:read', 'discrepancies:write', 'notifications:read', 'notifications:manage', 'reports:read', 'periods:confirm'],
  subject_teacher: ['journal:read', 'records:write', 'discrepancies:read', 'discrepancies:write', 'periods:confirm'],
  parent: ['journal:read', 'notifications:read', 'notifications:manage'],
};

/** A caller's standing in one school. */
export interface SchoolGrant {
  schoolId: string;
  roles: readonly Role[];
  permissions: ReadonlySet<Permission>;
  /** The journal person the user is in this school (a teacher, a parent); none for API clients and pure administrators. */
  personId: string | null;
}

interface CallerBase {
  /** Grants per school id. */
  grants: ReadonlyMap<string, SchoolGrant>;
}
export interface StaffCaller extends CallerBase { kind: 'staff'; userId: string; sessionId: string | null; login: string }
export interface ParentCaller extends CallerBase { kind: 'parent'; userId: string; sessionId: string | null; login: string }
export interface ApiCaller extends CallerBase {
  kind: 'api';
  keyId: string;
  /** A region-level key (created with --all-schools) has its scopes in every school. */
  allSchools: boolean;
  scopes: ReadonlySet<Permission>;
}
export type Caller = StaffCaller | ParentCaller | ApiCaller;

/** A short name for the audit log and for logs: never a person's name, phone or e-mail. */
export function actorOf(caller: Caller): string {
  return caller.kind === 'api' ? `api:${caller.keyId}` : `user:${caller.userId}`;
}

/** The caller's grant in a school, if it has any standing there at all. */
export function grantIn(caller: Caller, schoolId: string): SchoolGrant | undefined {
  const grant = caller.grants.get(schoolId);
  if (grant) return grant;
  if (caller.kind === 'api' && caller.allSchools) return { schoolId, roles: [], permissions: caller.scopes, personId: null };
  return undefined;
}

/**
 * Asserts the caller may do `permission` in the school and returns its grant. A school the caller has no
 * standing in answers like an unknown one (404, `what` names the object asked for); a school it belongs
 * to but may not do this in answers 403.
 */
export function permit(caller: Caller, schoolId: string, permission: Permission, what = `school ${schoolId}`): SchoolGrant {
  const grant = grantIn(caller, schoolId);
  if (!grant) throw new NotFoundError(what);
  if (!grant.permissions.has(permission)) throw new ForbiddenError(`this ${caller.kind === 'api' ? 'key' : 'account'} may not use ${permission} here`);
  return grant;
}

/** The schools where the caller may do `permission`: a list, or 'all' for a region-level key. */
export function schoolsWith(caller: Caller, permission: Permission): string[] | 'all' {
  if (caller.kind === 'api' && caller.allSchools) return caller.scopes.has(permission) ? 'all' : [];
  return [...caller.grants.values()].filter((g) => g.permissions.has(permission)).map((g) => g.schoolId);
}

/** Whether a grant sees the whole school (administrators, the director and deputies, API clients) rather than its own classes or children. */
export function seesWholeSchool(grant: SchoolGrant): boolean {
  // An API client's grant has no roles; a person's roles never widen without one of these three.
  return grant.roles.length === 0 || grant.roles.some((r) => r === 'it_admin' || r === 'director' || r === 'deputy');
}

/** The permissions of a set of roles. */
export function permissionsOf(roles: readonly Role[]): Set<Permission> {
  return new Set(roles.flatMap((r) => ROLE_PERMISSIONS[r]));
}

/** The schools a list is scoped to: the one asked for (permitted, else 404/403), or all the caller's with `permission` (undefined for a region-level key). */
export function schoolsAskedFor(caller: Caller, permission: Permission, school: string | undefined): string[] | undefined {
  if (school) {
    permit(caller, school, permission);
    return [school];
  }
  const schools = schoolsWith(caller, permission);
  return schools === 'all' ? undefined : schools;
}
