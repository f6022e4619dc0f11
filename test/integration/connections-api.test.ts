import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Express } from 'express';
import { authed, keyFor, testAuth, type Authed } from '../support/api.js';
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
import { ensurePaperConnection } from '../../src/paper/connection.js';
import { loadConfig } from '../../src/config.js';
import { startSync } from '../../src/sync/service.js';
import { adapters } from '../../adapters/index.js';
import { tempDataDir } from '../support/processes.js';
import { startTestEngine } from '../support/sync-engine.js';

/** /v1/connections and /v1/sync-runs: validation, the platform check, secrets in but never out, triggers. */
let db: TestDatabase;
let prisma: PrismaClient;
let sim: DnevnikSimulator;
let engine: SyncService;
let app: Express;
let api: Authed;
let auth: ReturnType<typeof testAuth>;
let schoolId: string;
/** A host that records every request (answering 401) — a new base URL a connection is moved to. */
let recorder: { server: Server; url: string; seen: IncomingMessage[]; bodies: string[] };
/** A host that never answers (the connection check's deadline). */
let silent: { server: Server; url: string };
/** A loopback listener no configuration allows: it must never see a connection. */
let forbidden: { server: Server; url: string; connections: number };

async function listen(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** api.kundelik.kz is public (the test machine resolves no public name); rebind.example is public once, then loopback. */
let rebinds = 0;
const resolve = async (host: string) => {
  if (host === 'api.kundelik.kz') return [{ address: '93.184.216.34', family: 4 }];
  if (host === 'rebind.example') return [{ address: rebinds++ === 0 ? '93.184.216.34' : '127.0.0.1', family: 4 }];
  throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
};

beforeAll(async () => {
  db = await createTestDatabase();
  prisma = createPrisma(db.url, 2);
  sim = await startDnevnikSimulator(generateSchool({ seed: 9, pupils: 30, year: 2025, until: '2025-09-12' }));
  const seen: IncomingMessage[] = [];
  const bodies: string[] = [];
  recorder = { ...(await listen((req, res) => {
    seen.push(req);
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8'))).on('end', () => {
      bodies.push(`${req.url} ${body}`);
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"type":"authorizationFailed","description":"no"}');
    });
  })), seen, bodies };
  silent = await listen(() => undefined);
  const f = await listen((_req, res) => res.end());
  forbidden = { ...f, connections: 0 };
  forbidden.server.on('connection', () => (forbidden.connections += 1));
  // API only: runs stay queued, so what the API says about them is stable. Exactly these origins are allowed.
  engine = await startTestEngine(db, systemClock, {
    ROLES: 'api', CONNECTION_ALLOWED_TARGETS: [sim.url, recorder.url, silent.url].join(','), CONNECTION_CHECK_TIMEOUT_SECONDS: '1',
  }, resolve);
  auth = testAuth(db.pool);
  app = createApp({ auth,
    pool: db.pool, schools: createSchoolRepository(prisma), logger: createLogger('silent'), embedded: false, demoStatus: () => ({ status: 'off' }),
    sync: { connections: engine.connections, queue: engine.queue },
  });
  api = authed(app, await keyFor(auth));
  schoolId = await createSchool(db.pool);
});
afterAll(async () => {
  await engine.stop();
  for (const s of [recorder, silent, forbidden]) s.server.closeAllConnections();
  await Promise.all([recorder, silent, forbidden].map((s) => new Promise((r) => s.server.close(r))));
  await sim.close();
  await prisma.$disconnect();
  await db.drop();
});

const config = () => ({ ...sim.connectionConfig(), requestsPerSecond: 100 });

