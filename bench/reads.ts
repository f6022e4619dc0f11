import { randomBytes } from 'node:crypto';
import { createAuth } from '../src/auth/index.js';
import { SecretBox } from '../src/lib/secret-box.js';
import type { AddressInfo } from 'node:net';
import type { Pool } from '../src/db/pool.js';
import type { PrismaClient } from '../src/db/prisma.js';
import { createSchoolRepository } from '../src/db/repositories/schools.js';
import { loadDemoSchool } from '../src/demo/load.js';
import { createApp } from '../src/http/app.js';
import { COUNTS_SQL } from '../src/journal/counts.js';
import { PAGE_LESSONS_SQL } from '../src/journal/queries.js';
import { systemClock } from '../src/lib/clock.js';
import { createLogger } from '../src/lib/logger.js';
import type { Metric } from './metrics.js';

export interface ReadsBenchOptions {
  pool: Pool;
  prisma: PrismaClient;
  schools: number;
  pupils: number;
  /** Last day of the generated school year loaded (from 1 September). */
  until: string;
  log(message: string): void;
}

/** The /health counts as they were before issue 10: every journal row counted on every call. */
const OLD_COUNTS_SQL = `SELECT (SELECT count(*) FROM school)::int AS schools,
            (SELECT count(*) FROM class_group WHERE deleted_at IS NULL)::int AS classes,
            (SELECT count(DISTINCT person_id) FROM enrollment WHERE end_date IS NULL)::int AS pupils,
            (SELECT count(*) FROM lesson WHERE deleted_at IS NULL)::int AS lessons,
            (SELECT count(*) FROM mark WHERE deleted_at IS NULL)::int AS marks,
            (SELECT count(*) FROM attendance WHERE deleted_at IS NULL)::int AS absences,
            (SELECT count(*) FROM journal_event)::int AS events`;

/** The page's lessons query before issue 10: groups by `id OR parent_id`, no school (its $2 is unused but kept for one parameter list). */
const OLD_LESSONS_SQL = `SELECT l.id::text, l.date::text, l.slot, g.id::text AS group_id, g.name AS group_name, l.topic, l.homework, l.status,
            l.teacher_id::text AS "teacherId", l.substitute_id::text AS "substituteId"
       FROM lesson l JOIN class_group g ON g.id = l.class_group_id
      WHERE (g.id = $1 OR g.parent_id = $1) AND $2::uuid IS NOT NULL AND l.subject_id = $3 AND l.date BETWEEN $4 AND $5 AND l.deleted_at IS NULL
      ORDER BY l.date, l.slot, g.name`;

const ROUNDS = 200;

/** Buffers (8 kB pages) a statement touches: unlike its time on a small database, this shows what grows with the data. */
async function buffers(pool: Pool, sql: string, params: unknown[]): Promise<number> {
  const { rows } = await pool.query<{ 'QUERY PLAN': Array<{ Plan: { 'Shared Hit Blocks': number; 'Shared Read Blocks': number } }> }>(
    `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${sql}`, params,
  );
  const plan = rows[0]!['QUERY PLAN'][0]!.Plan;
  return plan['Shared Hit Blocks'] + plan['Shared Read Blocks'];
}

/** Median and 95th percentile of `fn`'s duration in ms, after a few warm-up calls. */
async function time(fn: () => Promise<unknown>, rounds = ROUNDS): Promise<{ p50: number; p95: number }> {
  for (let i = 0; i < 5; i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const started = performance.now();
    await fn();
    samples.push(performance.now() - started);
  }
  samples.sort((a, b) => a - b);
  const at = (q: number) => Number(samples[Math.min(samples.length - 1, Math.floor(q * samples.length))]!.toFixed(3));
  return { p50: at(0.5), p95: at(0.95) };
}

/**
 * The two reads that grow with the data (issue 10) on a database of several generated schools: /health
 * (vs a `SELECT 1` round trip and vs the old counting statement) and the class journal page (vs the
 * old lessons query, measured on the same data in the same run).
 */
