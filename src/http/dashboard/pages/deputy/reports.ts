import { visibilityOf, visibleClass } from '../../../../auth/access.js';
import { permit } from '../../../../auth/caller.js';
import { ARCHIVE_KINDS, type ArchiveKind } from '../../../../archive/store.js';
import { DEFINITIONS, REPORT_KINDS, type ReportKind } from '../../../../reports/kinds.js';
import { archivePage } from '../../../routes/archive.js';
import { mayReport } from '../../../routes/reports.js';
import type { PageContext, PageResult } from '../../context.js';
import { html, query, type Html } from '../../html.js';
import type { Pages } from '../../pages.js';
import type { DashboardDeps } from '../../router.js';
import { param, periodSelect, periodsOf, type PeriodOption } from './shared.js';

const FORMATS = ['pdf', 'xlsx'] as const;
const ARCHIVE_PAGE = 25;

/**
 * The reports to download: each kind of src/reports/kinds.ts for the class and period chosen, as links to
 * GET /v1/reports/{kind} (the session's cookie authenticates them), the class summary sheets, and the
 * archive (GET /v1/archive's page) with its downloads. Which kinds a caller has is the API's own rule (mayReport).
 */
export function registerReports(pages: Pages, deps: DashboardDeps): void {
  pages.get('/reports', async (ctx) => reportsPage(ctx, deps));
}

async function reportsPage(ctx: PageContext, deps: DashboardDeps): Promise<PageResult> {
  const { t } = ctx;
  const grant = permit(ctx.caller, ctx.school.id, 'reports:read');
  const visibility = await visibilityOf(deps.pool, grant);
  const classes = (await deps.schools.classes(ctx.school.id)).filter((c) => c.kind === 'class' && visibleClass(visibility, c.id));
  const { periods, chosen } = await periodsOf(deps.pool, ctx);
  const classId = classes.some((c) => c.id === param(ctx.req.query.class)) ? param(ctx.req.query.class) : (!visibility.whole && classes.length === 1 ? classes[0]!.id : '');
  const kindAsked = param(ctx.req.query.kind);
  const kind = (REPORT_KINDS as readonly string[]).includes(kindAsked) ? (kindAsked as ReportKind) : undefined;
  const format = param(ctx.req.query.format) === 'xlsx' ? 'xlsx' : 'pdf';
  const available = new Map<ReportKind, boolean>();
  for (const k of REPORT_KINDS) {
    available.set(k, await mayReport(deps.pool, ctx.caller, ctx.school.id, k, classId || undefined).then(() => true, () => false));
  }
  const link = (k: ReportKind, f: string) => `/v1/reports/${k}${query({ school: ctx.school.id, class: classId || undefined, period: chosen?.id, format: f })}`;
  const missing = (k: ReportKind) => (DEFINITIONS[k].needsClass && !classId ? t('deputy.reports.needsClass') : DEFINITIONS[k].needsPeriod && !chosen ? t('deputy.reports.needsPeriod') : undefined);

  const prepared = kind ? (() => {
    const why = !available.get(kind) ? t('deputy.reports.notYours') : missing(kind);
    return why ? html`<p class="warning" id="prepared" role="status">${why}</p>`
      : html`<p class="notice" id="prepared" role="status">${t('deputy.reports.ready', { kind: t(`deputy.reports.kind.${kind}`) })}
        <a class="button" href="${link(kind, format)}" download data-report="${kind}" data-format="${format}">${t('deputy.reports.download', { format: format.toUpperCase() })}</a></p>`;
  })() : '';

  const body = html`
    <h1>${t('deputy.reports.title')}</h1>
    <form method="get" action="/reports" class="filters deputy-filters" aria-label="${t('deputy.reports.form')}">
      <label>${t('deputy.reports.kind')}<select name="kind">${REPORT_KINDS.filter((k) => available.get(k) || !visibility.whole).map((k) => html`<option value="${k}"${k === kind ? html` selected` : ''}>${t(`deputy.reports.kind.${k}`)}</option>`)}</select></label>
      <label>${t('deputy.compliance.class')}<select name="class">${visibility.whole ? html`<option value="">${t('deputy.reports.wholeSchool')}</option>` : ''}${classes.map((c) => html`<option value="${c.id}"${c.id === classId ? html` selected` : ''}>${c.name}</option>`)}</select></label>
      ${periodSelect(ctx, periods, chosen?.id)}
      <fieldset class="deputy-formats"><legend>${t('deputy.reports.format')}</legend>
        ${FORMATS.map((f) => html`<label class="check"><input type="radio" name="format" value="${f}"${f === format ? html` checked` : ''}> ${f.toUpperCase()}</label>`)}</fieldset>
      <button type="submit">${t('deputy.reports.prepare')}</button>
    </form>
    ${prepared}
    <section aria-labelledby="kinds-h">
      <h2 id="kinds-h">${t('deputy.reports.all', { period: chosen?.title ?? '—', class: classes.find((c) => c.id === classId)?.name ?? t('deputy.reports.wholeSchool') })}</h2>
      <div class="table-wrap"><table id="report-kinds">
        <thead><tr><th scope="col">${t('deputy.reports.kind')}</th><th scope="col">${t('deputy.reports.about')}</th><th scope="col">${t('form.download')}</th></tr></thead>
        <tbody>${REPORT_KINDS.filter((k) => available.get(k) || !classId).map((k) => {
          const why = !available.get(k) ? t('deputy.reports.notYours') : missing(k);
          return html`<tr data-kind="${k}"><th scope="row">${t(`deputy.reports.kind.${k}`)}</th><td class="muted">${t(`deputy.reports.about.${k}`)}</td>
            <td>${why ? html`<span class="muted">${why}</span>` : FORMATS.map((f) => html`<a href="${link(k, f)}" download data-report="${k}" data-format="${f}" aria-label="${t(`deputy.reports.kind.${k}`)}, ${f.toUpperCase()}">${f.toUpperCase()}</a> `)}</td></tr>`;
        })}</tbody>
      </table></div>
    </section>
    ${summarySheets(ctx, classes.filter((c) => visibility.whole || visibility.scope.classes.has(c.id)))}
    ${grant.permissions.has('archive:read') && visibility.whole ? await archiveSection(ctx, deps, periods) : ''}`;
  return { title: t('deputy.reports.title'), body };
}

