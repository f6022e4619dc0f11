import { permit } from '../../../../auth/caller.js';
import { complianceTotals, readCompliance, readComplianceTrend, type ComplianceRow, type ComplianceTotals } from '../../../../checks/compliance.js';
import { assetUrl } from '../../assets.js';
import type { PageContext, PageResult } from '../../context.js';
import { html, jsonData, query, type Html } from '../../html.js';
import type { Pages } from '../../pages.js';
import type { DashboardDeps } from '../../router.js';
import { pageParam, pager, param, periodSelect, periodsOf } from './shared.js';

/** Rows of the class × subject table per page. */
export const COMPLIANCE_PAGE_SIZE = 40;

/**
 * The compliance monitor: readCompliance (as GET /v1/schools/{id}/compliance) for the period chosen, its
 * rows per class, subject and teacher, the findings by rule and by teacher, and the trend over the period
 * (the same service week by week) as a uPlot chart and as a table.
 */
export function registerCompliance(pages: Pages, deps: DashboardDeps): void {
  pages.get('/compliance', async (ctx) => compliancePage(ctx, deps));
  // The trend alone: the page asks for it once it has painted (htmx), as it is the slow part (one read per week).
  pages.get('/compliance/trend', async (ctx) => {
    if (!ctx.htmx) return `/compliance${query({ period: param(ctx.req.query.period) || undefined, class: param(ctx.req.query.class) || undefined, trend: 'inline' })}`;
    const section = await trendSection(ctx, deps);
    return { title: ctx.t('deputy.compliance.trend.title'), body: section, fragment: section };
  });
}

/** The trend over the period: readCompliance week by week (the same service), as a uPlot chart and a table. */
async function trendSection(ctx: PageContext, deps: DashboardDeps): Promise<Html> {
  const { t, fmt } = ctx;
  permit(ctx.caller, ctx.school.id, 'compliance:read');
  const { chosen } = await periodsOf(deps.pool, ctx);
  // The page's window (readCompliance's for the period): the period's days, or today without one.
  const today = fmt.today(ctx.now);
  const window = chosen ? { from: chosen.startDate, to: chosen.endDate } : { from: today, to: today };
  const classId = param(ctx.req.query.class);
  const inClass = (r: ComplianceRow) => !classId || r.classId === classId;
  const trend = await readComplianceTrend(deps.pool, { schoolId: ctx.school.id, ...window }, ctx.now, inClass);
  const chartData = {
    x: trend.map((p) => Date.parse(`${p.from}T00:00:00Z`) / 1000),
    labels: trend.map((p) => fmt.date(p.from)),
    series: [
      // A week without lessons (a holiday) is a gap in the line, not a zero.
      { label: t('deputy.compliance.noMarks'), values: trend.map((p) => (p.pupils === 0 ? null : pct(p.shareWithoutMarks))) },
      { label: t('deputy.compliance.oneMark'), values: trend.map((p) => (p.pupils === 0 ? null : pct(p.shareWithOneMark))) },
      { label: t('deputy.compliance.noTopic'), values: trend.map((p) => (p.lessons === 0 ? null : pct(p.shareWithoutTopic))) },
    ],
    yLabel: t('deputy.compliance.chart.axis'),
    xLabel: t('deputy.compliance.week'),
  };
  return html`<section class="card deputy-card" aria-labelledby="trend-h" id="trend-section">
      <h2 id="trend-h">${t('deputy.compliance.trend.title')}</h2>
      ${trend.length === 0 ? html`<p class="muted">${t('deputy.compliance.trend.empty')}</p>` : html`
      <div class="chart deputy-chart" id="compliance-trend" data-chart="compliance-trend-data" role="img" aria-label="${t('deputy.compliance.trend.aria')}"></div>
      <script type="application/json" id="compliance-trend-data">${jsonData(chartData)}</script>
      <details class="deputy-trend-table"${ctx.req.query.table === '1' ? html` open` : ''}><summary>${t('deputy.compliance.trend.asTable')}</summary>
      <div class="table-wrap"><table id="trend-table" aria-label="${t('deputy.compliance.trend.title')}">
                <thead><tr><th scope="col">${t('deputy.compliance.week')}</th><th scope="col" class="num">${t('deputy.compliance.pupils')}</th>
          <th scope="col" class="num">${t('deputy.compliance.noMarks')}</th><th scope="col" class="num">${t('deputy.compliance.oneMark')}</th>
          <th scope="col" class="num">${t('deputy.compliance.lessons')}</th><th scope="col" class="num">${t('deputy.compliance.noTopic')}</th>
          <th scope="col" class="num">${t('deputy.compliance.late')}</th></tr></thead>
        <tbody>${trend.map((p) => html`<tr data-week="${p.from}" data-to="${p.to}">
          <th scope="row">${t('deputy.compliance.weekRange', { from: fmt.date(p.from), to: fmt.date(p.to) })}</th>
          <td class="num" data-field="pupils" data-value="${p.pupils}">${fmt.number(p.pupils)}</td>
          <td class="num" data-field="shareWithoutMarks" data-value="${p.shareWithoutMarks}">${fmt.percent(p.shareWithoutMarks, 1)}</td>
          <td class="num" data-field="shareWithOneMark" data-value="${p.shareWithOneMark}">${fmt.percent(p.shareWithOneMark, 1)}</td>
          <td class="num" data-field="lessons" data-value="${p.lessons}">${fmt.number(p.lessons)}</td>
          <td class="num" data-field="shareWithoutTopic" data-value="${p.shareWithoutTopic}">${fmt.percent(p.shareWithoutTopic, 1)}</td>
          <td class="num" data-field="lateEntries" data-value="${p.lateEntries}">${fmt.number(p.lateEntries)}</td></tr>`)}</tbody>
      </table></div></details>`}
    </section>`;
}

