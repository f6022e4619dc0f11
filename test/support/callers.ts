import { permissionsOf, type ApiCaller, type Caller, type Permission, type Role, type SchoolGrant } from '../../src/auth/caller.js';

/** A staff caller with `roles` in each school (no journal person: it sees whole schools). */
export function staffCaller(schoolIds: string[], roles: Role[] = ['it_admin'], userId = '00000000-0000-4000-8000-00000000a001'): Caller {
  const grants = new Map<string, SchoolGrant>(schoolIds.map((schoolId) => [schoolId, { schoolId, roles, permissions: permissionsOf(roles), personId: null }]));
  return { kind: 'staff', userId, sessionId: null, login: 'admin', grants };
}

/** An API client with `scopes` in each school. */
export function apiCaller(schoolIds: string[], scopes: Permission[], keyId = '00000000-0000-4000-8000-00000000b001'): ApiCaller {
  const permissions = new Set(scopes);
  const grants = new Map<string, SchoolGrant>(schoolIds.map((schoolId) => [schoolId, { schoolId, roles: [], permissions, personId: null }]));
  return { kind: 'api', keyId, allSchools: false, scopes: permissions, grants };
}