function summarySheets(ctx: PageContext, classes: Array<{ id: string; name: string; academicYear: string; pupils: number }>): Html | string {
  const { t, fmt } = ctx;
  if (classes.length === 0) return '';
  return html`<section aria-labelledby="summary-h">
    <h2 id="summary-h">${t('deputy.reports.summary')}</h2>
    <p class="muted">${t('deputy.reports.summary.hint')}</p>
    <div class="table-wrap"><table id="summary-sheets">
      <thead><tr><th scope="col">${t('deputy.compliance.class')}</th><th scope="col">${t('deputy.reports.year')}</th><th scope="col" class="num">${t('deputy.compliance.pupils')}</th><th scope="col">${t('form.download')}</th></tr></thead>
      <tbody>${classes.map((c) => html`<tr data-class="${c.id}"><th scope="row">${c.name}</th><td>${c.academicYear}</td><td class="num">${fmt.number(c.pupils)}</td>
        <td>${FORMATS.map((f) => html`<a href="/v1/classes/${c.id}/summary-sheet${query({ format: f })}" download data-summary="${c.id}" data-format="${f}" aria-label="${c.name}, ${f.toUpperCase()}">${f.toUpperCase()}</a> `)}</td></tr>`)}</tbody>
    </table></div>
  </section>`;
}

async function archiveSection(ctx: PageContext, deps: DashboardDeps, periods: PeriodOption[]): Promise<Html> {
  const { t, fmt } = ctx;
  const kindAsked = param(ctx.req.query.akind);
  const kind = (ARCHIVE_KINDS as readonly string[]).includes(kindAsked) ? (kindAsked as ArchiveKind) : undefined;
  const periodAsked = param(ctx.req.query.aperiod);
  const periodId = periods.some((p) => p.id === periodAsked) ? periodAsked : undefined;
  const cursor = /^[^|]{1,40}\|[0-9a-f-]{36}$/.test(param(ctx.req.query.cursor)) ? param(ctx.req.query.cursor) : undefined;
  const page = await archivePage(deps.pool, { schoolIds: [ctx.school.id], kind, periodId, limit: ARCHIVE_PAGE, cursor });
  const titles = new Map(periods.map((p) => [p.id, p.title]));
  const keep = { period: param(ctx.req.query.period) || undefined, class: param(ctx.req.query.class) || undefined, akind: kind, aperiod: periodId };
  return html`<section aria-labelledby="archive-h">
    <h2 id="archive-h">${t('deputy.archive.title')}</h2>
    <form method="get" action="/reports#archive-h" class="filters deputy-filters">
      ${keep.period ? html`<input type="hidden" name="period" value="${keep.period}">` : ''}${keep.class ? html`<input type="hidden" name="class" value="${keep.class}">` : ''}
      <label>${t('deputy.archive.kind')}<select name="akind"><option value="">${t('form.all')}</option>${ARCHIVE_KINDS.map((k) => html`<option value="${k}"${k === kind ? html` selected` : ''}>${t(`deputy.archive.kind.${k}`)}</option>`)}</select></label>
      ${periodSelect(ctx, periods, periodId, 'aperiod', true)}
      <button type="submit">${t('form.filter')}</button>
    </form>
    ${page.data.length === 0 ? html`<p class="muted">${t('list.empty')}</p>` : html`
    <div class="table-wrap"><table id="archive" class="deputy-compact">
      <thead><tr><th scope="col">${t('deputy.archive.item')}</th><th scope="col">${t('deputy.archive.kind')}</th><th scope="col">${t('deputy.period.label')}</th>
        <th scope="col" class="num">${t('deputy.archive.size')}</th><th scope="col">${t('deputy.archive.filed')}</th><th scope="col">${t('deputy.archive.sha')}</th><th scope="col">${t('form.download')}</th></tr></thead>
      <tbody>${page.data.map((i) => html`<tr data-item="${i.id}" data-kind="${i.kind}">
        <th scope="row">${i.title}</th><td>${t(`deputy.archive.kind.${i.kind}`)}</td><td>${i.periodId ? titles.get(i.periodId) ?? '—' : '—'}</td>
        <td class="num">${fmt.number(Math.ceil(i.size / 1024))} ${t('deputy.archive.kb')}</td><td>${fmt.dateTime(i.createdAt)}</td>
        <td><code title="${i.sha256}">${i.sha256.slice(0, 12)}…</code></td>
        <td><a href="/v1/archive/${i.id}/content" download aria-label="${t('form.download')} ${i.filename}">${t('form.download')}</a></td></tr>`)}</tbody>
    </table></div>`}
    <nav class="pager">${cursor ? html`<a href="/reports${query({ ...keep })}#archive-h">${t('list.first')}</a>` : ''}
      ${page.nextCursor ? html`<a href="/reports${query({ ...keep, cursor: page.nextCursor })}#archive-h">${t('list.next')}</a>` : ''}</nav>
  </section>`;
}
