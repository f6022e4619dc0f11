import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Page } from 'playwright-core';
import { runChecks } from '../../src/checks/service.js';
import { fixedClock } from '../../src/lib/clock.js';
import { readCsv } from '../../src/paper/csv.js';
import { formatCell } from '../../src/paper/tokens.js';
import { DASHBOARD_NOW, api, openTab, screenshot, signIn, startDashboardRig, type DashboardRig, type Tab } from '../support/browser.js';

/**
 * The teachers' walk in Chromium: the inbox equals GET /v1/discrepancies for the same caller, filters and
 * pages; one discrepancy dismissed leaves it; a subject teacher sees only their own; a paper template
 * downloaded from the page, one mark changed and uploaded from the browser makes one paper finding whose
 * evidence grid highlights exactly that cell with both values; the journal page equals the API's.
 */

interface Item { id: string; rule: string; status: string; kind: string; classId: string | null; subjectId: string | null; pupilId: string | null; lessonId: string | null; statusReason: string | null }
interface JournalCell { marks: Array<{ raw: string }>; absence: { raw: string } | null; agreement: string }
interface JournalAnswer { from: string; to: string; lessons: Array<{ id: string; topic: string | null }>; rows: Array<{ pupil: { id: string }; cells: JournalCell[] }> }

let d: DashboardRig;
let subjectId: string;
const clock = fixedClock(DASHBOARD_NOW);
const RANGE = { from: '2025-09-01', to: '2025-10-31' };

/** Every item the API lists for a caller and query, page after page. */
async function apiList(token: string, q: string): Promise<Item[]> {
  const items: Item[] = [];
  let cursor: string | null = null;
  do {
    const res: { status: number; body: { items: Item[]; nextCursor: string | null } } = await api(d.baseUrl, token, `/v1/discrepancies?limit=200&${q}${cursor ? `&cursor=${cursor}` : ''}`);
    expect(res.status).toBe(200);
    items.push(...res.body.items);
    cursor = res.body.nextCursor;
  } while (cursor);
  return items;
}

/** The ids the inbox shows from `path` on, following its «next» links to the last page. */
async function inboxIds(page: Page, path: string): Promise<string[]> {
  await page.goto(`${d.baseUrl}${path}`);
  const ids: string[] = [];
  for (;;) {
    ids.push(...await page.locator('tr[data-discrepancy]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-discrepancy')!)));
    const next = page.locator('a[data-next]');
    if (await next.count() === 0) return ids;
    const href = new URL((await next.getAttribute('href'))!, d.baseUrl).href;
    await Promise.all([page.waitForURL(href), next.click()]);
  }
}

async function walk(login: string, run: (tab: Tab) => Promise<void>, size?: { width: number; height: number }): Promise<void> {
  const tab = await openTab(d.browser, size);
  try {
    await signIn(tab.page, d.baseUrl, login);
    await run(tab);
    expect(tab.errors).toEqual([]);
  } finally {
    await tab.close();
  }
}

beforeAll(async () => {
  d = await startDashboardRig('teacher');
  // The small school is clean (its plants start after a quarter has ended): findings like the checks make,
  // more than a page of them for the class teacher's class, a few of the subject teacher's pair and of another class.
  const seed = (n: number, rule: string, severity: string, classId: string, subject: string | null) => d.rig.db.pool.query(
    `INSERT INTO discrepancy (school_id, key, rule, kind, severity, class_group_id, subject_id, day, fingerprint)
     SELECT $1, 'seed:' || gen_random_uuid(), $2, 'regulation', $3, $4, $5, DATE '2025-09-01' + i, 'x' FROM generate_series(1, $6::int) AS i`,
    [d.school.schoolId, rule, severity, classId, subject, n]);
  await seed(30, 'topic_missing', 'warning', d.school.classId, null);
  await seed(3, 'homework_missing', 'info', d.school.teacherPair.classId, d.school.teacherPair.subjectId);
  await seed(2, 'mark_late', 'severe', d.school.otherClassId, null);
  // The fixture's failed run leaves the school's source unread (the checks compare only sources read whole):
  // a succeeded one, as after the school's first sync.
  await d.rig.db.pool.query(`INSERT INTO sync_run (connection_id, trigger, mode, status) VALUES ($1, 'manual', 'full', 'succeeded')`, [d.school.connectionId]);
  // A subject of the class teacher's class with marks in October (the journal and paper pages use it).
  const { rows } = await d.rig.db.pool.query<{ id: string }>(
    `SELECT l.subject_id::text AS id FROM lesson l JOIN mark m ON m.lesson_id = l.id AND m.deleted_at IS NULL
      WHERE l.class_group_id = $1 AND l.date BETWEEN '2025-10-06' AND '2025-10-17' AND l.deleted_at IS NULL
      GROUP BY l.subject_id ORDER BY count(*) DESC, 1 LIMIT 1`, [d.school.classId]);
  subjectId = rows[0]!.id;
}, 300_000);
afterAll(async () => {
  await d?.close();
});

