import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Express } from 'express';
import request from 'supertest';
import { startDnevnikSimulator, type DnevnikSimulator } from '../../adapters/dnevnikru/simulator.js';
import { createPrisma, type PrismaClient } from '../../src/db/prisma.js';
import { createSchoolRepository } from '../../src/db/repositories/schools.js';
import { generateSchool } from '../../src/demo/generator.js';
import { createApp } from '../../src/http/app.js';
import { systemClock } from '../../src/lib/clock.js';
import { createLogger } from '../../src/lib/logger.js';
import { raiseAlert, resolveAlerts } from '../../src/sync/alerts.js';
import type { SyncService } from '../../src/sync/service.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { createSchool } from '../support/fixtures.js';
import { startTestEngine } from '../support/sync-engine.js';

/** /v1/connections and /v1/sync-runs: validation, the platform check, secrets in but never out, triggers. */
let db: TestDatabase;
let prisma: PrismaClient;
let sim: DnevnikSimulator;
let engine: SyncService;
let app: Express;
let schoolId: string;

beforeAll(async () => {
  db = await createTestDatabase();
  prisma = createPrisma(db.url, 2);
  sim = await startDnevnikSimulator(generateSchool({ seed: 9, pupils: 30, year: 2025, until: '2025-09-12' }));
  // API only: runs stay queued, so what the API says about them is stable.
  engine = await startTestEngine(db, systemClock, { ROLES: 'api' });
  app = createApp({
    pool: db.pool, schools: createSchoolRepository(prisma), logger: createLogger('silent'), embedded: false, demoStatus: () => ({ status: 'off' }),
    sync: { connections: engine.connections, queue: engine.queue },
  });
  schoolId = await createSchool(db.pool);
});
afterAll(async () => {
  await engine.stop();
  await sim.close();
  await prisma.$disconnect();
  await db.drop();
});

const config = () => ({ ...sim.connectionConfig(), requestsPerSecond: 100 });

describe('connections API', () => {
  it('refuses bad requests with a 4xx and a message', async () => {
    const noConfig = await request(app).post('/v1/connections').send({ schoolId, platform: 'dnevnikru' }).expect(400);
    expect(noConfig.body.error.message).toMatch(/config/);
    const unknown = await request(app).post('/v1/connections').send({ schoolId, platform: 'eljur', config: {} }).expect(400);
    expect(unknown.body.error.message).toMatch(/unknown platform/);
    const invalid = await request(app).post('/v1/connections').send({ schoolId, platform: 'dnevnikru', config: { baseUrl: 'not a url' } }).expect(400);
    expect(invalid.body.error.code).toBe('validation_failed');
    const refused = await request(app).post('/v1/connections').send({ schoolId, platform: 'dnevnikru', config: { ...config(), password: 'wrong' } }).expect(422);
    expect(refused.body.error.message).toMatch(/auth/);
    expect(JSON.stringify(refused.body)).not.toContain('wrong');
    await request(app).get('/v1/connections/not-a-uuid').expect(400);
    await request(app).get('/v1/connections/00000000-0000-4000-8000-000000000000').expect(404);
  });

  it('creates, lists, updates and triggers a connection; secrets never come back', async () => {
    const created = await request(app).post('/v1/connections').send({ schoolId, platform: 'dnevnikru', config: config(), schedule: '0 0 18 * * 1-5' }).expect(201);
    const id = created.body.id as string;
    expect(created.body).toMatchObject({ schoolId, platform: 'dnevnikru', title: 'Дневник.ру', enabled: true, secretsSet: ['clientSecret', 'password'] });
    expect(created.body.config).toMatchObject({ baseUrl: sim.url, login: sim.login });
    expect(JSON.stringify(created.body)).not.toContain(sim.password);
    expect(JSON.stringify(created.body)).not.toContain(sim.clientSecret);
    const stored = await db.pool.query<{ config: unknown; secrets: Buffer }>('SELECT config, secrets FROM connection WHERE id = $1', [id]);
    expect(JSON.stringify(stored.rows[0]!.config)).not.toContain(sim.password);
    expect(stored.rows[0]!.secrets.toString('latin1')).not.toContain(sim.clientSecret);

    const listed = await request(app).get(`/v1/connections?school=${schoolId}`).expect(200);
    expect(listed.body.data.map((c: { id: string }) => c.id)).toEqual([id]);
    const patched = await request(app).patch(`/v1/connections/${id}`).send({ title: 'Дневник.ру школы', enabled: false, config: { requestsPerSecond: 5 } }).expect(200);
    expect(patched.body).toMatchObject({ title: 'Дневник.ру школы', enabled: false, secretsSet: ['clientSecret', 'password'] });
    expect(patched.body.config.requestsPerSecond).toBe(5);
    await request(app).patch(`/v1/connections/${id}`).send({ schedule: 'every day' }).expect(400);

    const first = await request(app).post(`/v1/connections/${id}/sync`).send({ mode: 'full' }).expect(202);
    expect(first.body).toMatchObject({ connectionId: id, trigger: 'manual', mode: 'full', status: 'queued' });
    const again = await request(app).post(`/v1/connections/${id}/sync`).send({ mode: 'full' }).expect(200);
    expect(again.body.id).toBe(first.body.id);
    await request(app).post(`/v1/connections/${id}/sync`).send({ mode: 'sideways' }).expect(400);

    const runs = await request(app).get(`/v1/sync-runs?connection=${id}&status=queued`).expect(200);
    expect(runs.body.data.map((r: { id: string }) => r.id)).toEqual([first.body.id]);
    await request(app).get(`/v1/sync-runs/${first.body.id}`).expect(200);
    await request(app).get('/v1/sync-runs?status=lost').expect(400);
    await request(app).delete(`/v1/connections/${id}`).expect(204);
    await request(app).get(`/v1/connections/${id}`).expect(404);
  });

  it('lists the alerts a person must look at, open ones by default, and reports them in /health', async () => {
    const created = await request(app).post('/v1/connections').send({ schoolId, platform: 'dnevnikru', config: config(), title: 'С тревогой' }).expect(201);
    const id = created.body.id as string;
    await raiseAlert(db.pool, id, null, 'auth', 'Дневник.ру authorizationFailed: Неверный логин или пароль');
    await raiseAlert(db.pool, id, null, 'dead_letter', 'gave up after the retries: HTTP 550');
    await resolveAlerts(db.pool, id);
    await raiseAlert(db.pool, id, null, 'auth', 'Дневник.ру authorizationFailed: again');

    const open = await request(app).get(`/v1/alerts?connection=${id}`).expect(200);
    expect(open.body.data).toEqual([expect.objectContaining({ connectionId: id, kind: 'auth', message: 'Дневник.ру authorizationFailed: again', resolvedAt: null, runId: null })]);
    const all = await request(app).get(`/v1/alerts?connection=${id}&open=false`).expect(200);
    expect(all.body.data.map((a: { kind: string; resolvedAt: string | null }) => [a.kind, a.resolvedAt === null])).toEqual([['auth', true], ['dead_letter', false], ['auth', false]]);
    await request(app).get('/v1/alerts?open=maybe').expect(400);
    await request(app).get('/v1/alerts?connection=nope').expect(400);

    const health = await request(app).get('/health').expect(200);
    expect(health.body.sync).toEqual({ openAlerts: 1, deadLetters: { count: 0, oldestAt: null } });
  });
});
