import { listAlerts } from '../../../../sync/alerts.js';
import { listRuns, type RunStatus, type RunView } from '../../../../sync/runs.js';
import { visibleConnection, visibleRun } from '../../../routes/connections.js';
import type { PageContext } from '../../context.js';
import { html, type Html } from '../../html.js';
import type { Pages } from '../../pages.js';
import type { DashboardDeps } from '../../router.js';
import { schoolConnections } from './connections.js';
import { duration, need, PAGE_SIZE, pageOf, pager, statusBadge, str, syncOf, idOf } from './shared.js';

const STATUSES: RunStatus[] = ['queued', 'running', 'succeeded', 'partial', 'failed'];
const FINISHED = new Set<RunStatus>(['succeeded', 'partial', 'failed']);

export function registerRunPages(pages: Pages, deps: DashboardDeps): void {
  pages.get('/it/runs', async (ctx) => {
    need(ctx, 'connections:manage');
    const { t, fmt } = ctx;
    const connections = await schoolConnections(deps, ctx);
    const connection = str(ctx.req.query.connection);
    if (connection) await visibleConnection(syncOf(deps).connections, ctx.caller, connection);
    const status = STATUSES.find((s) => s === ctx.req.query.status);
    const page = pageOf(ctx);
    const found = await listRuns(deps.pool, { connectionId: connection, status, limit: PAGE_SIZE + 1, offset: (page - 1) * PAGE_SIZE, schoolIds: [ctx.school.id] });
    const runs = found.slice(0, PAGE_SIZE);
    const titleOf = (id: string) => connections.find((c) => c.id === id)?.title ?? t('it.runs.internal');
    const body = html`<h1>${t('it.runs.title')}</h1>
      <form method="get" action="/it/runs" class="filters">
        <label>${t('it.runs.connection')}<select name="connection"><option value="">${t('form.all')}</option>
          ${connections.map((c) => html`<option value="${c.id}"${c.id === connection ? html` selected` : ''}>${c.title}</option>`)}</select></label>
        <label>${t('it.connections.status')}<select name="status"><option value="">${t('form.any')}</option>
          ${STATUSES.map((s) => html`<option value="${s}"${s === status ? html` selected` : ''}>${t(`it.status.${s}`)}</option>`)}</select></label>
        <button type="submit">${t('form.filter')}</button> <a href="/it/runs">${t('form.reset')}</a>
      </form>
      ${runs.length === 0 ? html`<p class="muted">${t('list.empty')}</p>` : html`<div class="table-wrap"><table class="it-runs">
        <thead><tr><th scope="col">${t('it.runs.queued')}</th><th scope="col">${t('it.runs.connection')}</th><th scope="col">${t('it.runs.trigger')}</th>
          <th scope="col">${t('it.runs.mode')}</th><th scope="col">${t('it.connections.status')}</th><th scope="col" class="num">${t('it.connections.duration')}</th>
          <th scope="col" class="num">${t('it.connections.requests')}</th><th scope="col">${t('it.runs.streams')}</th></tr></thead>
        <tbody>${runs.map((r) => html`<tr data-run="${r.id}">
          <td><a href="/it/runs/${r.id}">${fmt.dateTime(r.queuedAt)}</a></td><td class="it-wrap">${titleOf(r.connectionId)}</td><td>${t(`it.trigger.${r.trigger}`)}</td>
          <td>${t(`it.mode.${r.mode}`)}</td><td>${statusBadge(ctx, r.status)}</td><td class="num">${duration(ctx, r.durationMs)}</td><td class="num">${fmt.number(r.requests)}</td>
          <td class="it-wrap">${streamSummary(ctx, r)}</td></tr>`)}</tbody></table></div>`}
      ${pager(ctx, '/it/runs', { connection, status }, page, found.length > PAGE_SIZE)}`;
    return { title: t('it.runs.title'), body };
  });

  pages.get('/it/runs/:id', async (ctx) => {
    const { connections } = syncOf(deps);
    const run = await visibleRun(deps.pool, connections, ctx.caller, idOf(ctx));
    const connection = await connections.get(run.connectionId);
    const live = runDetail(ctx, run);
    const { t } = ctx;
    const body = html`<p><a href="/it/runs">${t('form.back')}</a></p>
      <h1>${t('it.run.title', { title: connection.title })}</h1>
      <p><a href="/it/connections/${connection.id}">${connection.title}</a></p>
      ${live}`;
    return { title: t('it.run.title', { title: connection.title }), body, fragment: live, current: '/it/runs' };
  });

  pages.get('/it/dead-letters', async (ctx) => {
    need(ctx, 'connections:manage');
    const { t, fmt } = ctx;
    const { queue } = syncOf(deps);
    const connections = await schoolConnections(deps, ctx);
    const dead = await queue.deadLetterRuns([ctx.school.id]);
    const alerts = (await listAlerts(deps.pool, { open: true, limit: 200, schoolIds: [ctx.school.id] })).filter((a) => a.kind === 'dead_letter');
    const titleOf = (id: string) => connections.find((c) => c.id === id)?.title ?? t('it.runs.internal');
    const canRun = ctx.grant.permissions.has('sync:run');
    const body = html`<h1>${t('it.dead.title')}</h1>
      <p class="muted">${t('it.dead.intro')}</p>
      ${dead.length === 0 ? html`<p class="notice" data-dead-empty>${t('it.dead.none')}</p>` : html`<div class="table-wrap"><table>
        <thead><tr><th scope="col">${t('it.dead.since')}</th><th scope="col">${t('it.runs.connection')}</th><th scope="col">${t('it.runs.mode')}</th><th scope="col">${t('it.dead.error')}</th></tr></thead>
        <tbody>${dead.map((d) => html`<tr data-dead-run="${d.run.id}"><td><a href="/it/runs/${d.run.id}">${fmt.dateTime(d.deadAt)}</a></td><td>${titleOf(d.run.connectionId)}</td>
          <td>${t(`it.mode.${d.run.mode}`)}</td><td>${d.run.errorKind ? html`<span class="badge bad">${d.run.errorKind}</span> ` : ''}${d.run.error ?? '—'}</td></tr>`)}</tbody></table></div>
        ${canRun ? html`<form method="post" action="/it/dead-letters/redrive" class="actions"><button type="submit">${t('it.dead.redrive', { count: dead.length })}</button></form>` : ''}`}
      ${alerts.length > 0 ? html`<h2>${t('it.dead.alerts')}</h2><ul class="it-alerts">${alerts.map((a) => html`<li><a href="/it/connections/${a.connectionId}">${titleOf(a.connectionId)}</a> · ${fmt.dateTime(a.createdAt)}<br><span class="muted">${a.message}</span></li>`)}</ul>` : ''}`;
    return { title: t('it.dead.title'), body };
  });

  pages.post('/it/dead-letters/redrive', async (ctx) => {
    need(ctx, 'sync:run');
    need(ctx, 'connections:manage');
    await syncOf(deps).queue.redriveSchools([ctx.school.id]);
    return '/it/dead-letters?notice=it.dead.redriven';
  });
}

