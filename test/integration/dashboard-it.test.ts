import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Page } from 'playwright-core';
import { startDnevnikSimulator, type DnevnikSimulator } from '../../adapters/dnevnikru/simulator.js';
import { generateSchool } from '../../src/demo/generator.js';
import { fixedClock } from '../../src/lib/clock.js';
import type { SyncService } from '../../src/sync/service.js';
import { api, DASHBOARD_NOW, openTab, screenshot, signIn, startDashboardRig, type DashboardRig, type Tab } from '../support/browser.js';
import { waitFor } from '../support/processes.js';
import { startTestEngine } from '../support/sync-engine.js';

/**
 * The school IT administrator's walk in Chromium: the connections as the API lists them, a connection
 * made through the adapter's form (its secrets never rendered back), a sync run from the browser and
 * watched live until it ends with the API's counts, a dead letter and its redrive, webhooks, an API key
 * made in the browser and used against the API, a user's roles changed, the school's language.
 */
let d: DashboardRig;
/** The platform the form's connection reads; a second one in maintenance makes a dead letter. */
let sim: DnevnikSimulator;
let broken: DnevnikSimulator;
/** A worker on the rig's database (the rig's own engine only serves the API). */
let worker: SyncService;
let tab: Tab;
let page: Page;
let createdId: string;
let brokenId: string;

interface RunBody { id: string; status: string; connectionId: string; counts: Record<string, { created: number; updated: number; unchanged: number; deleted: number; rejected: number }> }

beforeAll(async () => {
  d = await startDashboardRig('it');
  const school = generateSchool({ seed: 41, pupils: 30, year: 2025, until: '2025-09-12' });
  sim = await startDnevnikSimulator(school);
  broken = await startDnevnikSimulator(school, { login: 'broken@school', password: 'Другой-пароль-1' });
  // A dead platform must outlast the retries here (the breaker would only defer the run).
  worker = await startTestEngine(d.rig.db, fixedClock(DASHBOARD_NOW), { PLATFORM_BREAKER_FAILURES: '1000' });
  const made = await api<{ id: string }>(d.baseUrl, d.tokens.admin, '/v1/connections', {
    method: 'POST', body: JSON.stringify({ schoolId: d.school.schoolId, platform: 'dnevnikru', title: 'Резервный Дневник', config: broken.connectionConfig(), check: false }),
  });
  expect(made.status).toBe(201);
  brokenId = made.body.id;
  tab = await openTab(d.browser);
  page = tab.page;
  await signIn(page, d.baseUrl, d.logins.admin);
});
afterAll(async () => {
  await tab?.close();
  await worker?.stop();
  await sim?.close();
  await broken?.close();
  await d?.close();
});

const digits = (text: string | null) => (text ?? '').replace(/\s/g, '');