describe('the class teacher’s inbox', () => {
  it('shows exactly the open discrepancies GET /v1/discrepancies lists for this caller, page by page, and filters by rule', async () => {
    await walk(d.logins.classTeacher, async ({ page }) => {
      expect(new URL(page.url()).pathname).toBe('/inbox');
      const expected = await apiList(d.tokens.classTeacher, 'status=open');
      expect(expected.length).toBeGreaterThan(0);
      expect(await inboxIds(page, '/inbox')).toEqual(expected.map((i) => i.id));
      await page.goto(`${d.baseUrl}/inbox`);
      await expect(page.locator('h1').textContent()).resolves.toBe('Расхождения');
      await screenshot(page, 'teacher-inbox');

      // Filter by a rule the checks found, through the form; the fixture's own finding by its address.
      const rule = expected.map((i) => i.rule).find((r) => r !== 'lesson_without_topic')!;
      await page.getByLabel('Правило').selectOption(rule);
      await Promise.all([page.waitForURL((u) => u.searchParams.get('rule') === rule), page.getByRole('button', { name: 'Применить' }).click()]);
      const byRule = await apiList(d.tokens.classTeacher, `status=open&rule=${rule}`);
      expect(byRule.length).toBeGreaterThan(0);
      expect(await inboxIds(page, new URL(page.url()).pathname + new URL(page.url()).search)).toEqual(byRule.map((i) => i.id));
      const fixture = await apiList(d.tokens.classTeacher, 'status=open&rule=lesson_without_topic');
      expect(fixture.map((i) => i.id)).toContain(d.school.discrepancyId);
      expect(await inboxIds(page, '/inbox?rule=lesson_without_topic')).toEqual(fixture.map((i) => i.id));
      // And by class and any status.
      const all = await apiList(d.tokens.classTeacher, `class=${d.school.classId}`);
      expect(await inboxIds(page, `/inbox?class=${d.school.classId}&status=all`)).toEqual(all.map((i) => i.id));
    });
  });

  it('opens one, dismisses it with a reason, and it leaves the inbox (the API says dismissed)', async () => {
    await walk(d.logins.classTeacher, async ({ page }) => {
      const id = d.school.discrepancyId;
      await page.goto(`${d.baseUrl}/inbox?rule=lesson_without_topic`);
      await Promise.all([page.waitForURL((u) => u.pathname === `/inbox/${id}`), page.locator(`tr[data-discrepancy="${id}"] a`).click()]);
      await expect(page.locator('[data-facts]').textContent()).resolves.toContain('lesson_without_topic');
      // A dismissal without a reason is refused by the browser (required) — and by the page if sent anyway.
      const refused = await page.request.post(`${d.baseUrl}/inbox/${id}`, { form: { action: 'dismiss', reason: ' ' } });
      expect(refused.status()).toBe(400);
      await expect(refused.text()).resolves.toContain('укажите причину');
      await page.getByLabel('Причина отклонения').fill('Тема записана в бумажном журнале');
      await Promise.all([page.waitForURL((u) => u.searchParams.get('notice') === 'teacher.discrepancy.done.dismiss'), page.getByRole('button', { name: 'Отклонить' }).click()]);
      await expect(page.getByRole('status').first().textContent()).resolves.toContain('Расхождение отклонено');
      const after = await api<Item>(d.baseUrl, d.tokens.classTeacher, `/v1/discrepancies/${id}`);
      expect(after.body).toMatchObject({ status: 'dismissed', statusReason: 'Тема записана в бумажном журнале' });
      const open = await apiList(d.tokens.classTeacher, 'status=open');
      expect(open.map((i) => i.id)).not.toContain(id);
      expect(await inboxIds(page, '/inbox')).toEqual(open.map((i) => i.id));
      // A justification is attached the same way.
      await page.goto(`${d.baseUrl}/inbox/${id}`);
      await page.getByLabel(/Обоснование \(/).fill('Урок перенесён приказом');
      await Promise.all([page.waitForURL((u) => u.searchParams.get('notice') === 'teacher.discrepancy.done.justify'), page.getByRole('button', { name: 'Приложить обоснование' }).click()]);
      await expect(page.locator('[data-justification]').textContent()).resolves.toBe('Урок перенесён приказом');
      expect((await api<Item & { justification: string }>(d.baseUrl, d.tokens.classTeacher, `/v1/discrepancies/${id}`)).body.justification).toBe('Урок перенесён приказом');
    });
  });

  it('a subject teacher sees only their own: the API’s list for them, and 404 for the class teacher’s finding', async () => {
    await walk(d.logins.teacher, async ({ page }) => {
      const own = await apiList(d.tokens.teacher, 'status=open');
      const ids = await inboxIds(page, '/inbox');
      expect(ids).toEqual(own.map((i) => i.id));
      const { rows } = await d.rig.db.pool.query<{ pair: string }>(
        `SELECT class_group_id::text || ':' || subject_id::text AS pair FROM teaching_assignment WHERE teacher_id = $1 AND deleted_at IS NULL`, [d.school.teacherId]);
      const pairs = new Set(rows.map((r) => r.pair));
      for (const item of own) expect(pairs.has(`${item.classId}:${item.subjectId}`) || (item as { assignee?: { id: string } | null }).assignee?.id === d.school.teacherId).toBe(true);
      const foreign = await page.goto(`${d.baseUrl}/inbox/${d.school.discrepancyId}`);
      expect(foreign?.status()).toBe(404);
      expect((await api(d.baseUrl, d.tokens.teacher, `/v1/discrepancies/${d.school.discrepancyId}`)).status).toBe(404);
    });
  });

  it('a deputy sees the school whole, as the API lists it for them; a parent may not open the inbox', async () => {
    await walk(d.logins.deputy, async ({ page }) => {
      const all = await apiList(d.tokens.deputy, 'status=open');
      expect(all.some((i) => i.classId === d.school.otherClassId)).toBe(true);
      expect(await inboxIds(page, '/inbox')).toEqual(all.map((i) => i.id));
    });
    await walk(d.logins.parent, async ({ page }) => {
      const refused = await page.request.get(`${d.baseUrl}/inbox`);
      expect(refused.status()).toBe(403);
      // The page lists the inbox of its school, as the API does when asked for one school.
      expect((await api(d.baseUrl, d.tokens.parent, `/v1/discrepancies?school=${d.school.schoolId}`)).status).toBe(403);
      const one = await api(d.baseUrl, d.tokens.parent, `/v1/discrepancies/${d.school.discrepancyId}`);
      expect((await page.request.get(`${d.baseUrl}/inbox/${d.school.discrepancyId}`)).status()).toBe(one.status);
    });
  });

  it('is the inbox on a phone’s width too', async () => {
    await walk(d.logins.classTeacher, async ({ page }) => {
      await page.goto(`${d.baseUrl}/inbox`);
      await expect(page.locator('tr[data-discrepancy]').first().isVisible()).resolves.toBe(true);
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      await screenshot(page, 'teacher-inbox-phone', false);
    }, { width: 390, height: 844 });
  });
});

/** The template CSV's rows, as the import reads them. */
function csvRows(text: string): string[][] {
  return readCsv(Buffer.from(text, 'utf8')).rows;
}

/** The CSV with one pupil's line written anew (a pupil's line has no quoted fields: id, name, cells). */
function withRow(text: string, row: string[]): string {
  return text.split('\r\n').map((line) => (line.startsWith(`${row[0]};`) ? row.join(';') : line)).join('\r\n');
}

describe('the paper journal and a paper finding’s evidence', () => {
  let changed: { pupilId: string; lessonId: string; before: string; after: string };

  it('downloads the template prefilled from the school’s source, uploads it changed from the browser, and shows the import report', async () => {
    await walk(d.logins.classTeacher, async ({ page }) => {
      await page.goto(`${d.baseUrl}/paper`);
      await page.getByLabel('Класс').selectOption(d.school.classId);
      await page.getByLabel('Предмет').selectOption(subjectId);
      await Promise.all([page.waitForURL((u) => u.searchParams.get('subject') === subjectId), page.getByRole('button', { name: 'Применить' }).click()]);
      await expect(page.locator('[data-templates] tr[data-prefill]').count()).resolves.toBeGreaterThan(1);
      await screenshot(page, 'teacher-paper');
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.locator(`[data-templates] tr[data-prefill="${d.school.connectionId}"] a[data-format="csv"]`).click(),
      ]);
      const text = readFileSync((await download.path())!, 'utf8');
      const rows = csvRows(text);
      const lessonIds = rows[0]!.slice(2);
      const pupilRows = rows.filter((r) => /^[0-9a-f-]{36}$/.test(r[0]!));
      expect(pupilRows.length).toBeGreaterThan(0);
      const nonBlank = pupilRows.reduce((n, r) => n + r.slice(2).filter((c) => c !== '').length, 0);
      // One plain mark in October changed: the only cell where paper and the school's source will differ.
      const octoberLessons = new Set(await d.rig.db.pool.query<{ id: string }>(
        `SELECT id::text FROM lesson WHERE id = ANY($1::uuid[]) AND date BETWEEN '2025-10-06' AND '2025-10-17'`, [lessonIds]).then((r) => r.rows.map((x) => x.id)));
      const row = pupilRows.find((r) => r.slice(2).some((c, i) => /^[2-5]$/.test(c) && octoberLessons.has(lessonIds[i]!)))!;
      const column = row.slice(2).findIndex((c, i) => /^[2-5]$/.test(c) && octoberLessons.has(lessonIds[i]!));
      expect(text.split('\r\n')).toContain(row.join(';'));
      const before = row[column + 2]!;
      const after = before === '5' ? '3' : '5';
      changed = { pupilId: row[0]!, lessonId: lessonIds[column]!, before, after };
      row[column + 2] = after;
      const edited = withRow(text, row);

      await page.locator('input[type=file]').setInputFiles({ name: 'журнал.csv', mimeType: 'text/csv', buffer: Buffer.from(edited, 'utf8') });
      await Promise.all([page.waitForURL((u) => u.pathname === '/paper'), page.getByRole('button', { name: 'Загрузить' }).click()]);
      await expect(page.locator('h1').textContent()).resolves.toBe('Отчёт об импорте');
      const count = async (k: string) => Number((await page.locator(`[data-count="${k}"]`).textContent())!.replace(/\s/g, ''));
      // The school had no paper records: every filled cell is created, none rejected.
      expect(await count('created')).toBe(nonBlank);
      expect(await count('rejected')).toBe(0);
      expect(await count('changed')).toBe(0);
      expect(await count('read')).toBe(pupilRows.length * lessonIds.length);
      await expect(page.locator('[data-no-rejections]').isVisible()).resolves.toBe(true);

      // A bad cell is rejected alone, with its address and reason.
      const other = pupilRows.find((r) => r[0] !== row[0] && r.slice(2).some((c) => /^[2-5]$/.test(c)))!;
      const badColumn = other.slice(2).findIndex((c) => /^[2-5]$/.test(c));
      other[badColumn + 2] = '7';
      const bad = withRow(edited, other);
      await page.goto(`${d.baseUrl}/paper?class=${d.school.classId}&subject=${subjectId}`);
      await page.locator('input[type=file]').setInputFiles({ name: 'журнал.csv', mimeType: 'text/csv', buffer: Buffer.from(bad, 'utf8') });
      await Promise.all([page.waitForURL((u) => u.pathname === '/paper'), page.getByRole('button', { name: 'Загрузить' }).click()]);
      expect(await count('rejected')).toBe(1);
      expect(await count('created') + await count('changed') + await count('removed')).toBe(0);
      const rejection = page.locator('[data-rejections] tbody tr');
      await expect(rejection.count()).resolves.toBe(1);
      await expect(rejection.textContent()).resolves.toMatch(/«7»/);
      await screenshot(page, 'teacher-paper-report');
    });
  });

  it('the checks then find exactly that cell; its evidence grid highlights it with both values', async () => {
    await runChecks(d.rig.db.pool, clock, { schoolId: d.school.schoolId, ...RANGE, rules: ['mark_differs', 'mark_only_in_one', 'attendance_differs'] });
    const found = await apiList(d.tokens.classTeacher, `status=open&kind=paper&class=${d.school.classId}`);
    expect(found.map((f) => [f.rule, f.pupilId, f.lessonId])).toEqual([['mark_differs', changed.pupilId, changed.lessonId]]);
    await walk(d.logins.classTeacher, async ({ page }) => {
      await page.goto(`${d.baseUrl}/inbox?class=${d.school.classId}&rule=mark_differs`);
      await Promise.all([page.waitForURL((u) => u.pathname === `/inbox/${found[0]!.id}`), page.locator(`tr[data-discrepancy="${found[0]!.id}"] a`).click()]);
      const differs = page.locator('[data-grid] td.differs');
      await expect(differs.count()).resolves.toBe(1);
      await expect(differs.getAttribute('data-pupil')).resolves.toBe(changed.pupilId);
      await expect(differs.getAttribute('data-lesson')).resolves.toBe(changed.lessonId);
      await expect(differs.getAttribute('aria-current')).resolves.toBe('true');
      // The shown value is the school's legal record (the demo source); the paper's is under it.
      await expect(differs.locator('.shown').textContent()).resolves.toBe(changed.before);
      await expect(differs.locator('.other').textContent()).resolves.toMatch(new RegExp(`: ${changed.after}$`));
      await screenshot(page, 'teacher-discrepancy');
      // The import report's list of the page's paper findings (refreshed by htmx) now shows it too.
      const fragment = await page.request.get(`${d.baseUrl}/paper/findings?class=${d.school.classId}&subject=${subjectId}`, { headers: { 'HX-Request': 'true' } });
      expect(fragment.status()).toBe(200);
      const listed = [...(await fragment.text()).matchAll(/data-discrepancy="([^"]+)"/g)].map((m) => m[1]);
      expect(listed).toEqual([found[0]!.id]);
    });
  });
});

