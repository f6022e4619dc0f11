import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser } from 'playwright-core';
import { createAuth, type Auth } from '../src/auth/index.js';
import { runChecks } from '../src/checks/service.js';
import type { Pool } from '../src/db/pool.js';
import type { PrismaClient } from '../src/db/prisma.js';
import { createSchoolRepository } from '../src/db/repositories/schools.js';
import { loadDemoSchool } from '../src/demo/load.js';
import { createApp } from '../src/http/app.js';
import { fixedClock } from '../src/lib/clock.js';
import { createLogger } from '../src/lib/logger.js';
import { SecretBox } from '../src/lib/secret-box.js';
import type { Metric } from './metrics.js';

export interface UiBenchOptions { pool: Pool; prisma: PrismaClient; pupils: number; log(message: string): void }

const UNTIL = '2025-12-26';
const clock = fixedClock(new Date(`${UNTIL}T09:00:00Z`));
const PASSWORD = 'bench-password-1';
const ROUNDS = 7;

/**
 * The dashboard in headless Chromium (Debian's, CHROMIUM_PATH for another), each load in a fresh browser
 * context (a cold cache, as a teacher's first visit of the day):
 * - `ui.first_page_ms`: the inbox's first contentful paint for a class teacher of the demo-sized school
 *   (300 pupils, its checks run), against the API's answer of the same list to the same account
 *   (`ui.inbox_api_ms`, the baseline) — and `ui.first_page_kb`, everything the first load transferred;
 * - `ui.journal_grid_ms`: the largest class × subject journal page of the `pupils`-pupil school, a term of
 *   lessons, until the page's load event, against the API's JSON of the same page (`ui.journal_api_ms`).
 * The baseline of both: the sign-in page (`ui.sign_in_page_ms`: the same frame, stylesheet and scripts,
 * no data) in the same browser, and the API's JSON of the same data.
 * Medians of ROUNDS loads after one warm-up.
 */
export async function benchUi(o: UiBenchOptions): Promise<Metric[]> {
  const logger = createLogger('warn');
  const small = await loadDemoSchool({ pool: o.pool, clock, logger }, { seed: 21, pupils: 300, year: 2025, until: UNTIL });
  await runChecks(o.pool, clock, { schoolId: small.schoolId });
  const large = await loadDemoSchool({ pool: o.pool, clock, logger }, { seed: 22, pupils: o.pupils, year: 2025, until: UNTIL });
  const auth = createAuth(o.pool, new SecretBox(randomBytes(32)), clock, { sessionTtlSeconds: 3600 });
  const teacher = await classTeacher(o.pool, auth, small.schoolId, 'bench-ct');
  const deputy = await deputyOf(o.pool, auth, large.schoolId, 'bench-deputy');
  const grid = await largestPage(o.pool, large.schoolId);
  const app = createApp({
    auth, rates: { perCallerPerMinute: 1_000_000, perAddressPerMinute: 1_000_000 }, pool: o.pool, schools: createSchoolRepository(o.prisma),
    logger: createLogger('silent'), embedded: false, demoStatus: () => ({ status: 'off' }), clock,
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update', '--disable-quic', '--no-first-run', '--disable-sync'],
  });
  try {
    const inbox = await pageLoads(browser, base, teacher.login, '/inbox');
    // The baseline of the browser's own cost: the sign-in page, the same frame and files, no data.
    const blank = await pageLoads(browser, base, teacher.login, '/login', false);
    const inboxApi = await apiTimes(`${base}/v1/discrepancies?school=${small.schoolId}&status=open,acknowledged&limit=50`, teacher.token);
    const journalPath = `/journal?class=${grid.classId}&subject=${grid.subjectId}&from=${grid.from}&to=${grid.to}`;
    const journal = await pageLoads(browser, base, deputy.login, journalPath);
    const journalApi = await apiTimes(`${base}/v1/classes/${grid.classId}/journal?subject=${grid.subjectId}&from=${grid.from}&to=${grid.to}`, deputy.token);
    o.log(`inbox: first contentful paint ${inbox.fcp} ms (sign-in page ${blank.fcp} ms, API ${inboxApi} ms), ${inbox.kb} kB; journal grid ${grid.pupils} pupils × ${grid.lessons} lessons: ${journal.load} ms (API ${journalApi} ms)`);
    return [
      { name: 'ui.first_page_ms', value: inbox.fcp, unit: 'ms' },
      { name: 'ui.first_page_kb', value: inbox.kb, unit: 'kB' },
      { name: 'ui.inbox_api_ms', value: inboxApi, unit: 'ms' },
      { name: 'ui.first_page_vs_api', value: Number((inbox.fcp / inboxApi).toFixed(2)), unit: 'ratio' },
      { name: 'ui.sign_in_page_ms', value: blank.fcp, unit: 'ms' },
      { name: 'ui.first_page_vs_sign_in_page', value: Number((inbox.fcp / blank.fcp).toFixed(2)), unit: 'ratio' },
      { name: 'ui.journal_grid_ms', value: journal.load, unit: 'ms' },
      { name: 'ui.journal_grid_kb', value: journal.kb, unit: 'kB' },
      { name: 'ui.journal_api_ms', value: journalApi, unit: 'ms' },
      { name: 'ui.journal_grid_vs_api', value: Number((journal.load / journalApi).toFixed(2)), unit: 'ratio' },
    ];
  } finally {
    await browser.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

/** A page loaded in fresh contexts, signed in by the sign-in form: its first contentful paint, load time and transferred kB. */
async function pageLoads(browser: Browser, base: string, login: string, path: string, signedIn = true): Promise<{ fcp: number; load: number; kb: number }> {
  const fcps: number[] = [];
  const loads: number[] = [];
  let kb = 0;
  for (let round = 0; round <= ROUNDS; round++) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'ru-RU' });
    try {
      const page = await context.newPage();
      await page.goto(`${base}/login`);
      await page.fill('input[name=login]', login);
      await page.fill('input[name=password]', PASSWORD);
      await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/login')), page.click('button[type=submit]')]);
      // A fresh context per load: nothing cached but the session cookie.
      const fresh = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'ru-RU', storageState: signedIn ? await context.storageState() : undefined });
      try {
        const tab = await fresh.newPage();
        await tab.goto(`${base}${path}`, { waitUntil: 'load' });
        // A string, not a function: tsx's transform would name the function with a helper the page lacks.
        const m = await tab.evaluate<{ fcp: number; load: number; bytes: number }>(`new Promise((resolve) => {
          const done = () => {
            const nav = performance.getEntriesByType('navigation')[0];
            const fcp = performance.getEntriesByName('first-contentful-paint')[0];
            const resources = performance.getEntriesByType('resource');
            if (!fcp || nav.loadEventEnd === 0) return void setTimeout(done, 20);
            resolve({ fcp: fcp.startTime, load: nav.loadEventEnd, bytes: nav.transferSize + resources.reduce((n, r) => n + r.transferSize, 0) });
          };
          done();
        })`);
        if (round > 0) {
          fcps.push(m.fcp);
          loads.push(m.load);
          kb = Math.round(m.bytes / 1024);
        }
      } finally {
        await fresh.close();
      }
    } finally {
      await context.close();
    }
  }
  return { fcp: Math.round(median(fcps)), load: Math.round(median(loads)), kb };
}