export async function benchReads(o: ReadsBenchOptions): Promise<Metric[]> {
  const logger = createLogger('warn');
  let marks = 0;
  const ids: string[] = [];
  for (let i = 0; i < o.schools; i++) {
    const started = performance.now();
    const loaded = await loadDemoSchool({ pool: o.pool, clock: systemClock, logger }, { seed: 100 + i, pupils: o.pupils, year: 2025, until: o.until });
    ids.push(loaded.schoolId);
    marks += loaded.created;
    o.log(`school ${i + 1}/${o.schools}: ${loaded.created} rows in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  const auth = createAuth(o.pool, new SecretBox(randomBytes(32)), systemClock, { sessionTtlSeconds: 3600 });
  const headers = { authorization: `Bearer ${(await auth.keys.create({ name: 'bench', schoolIds: null, scopes: ['journal:read'] }, 'bench')).key}` };
  const app = createApp({ auth, pool: o.pool, schools: createSchoolRepository(o.prisma), logger, embedded: false, demoStatus: () => ({ status: 'off' }) });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const { rows: [row] } = await o.pool.query<{ rows: string }>('SELECT count(*)::text AS rows FROM mark');
    const select1 = await time(() => o.pool.query('SELECT 1'));
    const counts = await time(() => o.pool.query(COUNTS_SQL));
    const oldCounts = await time(() => o.pool.query(OLD_COUNTS_SQL), 20);
    const health = await time(() => fetch(`${base}/health`).then((r) => r.arrayBuffer()));
    o.log(`/health p50 ${health.p50} ms; its statement ${counts.p50} ms, the old counting one ${oldCounts.p50} ms, SELECT 1 ${select1.p50} ms`);
    // The last school's 7А (its subgroups: English, informatics) and English, over everything loaded.
    const { rows: [page] } = await o.pool.query<{ class_id: string; subject_id: string }>(
      `SELECT c.id::text AS class_id, s.id::text AS subject_id FROM class_group c JOIN subject s ON s.school_id = c.school_id
        WHERE c.school_id = $1 AND c.name = '7А' AND s.name = 'Английский язык'`,
      [ids.at(-1)],
    );
    const params = [page!.class_id, ids.at(-1)!, page!.subject_id, '2025-09-01', o.until];
    const lessons = await time(() => o.pool.query(PAGE_LESSONS_SQL, params));
    const oldLessons = await time(() => o.pool.query(OLD_LESSONS_SQL, params));
    const [lessonBuffers, oldLessonBuffers] = [await buffers(o.pool, PAGE_LESSONS_SQL, params), await buffers(o.pool, OLD_LESSONS_SQL, params)];
    const url = `${base}/v1/schools/${ids.at(-1)}/classes/${page!.class_id}/journal?subject=${page!.subject_id}&from=2025-09-01&to=${o.until}`;
    const bytes = (await (await fetch(url, { headers })).arrayBuffer()).byteLength;
    const pageTime = await time(() => fetch(url, { headers }).then((r) => r.arrayBuffer()), 50);
    o.log(`journal page p50 ${pageTime.p50} ms (${bytes} bytes); lessons query ${lessons.p50} ms, the old one ${oldLessons.p50} ms`);
    const ratio = (a: number, b: number) => Number((a / b).toFixed(2));
    return [
      { name: 'reads.schools', value: o.schools, unit: 'schools' },
      { name: 'reads.marks', value: Number(row!.rows), unit: 'rows' },
      { name: 'reads.rows_loaded', value: marks, unit: 'rows' },
      { name: 'reads.select1_p50_ms', value: select1.p50, unit: 'ms' },
      { name: 'reads.health_p50_ms', value: health.p50, unit: 'ms' },
      { name: 'reads.health_p95_ms', value: health.p95, unit: 'ms' },
      { name: 'reads.health_vs_select1', value: ratio(health.p50, select1.p50), unit: 'ratio' },
      { name: 'reads.health_counts_p50_ms', value: counts.p50, unit: 'ms' },
      { name: 'reads.health_old_counts_p50_ms', value: oldCounts.p50, unit: 'ms' },
      { name: 'reads.health_old_vs_new_counts', value: ratio(oldCounts.p50, counts.p50), unit: 'ratio' },
      { name: 'reads.page_p50_ms', value: pageTime.p50, unit: 'ms' },
      { name: 'reads.page_p95_ms', value: pageTime.p95, unit: 'ms' },
      { name: 'reads.page_bytes', value: bytes, unit: 'bytes' },
      { name: 'reads.page_lessons_p50_ms', value: lessons.p50, unit: 'ms' },
      { name: 'reads.page_old_lessons_p50_ms', value: oldLessons.p50, unit: 'ms' },
      { name: 'reads.page_old_vs_new_lessons', value: ratio(oldLessons.p50, lessons.p50), unit: 'ratio' },
      { name: 'reads.page_lessons_buffers', value: lessonBuffers, unit: 'pages' },
      { name: 'reads.page_old_lessons_buffers', value: oldLessonBuffers, unit: 'pages' },
    ];
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}
