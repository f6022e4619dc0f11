import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Page } from 'playwright-core';
import { fixedClock } from '../../src/lib/clock.js';
import { handleBotText } from '../../src/notify/telegram-link.js';
import { mondayOf } from '../../src/ports/ranges.js';
import { api, DASHBOARD_NOW, openTab, screenshot, signIn, startDashboardRig, type DashboardRig } from '../support/browser.js';

/**
 * The parent's walk in Chromium: their child's week shows what the API's week shows (the same lessons,
 * marks and absences), another family's child is 404 on the page and in the API, a changed preference and
 * consent are what the API then returns, and a Telegram link code issued on the page links a chat.
 */
let d: DashboardRig;
let monday: string;
let otherChild: string;

interface ApiWeek {
  from: string; previous: string; next: string;
  days: Array<{ date: string; lessons: Array<{ id: string; marks: Array<{ id: string; raw: string }>; absence: { kind: string } | null }> }>;
}

beforeAll(async () => {
  d = await startDashboardRig('parent');
  const pool = d.rig.db.pool;
  const last = await pool.query<{ d: string }>(
    'SELECT max(date)::text AS d FROM mark WHERE pupil_id = $1 AND lesson_id IS NOT NULL AND deleted_at IS NULL', [d.school.childId]);
  monday = mondayOf(last.rows[0]!.d);
  otherChild = (await pool.query<{ id: string }>(
    'SELECT pupil_id::text AS id FROM guardianship WHERE guardian_id = $1 AND deleted_at IS NULL ORDER BY pupil_id LIMIT 1', [d.school.otherParentId])).rows[0]!.id;
}, 300_000);

afterAll(async () => {
  await d?.close();
});

/** What the week page shows: per lesson row, its marks' ids and its absence's kind. */
async function shownWeek(page: Page): Promise<Array<{ id: string; marks: string[]; absence: string | null }>> {
  return page.locator('tr[data-lesson]').evaluateAll((rows) => rows.map((r) => ({
    id: r.getAttribute('data-lesson')!,
    marks: Array.from(r.querySelectorAll('[data-mark]')).map((m) => m.getAttribute('data-mark')!),
    absence: r.querySelector('[data-absence]')?.getAttribute('data-absence') ?? null,
  })));
}

const fromApi = (week: ApiWeek) => week.days.flatMap((day) => day.lessons.map((l) => ({ id: l.id, marks: l.marks.map((m) => m.id), absence: l.absence?.kind ?? null })));

