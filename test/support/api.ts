import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Express } from 'express';
import request from 'supertest';
import { PERMISSIONS, type Permission } from '../../src/auth/caller.js';
import { createAuth, type Auth } from '../../src/auth/index.js';
import type { Pool } from '../../src/db/pool.js';
import { systemClock, type Clock } from '../../src/lib/clock.js';
import { SecretBox } from '../../src/lib/secret-box.js';
import { waitFor } from './processes.js';

/** The service's authentication on a test database, with a server key of its own. */
export function testAuth(pool: Pool, clock: Clock = systemClock, box = new SecretBox(randomBytes(32))): Auth {
  return createAuth(pool, box, clock, { sessionTtlSeconds: 3600 });
}

/** A key with `scopes` (all by default) in `schoolIds`, or in every school (a region-level key). */
export async function keyFor(auth: Auth, schoolIds: string[] | null = null, scopes: Permission[] = [...PERMISSIONS]): Promise<string> {
  return (await auth.keys.create({ name: 'test', schoolIds, scopes }, 'test')).key;
}

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
export type Authed = Record<Method, (url: string) => request.Test>;

/** supertest on `app` with `Authorization: Bearer <token>` on every request. */
export function authed(app: Express, token: string): Authed {
  const agent = request(app);
  const wrap = (m: Method) => (url: string) => agent[m](url).set('authorization', `Bearer ${token}`);
  return { get: wrap('get'), post: wrap('post'), put: wrap('put'), patch: wrap('patch'), delete: wrap('delete') };
}

/** fetch's headers for a token. */
export function bearer(token: string, extra: Record<string, string> = {}): Record<string, string> {
  return { authorization: `Bearer ${token}`, ...extra };
}

/** A running demo service's administrator session: the demo writes its accounts under DATA_DIR once the school is loaded. */
export async function demoAdminToken(base: string, dataDir: string): Promise<string> {
  const file = path.join(dataDir, 'demo-accounts.json');
  await waitFor('the demo accounts', async () => (existsSync(file) ? true : undefined), 300_000);
  const accounts = JSON.parse(await readFile(file, 'utf8')) as Array<{ login: string; password: string }>;
  const admin = accounts.find((a) => a.login === 'admin')!;
  const response = await fetch(`${base}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ login: admin.login, password: admin.password }) });
  if (response.status !== 201) throw new Error(`demo sign-in failed: ${response.status}`);
  return ((await response.json()) as { token: string }).token;
}
