import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { openTab, signIn, startDashboardRig, type DashboardRig } from '../support/browser.js';

let d: DashboardRig;
beforeAll(async () => {
  d = await startDashboardRig('frame');
});
afterAll(async () => {
  await d?.close();
});

describe('the dashboard’s frame', () => {
  it('sends a visitor to the sign-in page, refuses a wrong password with a message, and lands each role on its home', async () => {
    const tab = await openTab(d.browser);
    try {
      const { page } = tab;
      await page.goto(`${d.baseUrl}/`);
      expect(new URL(page.url()).pathname).toBe('/login');
      await page.getByLabel('Логин').fill(d.logins.teacher);
      await page.getByLabel('Пароль').fill('wrong');
      await page.getByRole('button', { name: 'Войти' }).click();
      await expect(page.getByRole('alert').textContent()).resolves.toContain('Неверный логин или пароль');
      const homes: Array<[string, string]> = [[d.logins.admin, '/it'], [d.logins.deputy, '/compliance'], [d.logins.teacher, '/inbox'], [d.logins.parent, '/parent']];
      for (const [login, home] of homes) {
        await tab.context.clearCookies();
        await signIn(page, d.baseUrl, login);
        expect(new URL(page.url()).pathname).toBe(home);
        expect(await page.locator('html').getAttribute('lang')).toBe('ru');
      }
      expect(tab.errors).toEqual([]);
    } finally {
      await tab.close();
    }
  });

  it('follows the page asked for after signing in, but never another site', async () => {
    const tab = await openTab(d.browser);
    try {
      const { page } = tab;
      await page.goto(`${d.baseUrl}/login?next=//evil.example/x`);
      await page.getByLabel('Логин').fill(d.logins.deputy);
      await page.getByLabel('Пароль').fill('correct horse battery');
      await page.getByRole('button', { name: 'Войти' }).click();
      await page.waitForURL((u) => !u.pathname.startsWith('/login'));
      expect(new URL(page.url()).host).toBe(new URL(d.baseUrl).host);
    } finally {
      await tab.close();
    }
  });

  it('switches the language to Kyrgyz for this browser, and signs out', async () => {
    const tab = await openTab(d.browser);
    try {
      const { page } = tab;
      await signIn(page, d.baseUrl, d.logins.parent);
      await page.getByLabel('Язык').selectOption('ky');
      await page.waitForFunction(() => document.documentElement.lang === 'ky');
      await expect(page.getByRole('button', { name: 'Чыгуу' }).isVisible()).resolves.toBe(true);
      await Promise.all([page.waitForURL((u) => u.pathname === '/login'), page.getByRole('button', { name: 'Чыгуу' }).click()]);
      await page.goto(`${d.baseUrl}/parent`);
      expect(new URL(page.url()).pathname).toBe('/login');
      expect(tab.errors).toEqual([]);
    } finally {
      await tab.close();
    }
  });

  it('asks for a one-time code with the same answer for a known and an unknown login, and refuses a wrong code', async () => {
    const tab = await openTab(d.browser);
    try {
      const { page } = tab;
      const texts: string[] = [];
      for (const login of [d.logins.parent, 'nobody-at-all']) {
        await page.goto(`${d.baseUrl}/login?code=1`);
        await page.getByLabel('Логин').fill(login);
        await page.getByRole('button', { name: 'Прислать код' }).click();
        texts.push((await page.getByRole('status').textContent())!.trim());
      }
      expect(texts[0]).toContain('Если на этот логин можно отправить код');
      expect(texts[1]).toBe(texts[0]);
      await page.getByLabel('Код').fill('000000');
      await page.getByRole('button', { name: 'Войти' }).click();
      expect(await page.getByRole('alert').textContent()).toContain('Код неверный');
      expect(new URL(page.url()).pathname.startsWith('/login')).toBe(true);
      expect(tab.errors).toEqual([]);
    } finally {
      await tab.close();
    }
  });

  it('answers an unknown page with 404, and serves its files with a content hash', async () => {
    const res = await fetch(`${d.baseUrl}/no-such-page`);
    expect(res.status).toBe(404);
    expect(await res.text()).toContain('Не найдено');
    const login = await (await fetch(`${d.baseUrl}/login`)).text();
    const css = /href="(\/assets\/app\.css\?v=[0-9a-f]+)"/.exec(login)![1]!;
    const asset = await fetch(`${d.baseUrl}${css}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toContain('immutable');
    // The API is unchanged: JSON errors under /v1.
    const v1 = await fetch(`${d.baseUrl}/v1/nothing`);
    expect(v1.status).toBe(401);
  });
});