function streamSummary(ctx: PageContext, run: RunView): Html {
  const entries = Object.entries(run.counts);
  if (entries.length === 0) return html`<span class="muted">—</span>`;
  return html`<ul class="it-streams">${entries.map(([stream, c]) => html`<li data-stream="${stream}"><strong>${stream}</strong>
    ${ctx.t('it.run.summary', { created: ctx.fmt.number(c.created), updated: ctx.fmt.number(c.updated), rejected: ctx.fmt.number(c.rejected) })}</li>`)}</ul>`;
}

/** The run as it stands: its facts, per-stream progress and counts, rejected records; refreshed every second while it is not finished. */
function runDetail(ctx: PageContext, run: RunView): Html {
  const { t, fmt } = ctx;
  const finished = FINISHED.has(run.status);
  const streams = [...new Set([...Object.keys(run.progress ?? {}), ...Object.keys(run.counts ?? {})])];
  const poll = finished ? html`` : html` hx-get="/it/runs/${run.id}" hx-trigger="every 1s" hx-swap="outerHTML"`;
  return html`<section id="run-live" class="it-run" data-run-status="${run.status}" aria-busy="${finished ? 'false' : 'true'}"${poll}>
    <dl class="facts card">
      <dt>${t('it.connections.status')}</dt><dd>${statusBadge(ctx, run.status)} ${finished ? '' : html`<span class="progress" aria-hidden="true"></span> <small class="muted">${t('status.live')}</small>`}</dd>
      <dt>${t('it.runs.mode')}</dt><dd>${t(`it.mode.${run.mode}`)}${run.range ? html` (${fmt.date(run.range.from)} — ${fmt.date(run.range.to)})` : ''}</dd>
      <dt>${t('it.runs.trigger')}</dt><dd>${t(`it.trigger.${run.trigger}`)}</dd>
      <dt>${t('it.runs.queued')}</dt><dd>${fmt.dateTime(run.queuedAt)}</dd>
      <dt>${t('it.run.started')}</dt><dd>${fmt.dateTime(run.startedAt)}</dd>
      <dt>${t('it.run.finished')}</dt><dd>${fmt.dateTime(run.finishedAt)}</dd>
      <dt>${t('it.connections.duration')}</dt><dd>${duration(ctx, run.durationMs)}</dd>
      <dt>${t('it.connections.requests')}</dt><dd data-requests="${run.requests}">${fmt.number(run.requests)}</dd>
      <dt>${t('it.run.attempts')}</dt><dd>${fmt.number(run.attempts)}</dd>
      ${run.error ? html`<dt>${t('it.dead.error')}</dt><dd class="error">${run.errorKind ? html`<strong>${run.errorKind}</strong>: ` : ''}${run.error}</dd>` : ''}
    </dl>
    <h2>${t('it.run.streams')}</h2>
    ${streams.length === 0 ? html`<p class="muted">${finished ? t('list.empty') : t('it.run.waiting')}</p>` : html`<div class="table-wrap"><table class="it-stream-table">
      <thead><tr><th scope="col">${t('it.run.stream')}</th><th scope="col">${t('it.run.progress')}</th><th scope="col" class="num">${t('it.run.batches')}</th>
        <th scope="col" class="num">${t('it.run.records')}</th><th scope="col" class="num">${t('it.run.created')}</th><th scope="col" class="num">${t('it.run.updated')}</th>
        <th scope="col" class="num">${t('it.run.unchanged')}</th><th scope="col" class="num">${t('it.run.deleted')}</th><th scope="col" class="num">${t('it.run.rejected')}</th></tr></thead>
      <tbody>${streams.map((s) => {
        const p = run.progress?.[s];
        const c = run.counts?.[s];
        const cell = (key: 'created' | 'updated' | 'unchanged' | 'deleted' | 'rejected') => html`<td class="num" data-count="${key}">${c ? fmt.number(c[key]) : '—'}</td>`;
        return html`<tr data-stream="${s}"><th scope="row">${s}</th>
          <td>${p?.done || c ? html`<span class="badge ok">${t('it.run.done')}</span>` : html`<span class="badge running">${t('it.run.reading')}</span>`}</td>
          <td class="num">${fmt.number(c?.batches ?? p?.batches ?? 0)}</td><td class="num">${fmt.number(p?.records ?? 0)}</td>
          ${cell('created')}${cell('updated')}${cell('unchanged')}${cell('deleted')}${cell('rejected')}</tr>`;
      })}</tbody></table></div>`}
    ${run.rejected.length > 0 ? html`<h2>${t('it.run.rejectedTitle', { count: run.rejected.length })}</h2><div class="table-wrap"><table class="it-rejected">
      <thead><tr><th scope="col">${t('it.run.stream')}</th><th scope="col" class="num">${t('it.run.index')}</th><th scope="col">${t('it.run.type')}</th><th scope="col">${t('it.run.externalId')}</th><th scope="col">${t('it.run.reason')}</th></tr></thead>
      <tbody>${run.rejected.map((r) => html`<tr data-rejected><td>${(r as { stream?: string }).stream ?? '—'}</td><td class="num">${r.index}</td><td>${r.type ?? '—'}</td><td><code>${r.externalId ?? '—'}</code></td><td>${r.reason}</td></tr>`)}</tbody></table></div>` : ''}
  </section>`;
}
