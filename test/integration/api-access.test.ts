import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Express } from 'express';
import yaml from 'js-yaml';
import request from 'supertest';
import { fixedClock } from '../../src/lib/clock.js';
import { SecretBox } from '../../src/lib/secret-box.js';
import { signInCallers, startAccessRig, type AccessRig, type SchoolCallers, type SchoolFixture } from '../support/access-fixture.js';
import type { TestDatabase } from '../support/db.js';

/**
 * Object-level authorisation (BOLA), generated from the OpenAPI document: every operation, called by
 * each role of school A with school B's ids (and a parent with another family's), answers 401, 403 or
 * 404 — never 2xx; a list without ids never shows B's. Without credentials, or with a revoked key,
 * every operation but the public ones answers 401.
 */
const clock = fixedClock(new Date('2025-10-31T12:00:00Z'));
const box = new SecretBox(randomBytes(32));
let rig: AccessRig;
let db: TestDatabase;
let app: Express;
let A: SchoolFixture;
let B: SchoolFixture;
let callersA: SchoolCallers;
let keyB: { id: string };
let userB: { id: string };
let revoked: string;
const auth = () => rig.auth;

interface Operation { method: 'get' | 'post' | 'put' | 'patch' | 'delete'; path: string; public: boolean; query: Array<{ name: string; required: boolean }> }

function operations(): Operation[] {
  const spec = yaml.load(readFileSync(new URL('../../openapi/openapi.yaml', import.meta.url), 'utf8')) as {
    paths: Record<string, Record<string, { security?: unknown[]; parameters?: Array<{ name: string; in: string; required?: boolean } | { $ref: string }> }>>;
  };
  const out: Operation[] = [];
  for (const [path, item] of Object.entries(spec.paths)) {
    for (const method of ['get', 'post', 'put', 'patch', 'delete'] as const) {
      const op = item[method];
      if (!op) continue;
      const query = (op.parameters ?? []).filter((p): p is { name: string; in: string; required?: boolean } => 'in' in p && p.in === 'query').map((p) => ({ name: p.name, required: p.required === true }));
      out.push({ method, path, public: Array.isArray(op.security) && op.security.length === 0, query });
    }
  }
  return out;
}
const OPERATIONS = operations();
/** Operations on the caller itself (they name no one else's object): signing out would end the matrix's sessions. */
const SELF = ['/v1/auth/logout', '/v1/me/password'];

/** The URL of an operation with one school's ids (and a query naming the school where the operation takes one). */
function urlFor(op: Operation, f: SchoolFixture, ids: { keyId?: string; userId?: string }): string {
  const byId = (): string => {
    if (op.path.startsWith('/v1/discrepancies/')) return f.discrepancyId;
    if (op.path.startsWith('/v1/api-keys/')) return ids.keyId ?? randomUUID();
    if (op.path.includes('/users/')) return ids.userId ?? randomUUID();
    if (op.path.startsWith('/v1/webhooks/')) return f.webhookId;
    if (op.path.endsWith('/marks/{id}')) return f.markId;
    if (op.path.endsWith('/attendance/{id}')) return f.attendanceId;
    if (op.path.endsWith('/lessons/{id}')) return f.lessonId;
    if (op.path.startsWith('/v1/archive/')) return f.archiveId;
    return randomUUID();
  };
  const values: Record<string, string> = {
    schoolId: f.schoolId, classId: f.classId, pupilId: f.childId, connectionId: f.connectionId, runId: f.runId, personId: f.parentId, channel: 'email', code: 'AAAA-BBBB', periodId: f.periodId, kind: 'progress',
  };
  let url = op.path.replace(/\{(\w+)\}/g, (_m, name: string) => (name === 'id' ? byId() : values[name] ?? randomUUID()));
  const query: string[] = [];
  for (const q of op.query) {
    if (q.name === 'school') query.push(`school=${f.schoolId}`);
    else if (q.name === 'subject') query.push(`subject=${f.subjectId}`);
    else if (q.name === 'connection') query.push(`connection=${f.connectionId}`);
    else if (q.name === 'person') query.push(`person=${f.parentId}`);
  }
  if (query.length > 0) url += `?${query.join('&')}`;
  return url;
}

function bodyFor(op: Operation, f: SchoolFixture): object {
  if (op.method === 'post' && op.path === '/v1/connections') return { schoolId: f.schoolId, platform: 'dnevnikru', config: {} };
  if (op.method === 'post' && op.path === '/v1/api-keys') return { name: 'x', schoolIds: [f.schoolId], scopes: ['journal:read'] };
  return {};
}

function send(op: Operation, url: string, token: string | undefined, body: object): request.Test {
  let test = request(app)[op.method](url);
  if (token) test = test.set('authorization', `Bearer ${token}`);
  return op.method === 'get' || op.method === 'delete' ? test : test.send(body);
}

/** Names and identifiers of school B that must never reach a caller of school A. */
function foreignIds(): string[] {
  return [B.schoolId, B.classId, B.otherClassId, B.connectionId, B.runId, B.discrepancyId, B.parentId, B.childId, B.webhookId, B.markId, B.attendanceId, B.lessonId, B.periodId, B.archiveId, keyB.id, userB.id];
}