describe('connections API', () => {
  it('refuses bad requests with a 4xx and a message', async () => {
    const noConfig = await api.post('/v1/connections').send({ schoolId, platform: 'dnevnikru' }).expect(400);
    expect(noConfig.body.error.message).toMatch(/config/);
    const unknown = await api.post('/v1/connections').send({ schoolId, platform: 'eljur', config: {} }).expect(400);
    expect(unknown.body.error.message).toMatch(/unknown platform/);
    const invalid = await api.post('/v1/connections').send({ schoolId, platform: 'dnevnikru', config: { baseUrl: 'not a url' } }).expect(400);
    expect(invalid.body.error.code).toBe('validation_failed');
    const refused = await api.post('/v1/connections').send({ schoolId, platform: 'dnevnikru', config: { ...config(), password: 'wrong' } }).expect(422);
    expect(refused.body.error.message).toMatch(/auth/);
    expect(JSON.stringify(refused.body)).not.toContain('wrong');
    await api.get('/v1/connections/not-a-uuid').expect(400);
    await api.get('/v1/connections/00000000-0000-4000-8000-000000000000').expect(404);
  });

  it('creates, lists, updates and triggers a connection; secrets never come back', async () => {
    const created = await api.post('/v1/connections').send({ schoolId, platform: 'dnevnikru', config: config(), schedule: '0 0 18 * * 1-5' }).expect(201);
    const id = created.body.id as string;
    expect(created.body).toMatchObject({ schoolId, platform: 'dnevnikru', title: 'Дневник.ру', enabled: true, secretsSet: ['clientSecret', 'password'] });
    expect(created.body.config).toMatchObject({ baseUrl: sim.url, login: sim.login });
    expect(JSON.stringify(created.body)).not.toContain(sim.password);
    expect(JSON.stringify(created.body)).not.toContain(sim.clientSecret);
    const stored = await db.pool.query<{ config: unknown; secrets: Buffer }>('SELECT config, secrets FROM connection WHERE id = $1', [id]);
    expect(JSON.stringify(stored.rows[0]!.config)).not.toContain(sim.password);
    expect(stored.rows[0]!.secrets.toString('latin1')).not.toContain(sim.clientSecret);

    const listed = await api.get(`/v1/connections?school=${schoolId}`).expect(200);
    expect(listed.body.data.map((c: { id: string }) => c.id)).toEqual([id]);
    const patched = await api.patch(`/v1/connections/${id}`).send({ title: 'Дневник.ру школы', enabled: false, config: { requestsPerSecond: 5 } }).expect(200);
    expect(patched.body).toMatchObject({ title: 'Дневник.ру школы', enabled: false, secretsSet: ['clientSecret', 'password'] });
    expect(patched.body.config.requestsPerSecond).toBe(5);
    await api.patch(`/v1/connections/${id}`).send({ schedule: 'every day' }).expect(400);

    // Disabled by the patch above: a sync is refused unless forced.
    await api.post(`/v1/connections/${id}/sync`).send({ mode: 'full' }).expect(409);
    const first = await api.post(`/v1/connections/${id}/sync`).send({ mode: 'full', force: true }).expect(202);
    expect(first.body).toMatchObject({ connectionId: id, trigger: 'manual', mode: 'full', status: 'queued' });
    const again = await api.post(`/v1/connections/${id}/sync`).send({ mode: 'full', force: true }).expect(200);
    expect(again.body.id).toBe(first.body.id);
    await api.post(`/v1/connections/${id}/sync`).send({ mode: 'sideways' }).expect(400);

    const runs = await api.get(`/v1/sync-runs?connection=${id}&status=queued`).expect(200);
    expect(runs.body.data.map((r: { id: string }) => r.id)).toEqual([first.body.id]);
    await api.get(`/v1/sync-runs/${first.body.id}`).expect(200);
    await api.get('/v1/sync-runs?status=lost').expect(400);
    await api.delete(`/v1/connections/${id}`).expect(204);
    await api.get(`/v1/connections/${id}`).expect(404);
  });

  it('lists the alerts a person must look at, open ones by default, and reports them in /health', async () => {
    const created = await api.post('/v1/connections').send({ schoolId, platform: 'dnevnikru', config: config(), title: 'С тревогой' }).expect(201);
    const id = created.body.id as string;
    await raiseAlert(db.pool, id, null, 'auth', 'Дневник.ру authorizationFailed: Неверный логин или пароль');
    await raiseAlert(db.pool, id, null, 'dead_letter', 'gave up after the retries: HTTP 550');
    await resolveAlerts(db.pool, id);
    await raiseAlert(db.pool, id, null, 'auth', 'Дневник.ру authorizationFailed: again');

    const open = await api.get(`/v1/alerts?connection=${id}`).expect(200);
    expect(open.body.data).toEqual([expect.objectContaining({ connectionId: id, kind: 'auth', message: 'Дневник.ру authorizationFailed: again', resolvedAt: null, runId: null })]);
    const all = await api.get(`/v1/alerts?connection=${id}&open=false`).expect(200);
    expect(all.body.data.map((a: { kind: string; resolvedAt: string | null }) => [a.kind, a.resolvedAt === null])).toEqual([['auth', true], ['dead_letter', false], ['auth', false]]);
    await api.get('/v1/alerts?open=maybe').expect(400);
    await api.get('/v1/alerts?connection=nope').expect(400);

    const health = await api.get('/health').expect(200);
    expect(health.body.sync).toEqual({ openAlerts: 1, deadLetters: { count: 0, oldestAt: null } });
  });
});