async function apiTimes(url: string, token: string): Promise<number> {
  const times: number[] = [];
  for (let round = 0; round <= ROUNDS; round++) {
    const t0 = performance.now();
    const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    if (!res.ok) throw new Error(`bench: ${url} answered ${res.status}`);
    await res.arrayBuffer();
    if (round > 0) times.push(performance.now() - t0);
  }
  return Number(median(times).toFixed(1));
}

async function classTeacher(pool: Pool, auth: Auth, schoolId: string, login: string): Promise<{ login: string; token: string }> {
  const { rows: [row] } = await pool.query<{ id: string }>(
    `SELECT s.person_id::text AS id FROM staff_role s WHERE s.school_id = $1 AND s.role = 'class_teacher' AND s.deleted_at IS NULL
      ORDER BY (SELECT count(*) FROM discrepancy d WHERE d.school_id = s.school_id AND d.class_group_id = s.class_group_id) DESC, s.id LIMIT 1`, [schoolId]);
  return account(auth, schoolId, login, [], row!.id);
}

async function deputyOf(pool: Pool, auth: Auth, schoolId: string, login: string): Promise<{ login: string; token: string }> {
  const { rows: [row] } = await pool.query<{ id: string }>(`SELECT person_id::text AS id FROM staff_role WHERE school_id = $1 AND role IN ('deputy', 'director') ORDER BY role LIMIT 1`, [schoolId]);
  return account(auth, schoolId, login, ['deputy'], row!.id);
}

async function account(auth: Auth, schoolId: string, login: string, roles: Array<'deputy'>, personId: string): Promise<{ login: string; token: string }> {
  const user = await auth.users.create({ kind: 'staff', login, password: PASSWORD, memberships: [{ schoolId, roles, personId }] }, 'bench');
  return { login, token: (await auth.sessions.create(user.id, 'bearer')).token };
}

/** The class × subject with the most pupils × lessons in the first term (1 September to the loaded end, within 366 days). */
async function largestPage(pool: Pool, schoolId: string): Promise<{ classId: string; subjectId: string; from: string; to: string; pupils: number; lessons: number }> {
  const { rows: [row] } = await pool.query<{ class_id: string; subject_id: string; pupils: number; lessons: number }>(
    `SELECT l.class_group_id::text AS class_id, l.subject_id::text AS subject_id, count(DISTINCT l.id)::int AS lessons,
            (SELECT count(*)::int FROM enrollment e WHERE e.class_group_id = l.class_group_id AND e.end_date IS NULL) AS pupils
       FROM lesson l JOIN class_group c ON c.id = l.class_group_id AND c.parent_id IS NULL
      WHERE l.school_id = $1 GROUP BY l.class_group_id, l.subject_id
      ORDER BY count(DISTINCT l.id) * (SELECT count(*) FROM enrollment e WHERE e.class_group_id = l.class_group_id AND e.end_date IS NULL) DESC LIMIT 1`, [schoolId]);
  return { classId: row!.class_id, subjectId: row!.subject_id, from: '2025-09-01', to: UNTIL, pupils: row!.pupils, lessons: row!.lessons };
}
