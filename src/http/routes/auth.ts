import { Router, type Response } from 'express';
import { z } from 'zod';
import { listAudit, verifyAudit } from '../../auth/audit.js';
import { actorOf, PERMISSIONS, permit, ROLES, type Caller, type Permission, type Role } from '../../auth/caller.js';
import type { ApiKeyView } from '../../auth/api-keys.js';
import type { UserView } from '../../auth/users.js';
import type { Auth } from '../../auth/index.js';
import { UnauthorizedError, ValidationError } from '../../lib/errors.js';
import { SESSION_COOKIE } from '../auth.js';
import { callerOf } from '../caller.js';
import { parseRequest } from '../errors.js';

const Login = z.strictObject({ login: z.string().min(1).max(200), password: z.string().min(1).max(500), session: z.enum(['cookie', 'bearer']).default('bearer') });
const CodeRequest = z.strictObject({ login: z.string().min(1).max(200) });
const CodeSignIn = z.strictObject({ login: z.string().min(1).max(200), code: z.string().min(1).max(20), session: z.enum(['cookie', 'bearer']).default('bearer') });
const PasswordChange = z.strictObject({ current: z.string().min(1).max(500), password: z.string().min(1).max(500) });
const Id = z.object({ id: z.uuid() });
const SchoolId = z.object({ schoolId: z.uuid() });
const NewKey = z.strictObject({
  name: z.string().trim().min(1).max(200), schoolIds: z.array(z.uuid()).min(1).max(100), scopes: z.array(z.enum(PERMISSIONS)).min(1),
  expiresAt: z.iso.datetime({ offset: true }).optional(),
});
const Rotate = z.strictObject({ overlapSeconds: z.number().int().min(0).max(30 * 86400).default(86400) });
const NewUser = z.strictObject({
  kind: z.enum(['staff', 'parent']).default('staff'), login: z.string().min(3).max(200), password: z.string().min(1).max(500).optional(),
  roles: z.array(z.enum(ROLES)).min(1), personId: z.uuid().nullable().optional(),
});
const Membership = z.strictObject({ roles: z.array(z.enum(ROLES)), personId: z.uuid().nullable().optional() });
const AuditQuery = z.object({ limit: z.coerce.number().int().min(1).max(200).default(50), before: z.coerce.number().int().min(1).optional(), action: z.string().max(100).optional() });

/**
 * Signing in and out, who am I, passwords, API keys, a school's users and roles, and the audit log.
 * Sign-in answers one message for a wrong login and a wrong password alike.
 */
export function authRouter(auth: Auth): Router {
  const router = Router();
  router.post('/v1/auth/login', async (req, res) => {
    const body = parseRequest(Login, req.body, 'body');
    const user = await auth.users.checkPassword(body.login, body.password);
    if (!user) throw new UnauthorizedError('the login or the password is wrong');
    const session = await auth.sessions.create(user.id, body.session);
    if (body.session === 'cookie') setSessionCookie(res, session.token, session.maxAgeSeconds, req.secure);
    res.status(201).json({ token: body.session === 'bearer' ? session.token : undefined, expiresAt: session.expiresAt.toISOString(), user: { id: user.id, kind: user.kind, login: user.login } });
  });
  router.post('/v1/auth/code', async (req, res) => {
    const { login } = parseRequest(CodeRequest, req.body, 'body');
    await auth.codes.request(login, req.ip ?? 'unknown', (l) => auth.users.findByLogin(l));
    // The same answer whether or not the login exists or could be reached.
    res.status(202).json({ message: 'if this login can receive a code, it has been sent' });
  });
  router.post('/v1/auth/code/verify', async (req, res) => {
    const body = parseRequest(CodeSignIn, req.body, 'body');
    const user = await auth.users.findByLogin(body.login);
    if (!user || !(await auth.codes.verify(user.id, body.code.trim()))) throw new UnauthorizedError('the code is wrong, used or expired');
    const session = await auth.sessions.create(user.id, body.session);
    if (body.session === 'cookie') setSessionCookie(res, session.token, session.maxAgeSeconds, req.secure);
    res.status(201).json({ token: body.session === 'bearer' ? session.token : undefined, expiresAt: session.expiresAt.toISOString(), user: { id: user.id, kind: user.kind, login: user.login } });
  });
  router.post('/v1/auth/logout', async (_req, res) => {
    const caller = callerOf(res);
    if (caller.kind !== 'api' && caller.sessionId) await auth.sessions.revoke(caller.sessionId);
    res.clearCookie(SESSION_COOKIE, { path: '/' });
    res.status(204).end();
  });
  router.get('/v1/me', (_req, res) => {
    res.json(meOf(callerOf(res)));
  });
  router.post('/v1/me/password', async (req, res) => {
    const caller = callerOf(res);
    if (caller.kind === 'api') throw new ValidationError('an API key has no password; rotate it instead');
    const body = parseRequest(PasswordChange, req.body, 'body');
    if (!(await auth.users.checkPassword(caller.login, body.current))) throw new UnauthorizedError('the current password is wrong');
    await auth.users.changePassword(caller.userId, body.password, actorOf(caller), caller.sessionId);
    res.status(204).end();
  });
  router.get('/v1/api-keys', async (_req, res) => {
    res.json({ data: await auth.keys.list(callerOf(res)) });
  });
  router.post('/v1/api-keys', async (req, res) => {
    const body = parseRequest(NewKey, req.body, 'body');
    const created = await createApiKey(auth, callerOf(res), { name: body.name, schoolIds: body.schoolIds, scopes: body.scopes, expiresAt: body.expiresAt ? new Date(body.expiresAt) : null });
    res.status(201).json({ ...created.view, key: created.key });
  });
  router.post('/v1/api-keys/:id/rotate', async (req, res) => {
    const { id } = parseRequest(Id, req.params, 'path');
    const { overlapSeconds } = parseRequest(Rotate, req.body ?? {}, 'body');
    const created = await auth.keys.rotate(callerOf(res), id, overlapSeconds);
    res.status(201).json({ ...created.view, key: created.key });
  });
  router.delete('/v1/api-keys/:id', async (req, res) => {
    await auth.keys.revoke(callerOf(res), parseRequest(Id, req.params, 'path').id);
    res.status(204).end();
  });
  router.get('/v1/schools/:schoolId/users', async (req, res) => {
    const { schoolId } = parseRequest(SchoolId, req.params, 'path');
    permit(callerOf(res), schoolId, 'access:manage');
    res.json({ data: await auth.users.listOf(schoolId) });
  });
  router.post('/v1/schools/:schoolId/users', async (req, res) => {
    const { schoolId } = parseRequest(SchoolId, req.params, 'path');
    const caller = callerOf(res);
    permit(caller, schoolId, 'access:manage');
    const body = parseRequest(NewUser, req.body, 'body');
    res.status(201).json(await createSchoolUser(auth, caller, schoolId, { ...body, personId: body.personId ?? null }));
  });
  router.put('/v1/schools/:schoolId/users/:id', async (req, res) => {
    const { schoolId, id } = parseRequest(SchoolId.extend(Id.shape), req.params, 'path');
    // The school first: another school's answers 404 before the body is judged.
    permit(callerOf(res), schoolId, 'access:manage');
    const body = parseRequest(Membership, req.body, 'body');
    await setSchoolMembership(auth, callerOf(res), schoolId, id, body.roles, body.personId ?? null);
    res.status(204).end();
  });
  router.get('/v1/schools/:schoolId/audit', async (req, res) => {
    const { schoolId } = parseRequest(SchoolId, req.params, 'path');
    permit(callerOf(res), schoolId, 'audit:read');
    const q = parseRequest(AuditQuery, req.query, 'query');
    res.json({ data: await listAudit(auth.pool, schoolId, { limit: q.limit, beforeSeq: q.before, action: q.action }) });
  });
  router.get('/v1/schools/:schoolId/audit/verify', async (req, res) => {
    const { schoolId } = parseRequest(SchoolId, req.params, 'path');
    permit(callerOf(res), schoolId, 'audit:read');
    res.json(await verifyAudit(auth.pool, schoolId));
  });
  return router;
}