async function compliancePage(ctx: PageContext, deps: DashboardDeps): Promise<PageResult> {
  const { t, fmt } = ctx;
  permit(ctx.caller, ctx.school.id, 'compliance:read');
  const { periods, chosen } = await periodsOf(deps.pool, ctx);
  const view = await readCompliance(deps.pool, { schoolId: ctx.school.id, periodId: chosen?.id }, ctx.now);
  const classes = [...new Map(view.rows.map((r) => [r.classId, r.className])).entries()];
  const classId = param(ctx.req.query.class);
  const inClass = (r: ComplianceRow) => !classId || r.classId === classId;
  const rows = view.rows.filter(inClass);
  const totals = complianceTotals(rows);
  const pagesCount = Math.max(1, Math.ceil(rows.length / COMPLIANCE_PAGE_SIZE));
  const page = pageParam(ctx.req.query.page, pagesCount);
  const shown = rows.slice((page - 1) * COMPLIANCE_PAGE_SIZE, page * COMPLIANCE_PAGE_SIZE);
  const periodId = view.period?.id ?? chosen?.id;
  const body = html`
    <link rel="stylesheet" href="${assetUrl('uplot.min.css')}">
    <h1>${t('deputy.compliance.title')}</h1>
    <form method="get" action="/compliance" class="filters deputy-filters">
      ${periodSelect(ctx, periods, periodId)}
      <label>${t('deputy.compliance.class')}
        <select name="class"><option value="">${t('form.all')}</option>${classes.map(([id, name]) => html`<option value="${id}"${id === classId ? html` selected` : ''}>${name}</option>`)}</select></label>
      <button type="submit">${t('form.apply')}</button>
    </form>
    <p class="muted" data-window="${view.from}/${view.to}">${t('deputy.compliance.window', { from: fmt.date(view.from), to: fmt.date(view.to) })}</p>
    ${totalsCards(ctx, totals)}
    ${ctx.req.query.trend === 'inline' ? await trendSection(ctx, deps) : html`
    <section class="card deputy-card" aria-labelledby="trend-h" id="trend-section"
      hx-get="/compliance/trend${query({ period: periodId, class: classId || undefined })}" hx-trigger="load" hx-swap="outerHTML">
      <h2 id="trend-h">${t('deputy.compliance.trend.title')}</h2>
      <p class="muted"><span class="progress" aria-hidden="true"></span> ${t('deputy.compliance.trend.loading')}
        <a href="/compliance${query({ period: periodId, class: classId || undefined, trend: 'inline' })}">${t('deputy.compliance.trend.show')}</a></p>
    `}    </section>
    <h2 id="rows-h">${t('deputy.compliance.rows.title')}</h2>
    <p class="muted">${t('deputy.compliance.rows.hint')}</p>
    ${rows.length === 0 ? html`<p class="muted">${t('list.empty')}</p>` : html`
    <div class="table-wrap"><table id="compliance-rows" class="deputy-compact" aria-labelledby="rows-h">
      <thead><tr><th scope="col">${t('deputy.compliance.class')}</th><th scope="col">${t('deputy.compliance.subject')}</th><th scope="col">${t('deputy.compliance.teacher')}</th>
        <th scope="col" class="num">${t('deputy.compliance.pupils')}</th><th scope="col" class="num">${t('deputy.compliance.noMarks')}</th>
        <th scope="col" class="num">${t('deputy.compliance.oneMark')}</th><th scope="col" class="num">${t('deputy.compliance.lessons')}</th>
        <th scope="col" class="num">${t('deputy.compliance.noTopic')}</th><th scope="col" class="num">${t('deputy.compliance.late')}</th>
        <th scope="col" class="num">${t('deputy.compliance.openFindings')}</th></tr></thead>
      <tbody>${shown.map((r) => rowOf(ctx, r))}</tbody>
    </table></div>
    <p class="muted">${t('list.shown', { count: shown.length })} · ${t('deputy.compliance.rows.total', { count: rows.length })}</p>
    ${pager(ctx, '/compliance', { period: periodId, class: classId || undefined }, page, pagesCount)}`}
    <div class="deputy-two">
    <section aria-labelledby="rules-h">
      <h2 id="rules-h">${t('deputy.compliance.byRule')}</h2>
      ${view.byRule.length === 0 ? html`<p class="muted">${t('list.empty')}</p>` : html`
      <div class="table-wrap"><table id="compliance-rules" class="deputy-compact">
        <thead><tr><th scope="col">${t('deputy.compliance.rule')}</th>${statusHeads(ctx)}</tr></thead>
        <tbody>${view.byRule.map((r) => html`<tr data-rule="${r.rule}"><th scope="row">${r.title ?? r.rule}<br><code class="muted">${r.rule}</code></th>${statusCells(ctx, r)}</tr>`)}</tbody>
      </table></div>`}
    </section>
    <section aria-labelledby="teachers-h">
      <h2 id="teachers-h">${t('deputy.compliance.byTeacher')}</h2>
      ${view.byTeacher.length === 0 ? html`<p class="muted">${t('list.empty')}</p>` : html`
      <div class="table-wrap"><table id="compliance-teachers" class="deputy-compact">
        <thead><tr><th scope="col">${t('deputy.compliance.teacher')}</th>${statusHeads(ctx)}</tr></thead>
        <tbody>${view.byTeacher.map((r) => html`<tr data-teacher="${r.teacher?.id ?? ''}"><th scope="row">${r.teacher?.name ?? t('deputy.compliance.unassigned')}</th>${statusCells(ctx, r)}</tr>`)}</tbody>
      </table></div>`}
    </section>
    </div>`;
  return { title: t('deputy.compliance.title'), body, scripts: ['uplot.min.js', 'charts.js'] };
}

