import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Express } from 'express';
import request from 'supertest';
import { verifyAudit } from '../../src/auth/audit.js';
import { createPrisma } from '../../src/db/prisma.js';
import { createSchoolRepository } from '../../src/db/repositories/schools.js';
import { createApp } from '../../src/http/app.js';
import { createLogger } from '../../src/lib/logger.js';
import { fixedClock } from '../../src/lib/clock.js';
import { SecretBox } from '../../src/lib/secret-box.js';
import { signInCallers, startAccessRig, type AccessRig, type SchoolCallers, type SchoolFixture } from '../support/access-fixture.js';
import { applicationRole, asSuperuser, type TestDatabase } from '../support/db.js';
import { waitFor } from '../support/processes.js';

/** Keys, sessions, what each role sees of its own school, the audit log, and the limits. */
const clock = fixedClock(new Date('2025-10-31T12:00:00Z'));
const box = new SecretBox(randomBytes(32));
let rig: AccessRig;
let db: TestDatabase;
let app: Express;
let A: SchoolFixture;
let as: SchoolCallers;
const auth = () => rig.auth;
const get = (url: string, token?: string) => (token ? request(app).get(url).set('authorization', `Bearer ${token}`) : request(app).get(url));
const journal = (f: SchoolFixture, classId = f.classId, subjectId = f.subjectId) => `/v1/classes/${classId}/journal?subject=${subjectId}&from=2025-09-01&to=2025-10-31`;

beforeAll(async () => {
  rig = await startAccessRig(clock, box, [41]);
  ({ db, app } = rig);
  A = rig.schools[0]!;
  as = await signInCallers(auth(), A, 'a');
}, 300_000);

afterAll(async () => {
  await rig?.close();
});

describe('API keys', () => {
  it('work in their schools with their scopes only', async () => {
    await get(`/v1/schools/${A.schoolId}/classes`, as.key).expect(200);
    const reader = (await auth().keys.create({ name: 'reader', schoolIds: [A.schoolId], scopes: ['journal:read'] }, 'test')).key;
    await get(journal(A), reader).expect(200);
    expect((await get(`/v1/connections/${A.connectionId}`, reader).expect(403)).body.error.code).toBe('forbidden');
    await get(`/v1/schools/${A.schoolId}/compliance`, reader).expect(403);
    const other = (await auth().keys.create({ name: 'elsewhere', schoolIds: [(await db.pool.query<{ id: string }>(`INSERT INTO school (name, region, time_zone) VALUES ('Другая', 'RU-TA', 'Europe/Moscow') RETURNING id::text`)).rows[0]!.id], scopes: ['journal:read'] }, 'test')).key;
    await get(journal(A), other).expect(404);
    // One character changed: as unknown as no key at all.
    const wrong = `${reader.slice(0, -1)}${reader.endsWith('A') ? 'B' : 'A'}`;
    expect((await get(journal(A), wrong).expect(401)).headers['www-authenticate']).toMatch(/^Bearer/);
  });

  it('expire, are revoked at once, and rotate with an overlap', async () => {
    const k = await auth().keys.create({ name: 'mis', schoolIds: [A.schoolId], scopes: ['journal:read', 'access:manage'], expiresAt: new Date('2025-11-30T00:00:00Z') }, 'test');
    await get(journal(A), k.key).expect(200);
    const rotated = await request(app).post(`/v1/api-keys/${k.view.id}/rotate`).set('authorization', `Bearer ${k.key}`).send({ overlapSeconds: 3600 }).expect(201);
    expect(rotated.body.key).toMatch(/^jbk_[a-z2-7]{16}_[A-Za-z0-9_-]{43}$/);
    expect(rotated.body.rotatedFrom).toBe(k.view.id);
    await get(journal(A), k.key).expect(200);
    await get(journal(A), rotated.body.key).expect(200);
    clock.set(new Date('2025-10-31T13:00:01Z'));
    try {
      await get(journal(A), k.key).expect(401);
      await get(journal(A), rotated.body.key).expect(200);
      await request(app).delete(`/v1/api-keys/${rotated.body.id}`).set('authorization', `Bearer ${rotated.body.key}`).expect(204);
      await get(journal(A), rotated.body.key).expect(401);
      // last_used_at is written beside the request, not in it: wait for the write.
      await waitFor('the key\'s last use', async () => ((await db.pool.query('SELECT 1 FROM api_key WHERE id = $1 AND last_used_at IS NOT NULL', [k.view.id])).rowCount ? true : undefined), 30_000);
      const listed = (await get('/v1/api-keys', as.key).expect(200)).body.data as Array<{ id: string; lastUsedAt: string | null; hint: string }>;
      const mine = listed.find((x) => x.id === k.view.id)!;
      expect(mine.lastUsedAt).not.toBeNull();
      expect(mine.hint).toMatch(/^jbk_[a-z2-7]{16}_…$/);
      expect(JSON.stringify(listed)).not.toContain(k.key.slice(21));
    } finally {
      clock.set(new Date('2025-10-31T12:00:00Z'));
    }
  });

  it('are kept as an HMAC: the secret is nowhere in the database', async () => {
    const k = await auth().keys.create({ name: 'x', schoolIds: [A.schoolId], scopes: ['journal:read'] }, 'test');
    const { rows } = await db.pool.query<{ t: string }>('SELECT row_to_json(k)::text AS t FROM api_key k');
    expect(rows.some((r) => r.t.includes(k.key.slice(21)))).toBe(false);
  });
});