describe('the IT administrator’s pages', () => {
  it('lands on the connections, which are those GET /v1/connections lists', async () => {
    expect(new URL(page.url()).pathname).toBe('/it');
    const listed = await api<{ data: Array<{ id: string; enabled: boolean }> }>(d.baseUrl, d.tokens.admin, `/v1/connections?school=${d.school.schoolId}`);
    const rows = page.locator('tr[data-connection]');
    expect(await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-connection')))).toEqual(listed.body.data.map((c) => c.id));
    for (const c of listed.body.data) {
      expect(await page.locator(`tr[data-connection="${c.id}"] [data-enabled]`).getAttribute('data-enabled')).toBe(String(c.enabled));
    }
    expect(tab.errors).toEqual([]);
  });

  it('creates a connection through the adapter’s form, shows the service’s refusal next to it, and never renders a secret back', async () => {
    await page.getByRole('link', { name: 'Добавить подключение' }).click();
    await page.getByRole('link', { name: 'Дневник.ру' }).click();
    const cfg = { baseUrl: sim.url, login: sim.login, password: sim.password, clientId: sim.clientId, clientSecret: sim.clientSecret };
    await page.locator('#f-title').fill('Дневник школы');
    await page.locator('#cfg-baseUrl').fill(cfg.baseUrl);
    await page.locator('#cfg-login').fill(cfg.login);
    await page.locator('#cfg-password').fill('не-тот-пароль');
    await page.locator('#cfg-clientId').fill(cfg.clientId);
    await page.locator('#cfg-clientSecret').fill(cfg.clientSecret);
    await page.locator('#cfg-requestsPerSecond').fill('1000');
    await page.getByRole('button', { name: 'Создать' }).click();
    // The platform refused the sign-in: the form again, with the reason, the settings kept and no secret.
    await expect(page.locator('[data-form-error]').textContent()).resolves.toMatch(/auth/);
    expect(await page.locator('#cfg-baseUrl').inputValue()).toBe(cfg.baseUrl);
    expect(await page.locator('#cfg-password').inputValue()).toBe('');
    expect(await page.content()).not.toContain('не-тот-пароль');
    // The refusal is a 422 page on purpose (its load is not counted as a console error); nothing else went wrong.
    expect(tab.errors).toEqual([]);
    await page.locator('#cfg-password').fill(cfg.password);
    await page.locator('#cfg-clientSecret').fill(cfg.clientSecret);
    await Promise.all([page.waitForURL(/\/it\/connections\/[0-9a-f-]{36}\?notice=/), page.getByRole('button', { name: 'Создать' }).click()]);
    createdId = new URL(page.url()).pathname.split('/')[3]!;
    const view = await api<{ title: string; secretsSet: string[]; config: Record<string, unknown> }>(d.baseUrl, d.tokens.admin, `/v1/connections/${createdId}`);
    expect(view.status).toBe(200);
    expect(view.body).toMatchObject({ title: 'Дневник школы', config: { baseUrl: cfg.baseUrl, login: cfg.login } });
    expect(view.body.secretsSet).toEqual(['clientSecret', 'password']);
    expect(await page.locator('[data-secrets-set]').getAttribute('data-secrets-set')).toBe('clientSecret,password');

    await page.getByRole('link', { name: 'Изменить' }).click();
    const html = await page.content();
    for (const secret of sim.secrets()) expect(html).not.toContain(secret);
    expect(await page.locator('#cfg-password').inputValue()).toBe('');
    expect(await page.locator('#cfg-clientSecret').inputValue()).toBe('');
    expect(await page.locator('#cfg-login').inputValue()).toBe(cfg.login);
    await screenshot(page, 'it-connection-form');
    // A new title alone keeps the stored secrets (blank password fields).
    await page.locator('#f-title').fill('Дневник.ру — 9 классов');
    await Promise.all([page.waitForURL(/notice=form\.saved/), page.getByRole('button', { name: 'Сохранить' }).click()]);
    const saved = await api<{ title: string; secretsSet: string[] }>(d.baseUrl, d.tokens.admin, `/v1/connections/${createdId}`);
    expect(saved.body).toMatchObject({ title: 'Дневник.ру — 9 классов', secretsSet: ['clientSecret', 'password'] });
    expect(tab.errors).toEqual([]);
  });

  it('runs a full sync from the browser and watches it finish, with the per-stream counts of GET /v1/sync-runs/{id}', async () => {
    await page.goto(`${d.baseUrl}/it/connections/${createdId}`);
    await page.getByLabel('Режим').selectOption('full');
    await Promise.all([page.waitForURL(/\/it\/runs\/[0-9a-f-]{36}$/), page.getByRole('button', { name: 'Запустить' }).click()]);
    const runId = new URL(page.url()).pathname.split('/')[3]!;
    // The live fragment refreshes itself (htmx) until the run has ended; no reload.
    await page.locator('#run-live[data-run-status="succeeded"], #run-live[data-run-status="partial"], #run-live[data-run-status="failed"]').waitFor({ timeout: 150_000 });
    const run = await api<RunBody>(d.baseUrl, d.tokens.admin, `/v1/sync-runs/${runId}`);
    expect(run.body.status).toBe('succeeded');
    expect(await page.locator('#run-live').getAttribute('data-run-status')).toBe(run.body.status);
    expect(await page.locator('#run-live').getAttribute('hx-trigger')).toBeNull();
    const streams = Object.keys(run.body.counts);
    expect(streams.length).toBeGreaterThan(0);
    expect(await page.locator('.it-stream-table tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-stream')))).toEqual(streams);
    for (const [stream, counts] of Object.entries(run.body.counts)) {
      for (const key of ['created', 'updated', 'unchanged', 'deleted', 'rejected'] as const) {
        expect([stream, key, digits(await page.locator(`.it-stream-table tr[data-stream="${stream}"] td[data-count="${key}"]`).textContent())]).toEqual([stream, key, String(counts[key])]);
      }
    }
    const rejected = Object.values(run.body.counts).reduce((n, c) => n + c.rejected, 0);
    expect(await page.locator('tr[data-rejected]').count()).toBe(Math.min(rejected, 200));
    await screenshot(page, 'it-run');

    // The runs list, filtered by the connection: the API's runs of it, newest first.
    await page.goto(`${d.baseUrl}/it/runs`);
    await page.getByLabel('Подключение').selectOption(createdId);
    await Promise.all([page.waitForURL(/connection=/), page.getByRole('button', { name: 'Фильтр' }).click()]);
    const runs = await api<{ data: RunBody[] }>(d.baseUrl, d.tokens.admin, `/v1/sync-runs?connection=${createdId}`);
    expect(await page.locator('tr[data-run]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-run')))).toEqual(runs.body.data.map((r) => r.id));
    for (const [stream, c] of Object.entries(run.body.counts)) {
      const text = digits(await page.locator(`tr[data-run="${runId}"] li[data-stream="${stream}"]`).textContent());
      expect(text).toBe(`${stream}${c.created}/${c.updated}/${c.rejected}`);
    }
    await page.goto(`${d.baseUrl}/it/runs`);
    await screenshot(page, 'it-runs');

    await page.goto(`${d.baseUrl}/it`);
    expect(await page.locator(`tr[data-connection="${createdId}"] [data-last-status]`).getAttribute('data-last-status')).toBe('succeeded');
    await screenshot(page, 'it-connections');
    expect(tab.errors).toEqual([]);
  });

  it('disables and enables a connection, as the API then shows it', async () => {
    await page.goto(`${d.baseUrl}/it/connections/${createdId}`);
    await Promise.all([page.waitForURL(/notice=it\.connection\.disabledNotice/), page.getByRole('button', { name: 'Отключить' }).click()]);
    expect((await api<{ enabled: boolean }>(d.baseUrl, d.tokens.admin, `/v1/connections/${createdId}`)).body.enabled).toBe(false);
    // A disabled connection is synced only when forced (the API's 409 otherwise).
    expect((await api(d.baseUrl, d.tokens.admin, `/v1/connections/${createdId}/sync`, { method: 'POST', body: '{}' })).status).toBe(409);
    expect(await page.getByLabel('несмотря на отключение').count()).toBe(1);
    await page.goto(`${d.baseUrl}/it`);
    expect(await page.locator(`tr[data-connection="${createdId}"] [data-enabled]`).getAttribute('data-enabled')).toBe('false');
    await page.goto(`${d.baseUrl}/it/connections/${createdId}`);
    await Promise.all([page.waitForURL(/notice=it\.connection\.enabledNotice/), page.getByRole('button', { name: 'Включить' }).click()]);
    expect((await api<{ enabled: boolean }>(d.baseUrl, d.tokens.admin, `/v1/connections/${createdId}`)).body.enabled).toBe(true);
    expect(tab.errors).toEqual([]);
  });

  it('shows a dead-lettered sync and redrives it', async () => {
    broken.setFaults({ maintenance: { requests: Infinity } });
    const queued = await api<{ id: string }>(d.baseUrl, d.tokens.admin, `/v1/connections/${brokenId}/sync`, { method: 'POST', body: '{}' });
    expect(queued.status).toBe(202);
    // Two attempts fail (SYNC_RETRY_LIMIT 1) and the job lands in the dead letters.
    await waitFor('the dead-letter alert', async () => {
      const alerts = await api<{ data: Array<{ kind: string }> }>(d.baseUrl, d.tokens.admin, `/v1/alerts?connection=${brokenId}`);
      return alerts.body.data.some((a) => a.kind === 'dead_letter') ? true : undefined;
    }, 120_000);
    await waitFor('the dead letter', async () => {
      await page.goto(`${d.baseUrl}/it/dead-letters`);
      return (await page.locator('tr[data-dead-run]').count()) > 0 ? true : undefined;
    }, 60_000);
    const deadRuns = await page.locator('tr[data-dead-run]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-dead-run')));
    const failed = await api<{ data: RunBody[] }>(d.baseUrl, d.tokens.admin, `/v1/sync-runs?connection=${brokenId}&status=failed`);
    expect(failed.body.data.map((r) => r.id)).toEqual(expect.arrayContaining(deadRuns));
    await page.goto(`${d.baseUrl}/it`);
    expect(await page.locator(`tr[data-connection="${brokenId}"] [data-alerts]`).getAttribute('data-alerts')).toBe('1');
    broken.setFaults({});
    await page.goto(`${d.baseUrl}/it/dead-letters`);
    await Promise.all([page.waitForURL(/notice=it\.dead\.redriven/), page.getByRole('button', { name: /Отправить заново/ }).click()]);
    expect(await page.locator('[data-dead-empty]').count()).toBe(1);
    const redriven = await waitFor('the redriven run', async () => {
      const all = await api<{ data: RunBody[] }>(d.baseUrl, d.tokens.admin, `/v1/sync-runs?connection=${brokenId}&status=succeeded`);
      return all.body.data[0];
    }, 150_000);
    expect(redriven.status).toBe('succeeded');
    expect(tab.errors).toEqual([]);
  });

  it('lists the school’s webhook endpoints as the API does, with an endpoint’s deliveries, and replays a message', async () => {
    // A message the receiver refused twice (no delivery worker runs here: its rows stand for one).
    const { rows } = await d.rig.db.pool.query<{ id: string }>(
      `INSERT INTO webhook_message (school_id, endpoint_id, event_key, event_type, body, status, attempts, last_status_code)
       VALUES ($1, $2, 'x:test-1', 'mark.created', '{"type":"mark.created"}', 'failed', 2, 503) RETURNING id::text`, [d.school.schoolId, d.school.webhookId]);
    const messageId = rows[0]!.id;
    await d.rig.db.pool.query(
      `INSERT INTO webhook_attempt (school_id, message_id, attempt, trigger, started_at, duration_ms, status_code, succeeded)
       VALUES ($1, $2, 1, 'event', '2025-10-31T08:00:00Z', 120, 503, false), ($1, $2, 2, 'event', '2025-10-31T08:05:00Z', 95, 503, false)`, [d.school.schoolId, messageId]);
    await page.goto(`${d.baseUrl}/it/webhooks`);
    const listed = await api<{ items: Array<{ id: string }> }>(d.baseUrl, d.tokens.admin, `/v1/schools/${d.school.schoolId}/webhooks`);
    expect(await page.locator('tr[data-webhook]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-webhook')))).toEqual(listed.body.items.map((w) => w.id));
    await screenshot(page, 'it-webhooks');
    await page.locator(`tr[data-webhook="${d.school.webhookId}"] a`).click();
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Получатель вебхуков');
    const messages = await api<{ items: Array<{ id: string }> }>(d.baseUrl, d.tokens.admin, `/v1/webhooks/${d.school.webhookId}/messages`);
    expect(await page.locator('tr[data-message]').evaluateAll((r) => r.map((e) => e.getAttribute('data-message')))).toEqual(messages.body.items.map((m) => m.id));
    const attempts = await api<{ items: Array<{ attempt: number }> }>(d.baseUrl, d.tokens.admin, `/v1/webhook-messages/${messageId}/attempts`);
    expect(await page.locator(`tr[data-message="${messageId}"] li[data-attempt]`).evaluateAll((r) => r.map((e) => Number(e.getAttribute('data-attempt'))))).toEqual(attempts.body.items.map((a) => a.attempt));
    await Promise.all([page.waitForURL(/notice=it\.webhook\.replayed/), page.locator(`tr[data-message="${messageId}"]`).getByRole('button', { name: 'Отправить снова' }).click()]);
    const replayed = await api<{ items: Array<{ id: string; status: string; attempts: number }> }>(d.baseUrl, d.tokens.admin, `/v1/webhooks/${d.school.webhookId}/messages`);
    expect(replayed.body.items.find((m) => m.id === messageId)).toMatchObject({ status: 'pending', attempts: 0 });
    await screenshot(page, 'it-webhook');
    // Another school's (or an unknown) endpoint answers 404, as the API does.
    const unknown = await page.goto(`${d.baseUrl}/it/webhooks/00000000-0000-4000-8000-000000000000`);
    expect(unknown?.status()).toBe(404);
    expect(tab.errors).toEqual([]);
  });

  it('creates an API key in the browser (shown once) that works against the API, rotates it and revokes it', async () => {
    await page.goto(`${d.baseUrl}/it/keys`);
    await page.locator('#k-name').fill('Школьный сайт');
    await page.getByRole('button', { name: 'Создать ключ' }).click();
    const key = (await page.locator('[data-new-key]').textContent())!.trim();
    expect(key).toMatch(/^jbk_/);
    const classes = await api<{ data: unknown[] }>(d.baseUrl, key, `/v1/schools/${d.school.schoolId}/classes`);
    expect(classes.status).toBe(200);
    expect(classes.body.data.length).toBeGreaterThan(0);
    // Outside its scopes it is refused.
    expect((await api(d.baseUrl, key, `/v1/connections?school=${d.school.schoolId}`)).status).toBe(403);
    const keys = await api<{ data: Array<{ id: string; name: string }> }>(d.baseUrl, d.tokens.admin, '/v1/api-keys');
    await page.goto(`${d.baseUrl}/it/keys`);
    expect(await page.locator('tr[data-key]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-key')))).toEqual(keys.body.data.map((k) => k.id));
    expect(await page.content()).not.toContain(key);
    await screenshot(page, 'it-keys');
    const old = keys.body.data.find((k) => k.name === 'Школьный сайт')!.id;
    // Rotation: a new key, shown once, that works; the old one keeps working through the overlap.
    await page.locator(`tr[data-key="${old}"]`).getByRole('button', { name: 'Заменить' }).click();
    const rotated = (await page.locator('[data-new-key]').textContent())!.trim();
    expect(rotated).toMatch(/^jbk_/);
    expect(rotated).not.toBe(key);
    expect((await api(d.baseUrl, rotated, `/v1/schools/${d.school.schoolId}/classes`)).status).toBe(200);
    expect((await api(d.baseUrl, key, `/v1/schools/${d.school.schoolId}/classes`)).status).toBe(200);
    const after = await api<{ data: Array<{ id: string; rotatedFrom: string | null }> }>(d.baseUrl, d.tokens.admin, '/v1/api-keys');
    const id = after.body.data.find((k) => k.rotatedFrom === old)!.id;
    await page.goto(`${d.baseUrl}/it/keys`);
    page.once('dialog', (dialog) => void dialog.accept());
    await Promise.all([page.waitForURL(/notice=it\.keys\.revokedNotice/), page.locator(`tr[data-key="${id}"]`).getByRole('button', { name: 'Отозвать' }).click()]);
    expect(await page.locator(`tr[data-key="${id}"] [data-revoked]`).count()).toBe(1);
    expect((await api(d.baseUrl, rotated, `/v1/schools/${d.school.schoolId}/classes`)).status).toBe(401);
    expect(tab.errors).toEqual([]);
  });

  it('changes a user’s roles, as GET /v1/schools/{id}/users then shows them', async () => {
    await page.goto(`${d.baseUrl}/it/users`);
    const before = await api<{ data: Array<{ id: string; login: string; roles: string[] }> }>(d.baseUrl, d.tokens.admin, `/v1/schools/${d.school.schoolId}/users`);
    expect(await page.locator('tr[data-user]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-user')))).toEqual(before.body.data.map((u) => u.id));
    await screenshot(page, 'it-users');
    const deputy = before.body.data.find((u) => u.login === d.logins.deputy)!;
    expect(deputy.roles).toEqual(['deputy']);
    await page.getByRole('link', { name: d.logins.deputy, exact: true }).click();
    await page.getByLabel('директор').check();
    await Promise.all([page.waitForURL(/notice=form\.saved/), page.getByRole('button', { name: 'Сохранить' }).click()]);
    const after = await api<{ data: Array<{ id: string; roles: string[] }> }>(d.baseUrl, d.tokens.admin, `/v1/schools/${d.school.schoolId}/users`);
    const roles = after.body.data.find((u) => u.id === deputy.id)!.roles;
    expect([...roles].sort()).toEqual(['deputy', 'director']);
    expect(await page.locator(`tr[data-user="${deputy.id}"] [data-roles]`).getAttribute('data-roles')).toBe(roles.join(','));
    expect(tab.errors).toEqual([]);
  });

  it('sets the school’s dashboard language, as PATCH /v1/schools/{id} does', async () => {
    await page.goto(`${d.baseUrl}/it/settings`);
    await page.locator('#s-locale').selectOption('ky');
    await Promise.all([page.waitForURL(/notice=form\.saved/), page.locator('form[action="/it/settings"] button[type=submit]').click()]);
    const schools = await api<{ data: Array<{ id: string; uiLocale: string }> }>(d.baseUrl, d.tokens.admin, '/v1/schools');
    expect(schools.body.data.find((s) => s.id === d.school.schoolId)!.uiLocale).toBe('ky');
    expect(await page.locator('html').getAttribute('lang')).toBe('ky');
    await page.locator('#s-locale').selectOption('ru');
    await Promise.all([page.waitForURL(/notice=form\.saved/), page.locator('form[action="/it/settings"] button[type=submit]').click()]);
    expect(await page.locator('html').getAttribute('lang')).toBe('ru');
    expect(tab.errors).toEqual([]);
  });

  it('makes a backup and runs a restore drill from the browser, as GET /v1/backups and the drill\'s own URL then show them', async () => {
    await d.rig.backupJobs.work();
    await page.goto(`${d.baseUrl}/it/backups`);
    expect(await page.locator('tr[data-target]').count()).toBe(2);
    await Promise.all([page.waitForURL(/notice=it\.backups\.queued/), page.locator('[data-backup-now]').click()]);
    // The section polls while the run waits or runs, and stops when it has ended.
    await page.locator('#backups-live[data-backups-busy="false"] [data-last-good]:not([data-last-good=""])').waitFor({ timeout: 240_000 });
    const status = await api<{ lastGood: { name: string }; targets: Array<{ name: string; count: number }> }>(d.baseUrl, d.tokens.admin, '/v1/backups');
    expect(await page.locator('[data-last-good]').getAttribute('data-last-good')).toBe(status.body.lastGood.name);
    for (const target of status.body.targets) expect(digits(await page.locator(`tr[data-target="${target.name}"] [data-count]`).textContent())).toBe(String(target.count));
    expect(status.body.targets.map((x) => x.count)).toEqual([1, 1]);

    await page.locator('form[action="/it/backups/drill"] select[name=target]').selectOption('b');
    await Promise.all([page.waitForURL(/\/it\/backups\/drills\/[0-9a-f-]{36}\?notice=it\.backups\.drillQueued/), page.locator('[data-drill-now]').click()]);
    await page.locator('#drill-live:not([data-drill-status="queued"]):not([data-drill-status="running"])').waitFor({ timeout: 240_000 });
    expect(await page.locator('#drill-live').getAttribute('data-drill-status')).toBe('passed');
    const id = new URL(page.url()).pathname.split('/').pop()!;
    const drill = await api<{ status: string; target: string; report: { tables: Array<{ table: string; restored: number }> } }>(d.baseUrl, d.tokens.admin, `/v1/backups/restore-drills/${id}`);
    expect(drill.body).toMatchObject({ status: 'passed', target: 'b' });
    const marks = drill.body.report.tables.find((x) => x.table === 'mark')!;
    expect(digits(await page.locator('tr[data-table="mark"] [data-restored]').textContent())).toBe(String(marks.restored));
    expect(await page.locator('[data-chain="ok"]').count()).toBe(1);
    await screenshot(page, 'it-backup-drill');
    // The landing page's card: the last good backup, linked to the backups page.
    await page.goto(`${d.baseUrl}/it`);
    expect(await page.locator('[data-backup-health]').getAttribute('data-backup-health')).toBe('ok');
    expect(await page.locator('[data-backup-health] a[href="/it/backups"]').count()).toBe(1);
    expect(tab.errors).toEqual([]);
  });

  it('answers 404 for an unknown connection or run, and refuses a teacher, as the API does', async () => {
    const unknown = '00000000-0000-4000-8000-000000000000';
    for (const path of [`/it/connections/${unknown}`, `/it/connections/${unknown}/edit`, `/it/runs/${unknown}`]) {
      expect([path, (await page.goto(`${d.baseUrl}${path}`))?.status()]).toEqual([path, 404]);
    }
    expect((await api(d.baseUrl, d.tokens.admin, `/v1/sync-runs/${unknown}`)).status).toBe(404);
    const teacher = await openTab(d.browser);
    try {
      await signIn(teacher.page, d.baseUrl, d.logins.teacher);
      expect((await teacher.page.goto(`${d.baseUrl}/it`))?.status()).toBe(403);
      // The connection of the teacher's own school: refused as the API refuses it.
      const apiStatus = (await api(d.baseUrl, d.tokens.teacher, `/v1/connections/${createdId}`)).status;
      expect(apiStatus).toBe(403);
      expect((await teacher.page.goto(`${d.baseUrl}/it/connections/${createdId}`))?.status()).toBe(apiStatus);
      expect((await teacher.page.goto(`${d.baseUrl}/it/runs`))?.status()).toBe(403);
      expect(teacher.errors).toEqual([]);
    } finally {
      await teacher.close();
    }
    tab.errors.length = 0;
  });

  it('is usable at a phone’s width', async () => {
    const phone = await openTab(d.browser, { width: 390, height: 844 });
    try {
      await signIn(phone.page, d.baseUrl, d.logins.admin);
      expect(await phone.page.locator('tr[data-connection]').count()).toBeGreaterThan(0);
      await screenshot(phone.page, 'it-connections-phone');
      await phone.page.goto(`${d.baseUrl}/it/connections/${createdId}`);
      await screenshot(phone.page, 'it-connection-phone');
      expect(phone.errors).toEqual([]);
    } finally {
      await phone.close();
    }
  });
});