const pct = (share: number) => Math.round(share * 1000) / 10;

function totalsCards(ctx: PageContext, totals: ComplianceTotals): Html {
  const { t, fmt } = ctx;
  const card = (field: string, label: string, value: string, detail: string, tone: string) => html`
    <div class="card deputy-figure ${tone}" data-total="${field}"><span class="muted">${label}</span><strong>${value}</strong><span class="muted">${detail}</span></div>`;
  const tone = (share: number) => (share >= 0.2 ? 'bad' : share >= 0.05 ? 'warn' : 'ok');
  return html`<div class="cards deputy-totals">
    ${card('shareWithoutMarks', t('deputy.compliance.noMarks'), fmt.percent(totals.shareWithoutMarks, 1), t('deputy.compliance.ofPupils', { part: totals.pupilsWithoutMarks, whole: totals.pupils }), tone(totals.shareWithoutMarks))}
    ${card('shareWithOneMark', t('deputy.compliance.oneMark'), fmt.percent(totals.shareWithOneMark, 1), t('deputy.compliance.ofPupils', { part: totals.pupilsWithOneMark, whole: totals.pupils }), tone(totals.shareWithOneMark))}
    ${card('shareWithoutTopic', t('deputy.compliance.noTopic'), fmt.percent(totals.shareWithoutTopic, 1), t('deputy.compliance.ofLessons', { part: totals.lessonsWithoutTopic, whole: totals.lessons }), tone(totals.shareWithoutTopic))}
    ${card('lateEntries', t('deputy.compliance.late'), fmt.number(totals.lateEntries), t('deputy.compliance.lateHint'), totals.lateEntries > 0 ? 'warn' : 'ok')}
  </div>`;
}

function rowOf(ctx: PageContext, r: ComplianceRow): Html {
  const { fmt } = ctx;
  const open = Object.values(r.open).reduce((n, x) => n + x, 0);
  const share = (field: string, value: number, count: number) => html`<td class="num" data-field="${field}" data-value="${value}">${fmt.percent(value, 1)} <span class="muted">(${fmt.number(count)})</span></td>`;
  return html`<tr data-row="${r.classId}:${r.subjectId}">
    <th scope="row">${r.className}</th><td>${r.subjectName}</td><td>${r.teacher?.name ?? '—'}</td>
    <td class="num" data-field="pupils" data-value="${r.pupils}">${fmt.number(r.pupils)}</td>
    ${share('shareWithoutMarks', r.shareWithoutMarks, r.pupilsWithoutMarks)}
    ${share('shareWithOneMark', r.shareWithOneMark, r.pupilsWithOneMark)}
    <td class="num" data-field="lessons" data-value="${r.lessons}">${fmt.number(r.lessons)}</td>
    ${share('shareWithoutTopic', r.shareWithoutTopic, r.lessonsWithoutTopic)}
    <td class="num" data-field="lateEntries" data-value="${r.lateEntries}">${fmt.number(r.lateEntries)}</td>
    <td class="num" data-field="open" data-value="${open}" title="${Object.entries(r.open).map(([k, v]) => `${k}: ${v}`).join(', ')}">${fmt.number(open)}</td>
  </tr>`;
}

function statusHeads(ctx: PageContext): Html {
  return html`${(['open', 'acknowledged', 'resolved', 'dismissed'] as const).map((s) => html`<th scope="col" class="num">${ctx.t(`deputy.status.${s}`)}</th>`)}`;
}

function statusCells(ctx: PageContext, r: { open: number; acknowledged: number; resolved: number; dismissed: number }): Html {
  return html`${(['open', 'acknowledged', 'resolved', 'dismissed'] as const).map((s) => html`<td class="num" data-field="${s}" data-value="${r[s]}">${ctx.fmt.number(r[s])}</td>`)}`;
}