describe('where a connection may point', () => {
  it('refuses file:, javascript:, http: and private or loopback targets, literal or resolved, before any request', async () => {
    const schoolId = await createSchool(db.pool);
    const creds = { login: sim.login, password: sim.password, clientId: 'app', clientSecret: sim.clientSecret };
    const port = new URL(forbidden.url).port;
    for (const baseUrl of [
      'file:///etc/passwd', 'javascript:alert(1)', 'http://169.254.169.254/', 'http://[::ffff:127.0.0.1]/', 'https://[::ffff:127.0.0.1]/',
      'https://0.0.0.0/', 'https://10.0.0.5/', forbidden.url, `https://127.0.0.1:${port}/`, `https://localhost:${port}/`,
      'https://user:pw@api.kundelik.kz/', 'http://api.kundelik.kz/', 'https://unknown.example/',
    ]) {
      const res = await api.post('/v1/connections').send({ schoolId, platform: 'dnevnikru', config: { baseUrl, ...creds } });
      expect([res.status, res.body.error?.code, baseUrl]).toEqual([422, 'target_refused', baseUrl]);
    }
    expect(forbidden.connections).toBe(0);
  });

  it('refuses at connect time a host name that resolves to loopback after the check resolved it publicly (DNS rebinding)', async () => {
    const schoolId = await createSchool(db.pool);
    const port = new URL(forbidden.url).port;
    const res = await api.post('/v1/connections')
      .send({ schoolId, platform: 'dnevnikru', config: { baseUrl: `https://rebind.example:${port}`, login: 'a', password: 'b', clientId: 'c', clientSecret: 'd' } })
      .expect(422);
    expect(res.body.error.message).toMatch(/refused target: .*127\.0\.0\.1, a loopback address/);
    expect(forbidden.connections).toBe(0);
  });

  it('offers the known instances by name', async () => {
    const schoolId = await createSchool(db.pool);
    const platforms = await api.get('/v1/platforms').expect(200);
    const dnevnik = platforms.body.data.find((p: { id: string }) => p.id === 'dnevnikru');
    expect(dnevnik.instances).toEqual(expect.arrayContaining([{ name: 'kundelik.kz', title: expect.any(String), config: { baseUrl: 'https://api.kundelik.kz', scale: 10 } }]));
    const created = await api.post('/v1/connections')
      .send({ schoolId, platform: 'dnevnikru', check: false, title: 'Kundelik', config: { instance: 'kundelik.kz', token: 'kundelik-token' } }).expect(201);
    expect(created.body.config).toMatchObject({ baseUrl: 'https://api.kundelik.kz', scale: 10 });
    const unknown = await api.post('/v1/connections').send({ schoolId, platform: 'dnevnikru', check: false, config: { instance: 'nowhere', token: 't' } }).expect(400);
    expect(unknown.body.error.message).toMatch(/no instance "nowhere"; known: dnevnik\.ru/);
    await api.delete(`/v1/connections/${created.body.id}`).expect(204);
  });

  it('sends stored secrets only to the host they were entered for: moving a connection needs them again, checked before any request', async () => {
    const schoolId = await createSchool(db.pool);
    const created = await api.post('/v1/connections').send({ schoolId, platform: 'dnevnikru', config: config(), title: 'Переезд' }).expect(201);
    const id = created.body.id as string;
    const moved = await api.patch(`/v1/connections/${id}`).send({ config: { baseUrl: recorder.url } }).expect(422);
    expect(moved.body.error).toMatchObject({ code: 'secrets_required', details: { missing: ['clientSecret', 'password'] } });
    expect(recorder.seen).toHaveLength(0);
    // A bad schedule in the same patch fails before anything is sent, too.
    await api.patch(`/v1/connections/${id}`).send({ schedule: '* * * * *', config: { baseUrl: recorder.url, password: 'new-password', clientSecret: 'new-secret' } }).expect(400);
    expect(recorder.seen).toHaveLength(0);
    // With the secrets given again, the check runs against the new host with those — never the stored ones.
    await api.patch(`/v1/connections/${id}`).send({ config: { baseUrl: recorder.url, password: 'new-password', clientSecret: 'new-secret' } }).expect(422);
    expect(recorder.bodies.length).toBeGreaterThan(0);
    expect(recorder.bodies.join('\n')).not.toContain(sim.password);
    expect(recorder.bodies.join('\n')).not.toContain(sim.clientSecret);
    expect(recorder.bodies.join('\n')).toContain('new-password');
    const still = await api.get(`/v1/connections/${id}`).expect(200);
    expect(still.body.config.baseUrl).toBe(sim.url);
    await api.delete(`/v1/connections/${id}`).expect(204);
  });

  it('answers a refused check without the platform\'s free text: a name in an error body reaches neither the answer nor the log', async () => {
    const schoolId = await createSchool(db.pool);
    const platform = await listen((_req, res) => {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ type: 'apiResourceUnavailable', description: 'Ученик Иванов Иван не найден' }));
    });
    engine.targets.allowOrigin(platform.url);
    try {
      const res = await api.post('/v1/connections').send({ schoolId, platform: 'dnevnikru', config: { ...config(), baseUrl: platform.url, token: 'tok' } }).expect(422);
      expect(res.body.error.message).toContain('apiResourceUnavailable');
      expect(res.body.error.message).toContain('HTTP 404 on /v2/users/me/context');
      expect(JSON.stringify(res.body)).not.toMatch(/Иванов|Иван /);
    } finally {
      platform.server.closeAllConnections();
      await new Promise((r) => platform.server.close(r));
    }
  });

  it('runs the connection check under one deadline: a host that never answers is a 422, not a 500', async () => {
    const schoolId = await createSchool(db.pool);
    const res = await api.post('/v1/connections').send({ schoolId, platform: 'dnevnikru', config: { ...config(), baseUrl: silent.url } }).expect(422);
    expect(res.body.error).toMatchObject({ code: 'connection_check_failed', message: expect.stringMatching(/within 1 s/) });
  });
});