/** A key for other systems, made by a caller who manages access in every school it names; the returned `key` is shown once. */
export async function createApiKey(auth: Auth, caller: Caller, input: { name: string; schoolIds: string[]; scopes: Permission[]; expiresAt: Date | null }): Promise<{ key: string; view: ApiKeyView }> {
  for (const schoolId of input.schoolIds) permit(caller, schoolId, 'access:manage');
  return auth.keys.create(input, actorOf(caller));
}

/** A user of one school, made by a caller who manages access there. */
export async function createSchoolUser(
  auth: Auth, caller: Caller, schoolId: string, input: { kind: 'staff' | 'parent'; login: string; password?: string; roles: Role[]; personId: string | null },
): Promise<UserView> {
  permit(caller, schoolId, 'access:manage');
  return auth.users.create({ kind: input.kind, login: input.login, password: input.password, memberships: [{ schoolId, roles: input.roles, personId: input.personId }] }, actorOf(caller));
}

/** A user's roles (and journal person) in a school, set by a caller who manages access there; only a user of that school. */
export async function setSchoolMembership(auth: Auth, caller: Caller, schoolId: string, userId: string, roles: Role[], personId: string | null): Promise<void> {
  permit(caller, schoolId, 'access:manage');
  if (!(await auth.users.listOf(schoolId)).some((u) => u.id === userId)) throw new ValidationError(`user ${userId} is not a user of this school`);
  await auth.users.setMembership(schoolId, userId, roles, personId, actorOf(caller));
}

/**
 * The session cookie: HTTP-only, SameSite=Lax, Secure behind https, for the whole site. Its lifetime is
 * a Max-Age (the session's), not our expiry instant, so a browser whose clock differs keeps it as long.
 */
export function setSessionCookie(res: Response, token: string, maxAgeSeconds: number, secure: boolean): void {
  res.cookie(SESSION_COOKIE, token, { httpOnly: true, sameSite: 'lax', secure, path: '/', maxAge: maxAgeSeconds * 1000 });
}

/** Who the caller is and what it may do where: no personal data beyond its own login. */
function meOf(caller: Caller): unknown {
  const schools = [...caller.grants.values()].map((g) => ({ schoolId: g.schoolId, roles: g.roles, permissions: [...g.permissions], personId: g.personId }));
  if (caller.kind === 'api') return { kind: 'api', keyId: caller.keyId, allSchools: caller.allSchools, scopes: [...caller.scopes], schools };
  return { kind: caller.kind, userId: caller.userId, login: caller.login, schools };
}