describe('sessions', () => {
  it('sign in by password, expire, and are revoked when the password changes', async () => {
    await auth().users.create({ kind: 'staff', login: 'Zavuch@School.example', password: 'first password!', memberships: [{ schoolId: A.schoolId, roles: ['deputy'] }] }, 'test');
    const wrong = await request(app).post('/v1/auth/login').send({ login: 'zavuch@school.example', password: 'nope' }).expect(401);
    const unknown = await request(app).post('/v1/auth/login').send({ login: 'nobody@school.example', password: 'nope' }).expect(401);
    expect(wrong.body.error.message).toBe(unknown.body.error.message);
    const one = (await request(app).post('/v1/auth/login').send({ login: 'zavuch@school.example', password: 'first password!' }).expect(201)).body.token as string;
    const two = (await request(app).post('/v1/auth/login').send({ login: 'zavuch@school.example', password: 'first password!' }).expect(201)).body.token as string;
    expect((await get('/v1/me', one).expect(200)).body.schools[0].roles).toEqual(['deputy']);
    await request(app).post('/v1/me/password').set('authorization', `Bearer ${one}`).send({ current: 'first password!', password: 'second password!' }).expect(204);
    await get('/v1/me', one).expect(200);
    await get('/v1/me', two).expect(401);
    await request(app).post('/v1/auth/login').send({ login: 'zavuch@school.example', password: 'first password!' }).expect(401);
    clock.set(new Date('2025-10-31T13:00:01Z'));
    try {
      await get('/v1/me', one).expect(401);
    } finally {
      clock.set(new Date('2025-10-31T12:00:00Z'));
    }
  });

  it('gives the dashboard an HTTP-only cookie, and refuses a change from another site with it', async () => {
    await auth().users.create({ kind: 'staff', login: 'it@school.example', password: 'cookie password', memberships: [{ schoolId: A.schoolId, roles: ['it_admin'] }] }, 'test');
    const res = await request(app).post('/v1/auth/login').send({ login: 'it@school.example', password: 'cookie password', session: 'cookie' }).expect(201);
    const cookie = String(res.headers['set-cookie']);
    expect(cookie).toMatch(/jb_session=jbs_[^;]+;.*HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(res.body.token).toBeUndefined();
    const session = cookie.split(';')[0]!;
    await request(app).get('/v1/me').set('cookie', session).expect(200);
    await request(app).put(`/v1/schools/${A.schoolId}/profile`).set('cookie', session).set('origin', 'https://evil.example').send({}).expect(403);
  });
});

describe('what each role sees of its own school', () => {
  it('a parent: their children only, without the sources behind the values', async () => {
    const classes = (await get(`/v1/schools/${A.schoolId}/classes`, as.parent).expect(200)).body.data as Array<{ id: string }>;
    expect(classes.map((c) => c.id)).toContain(A.classId);
    expect(classes.map((c) => c.id)).not.toContain(A.otherClassId);
    const page = (await get(journal(A), as.parent).expect(200)).body;
    const staff = (await get(journal(A), as.key).expect(200)).body;
    expect(staff.rows.length).toBeGreaterThan(1);
    expect(page.rows.map((r: { pupil: { id: string } }) => r.pupil.id)).toEqual([A.childId]);
    expect(page.sources).toEqual([]);
    expect(page.rows[0].cells.every((c: { others: unknown[] }) => c.others.length === 0)).toBe(true);
    await get(journal(A, A.otherClassId), as.parent).expect(404);
    await get(`/v1/people/${A.parentId}/notify-preferences`, as.parent).expect(200);
    await get(`/v1/people/${A.otherParentId}/notify-preferences`, as.parent).expect(404);
    await get(`/v1/connections/${A.connectionId}`, as.parent).expect(403);
    // What a webhook's fetch link names: their child's mark, not another family's.
    expect((await get(`/v1/schools/${A.schoolId}/marks/${A.markId}`, as.parent).expect(200)).body).toMatchObject({ entity: 'mark', id: A.markId, pupilId: A.childId });
    await get(`/v1/schools/${A.schoolId}/marks/${A.otherMarkId}`, as.parent).expect(404);
    await get(`/v1/schools/${A.schoolId}/marks/${A.otherMarkId}`, as.key).expect(200);
    await get(`/v1/schools/${A.schoolId}/lessons/${A.lessonId}`, as.parent).expect(200);
    await get(`/v1/discrepancies/${A.discrepancyId}`, as.parent).expect(403);
  });

  it("a class teacher: their class's discrepancies; a subject teacher: their own pages", async () => {
    const inbox = (await get(`/v1/discrepancies?school=${A.schoolId}&limit=200`, as.classTeacher).expect(200)).body.items as Array<{ id: string }>;
    expect(inbox.map((d) => d.id)).toContain(A.discrepancyId);
    const teacherInbox = (await get(`/v1/discrepancies?school=${A.schoolId}&limit=200`, as.teacher).expect(200)).body.items as Array<{ id: string }>;
    const all = (await get(`/v1/discrepancies?school=${A.schoolId}&limit=200`, as.deputy).expect(200)).body.items as Array<{ id: string }>;
    expect(teacherInbox.length).toBeLessThanOrEqual(all.length);
    await get(journal(A, A.teacherPair.classId, A.teacherPair.subjectId), as.teacher).expect(200);
    await get(`/v1/schools/${A.schoolId}/compliance`, as.teacher).expect(403);
    await get(`/v1/schools/${A.schoolId}/compliance`, as.deputy).expect(200);
    await get(`/v1/connections?school=${A.schoolId}`, as.deputy).expect(403);
    await get(`/v1/connections?school=${A.schoolId}`, as.admin).expect(200);
  });
});

describe('the audit log', () => {
  it('records staff and API reads of a child\'s record, not a parent\'s own; the application cannot change it; verify finds a tampered row', async () => {
    const before = (await get(`/v1/schools/${A.schoolId}/audit?action=journal_page.read`, as.deputy).expect(200)).body.data.length as number;
    await get(journal(A), as.key).expect(200);
    await get(journal(A), as.parent).expect(200);
    const after = (await get(`/v1/schools/${A.schoolId}/audit?action=journal_page.read`, as.deputy).expect(200)).body.data as Array<{ actor: string; objectIds: string[] }>;
    expect(after.length).toBe(before + 1);
    expect(after[0]!.actor).toMatch(/^api:/);
    expect(after[0]!.objectIds).toEqual([A.classId, A.subjectId]);
    const changes = (await get(`/v1/schools/${A.schoolId}/audit?action=user.created`, as.deputy).expect(200)).body.data;
    expect(changes.length).toBeGreaterThan(0);
    expect((await get(`/v1/schools/${A.schoolId}/audit/verify`, as.deputy).expect(200)).body).toMatchObject({ ok: true });
    const appRole = await applicationRole(db);
    try {
      await expect(appRole.query(`UPDATE audit_log SET actor = 'x' WHERE school_id = $1`, [A.schoolId])).rejects.toMatchObject({ code: '42501' });
      await expect(appRole.query('DELETE FROM audit_log WHERE school_id = $1', [A.schoolId])).rejects.toMatchObject({ code: '42501' });
    } finally {
      await appRole.end();
    }
    await asSuperuser(db.pool, [[`UPDATE audit_log SET actor = 'user:someone-else' WHERE school_id = $1 AND seq = 2`, [A.schoolId]]]);
    const verdict = await verifyAudit(db.pool, A.schoolId);
    expect(verdict).toMatchObject({ ok: false, firstBroken: 2 });
  });
});

describe('limits', () => {
  it('refuses a 2 MB body with 413, and one without credentials before reading it', async () => {
    const big = JSON.stringify({ settings: { padding: 'x'.repeat(2 * 1024 * 1024) } });
    await request(app).put(`/v1/schools/${A.schoolId}/profile`).set('authorization', `Bearer ${as.key}`).set('content-type', 'application/json').send(big).expect(413);
    await request(app).put(`/v1/schools/${A.schoolId}/profile`).set('content-type', 'application/json').send(big).expect(401);
  });
});

describe('request rates', () => {
  it('are limited per key and per address before signing in, with Retry-After', async () => {
    const prisma = createPrisma(db.url, 1);
    try {
      const limited = createApp({
        auth: auth(), rates: { perCallerPerMinute: 5, perAddressPerMinute: 3 }, pool: db.pool, schools: createSchoolRepository(prisma),
        logger: createLogger('silent'), embedded: false, demoStatus: () => ({ status: 'off' }), clock,
      });
      const byKey = [];
      for (let i = 0; i < 7; i++) byKey.push((await request(limited).get('/v1/me').set('authorization', `Bearer ${as.key}`)).status);
      expect(byKey).toEqual([200, 200, 200, 200, 200, 429, 429]);
      // Another caller from the same address is not held back by the first one's limit.
      await request(limited).get('/v1/me').set('authorization', `Bearer ${as.admin}`).expect(200);
      const anonymous = [];
      for (let i = 0; i < 5; i++) anonymous.push((await request(limited).post('/v1/auth/login').send({ login: 'x', password: 'y' })).status);
      expect(anonymous).toEqual([401, 401, 401, 429, 429]);
      const last = await request(limited).post('/v1/auth/login').send({ login: 'x', password: 'y' }).expect(429);
      expect(Number(last.headers['retry-after'])).toBeGreaterThan(0);
    } finally {
      await prisma.$disconnect();
    }
  });
});