beforeAll(async () => {
  rig = await startAccessRig(clock, box, [31, 32]);
  ({ db, app } = rig);
  [A, B] = rig.schools as [SchoolFixture, SchoolFixture];
  callersA = await signInCallers(auth(), A, 'a');
  await signInCallers(auth(), B, 'b');
  keyB = (await auth().keys.create({ name: 'b', schoolIds: [B.schoolId], scopes: ['journal:read'] }, 'test')).view;
  userB = await auth().users.create({ kind: 'staff', login: 'someone-b', memberships: [{ schoolId: B.schoolId, roles: ['deputy'] }] }, 'test');
  const gone = await auth().keys.create({ name: 'gone', schoolIds: [A.schoolId], scopes: ['journal:read', 'connections:manage'] }, 'test');
  await db.pool.query('UPDATE api_key SET revoked_at = now() WHERE id = $1', [gone.view.id]);
  revoked = gone.key;
}, 300_000);

afterAll(async () => {
  await rig?.close();
});

describe('the BOLA matrix (from openapi/openapi.yaml)', () => {
  it('covers the whole API', () => {
    expect(OPERATIONS.length).toBeGreaterThan(50);
    expect(OPERATIONS.filter((o) => o.public).map((o) => o.path).sort()).toEqual(['/health', '/v1/auth/code', '/v1/auth/code/verify', '/v1/auth/login', '/v1/seals/{code}', '/v1/telegram/{id}/webhook']);
  });

  it('answers 401 to every operation without credentials, or with a revoked key', async () => {
    const failures: string[] = [];
    for (const op of OPERATIONS.filter((o) => !o.public)) {
      const url = urlFor(op, A, {});
      for (const [who, token] of [['nobody', undefined], ['revoked key', revoked], ['a made-up key', `jbk_${'a'.repeat(16)}_${'A'.repeat(43)}`]] as const) {
        const res = await send(op, url, token, bodyFor(op, A));
        if (res.status !== 401) failures.push(`${who}: ${op.method.toUpperCase()} ${op.path} → ${res.status}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it("never answers a caller of school A with school B's objects", async () => {
    const failures: string[] = [];
    const forbidden = foreignIds();
    for (const [role, token] of Object.entries(callersA).filter(([role]) => role !== 'otherParent')) {
      for (const op of OPERATIONS.filter((o) => !o.public && !SELF.includes(o.path))) {
        const url = urlFor(op, B, { keyId: keyB.id, userId: userB.id });
        const res = await send(op, url, token, bodyFor(op, B));
        const names = /\{\w+\}/.test(op.path) || op.query.some((q) => ['school', 'connection', 'person'].includes(q.name)) || op.method !== 'get';
        const text = JSON.stringify(res.body ?? '') + (res.text ?? '');
        if (res.status < 300 && (names || forborne(text, forbidden))) failures.push(`${role}: ${op.method.toUpperCase()} ${url} → ${res.status}`);
        if (res.status >= 300 && ![401, 403, 404, 405].includes(res.status)) failures.push(`${role}: ${op.method.toUpperCase()} ${url} → ${res.status} ${res.body?.error?.code ?? ''}`);
      }
    }
    expect(failures).toEqual([]);
  }, 600_000);

  it("never answers a parent with another family's person or class", async () => {
    const failures: string[] = [];
    const other = { ...A, parentId: A.otherParentId, classId: A.otherClassId };
    for (const op of OPERATIONS.filter((o) => !o.public && /\{(personId|classId)\}/.test(o.path))) {
      const url = urlFor(op, other, {});
      const res = await send(op, url, callersA.parent, bodyFor(op, other));
      if (![403, 404].includes(res.status)) failures.push(`${op.method.toUpperCase()} ${url} → ${res.status}`);
    }
    expect(failures).toEqual([]);
  });
});

describe('the school’s own notification settings', () => {
  it('are changed and its providers read by its administrators only: a parent or a class teacher gets 403, yet reads the policy', async () => {
    const calls: Array<[string, string, unknown?]> = [
      ['put', `/v1/schools/${A.schoolId}/notify-policy`, { enabled: false }],
      ['get', `/v1/schools/${A.schoolId}/notify-providers`],
      ['put', `/v1/schools/${A.schoolId}/notify-providers/telegram`, { provider: 'telegram', config: { botUsername: 'x_bot' }, secrets: { token: 't' } }],
    ];
    for (const token of [callersA.parent, callersA.classTeacher]) {
      for (const [method, url, body] of calls) {
        const req = method === 'put' ? request(app).put(url).send(body as object) : request(app).get(url);
        expect([url, (await req.set('authorization', `Bearer ${token}`)).status]).toEqual([url, 403]);
      }
      expect((await request(app).get(`/v1/schools/${A.schoolId}/notify-policy`).set('authorization', `Bearer ${token}`)).status).toBe(200);
    }
    expect((await request(app).get(`/v1/schools/${A.schoolId}/notify-providers`).set('authorization', `Bearer ${callersA.admin}`)).status).toBe(200);
  });
});

function forborne(text: string, ids: string[]): boolean {
  return ids.some((id) => text.includes(id));
}
