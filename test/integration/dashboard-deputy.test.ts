import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { PNG } from 'pngjs';
import type { CloseView } from '../../src/archive/close.js';
import type { ArchiveItemView } from '../../src/archive/store.js';
import type { ComplianceRow, ComplianceView } from '../../src/checks/compliance.js';
import { api, openTab, screenshot, SCREENSHOTS, signIn, startDashboardRig, type DashboardRig } from '../support/browser.js';

/**
 * The deputy director's walk in Chromium: the compliance monitor against GET /v1/schools/{id}/compliance
 * (the period's rows, and each week's figures of its trend chart), the period close step by step against
 * GET /v1/schools/{id}/periods/{periodId}/close, and the reports' downloads.
 */
let d: DashboardRig;
beforeAll(async () => {
  d = await startDashboardRig('deputy');
});
afterAll(async () => {
  await d?.close();
});

const deputyApi = <T>(path: string, init?: RequestInit) => api<T>(d.baseUrl, d.tokens.deputy, path, init);

/** The school-wide sums of a view's rows, as the page's totals and the trend's points show them. */
function sums(rows: ComplianceRow[]) {
  const sum = (f: (r: ComplianceRow) => number) => rows.reduce((n, r) => n + f(r), 0);
  const share = (part: number, whole: number) => (whole === 0 ? 0 : Math.round((part / whole) * 1000) / 1000);
  return {
    pupils: sum((r) => r.pupils), lessons: sum((r) => r.lessons), lateEntries: sum((r) => r.lateEntries),
    shareWithoutMarks: share(sum((r) => r.pupilsWithoutMarks), sum((r) => r.pupils)),
    shareWithOneMark: share(sum((r) => r.pupilsWithOneMark), sum((r) => r.pupils)),
    shareWithoutTopic: share(sum((r) => r.lessonsWithoutTopic), sum((r) => r.lessons)),
  };
}

/** The `data-value`s of a table row's cells, by field. */
async function fieldsOf(page: Page, rowSelector: string): Promise<Record<string, number>> {
  return page.locator(rowSelector).evaluate((row) => Object.fromEntries(Array.from(row.querySelectorAll('[data-field]')).map((c) => [c.getAttribute('data-field'), Number(c.getAttribute('data-value'))])));
}

/** The page is no wider than the window (wide tables scroll inside their .table-wrap); else the elements that stick out. */
async function fits(page: Page, width: number): Promise<void> {
  const wide = await page.evaluate((w) => (document.documentElement.scrollWidth <= w ? []
    : Array.from(document.querySelectorAll('body *')).filter((e) => e.getBoundingClientRect().right > w + 1 && !e.closest('.table-wrap') && !e.closest('.u-wrap'))
      .slice(0, 6).map((e) => `${e.tagName.toLowerCase()}.${e.className} ${Math.round(e.getBoundingClientRect().right)}`)), width);
  expect(wide).toEqual([]);
}

/** A screenshot that is the window's width (nothing sticks out, not even an absolutely placed element). */
async function shot(page: Page, name: string, width: number): Promise<void> {
  await fits(page, width);
  await screenshot(page, name);
  const png = PNG.sync.read(readFileSync(path.join(SCREENSHOTS, `${name}.png`)));
  expect(png.width).toBe(width);
}