describe('the class journal page', () => {
  it('shows the cells, dates, topics and homework GET /v1/classes/{id}/journal answers for the same subject and range', async () => {
    await walk(d.logins.classTeacher, async ({ page }) => {
      await page.goto(`${d.baseUrl}/journal`);
      await page.getByLabel('Класс').selectOption(d.school.classId);
      await page.getByLabel('Предмет').selectOption(subjectId);
      await page.getByLabel('С', { exact: true }).fill('2025-10-06');
      await page.getByLabel('По', { exact: true }).fill('2025-10-17');
      await Promise.all([page.waitForURL((u) => u.searchParams.get('from') === '2025-10-06'), page.getByRole('button', { name: 'Применить' }).click()]);
      const res = await api<JournalAnswer>(d.baseUrl, d.tokens.classTeacher, `/v1/classes/${d.school.classId}/journal?subject=${subjectId}&from=2025-10-06&to=2025-10-17`);
      expect(res.status).toBe(200);
      const want = res.body.rows.flatMap((r) => r.cells.map((c, i) => [r.pupil.id, res.body.lessons[i]!.id, formatCell(c.marks.map((m) => m.raw), c.absence?.raw ?? null), c.agreement === 'differ'] as const));
      const shown = await page.locator('[data-grid] td[data-pupil]').evaluateAll((tds) => tds.map((td) => [
        td.getAttribute('data-pupil'), td.getAttribute('data-lesson'), td.querySelector('.shown')!.textContent, td.classList.contains('differs')] as const));
      expect(want.length).toBeGreaterThan(0);
      expect(shown).toEqual(want);
      const lessons = await page.locator('[data-lessons] tr[data-lesson]').evaluateAll((trs) => trs.map((tr) => [tr.getAttribute('data-lesson'), tr.children[2]!.textContent]));
      expect(lessons).toEqual(res.body.lessons.map((l) => [l.id, l.topic ?? '—']));
      await screenshot(page, 'teacher-journal');
      // A range wider than a page is refused like the API's 400, with the form kept.
      await page.goto(`${d.baseUrl}/journal?class=${d.school.classId}&subject=${subjectId}&from=2024-09-01&to=2025-10-31`);
      await expect(page.getByRole('alert').textContent()).resolves.toContain('не больше');
      expect((await api(d.baseUrl, d.tokens.classTeacher, `/v1/classes/${d.school.classId}/journal?subject=${subjectId}&from=2024-09-01&to=2025-10-31`)).status).toBe(400);
    });
  });
});
