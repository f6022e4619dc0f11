import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Express } from 'express';
import request from 'supertest';
import { createAuth } from '../../src/auth/index.js';
import { createSchoolRepository } from '../../src/db/repositories/schools.js';
import { createPrisma } from '../../src/db/prisma.js';
import { createApp } from '../../src/http/app.js';
import { fixedClock } from '../../src/lib/clock.js';
import { createLogger } from '../../src/lib/logger.js';
import { codeSender } from '../../src/main.js';
import { NotifyEngine } from '../../src/notify/engine.js';
import { addContact, putProvider } from '../../src/notify/service.js';
import { startSmsRuSimulator } from '../../src/notify/simulators/smsru.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { consent, notifySchool, testBox, testNotifySettings, type NotifySchoolFixture } from '../support/notify.js';
import { waitFor } from '../support/processes.js';

/**
 * Parents sign in with a one-time code sent through the school's SMS provider to a phone they consented
 * to: the code arrives (in the simulator), signs in once, and asking is limited per phone in Postgres —
 * 20 requests in a minute send no more than the limit.
 */
const clock = fixedClock(new Date('2025-10-31T12:00:00+03:00'));
const box = testBox();
const LIMIT = 3;
let db: TestDatabase;
let engine: NotifyEngine;
let sms: Awaited<ReturnType<typeof startSmsRuSimulator>>;
let app: Express;
let prisma: ReturnType<typeof createPrisma>;
let school: NotifySchoolFixture;
let auth: ReturnType<typeof createAuth>;

beforeAll(async () => {
  db = await createTestDatabase({ poolSize: 8 });
  prisma = createPrisma(db.url, 2);
  sms = await startSmsRuSimulator({ apiId: 'api-id-otp' });
  engine = await NotifyEngine.start(db.pool, clock, createLogger('silent'), box, testNotifySettings());
  await engine.work();
  auth = createAuth(db.pool, box, clock, { sessionTtlSeconds: 3600, codes: { ttlSeconds: 300, perLogin: LIMIT, perAddress: 1000, windowSeconds: 3600 } }, codeSender(db.pool, clock, engine.enqueue));
  app = createApp({ auth, pool: db.pool, schools: createSchoolRepository(prisma), logger: createLogger('silent'), embedded: false, demoStatus: () => ({ status: 'off' }), clock, notify: { box } });
  school = await notifySchool(db.pool, clock, { day: '2025-10-31' });
  await putProvider(db.pool, box, school.schoolId, 'sms', { provider: 'smsru', config: { baseUrl: sms.url, from: 'School' }, secrets: { api_id: 'api-id-otp' } });
  await addContact(db.pool, school.people.g1!, { channel: 'sms', address: '+7 999 100-00-01' });
  await consent(db.pool, school.schoolId, school.people.g1!, 'sms', ['marks']);
  await addContact(db.pool, school.people.g2!, { channel: 'sms', address: '+7 999 100-00-02' });
  for (const [login, person] of [['+79991000001', school.people.g1!], ['+79991000002', school.people.g2!]] as const) {
    await auth.users.create({ kind: 'parent', login, memberships: [{ schoolId: school.schoolId, roles: [], personId: person }] }, 'test');
  }
}, 120_000);

afterAll(async () => {
  await engine?.stop();
  await sms?.close();
  await prisma?.$disconnect();
  await db?.drop();
});

const codesTo = (phone: string) => sms.messages().filter((m) => m.phone.replace(/\D/g, '') === phone.replace(/\D/g, '')).map((m) => /(\d{6})/.exec(m.text)?.[1]);

describe('one-time sign-in codes', () => {
  it('arrive by SMS at a consented phone, sign in once, and are never shown back', async () => {
    await request(app).post('/v1/auth/code').send({ login: '+79991000001' }).expect(202);
    const [code] = await waitFor('the code by SMS', async () => (codesTo('+79991000001').length > 0 ? codesTo('+79991000001') : undefined), 60_000);
    expect(code).toMatch(/^\d{6}$/);
    await request(app).post('/v1/auth/code/verify').send({ login: '+79991000001', code: code === '000000' ? '000001' : '000000' }).expect(401);
    const signedIn = await request(app).post('/v1/auth/code/verify').send({ login: '+79991000001', code }).expect(201);
    const me = await request(app).get('/v1/me').set('authorization', `Bearer ${signedIn.body.token}`).expect(200);
    expect(me.body).toMatchObject({ kind: 'parent', schools: [{ schoolId: school.schoolId, roles: ['parent'], personId: school.people.g1 }] });
    await request(app).post('/v1/auth/code/verify').send({ login: '+79991000001', code }).expect(401);
    const { rows } = await db.pool.query<{ body: string | null; data: unknown }>(`SELECT body FROM notification WHERE kind = 'sign_in_code'`);
    expect(rows.length).toBe(1);
    const listed = await request(app).get(`/v1/notifications?person=${school.people.g1}`).set('authorization', `Bearer ${signedIn.body.token}`).expect(200);
    expect(JSON.stringify(listed.body)).not.toContain(code!);
  });

  it('go nowhere without consent, and the asker cannot tell', async () => {
    const known = await request(app).post('/v1/auth/code').send({ login: '+79991000002' }).expect(202);
    const unknown = await request(app).post('/v1/auth/code').send({ login: '+79990000000' }).expect(202);
    expect(known.body).toEqual(unknown.body);
    expect(codesTo('+79991000002')).toEqual([]);
  });

  it('are limited per phone: 20 requests in a minute send no more than the limit', async () => {
    const phone = '+79991000001';
    const before = codesTo(phone).length;
    const answers: number[] = [];
    for (let i = 0; i < 20; i++) answers.push((await request(app).post('/v1/auth/code').send({ login: phone })).status);
    // The first test's request counted too.
    expect(answers.filter((s) => s === 202).length).toBe(LIMIT - 1);
    expect(answers.filter((s) => s === 429).length).toBe(20 - (LIMIT - 1));
    await waitFor('the codes allowed to go out', async () => ((await db.pool.query(`SELECT 1 FROM notification WHERE kind = 'sign_in_code' AND status IN ('queued', 'sending')`)).rowCount === 0 ? true : undefined), 60_000);
    expect(codesTo(phone).length - before).toBeLessThanOrEqual(LIMIT - 1);
    const limited = await request(app).post('/v1/auth/code').send({ login: phone }).expect(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
  });
});
