import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { pinoHttp } from 'pino-http';
import { createAuth } from '../src/auth/index.js';
import type { Pool } from '../src/db/pool.js';
import type { PrismaClient } from '../src/db/prisma.js';
import { createSchoolRepository } from '../src/db/repositories/schools.js';
import { loadDemoSchool } from '../src/demo/load.js';
import { createApp } from '../src/http/app.js';
import { readJournalPage } from '../src/journal/queries.js';
import { systemClock } from '../src/lib/clock.js';
import { createLogger } from '../src/lib/logger.js';
import { SecretBox } from '../src/lib/secret-box.js';
import type { Metric } from './metrics.js';

export interface ApiBenchOptions { pool: Pool; prisma: PrismaClient; pupils: number; log(message: string): void }

const PARENTS = 200;
const REQUESTS = 3000;
const WEEK = { from: '2025-12-15', to: '2025-12-21' };

interface Reader { token: string; classId: string; subjectId: string; childId: string }

/**
 * The evening peak: 200 parents at once reading their child's week of one subject on the 1,000-pupil
 * school, through the API with sign-in and the access checks (session → grants → the class's school →
 * the parent's children → their rows), against the same page read and cut to the same child's row by a
 * bare route with neither — the cost of authentication and authorisation as a ratio.
 */
export async function benchApi(o: ApiBenchOptions): Promise<Metric[]> {
  const logger = createLogger('warn');
  const loaded = await loadDemoSchool({ pool: o.pool, clock: systemClock, logger }, { seed: 7, pupils: o.pupils, year: 2025, until: WEEK.to });
  const auth = createAuth(o.pool, new SecretBox(randomBytes(32)), systemClock, { sessionTtlSeconds: 3600 });
  const readers = await parentsOf(o.pool, loaded.schoolId, auth);
  o.log(`${readers.length} parents signed in`);
  const app = createApp({
    auth, rates: { perCallerPerMinute: 1_000_000, perAddressPerMinute: 1_000_000 }, pool: o.pool, schools: createSchoolRepository(o.prisma),
    logger: createLogger('silent'), embedded: false, demoStatus: () => ({ status: 'off' }),
  });
  // The same HTTP stack (request log, JSON) without sign-in and access checks.
  const bare = express();
  bare.use(pinoHttp({ logger: createLogger('silent'), autoLogging: true }));
  bare.get('/page/:classId', async (req, res) => {
    const page = await readJournalPage(o.pool, { classId: req.params.classId, subjectId: String(req.query.subject), from: WEEK.from, to: WEEK.to, maxDays: 366 });
    res.json({ ...page, sources: [], rows: page.rows.filter((r) => r.pupil.id === req.query.child) });
  });
  const [withAuth, without] = await Promise.all([listen(app), listen(bare)]);
  try {
    const authed = (r: Reader) => fetch(`${withAuth.url}/v1/classes/${r.classId}/journal?subject=${r.subjectId}&from=${WEEK.from}&to=${WEEK.to}`, { headers: { authorization: `Bearer ${r.token}` } });
    const plain = (r: Reader) => fetch(`${without.url}/page/${r.classId}?subject=${r.subjectId}&child=${r.childId}`);
    await load(readers, authed, 400);
    await load(readers, plain, 400);
    // Rounds taking turns, so that the machine's drift falls on both alike; the mean of each.
    const rounds: Array<{ a: Load; b: Load }> = [];
    for (let i = 0; i < 3; i++) rounds.push({ a: await load(readers, authed, REQUESTS), b: await load(readers, plain, REQUESTS) });
    const a = meanOf(rounds.map((r) => r.a));
    const b = meanOf(rounds.map((r) => r.b));
    o.log(`with auth: ${a.rps} req/s, p95 ${a.p95} ms; without: ${b.rps} req/s, p95 ${b.p95} ms`);
    return [
      { name: 'api.journal_page_p95_ms', value: a.p95, unit: 'ms' },
      { name: 'api.rps', value: a.rps, unit: 'req/s' },
      { name: 'api.bare_page_p95_ms', value: b.p95, unit: 'ms' },
      { name: 'api.bare_rps', value: b.rps, unit: 'req/s' },
      { name: 'api.auth_cost_rps_ratio', value: Number((b.rps / a.rps).toFixed(3)), unit: 'ratio' },
      { name: 'api.auth_cost_p95_ratio', value: Number((a.p95 / b.p95).toFixed(3)), unit: 'ratio' },
    ];
  } finally {
    await Promise.all([withAuth.close(), without.close()]);
  }
}

interface Load { rps: number; p95: number }
const meanOf = (loads: Load[]): Load => ({
  rps: Math.round(loads.reduce((n, l) => n + l.rps, 0) / loads.length),
  p95: Number((loads.reduce((n, l) => n + l.p95, 0) / loads.length).toFixed(1)),
});

/** Guardians of one child each (a parent of two sees two rows), each with a session, their child's class and a subject taught there that week. */
async function parentsOf(pool: Pool, schoolId: string, auth: ReturnType<typeof createAuth>): Promise<Reader[]> {
  const { rows } = await pool.query<{ guardian: string; pupil: string; class_id: string; subject_id: string }>(
    `SELECT DISTINCT ON (g.pupil_id) g.guardian_id::text AS guardian, g.pupil_id::text AS pupil, e.class_group_id::text AS class_id, l.subject_id::text AS subject_id
       FROM guardianship g JOIN enrollment e ON e.person_id = g.pupil_id JOIN class_group c ON c.id = e.class_group_id AND c.parent_id IS NULL
       JOIN lesson l ON l.class_group_id = c.id AND l.date BETWEEN $2 AND $3
      WHERE g.school_id = $1 AND (SELECT count(*) FROM guardianship o WHERE o.guardian_id = g.guardian_id AND o.deleted_at IS NULL) = 1
      ORDER BY g.pupil_id, l.subject_id LIMIT $4`,
    [schoolId, WEEK.from, WEEK.to, PARENTS],
  );
  const readers: Reader[] = [];
  for (const [i, r] of rows.entries()) {
    const user = await auth.users.create({ kind: 'parent', login: `bench-parent-${i}`, memberships: [{ schoolId, roles: [], personId: r.guardian }] }, 'bench');
    readers.push({ token: (await auth.sessions.create(user.id, 'bearer')).token, classId: r.class_id, subjectId: r.subject_id, childId: r.pupil });
  }
  return readers;
}

/** `total` requests, one in flight per reader at a time (200 at once), each checked; requests per second and the 95th percentile. */
async function load(readers: Reader[], call: (r: Reader) => Promise<Response>, total: number): Promise<Load> {
  const times: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(readers.map(async (reader) => {
    while (next < total) {
      next += 1;
      const t = performance.now();
      const res = await call(reader);
      const body = (await res.json()) as { rows?: unknown[] };
      if (res.status !== 200 || body.rows?.length !== 1) throw new Error(`bench: ${res.status}, ${body.rows?.length} rows`);
      times.push(performance.now() - t);
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  times.sort((x, y) => x - y);
  return { rps: Math.round(times.length / seconds), p95: Number(times[Math.floor(times.length * 0.95)]!.toFixed(1)) };
}

async function listen(app: express.Express): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = await new Promise((resolve) => { const s = app.listen(0, '127.0.0.1', () => resolve(s)); });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}