describe("a parent's pages", () => {
  it("shows the child's week as the API does, day by day, and walks to the weeks before and after", async () => {
    const tab = await openTab(d.browser);
    try {
      const { page } = tab;
      await signIn(page, d.baseUrl, d.logins.parent);
      expect(new URL(page.url()).pathname).toBe('/parent');
      const children = (await api<{ items: Array<{ id: string }> }>(d.baseUrl, d.tokens.parent, '/v1/me/children')).body.items.map((c) => c.id);
      expect(children).toContain(d.school.childId);
      expect(children).not.toContain(otherChild);
      if (children.length === 1) await expect(page.locator('[data-week]').count()).resolves.toBe(1);
      else expect(await page.locator('[data-child]').evaluateAll((a) => a.map((x) => x.getAttribute('data-child')))).toEqual(children);

      await page.goto(`${d.baseUrl}/parent/children/${d.school.childId}?week=${monday}`);
      const week = await api<ApiWeek>(d.baseUrl, d.tokens.parent, `/v1/pupils/${d.school.childId}/week?week=${monday}`);
      expect(week.status).toBe(200);
      const shown = await shownWeek(page);
      expect(shown).toEqual(fromApi(week.body));
      expect(shown.some((l) => l.marks.length > 0)).toBe(true);
      // Seven days, Monday first, and the week's counts.
      expect(await page.locator('[data-day]').evaluateAll((s) => s.map((x) => x.getAttribute('data-day')))).toEqual(week.body.days.map((x) => x.date));
      const marks = week.body.days.flatMap((x) => x.lessons).reduce((n, l) => n + l.marks.length, 0);
      expect(await page.locator('[data-marks]').getAttribute('data-marks')).toBe(String(marks));
      // A mark's value is on the page as the API has it.
      const first = week.body.days.flatMap((x) => x.lessons).flatMap((l) => l.marks)[0]!;
      await expect(page.locator(`[data-mark="${first.id}"] b`).textContent()).resolves.toBe(first.raw);
      await screenshot(page, 'parent-week');

      await Promise.all([page.waitForURL((u) => u.searchParams.get('week') === week.body.previous), page.getByRole('link', { name: '← Предыдущая' }).first().click()]);
      expect(await page.locator('[data-week]').getAttribute('data-week')).toBe(week.body.previous);
      const before = await api<ApiWeek>(d.baseUrl, d.tokens.parent, `/v1/pupils/${d.school.childId}/week?week=${week.body.previous}`);
      expect(await shownWeek(page)).toEqual(fromApi(before.body));
      await Promise.all([page.waitForURL((u) => u.searchParams.get('week') === week.body.from), page.getByRole('link', { name: 'Следующая →' }).first().click()]);
      expect(await shownWeek(page)).toEqual(shown);
      // "This week" is the rig's clock's week in the school's time zone (Friday 31 October 2025, Moscow).
      await page.getByRole('link', { name: 'Текущая неделя' }).first().click();
      await expect(page.locator('[data-week]').getAttribute('data-week')).resolves.toBe(mondayOf(DASHBOARD_NOW.toISOString().slice(0, 10)));
      // A day typed in the week picker opens that day's week.
      await page.locator('input[name=week]').first().fill(week.body.days[2]!.date);
      await Promise.all([page.waitForURL((u) => u.searchParams.get('week') === week.body.days[2]!.date), page.getByRole('button', { name: 'Показать' }).first().click()]);
      expect(await page.locator('[data-week]').getAttribute('data-week')).toBe(week.body.from);
      expect(tab.errors).toEqual([]);
    } finally {
      await tab.close();
    }
  });

  it('fits the week on a phone', async () => {
    const tab = await openTab(d.browser, { width: 390, height: 844 });
    try {
      const { page } = tab;
      await signIn(page, d.baseUrl, d.logins.parent);
      await page.goto(`${d.baseUrl}/parent/children/${d.school.childId}?week=${monday}`);
      await expect(page.locator('tr[data-lesson]').count()).resolves.toBeGreaterThan(0);
      // Nothing wider than the screen: no sideways scrolling of the page.
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      await screenshot(page, 'parent-week-phone', false);
      expect(tab.errors).toEqual([]);
    } finally {
      await tab.close();
    }
  });

  it("answers another family's child with the 404 page, as the API does", async () => {
    const tab = await openTab(d.browser);
    try {
      const { page } = tab;
      await signIn(page, d.baseUrl, d.logins.parent);
      for (const id of [otherChild, d.school.otherParentId, 'not-an-id']) {
        const res = await page.goto(`${d.baseUrl}/parent/children/${id}?week=${monday}`);
        expect(res?.status()).toBe(404);
        await expect(page.locator('h1').textContent()).resolves.toBe('Не найдено');
        await expect(page.locator('tr[data-lesson]').count()).resolves.toBe(0);
      }
      expect((await api(d.baseUrl, d.tokens.parent, `/v1/pupils/${otherChild}/week?week=${monday}`)).status).toBe(404);
      // The other family reads their own child (the id is a real pupil's).
      expect((await api(d.baseUrl, d.tokens.otherParent, `/v1/pupils/${otherChild}/week?week=${monday}`)).status).toBe(200);
      expect(tab.errors).toEqual([]);
    } finally {
      await tab.close();
    }
  });

  it('saves preferences and consents that the API then returns', async () => {
    const tab = await openTab(d.browser);
    try {
      const { page } = tab;
      await signIn(page, d.baseUrl, d.logins.parent);
      await page.getByRole('link', { name: 'Уведомления' }).click();
      await page.waitForURL((u) => u.pathname === '/parent/preferences');
      await page.locator('select[name=channel1]').selectOption('email');
      await page.locator('select[name=channel2]').selectOption('sms');
      await page.locator('select[name=channel3]').selectOption('');
      await page.locator('select[name=marks]').selectOption('digest');
      await page.locator('select[name=language]').selectOption('ky');
      await Promise.all([page.waitForURL((u) => u.searchParams.get('notice') === 'parent.prefs.saved'), page.locator('#prefs').getByRole('button', { name: 'Сохранить' }).click()]);
      await expect(page.getByRole('status').textContent()).resolves.toContain('Настройки уведомлений сохранены');
      const prefs = await api<{ channels: string[]; marks: string; language: string }>(d.baseUrl, d.tokens.parent, `/v1/people/${d.school.parentId}/notify-preferences`);
      expect(prefs.body).toEqual({ channels: ['email', 'sms'], marks: 'digest', language: 'ky' });
      // The form shows what is saved.
      await expect(page.locator('select[name=channel1]').inputValue()).resolves.toBe('email');
      await expect(page.locator('select[name=channel3]').inputValue()).resolves.toBe('');
      await expect(page.locator('select[name=marks]').inputValue()).resolves.toBe('digest');

      const consents = async () => (await api<{ items: Array<{ channel: string; purpose: string; withdrawnAt: string | null; method: string }> }>(
        d.baseUrl, d.tokens.parent, `/v1/people/${d.school.parentId}/consents`)).body.items.filter((c) => c.withdrawnAt === null).map((c) => `${c.channel}:${c.purpose}`).sort();
      const before = await consents();
      const tick = (value: string) => page.locator(`input[name=consent][value="${value}"]`);
      await tick('email:attendance').check();
      await tick('sms:marks').check();
      await Promise.all([page.waitForURL((u) => u.searchParams.get('notice') === 'parent.consents.saved'), page.getByRole('button', { name: 'Сохранить согласия' }).click()]);
      expect(await consents()).toEqual([...new Set([...before, 'email:attendance', 'sms:marks'])].sort());
      await expect(tick('sms:marks').isChecked()).resolves.toBe(true);
      await tick('sms:marks').uncheck();
      await Promise.all([page.waitForURL((u) => u.searchParams.get('notice') === 'parent.consents.saved'), page.getByRole('button', { name: 'Сохранить согласия' }).click()]);
      expect(await consents()).toEqual([...new Set([...before, 'email:attendance'])].sort());
      await screenshot(page, 'parent-preferences');
      expect(tab.errors).toEqual([]);
    } finally {
      await tab.close();
    }
  });

  it('gives a Telegram link code that links a chat to the bot', async () => {
    const tab = await openTab(d.browser);
    try {
      const { page } = tab;
      await signIn(page, d.baseUrl, d.logins.parent);
      await page.goto(`${d.baseUrl}/parent/telegram`);
      await expect(page.locator('[data-linked]').getAttribute('data-linked')).resolves.toBe('no');
      // No bot yet: the page says so.
      await page.getByRole('button', { name: 'Получить код подключения' }).click();
      await expect(page.locator('[data-no-bot]').isVisible()).resolves.toBe(true);
      // The school's administrator sets up the bot (through the API).
      const put = await api(d.baseUrl, d.tokens.admin, `/v1/schools/${d.school.schoolId}/notify-providers/telegram`, {
        method: 'PUT', body: JSON.stringify({ provider: 'telegram', config: { botUsername: 'school_test_bot' }, secrets: { token: '123:abc' } }),
      });
      expect(put.status).toBe(200);
      await page.goto(`${d.baseUrl}/parent/telegram`);
      await page.getByRole('button', { name: 'Получить код подключения' }).click();
      const code = page.locator('[data-code]');
      await expect(code.isVisible()).resolves.toBe(true);
      const token = (await code.getAttribute('data-code'))!;
      expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      await expect(code.inputValue()).resolves.toBe(`/start ${token}`);
      await expect(page.locator('[data-link]').getAttribute('href')).resolves.toBe(`https://t.me/school_test_bot?start=${token}`);
      await screenshot(page, 'parent-telegram');
      // The code works: the bot's /start with it links the chat to this parent.
      const linked = await handleBotText(d.rig.db.pool, fixedClock(DASHBOARD_NOW), d.school.schoolId, '777001', `/start ${token}`);
      expect(linked.outcome).toBe('linked');
      await page.goto(`${d.baseUrl}/parent/telegram`);
      await expect(page.locator('[data-linked]').getAttribute('data-linked')).resolves.toBe('yes');
      const contacts = await api<{ items: Array<{ channel: string; usable: boolean }> }>(d.baseUrl, d.tokens.parent, `/v1/people/${d.school.parentId}/contacts`);
      expect(contacts.body.items.some((c) => c.channel === 'telegram' && c.usable)).toBe(true);
      expect(tab.errors).toEqual([]);
    } finally {
      await tab.close();
    }
  });

  it('lists two children, each with a link to their week, and links from one week to the other child', async () => {
    const pool = d.rig.db.pool;
    const third = (await pool.query<{ id: string }>(
      `SELECT e.person_id::text AS id FROM enrollment e JOIN class_group c ON c.id = e.class_group_id AND c.parent_id IS NULL
        WHERE e.school_id = $1 AND e.person_id <> ALL($2::uuid[]) AND NOT EXISTS (SELECT 1 FROM guardianship g WHERE g.pupil_id = e.person_id AND g.guardian_id = $3)
        ORDER BY e.person_id LIMIT 1`, [d.school.schoolId, [d.school.childId, otherChild], d.school.parentId])).rows[0]!.id;
    await pool.query('INSERT INTO guardianship (school_id, guardian_id, pupil_id) VALUES ($1, $2, $3)', [d.school.schoolId, d.school.parentId, third]);
    const tab = await openTab(d.browser);
    try {
      const { page } = tab;
      await signIn(page, d.baseUrl, d.logins.parent);
      const children = (await api<{ items: Array<{ id: string }> }>(d.baseUrl, d.tokens.parent, '/v1/me/children')).body.items.map((c) => c.id);
      expect(children).toEqual(expect.arrayContaining([d.school.childId, third]));
      expect(await page.locator('[data-child]').evaluateAll((a) => a.map((x) => x.getAttribute('data-child')))).toEqual(children);
      await screenshot(page, 'parent-children');
      await Promise.all([page.waitForURL((u) => u.pathname === `/parent/children/${d.school.childId}`), page.locator(`[data-child="${d.school.childId}"]`).click()]);
      await expect(page.locator(`.pw-others a[href^="/parent/children/${third}"]`).count()).resolves.toBe(1);
      expect(tab.errors).toEqual([]);
    } finally {
      await tab.close();
      await pool.query('DELETE FROM guardianship WHERE guardian_id = $1 AND pupil_id = $2', [d.school.parentId, third]);
    }
  });

  it('keeps the family pages to parents', async () => {
    const tab = await openTab(d.browser);
    try {
      const { page } = tab;
      await signIn(page, d.baseUrl, d.logins.classTeacher);
      const res = await page.goto(`${d.baseUrl}/parent/preferences`);
      expect(res?.status()).toBe(403);
    } finally {
      await tab.close();
    }
  });
});
