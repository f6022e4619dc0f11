import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { fixedClock } from '../../src/lib/clock.js';
import { SecretBox } from '../../src/lib/secret-box.js';
import { signInCallers, startAccessRig, type AccessRig, type SchoolCallers, type SchoolFixture } from './access-fixture.js';

/** Debian's Chromium (`.ci/run` installs it when missing); CHROMIUM_PATH for another. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Headless Chromium as this machine runs it: no sandbox (root), no GPU, no background network (the network is closed). */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update',
      '--disable-quic', '--no-first-run', '--disable-sync', '--disable-default-apps', '--disable-extensions'],
  });
}

export const PASSWORD = 'correct horse battery';
export const SCREENSHOTS = path.resolve('test/screenshots');

/** A browser tab that records every console error and uncaught page error (a walk asserts there are none). */
export interface Tab { page: Page; context: BrowserContext; errors: string[]; close(): Promise<void> }

export async function openTab(browser: Browser, options: { width?: number; height?: number; locale?: string } = {}): Promise<Tab> {
  const context = await browser.newContext({ viewport: { width: options.width ?? 1280, height: options.height ?? 800 }, locale: options.locale ?? 'ru-RU' });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (m) => {
    // A page answered 404 on purpose (a walk checks it) logs its load as a console error; only script errors count.
    if (m.type() === 'error' && !/Failed to load resource: the server responded with a status of 4(01|03|04|09|22|29)/.test(m.text())) errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  return { page, context, errors, close: () => context.close() };
}

/** Signs in through the sign-in page; the browser lands on the account's home. */
export async function signIn(page: Page, baseUrl: string, login: string, password = PASSWORD): Promise<void> {
  await page.goto(`${baseUrl}/login`);
  await page.getByLabel('Логин').fill(login);
  await page.getByLabel('Пароль').fill(password);
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/login')), page.getByRole('button', { name: 'Войти' }).click()]);
}

/** A screenshot of the page as it is, to test/screenshots/<name>.png (reviewed by eye; README shows some). */
export async function screenshot(page: Page, name: string, fullPage = true): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage });
}

/** The API's answer for the same data a page shows (a bearer token of the same account). */
export async function api<T = unknown>(baseUrl: string, token: string, pathAndQuery: string, init: RequestInit = {}): Promise<{ status: number; body: T }> {
  const res = await fetch(`${baseUrl}${pathAndQuery}`, { ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...(init.headers ?? {}) } });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

/**
 * One dashboard test file's set-up: the access tests' small school (50 pupils, up to 31 October 2025, the
 * clock fixed at its last day), the whole app listening on a port from the OS, an account per role with
 * a known password (logins `<role>-<tag>`) and each one's bearer token for the API, and one Chromium.
 */
export interface DashboardRig {
  rig: AccessRig;
  school: SchoolFixture;
  baseUrl: string;
  browser: Browser;
  /** Bearer tokens per role (the API's view of the same accounts). */
  tokens: SchoolCallers;
  /** Logins per role; the password is PASSWORD. */
  logins: { admin: string; deputy: string; classTeacher: string; teacher: string; parent: string; otherParent: string };
  close(): Promise<void>;
}

export const DASHBOARD_NOW = new Date('2025-10-31T09:00:00Z');

export async function startDashboardRig(tag: string, seed = 41): Promise<DashboardRig> {
  const clock = fixedClock(DASHBOARD_NOW);
  const box = new SecretBox(randomBytes(32));
  const rig = await startAccessRig(clock, box, [seed]);
  const school = rig.schools[0]!;
  const tokens = await signInCallers(rig.auth, school, tag);
  const server: Server = await new Promise((resolve) => {
    const s = rig.app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const address = server.address();
  const baseUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const browser = await launchBrowser();
  const logins = {
    admin: `admin-${tag}`, deputy: `deputy-${tag}`, classTeacher: `class-teacher-${tag}`, teacher: `teacher-${tag}`, parent: `parent-${tag}`, otherParent: `other-parent-${tag}`,
  };
  return {
    rig, school, baseUrl, browser, tokens, logins,
    close: async () => {
      await browser.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rig.close();
    },
  };
}