describe('schedules and triggers', () => {
  it('refuses schedules whose runs are closer than the minimum interval, naming it', async () => {
    const schoolId = await createSchool(db.pool);
    for (const schedule of ['* * * * * *', '* * * * *', '*/4 * * * *', '0,1 * * * *']) {
      const res = await api.post('/v1/connections').send({ schoolId, platform: 'dnevnikru', config: config(), schedule, check: false }).expect(400);
      expect(res.body.error.message).toMatch(/minimum interval between two runs is 5 min/);
    }
    const ok = await api.post('/v1/connections').send({ schoolId, platform: 'dnevnikru', config: config(), schedule: '*/5 * * * *', check: false, title: 'Каждые 5 минут' }).expect(201);
    await api.patch(`/v1/connections/${ok.body.id}`).send({ schedule: '*/10 * * * * *' }).expect(400);
    await api.delete(`/v1/connections/${ok.body.id}`).expect(204);
  });

  it('refuses a second connection of the school to the same platform account, naming the first', async () => {
    const schoolId = await createSchool(db.pool);
    const first = await api.post('/v1/connections').send({ schoolId, platform: 'dnevnikru', config: config(), title: 'Первое' }).expect(201);
    const second = await api.post('/v1/connections').send({ schoolId, platform: 'dnevnikru', config: { ...config(), login: sim.login.toUpperCase() }, check: false }).expect(409);
    expect(second.body.error).toMatchObject({ code: 'duplicate_account', details: { connectionId: first.body.id } });
    expect(second.body.error.message).toContain(first.body.id);
    const otherSchool = await createSchool(db.pool);
    await api.post('/v1/connections').send({ schoolId: otherSchool, platform: 'dnevnikru', config: config(), check: false }).expect(201);
    await api.delete(`/v1/connections/${first.body.id}`).expect(204);
  });

  it('syncs a disabled connection only when forced, and never an internal source', async () => {
    const schoolId = await createSchool(db.pool);
    const created = await api.post('/v1/connections').send({ schoolId, platform: 'dnevnikru', config: { ...config(), login: 'another-login' }, enabled: false, check: false }).expect(201);
    const refused = await api.post(`/v1/connections/${created.body.id}/sync`).send({}).expect(409);
    expect(refused.body.error).toMatchObject({ code: 'connection_disabled', message: expect.stringContaining('force') });
    await api.post(`/v1/connections/${created.body.id}/sync`).send({ force: true }).expect(202);

    const internal = await db.pool.query<{ id: string }>(`INSERT INTO connection (school_id, platform, title, config, enabled) VALUES ($1, 'demo', 'Generated demo school', '{}', true) RETURNING id::text`, [schoolId]);
    const id = internal.rows[0]!.id;
    const res = await api.post(`/v1/connections/${id}/sync`).send({ force: true }).expect(409);
    expect(res.body.error.code).toBe('not_syncable');
    const runs = await db.pool.query('SELECT 1 FROM sync_run WHERE connection_id = $1', [id]);
    expect(runs.rowCount).toBe(0);

    // The school's built-in paper source: listed, never synced.
    const paper = await ensurePaperConnection(db.pool, schoolId);
    expect(await ensurePaperConnection(db.pool, schoolId)).toBe(paper);
    const listed = await api.get(`/v1/connections?school=${schoolId}`).expect(200);
    expect(listed.body.data).toContainEqual(expect.objectContaining({ id: paper, platform: 'paper', schedule: null }));
    const paperSync = await api.post(`/v1/connections/${paper}/sync`).send({}).expect(409);
    expect(paperSync.body.error).toMatchObject({ code: 'not_syncable', message: expect.stringContaining('paper') });
  });

  it('creates push connections: one per sending system, titled, nothing to configure, never synced', async () => {
    const schoolId = await createSchool(db.pool);
    const canteen = await api.post('/v1/connections').send({ schoolId, platform: 'push', title: 'Столовая', config: {} }).expect(201);
    expect(canteen.body).toMatchObject({ schoolId, platform: 'push', title: 'Столовая', config: {}, secretsSet: [], schedule: null, enabled: true });
    const electives = await api.post('/v1/connections').send({ schoolId, platform: 'push', title: 'Элективы', config: {} }).expect(201);
    const listed = await api.get(`/v1/connections?school=${schoolId}`).expect(200);
    expect(listed.body.data.map((c: { id: string }) => c.id)).toEqual([canteen.body.id, electives.body.id]);
    const untitled = await api.post('/v1/connections').send({ schoolId, platform: 'push', config: {} }).expect(400);
    expect(untitled.body.error.message).toMatch(/^title: /);
    const configured = await api.post('/v1/connections').send({ schoolId, platform: 'push', title: 'x', config: { baseUrl: 'https://x.example' } }).expect(400);
    expect(configured.body.error.message).toMatch(/^config: a push connection has no settings/);
    await api.post('/v1/connections').send({ schoolId, platform: 'push', title: 'x', config: {}, schedule: '0 * * * *' }).expect(400);
    await api.post('/v1/connections').send({ schoolId: '00000000-0000-4000-8000-000000000000', platform: 'push', title: 'x', config: {} }).expect(404);
    const renamed = await api.patch(`/v1/connections/${canteen.body.id}`).send({ title: 'Столовая №1', enabled: false }).expect(200);
    expect(renamed.body).toMatchObject({ title: 'Столовая №1', enabled: false, config: {} });
    await api.patch(`/v1/connections/${canteen.body.id}`).send({ config: { login: 'a' } }).expect(400);
    const sync = await api.post(`/v1/connections/${electives.body.id}/sync`).send({ force: true }).expect(409);
    expect(sync.body.error).toMatchObject({ code: 'not_syncable', message: expect.stringContaining('push') });
    const platforms = await api.get('/v1/platforms').expect(200);
    expect(platforms.body.data.map((p: { id: string }) => p.id)).not.toContain('push');
    await api.delete(`/v1/connections/${canteen.body.id}`).expect(204);
  });
});

describe('the secrets key', () => {
  it('is required with DATABASE_URL: no key file is generated beside the data', async () => {
    const dataDir = await tempDataDir();
    const config = loadConfig({ DATABASE_URL: db.url, DATA_DIR: dataDir, ROLES: 'api' });
    await expect(startSync(config, { pool: db.pool, clock: systemClock, logger: createLogger('silent'), adapters }))
      .rejects.toThrow(/CONNECTION_SECRETS_KEY is not set.*openssl rand -base64 32/);
    expect(existsSync(path.join(dataDir, 'connection-secrets.key'))).toBe(false);
  });
});