describe('the deputy director’s pages', () => {
  it('shows the compliance monitor with the API’s figures, and its trend as a chart and a table of the week-by-week service figures', async () => {
    const tab = await openTab(d.browser);
    try {
      const { page } = tab;
      await signIn(page, d.baseUrl, d.logins.deputy);
      expect(new URL(page.url()).pathname).toBe('/compliance');
      const periodId = await page.locator('select[name=period]').inputValue();
      expect(periodId).toMatch(/^[0-9a-f-]{36}$/);
      const { status, body: view } = await deputyApi<ComplianceView>(`/v1/schools/${d.school.schoolId}/compliance?period=${periodId}`);
      expect(status).toBe(200);
      expect(view.rows.length).toBeGreaterThan(0);
      expect(await page.locator('[data-window]').getAttribute('data-window')).toBe(`${view.from}/${view.to}`);

      // The rows of the first page: the same pairs in the same order, with the same figures.
      const shown = await page.locator('#compliance-rows tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-row')));
      expect(shown).toEqual(view.rows.slice(0, 40).map((r) => `${r.classId}:${r.subjectId}`));
      for (const r of view.rows.slice(0, 6)) {
        const cells = await fieldsOf(page, `#compliance-rows tr[data-row="${r.classId}:${r.subjectId}"]`);
        expect(cells).toMatchObject({
          pupils: r.pupils, shareWithoutMarks: r.shareWithoutMarks, shareWithOneMark: r.shareWithOneMark, lessons: r.lessons,
          shareWithoutTopic: r.shareWithoutTopic, lateEntries: r.lateEntries, open: Object.values(r.open).reduce((n, x) => n + x, 0),
        });
      }
      // The totals over the school.
      const total = sums(view.rows);
      const figure = async (name: string) => (await page.locator(`[data-total="${name}"] strong`).textContent())!.replace(/\s/g, '');
      expect(await figure('lateEntries')).toBe(String(total.lateEntries));
      expect(await figure('shareWithoutTopic')).toBe(`${(total.shareWithoutTopic * 100).toFixed(1).replace('.', ',')}%`);
      // Findings by rule.
      for (const r of view.byRule) {
        expect(await fieldsOf(page, `#compliance-rules tr[data-rule="${r.rule}"]`)).toEqual({ open: r.open, acknowledged: r.acknowledged, resolved: r.resolved, dismissed: r.dismissed });
      }

      // The chart is drawn (uPlot's canvas inside the chart's element) and its table is readCompliance week by week.
      await page.locator('#compliance-trend canvas').first().waitFor();
      expect(await page.locator('#compliance-trend').getAttribute('data-drawn')).toBe('true');
      const weeks = await page.locator('#trend-table tbody tr').evaluateAll((trs) => trs.map((tr) => ({ from: tr.getAttribute('data-week')!, to: tr.getAttribute('data-to')! })));
      expect(weeks.length).toBeGreaterThan(1);
      expect(weeks[0]!.from).toBe(view.from);
      expect(weeks[weeks.length - 1]!.to).toBe(view.to < '2025-10-31' ? view.to : '2025-10-31');
      for (let i = 1; i < weeks.length; i++) expect(new Date(`${weeks[i]!.from}T00:00:00Z`).getUTCDay()).toBe(1);
      for (const week of weeks) {
        const { body: weekView } = await deputyApi<ComplianceView>(`/v1/schools/${d.school.schoolId}/compliance?from=${week.from}&to=${week.to}`);
        expect(await fieldsOf(page, `#trend-table tr[data-week="${week.from}"]`)).toEqual(sums(weekView.rows));
      }
      // The chart's data is the table's.
      const chart = JSON.parse((await page.locator('#compliance-trend-data').textContent())!) as { series: Array<{ values: number[] }> };
      expect(chart.series[0]!.values.length).toBe(weeks.length);
      // The trend comes after the page (htmx, once it has painted); without scripts the page links to it in place.
      const plain = await (await page.request.get(`${d.baseUrl}/compliance`)).text();
      expect(plain).toContain('hx-get="/compliance/trend');
      expect(plain).not.toContain('id="trend-table"');
      const inline = await page.request.get(`${d.baseUrl}/compliance/trend`);
      expect(new URL(inline.url()).searchParams.get('trend')).toBe('inline');
      expect(await inline.text()).toContain('id="trend-table"');

      // One class chosen: its rows only.
      const classId = view.rows[0]!.classId;
      await page.locator('select[name=class]').selectOption(classId);
      await Promise.all([page.waitForURL((u) => u.searchParams.get('class') === classId), page.getByRole('button', { name: 'Применить' }).click()]);
      const classRows = await page.locator('#compliance-rows tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-row')));
      expect(classRows).toEqual(view.rows.filter((r) => r.classId === classId).map((r) => `${r.classId}:${r.subjectId}`));
      await page.locator('#compliance-trend canvas').first().waitFor();

      await page.goto(`${d.baseUrl}/compliance?period=${periodId}`);
      await page.locator('#compliance-trend canvas').first().waitFor();
      await shot(page, 'deputy-compliance', 1280);
      // Another period: the API's figures for it.
      const options = await page.locator('select[name=period] option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
      const other = options.find((o) => o !== periodId)!;
      await page.goto(`${d.baseUrl}/compliance?period=${other}`);
      const { body: otherView } = await deputyApi<ComplianceView>(`/v1/schools/${d.school.schoolId}/compliance?period=${other}`);
      expect(await page.locator('[data-window]').getAttribute('data-window')).toBe(`${otherView.from}/${otherView.to}`);
      expect(await page.locator('#compliance-rows tbody tr').count()).toBe(Math.min(40, otherView.rows.length));
      expect(tab.errors).toEqual([]);
    } finally {
      await tab.close();
    }
  });

  it('fits a phone’s width, the chart drawn', async () => {
    const tab = await openTab(d.browser, { width: 390, height: 844 });
    try {
      const { page } = tab;
      await signIn(page, d.baseUrl, d.logins.deputy);
      await page.locator('#compliance-trend canvas').first().waitFor();
      await shot(page, 'deputy-compliance-phone', 390);
      expect(await page.locator('#compliance-trend').evaluate((e) => e.scrollWidth)).toBeLessThanOrEqual(390);
      expect(tab.errors).toEqual([]);
    } finally {
      await tab.close();
    }
  });

  it('closes the first quarter step by step, each step as the API reports it, and links the sealed printouts', async () => {
    const tab = await openTab(d.browser);
    try {
      const { page } = tab;
      const { schoolId, periodId } = d.school;
      const closeApi = async () => (await deputyApi<CloseView>(`/v1/schools/${schoolId}/periods/${periodId}/close`)).body;
      const stepState = (step: string) => page.locator(`li[data-step="${step}"]`).getAttribute('data-state');
      /** Each step on the page: its latest whole-school row's who and when, as the API lists them. */
      const sameSteps = async (close: CloseView) => {
        for (const step of ['checks', 'lock', 'seal']) {
          const rows = close.steps.filter((s) => s.step === step && s.classId === null);
          const who = page.locator(`li[data-step="${step}"] [data-actor]`);
          if (rows.length === 0) expect(await who.count()).toBe(0);
          else expect({ actor: await who.getAttribute('data-actor'), at: await who.getAttribute('data-at') }).toEqual({ actor: rows[rows.length - 1]!.actor, at: rows[rows.length - 1]!.at });
        }
        expect(await page.locator('#close-status').getAttribute('data-status')).toBe(close.status);
        expect(await page.locator('#findings').getAttribute('data-severe')).toBe(String(close.findings.severe));
        const waiting = await page.locator('#waiting li').evaluateAll((lis) => lis.map((li) => li.getAttribute('data-waiting')));
        expect(waiting).toEqual(close.waitingFor.map((w) => w.split(':')[0]));
      };
      await signIn(page, d.baseUrl, d.logins.deputy);
      await page.goto(`${d.baseUrl}/close`);
      const row = page.locator(`#closes tr[data-period="${periodId}"]`);
      expect(await row.getAttribute('data-status')).toBe('none');
      await Promise.all([page.waitForURL((u) => u.pathname === `/close/${periodId}`), row.getByRole('button', { name: 'Начать закрытие' }).click()]);
      await expect(page.getByRole('status').first().textContent()).resolves.toContain('Проверки за период выполнены');
      let close = await closeApi();
      expect(close.status).toBe('open');
      await sameSteps(close);
      expect(await stepState('checks')).toBe('done');
      expect(await stepState('lock')).toBe('current');
      // A step out of order is refused as the API refuses it (409), the reason shown on the close's page.
      const early = await page.request.post(`${d.baseUrl}/close/${periodId}/seal`, { form: {}, maxRedirects: 0 });
      expect(early.status()).toBe(409);
      expect(await early.text()).toContain('data-refused="seal"');
      expect((await closeApi()).status).toBe('open');

      // The lock: with a reason when the API would refuse without one (open severe findings).
      const severe = close.findings.severe;
      if (severe > 0) {
        expect(await page.locator('li[data-step="lock"] textarea[name=override]').getAttribute('required')).not.toBeNull();
        const refused = await deputyApi(`/v1/schools/${schoolId}/periods/${periodId}/close/lock`, { method: 'POST', body: '{}' });
        expect(refused.status).toBe(409);
      }
      await page.locator('li[data-step="lock"] textarea[name=override]').fill('Проверено заместителем: замечания по четверти разобраны');
      await Promise.all([page.waitForURL((u) => u.searchParams.get('notice') === 'deputy.close.done.lock'), page.getByRole('button', { name: 'Заблокировать период' }).click()]);
      close = await closeApi();
      expect(close.status).toBe('locked');
      expect(close.overrideReason).toBe('Проверено заместителем: замечания по четверти разобраны');
      await sameSteps(close);
      expect(await stepState('lock')).toBe('done');
      expect(await page.locator('[data-override]').textContent()).toContain(close.overrideReason!);

      await Promise.all([page.waitForURL((u) => u.searchParams.get('notice') === 'deputy.close.done.seal'), page.getByRole('button', { name: 'Опечатать' }).click()]);
      close = await closeApi();
      expect(close.status).toBe('sealed');
      await sameSteps(close);
      expect(await stepState('seal')).toBe('done');
      expect(await page.locator('#seal').getAttribute('data-code')).toBe(close.seal!.code);
      await shot(page, 'deputy-close-sealed', 1280);

      // A confirmation taken on paper, recorded by the deputy: the API lists it, the step counts it.
      const confirmClass = await page.locator('select[name=classId][required] option').first().getAttribute('value');
      const confirmSubject = await page.locator('select[name=subjectId] option').nth(1).getAttribute('value');
      await page.locator('select[name=step]').selectOption('finals');
      await page.locator('select[name=classId][required]').selectOption(confirmClass!);
      await page.locator('select[name=subjectId]').selectOption(confirmSubject!);
      await page.getByLabel('Примечание').fill('подпись на бумаге');
      await Promise.all([page.waitForURL((u) => u.searchParams.get('notice') === 'deputy.close.done.confirm'), page.getByRole('button', { name: 'Подтвердить', exact: true }).click()]);
      close = await closeApi();
      expect(close.steps.filter((s) => s.step === 'confirm_finals')).toEqual([expect.objectContaining({ classId: confirmClass, subjectId: confirmSubject, detail: { note: 'подпись на бумаге' } })]);
      expect(await page.locator('li[data-step="confirm_finals"]').textContent()).toContain('1 подтверждение');
      await sameSteps(close);

      // Print one class (a whole school takes minutes on a small machine): its printouts are filed and linked.
      const classOption = await page.locator('li[data-step="print"] select[name=classId] option').nth(1).getAttribute('value');
      await page.locator('li[data-step="print"] select[name=classId]').selectOption(classOption!);
      await Promise.all([page.waitForURL((u) => u.searchParams.get('notice') === 'deputy.close.done.print', { timeout: 170_000 }), page.getByRole('button', { name: 'Напечатать' }).click()]);
      close = await closeApi();
      await sameSteps(close);
      expect(close.steps.some((s) => s.step === 'print' && s.classId === classOption)).toBe(true);
      const { body: archive } = await deputyApi<{ data: ArchiveItemView[] }>(`/v1/archive?school=${schoolId}&period=${periodId}&limit=30`);
      const items = await page.locator('#printouts tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-item')));
      expect(items).toEqual(archive.data.map((i) => i.id));
      expect(archive.data.some((i) => i.kind === 'journal_pdf' && i.classGroupId === classOption)).toBe(true);
      const pdf = archive.data.find((i) => i.kind === 'journal_pdf')!;
      expect(await page.locator(`#printouts tr[data-item="${pdf.id}"] td`).nth(2).textContent()).toBe(close.seal!.code);
      const href = await page.locator(`#printouts tr[data-item="${pdf.id}"] a`).getAttribute('href');
      const file = await page.request.get(`${d.baseUrl}${href}`);
      expect(file.status()).toBe(200);
      expect(file.headers()['content-type']).toContain('application/pdf');
      expect((await file.body()).subarray(0, 5).toString()).toBe('%PDF-');
      // The backup is not configured in this process: the page says so rather than offering it.
      expect(await page.locator('li[data-step="backup"] button').count()).toBe(0);
      await shot(page, 'deputy-close', 1280);

      await page.goto(`${d.baseUrl}/close`);
      expect(await page.locator(`#closes tr[data-period="${periodId}"]`).getAttribute('data-status')).toBe('sealed');
      // A period that is not the school's: 404, as the API answers.
      const unknown = await page.goto(`${d.baseUrl}/close/00000000-0000-4000-8000-000000000000`);
      expect(unknown!.status()).toBe(404);
      expect(tab.errors).toEqual([]);
    } finally {
      await tab.close();
    }
  });

  it('links every report to its download with the right content type, and lists the archive as the API does', async () => {
    const tab = await openTab(d.browser);
    try {
      const { page } = tab;
      await signIn(page, d.baseUrl, d.logins.deputy);
      await page.goto(`${d.baseUrl}/reports`);
      const progress = await page.locator('#report-kinds tr[data-kind="progress"] a[data-format="pdf"]').getAttribute('href');
      const pdf = await page.request.get(`${d.baseUrl}${progress}`);
      expect(pdf.status()).toBe(200);
      expect(pdf.headers()['content-type']).toContain('application/pdf');
      const attendance = await page.locator('#report-kinds tr[data-kind="attendance"] a[data-format="xlsx"]').getAttribute('href');
      const xlsx = await page.request.get(`${d.baseUrl}${attendance}`);
      expect(xlsx.status()).toBe(200);
      expect(xlsx.headers()['content-type']).toContain('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
      expect((await xlsx.body()).subarray(0, 2).toString()).toBe('PK');

      // The form: a kind, a class, a format → a download link; the browser downloads it.
      await page.locator('select[name=kind]').selectOption('journal_fill');
      await page.locator('select[name=class]').selectOption(d.school.classId);
      await page.getByRole('radio', { name: 'XLSX' }).check();
      await Promise.all([page.waitForURL((u) => u.searchParams.get('kind') === 'journal_fill'), page.getByRole('button', { name: 'Подготовить ссылку' }).click()]);
      const link = page.locator('#prepared a[data-report="journal_fill"]');
      expect(await link.getAttribute('href')).toContain(`class=${d.school.classId}`);
      const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
      expect(download.suggestedFilename()).toMatch(/\.xlsx$/);

      // The class summary sheet.
      const summary = await page.locator(`#summary-sheets tr[data-class="${d.school.classId}"] a[data-format="pdf"]`).getAttribute('href');
      const sheet = await page.request.get(`${d.baseUrl}${summary}`);
      expect(sheet.status()).toBe(200);
      expect(sheet.headers()['content-type']).toContain('application/pdf');

      // The archive: the API's first page, newest first.
      const { body: archive } = await deputyApi<{ data: ArchiveItemView[] }>(`/v1/archive?school=${d.school.schoolId}&limit=25`);
      const items = await page.locator('#archive tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-item')));
      expect(items).toEqual(archive.data.map((i) => i.id));
      expect(items).toContain(d.school.archiveId);
      await shot(page, 'deputy-reports', 1280);
      expect(tab.errors).toEqual([]);
    } finally {
      await tab.close();
    }
  });

  it('gives a class teacher the reports of their own class only, as the API does', async () => {
    const tab = await openTab(d.browser);
    try {
      const { page } = tab;
      await signIn(page, d.baseUrl, d.logins.classTeacher);
      await page.goto(`${d.baseUrl}/reports`);
      const classes = await page.locator('select[name=class] option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
      expect(classes).toEqual([d.school.classId]);
      // The school-wide activity is not theirs (the API answers 403), so the page offers no link to it.
      expect(await page.locator('#report-kinds tr[data-kind="user_activity"] a').count()).toBe(0);
      expect((await api(d.baseUrl, d.tokens.classTeacher, `/v1/reports/user_activity?school=${d.school.schoolId}&class=${d.school.classId}&format=json`)).status).toBe(403);
      const href = await page.locator('#report-kinds tr[data-kind="attendance"] a[data-format="pdf"]').getAttribute('href');
      expect(href).toContain(`class=${d.school.classId}`);
      const file = await page.request.get(`${d.baseUrl}${href}`);
      expect(file.status()).toBe(200);
      expect(file.headers()['content-type']).toContain('application/pdf');
      // No archive for a class teacher (archive:read is the school's staff's).
      expect(await page.locator('#archive-h').count()).toBe(0);
      expect(tab.errors).toEqual([]);
    } finally {
      await tab.close();
    }
  });

  it('speaks Kyrgyz when the school or the visitor chooses it', async () => {
    const tab = await openTab(d.browser);
    try {
      const { page } = tab;
      await signIn(page, d.baseUrl, d.logins.deputy);
      await page.getByLabel('Язык').selectOption('ky');
      await page.waitForFunction(() => document.documentElement.lang === 'ky');
      for (const [path, heading] of [['/compliance', 'Журналды жүргүзүү мониторинги'], ['/close', 'Мезгилди жабуу'], ['/reports', 'Отчеттор']] as const) {
        await page.goto(`${d.baseUrl}${path}`);
        expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe(heading);
      }
      await page.goto(`${d.baseUrl}/close/${d.school.periodId}`);
      expect(await page.locator('li[data-step="lock"] strong').first().textContent()).toBe('Мезгилди бөгөттөө');
      expect(tab.errors).toEqual([]);
    } finally {
      await tab.close();
    }
  });

  it('keeps the monitor and the close to the API’s permissions: a subject teacher is refused', async () => {
    const tab = await openTab(d.browser);
    try {
      const { page } = tab;
      await signIn(page, d.baseUrl, d.logins.teacher);
      const compliance = await page.goto(`${d.baseUrl}/compliance`);
      expect(compliance!.status()).toBe(403);
      const close = await page.goto(`${d.baseUrl}/close/${d.school.periodId}`);
      expect(close!.status()).toBe(200);
      expect(await page.getByRole('button', { name: 'Заблокировать период' }).count()).toBe(0);
      const reports = await page.goto(`${d.baseUrl}/reports`);
      expect(reports!.status()).toBe(403);
    } finally {
      await tab.close();
    }
  });
});
