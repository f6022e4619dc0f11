import { schoolsAskedFor } from '../../../../auth/caller.js';
import { readBackupHealth } from '../../../../archive/backup-status.js';
import { AppError, ForbiddenError, NotFoundError } from '../../../../lib/errors.js';
import type { AnyAdapter } from '../../../../ports/adapter.js';
import { listAlerts, type AlertView } from '../../../../sync/alerts.js';
import type { ConnectionView } from '../../../../sync/connections.js';
import { listRuns, type RunMode, type RunView } from '../../../../sync/runs.js';
import { nextRunAt } from '../../../../sync/schedule-rule.js';
import { mayManageBackups } from '../../../routes/backups.js';
import { triggerSync, visibleConnection } from '../../../routes/connections.js';
import type { PageContext, PageResult } from '../../context.js';
import { html, type Html } from '../../html.js';
import type { Pages } from '../../pages.js';
import type { DashboardDeps } from '../../router.js';
import { configFromForm, configInputs } from './config-form.js';
import { checked, duration, formError, need, statusBadge, str, syncOf, idOf } from './shared.js';

/** The connections of the page's school, as GET /v1/connections?school= lists them. */
export async function schoolConnections(deps: DashboardDeps, ctx: PageContext): Promise<ConnectionView[]> {
  const schools = schoolsAskedFor(ctx.caller, 'connections:manage', ctx.school.id);
  const all = await syncOf(deps).connections.list({ schoolId: ctx.school.id });
  return schools ? all.filter((c) => schools.includes(c.schoolId)) : all;
}

function adapterOf(deps: DashboardDeps, platform: string): AnyAdapter {
  const adapter = syncOf(deps).connections.adapterFor(platform);
  if (!adapter) throw new NotFoundError(`platform ${platform}`);
  return adapter;
}

export function registerConnectionPages(pages: Pages, deps: DashboardDeps): void {
  pages.get('/it', async (ctx) => {
    need(ctx, 'connections:manage');
    const { t, fmt } = ctx;
    const { queue } = syncOf(deps);
    const connections = await schoolConnections(deps, ctx);
    // The reads of the page at once: the alerts, each connection's last run, the dead letters.
    const [alerts, last, dead] = await Promise.all([
      listAlerts(deps.pool, { open: true, limit: 200, schoolIds: [ctx.school.id] }),
      Promise.all(connections.map(async (c) => [c.id, (await listRuns(deps.pool, { connectionId: c.id, limit: 1 }))[0]] as const)),
      queue.deadLetterRuns([ctx.school.id]),
    ]);
    const backups = await backupHealthFor(deps, ctx);
    const lastRuns = new Map<string, RunView | undefined>(last);
    const alertsOf = (id: string) => alerts.filter((a) => a.connectionId === id).length;
    const rows = connections.map((c) => {
      const run = lastRuns.get(c.id);
      const next = c.enabled ? nextRunAt(c.schedule, ctx.school.timeZone, ctx.now) : null;
      const open = alertsOf(c.id);
      return html`<tr data-connection="${c.id}">
        <th scope="row"><a href="/it/connections/${c.id}">${c.title}</a><br><small class="muted">${c.platform}</small></th>
        <td>${c.enabled ? html`<span class="badge ok" data-enabled="true">${t('it.connections.enabled')}</span>` : html`<span class="badge" data-enabled="false">${t('it.connections.disabled')}</span>`}</td>
        <td>${run ? html`<a href="/it/runs/${run.id}">${fmt.dateTime(run.finishedAt ?? run.startedAt ?? run.queuedAt)}</a>` : html`<span class="muted">${t('time.never')}</span>`}</td>
        <td data-last-status="${run?.status ?? ''}">${run ? statusBadge(ctx, run.status) : '—'}</td>
        <td class="num">${run ? duration(ctx, run.durationMs) : '—'}</td>
        <td class="num">${run ? fmt.number(run.requests) : '—'}</td>
        <td>${next ? fmt.dateTime(next) : html`<span class="muted">${c.schedule && !c.enabled ? t('it.connections.paused') : t('it.connections.manualOnly')}</span>`}</td>
        <td class="num" data-alerts="${open}">${open > 0 ? html`<span class="badge bad">${fmt.number(open)}</span>` : '0'}</td>
      </tr>`;
    });
    const body = html`<h1>${t('it.connections.title')}</h1>
      <div class="cards it-health">
        <div class="card"><div class="muted">${t('it.connections.count')}</div><div class="it-big" data-count="connections">${fmt.number(connections.length)}</div></div>
        <div class="card"><div class="muted">${t('it.connections.openAlerts')}</div><div class="it-big" data-count="alerts">${fmt.number(alerts.length)}</div></div>
        <div class="card"><div class="muted">${t('it.connections.deadLetters')}</div><div class="it-big" data-count="dead"><a href="/it/dead-letters">${fmt.number(dead.length)}</a></div></div>
        ${backups ? html`<div class="card" data-backup-health="${backups.stale ? 'stale' : 'ok'}"><div class="muted">${t('it.backups.lastGood')}</div>
          <div><a href="/it/backups">${backups.lastGood ? fmt.dateTime(backups.lastGood.finishedAt) : t('it.backups.none')}</a>
          ${backups.stale ? html` <span class="badge bad">${t('it.backups.overdue')}</span>` : ''}</div></div>` : ''}
      </div>
      <p class="actions"><a class="button" href="/it/connections/new">${t('it.connections.add')}</a></p>
      ${connections.length === 0 ? html`<p class="muted">${t('it.connections.none')}</p>` : html`<div class="table-wrap"><table class="it-table">
        <caption class="sr">${t('it.connections.title')}</caption>
        <thead><tr><th scope="col">${t('it.connections.name')}</th><th scope="col">${t('it.connections.state')}</th><th scope="col">${t('it.connections.lastRun')}</th>
        <th scope="col">${t('it.connections.status')}</th><th scope="col" class="num">${t('it.connections.duration')}</th><th scope="col" class="num">${t('it.connections.requests')}</th>
        <th scope="col">${t('it.connections.nextRun')}</th><th scope="col" class="num">${t('it.connections.alerts')}</th></tr></thead>
        <tbody>${rows}</tbody></table></div>`}
      ${alerts.length > 0 ? html`<h2>${t('it.connections.openAlerts')}</h2>${alertList(ctx, alerts, connections)}` : ''}`;
    return { title: t('it.connections.title'), body };
  });

  pages.get('/it/connections/new', async (ctx) => {
    need(ctx, 'connections:manage');
    const platform = str(ctx.req.query.platform);
    if (!platform) return choosePlatform(deps, ctx);
    return connectionForm(ctx, adapterOf(deps, platform), undefined, {});
  });

  pages.post('/it/connections/new', async (ctx) => {
    need(ctx, 'connections:manage');
    const body = ctx.req.body as Record<string, unknown>;
    const adapter = adapterOf(deps, String(body.platform ?? ''));
    try {
      const config = configFromForm(adapter, body);
      const created = await syncOf(deps).connections.create({
        schoolId: ctx.school.id, platform: adapter.id, title: str(body.title), config, schedule: str(body.schedule) ?? null, enabled: checked(body.enabled),
      });
      return `/it/connections/${created.id}?notice=it.connections.created`;
    } catch (error) {
      if (error instanceof AppError && error.status < 500 && !(error instanceof NotFoundError)) return connectionForm(ctx, adapter, undefined, body, error);
      throw error;
    }
  });

  pages.get('/it/connections/:id', async (ctx) => {
    const { connections } = syncOf(deps);
    const c = await visibleConnection(connections, ctx.caller, idOf(ctx));
    const { t, fmt } = ctx;
    const runs = await listRuns(deps.pool, { connectionId: c.id, limit: 10 });
    const alerts = await listAlerts(deps.pool, { connectionId: c.id, open: true, limit: 50 });
    const next = c.enabled ? nextRunAt(c.schedule, ctx.school.timeZone, ctx.now) : null;
    const canRun = ctx.grant.permissions.has('sync:run');
    const body = html`<p><a href="/it">${t('form.back')}</a></p>
      <h1>${c.title}</h1>
      <dl class="facts card">
        <dt>${t('it.connection.platform')}</dt><dd>${c.platform}</dd>
        <dt>${t('it.connections.state')}</dt><dd>${c.enabled ? t('it.connections.enabled') : t('it.connections.disabled')}</dd>
        <dt>${t('it.connection.schedule')}</dt><dd><code>${c.schedule ?? '—'}</code></dd>
        <dt>${t('it.connections.nextRun')}</dt><dd>${next ? fmt.dateTime(next) : '—'}</dd>
        <dt>${t('it.connection.settings')}</dt><dd><ul class="it-plain">${Object.entries(c.config).map(([k, v]) => html`<li><code>${k}</code>: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}</li>`)}</ul></dd>
        <dt>${t('it.connection.secrets')}</dt><dd data-secrets-set="${c.secretsSet.join(',')}">${c.secretsSet.length ? c.secretsSet.map((k) => html`<code>${k}</code> `) : '—'} <small class="muted">${t('it.connection.secretsHidden')}</small></dd>
        <dt>${t('it.connection.updated')}</dt><dd>${fmt.dateTime(c.updatedAt)}</dd>
      </dl>
      <div class="actions">
        <a class="button secondary" href="/it/connections/${c.id}/edit">${t('it.connection.edit')}</a>
        <form method="post" action="/it/connections/${c.id}/enabled" class="inline"><input type="hidden" name="enabled" value="${c.enabled ? 'false' : 'true'}">
          <button type="submit" class="secondary">${c.enabled ? t('it.connection.disable') : t('it.connection.enable')}</button></form>
      </div>
      ${canRun ? html`<form method="post" action="/it/connections/${c.id}/sync" class="card actions it-run-now">
        <strong>${t('it.connection.runNow')}</strong>
        <label>${t('it.connection.mode')}<select name="mode"><option value="incremental">${t('it.mode.incremental')}</option><option value="full">${t('it.mode.full')}</option></select></label>
        ${c.enabled ? '' : html`<label class="check"><input type="checkbox" name="force" value="true">${t('it.connection.force')}</label>`}
        <button type="submit">${t('it.connection.start')}</button>
      </form>` : ''}
      ${alerts.length > 0 ? html`<h2>${t('it.connections.openAlerts')}</h2>${alertList(ctx, alerts, [c])}` : ''}
      <h2>${t('it.connection.recentRuns')}</h2>
      ${runs.length === 0 ? html`<p class="muted">${t('list.empty')}</p>` : html`<div class="table-wrap"><table><thead><tr>
        <th scope="col">${t('it.runs.queued')}</th><th scope="col">${t('it.runs.mode')}</th><th scope="col">${t('it.connections.status')}</th><th scope="col" class="num">${t('it.connections.duration')}</th></tr></thead>
        <tbody>${runs.map((r) => html`<tr><td><a href="/it/runs/${r.id}">${fmt.dateTime(r.queuedAt)}</a></td><td>${t(`it.mode.${r.mode}`)}</td><td>${statusBadge(ctx, r.status)}</td><td class="num">${duration(ctx, r.durationMs)}</td></tr>`)}</tbody></table></div>
        <p><a href="/it/runs?connection=${c.id}">${t('it.connection.allRuns')}</a></p>`}`;
    return { title: c.title, body, current: '/it' };
  });

  pages.get('/it/connections/:id/edit', async (ctx) => {
    const c = await visibleConnection(syncOf(deps).connections, ctx.caller, idOf(ctx));
    return connectionForm(ctx, adapterOf(deps, c.platform), c, {});
  });

  pages.post('/it/connections/:id/edit', async (ctx) => {
    const { connections } = syncOf(deps);
    const c = await visibleConnection(connections, ctx.caller, idOf(ctx));
    const adapter = adapterOf(deps, c.platform);
    const body = ctx.req.body as Record<string, unknown>;
    try {
      const config = configFromForm(adapter, body, c.config);
      await connections.update(c.id, {
        title: str(body.title), schedule: str(body.schedule) ?? null, enabled: checked(body.enabled), config: Object.keys(config).length > 0 ? config : undefined,
      });
      return `/it/connections/${c.id}?notice=form.saved`;
    } catch (error) {
      if (error instanceof AppError && error.status < 500 && !(error instanceof NotFoundError)) return connectionForm(ctx, adapter, c, body, error);
      throw error;
    }
  });

  pages.post('/it/connections/:id/enabled', async (ctx) => {
    const { connections } = syncOf(deps);
    const c = await visibleConnection(connections, ctx.caller, idOf(ctx));
    const enabled = (ctx.req.body as Record<string, unknown>).enabled === 'true';
    await connections.update(c.id, { enabled });
    return `/it/connections/${c.id}?notice=${enabled ? 'it.connection.enabledNotice' : 'it.connection.disabledNotice'}`;
  });

  pages.post('/it/connections/:id/sync', async (ctx) => {
    const body = ctx.req.body as Record<string, unknown>;
    const mode: RunMode = body.mode === 'full' ? 'full' : 'incremental';
    const { run } = await triggerSync(syncOf(deps), ctx.caller, idOf(ctx), { mode, force: body.force === 'true' });
    return `/it/runs/${run.id}`;
  });
}

function alertList(ctx: PageContext, alerts: AlertView[], connections: ConnectionView[]): Html {
  const titleOf = (id: string) => connections.find((c) => c.id === id)?.title ?? id;
  return html`<ul class="it-alerts">${alerts.map((a) => html`<li data-alert="${a.id}"><span class="badge bad">${ctx.t(`it.alert.${a.kind}`)}</span>
    <a href="/it/connections/${a.connectionId}">${titleOf(a.connectionId)}</a> · ${ctx.fmt.dateTime(a.createdAt)}
    ${a.runId ? html` · <a href="/it/runs/${a.runId}">${ctx.t('it.alert.run')}</a>` : ''}<br><span class="muted">${a.message}</span></li>`)}</ul>`;
}

function choosePlatform(deps: DashboardDeps, ctx: PageContext): PageResult {
  const { t } = ctx;
  const platforms = syncOf(deps).connections.platforms();
  const body = html`<p><a href="/it">${t('form.back')}</a></p><h1>${t('it.form.newTitle')}</h1>
    <p>${t('it.form.choosePlatform')}</p>
    <ul class="cards it-platforms">${platforms.map((p) => html`<li class="card"><a href="/it/connections/new?platform=${p.id}">${p.title}</a><br><small class="muted">${p.id}</small></li>`)}</ul>`;
  return { title: t('it.form.newTitle'), body, current: '/it' };
}

/** The adapter's form: new (no connection) or an edit; `posted` refills it after a refusal (never secrets). */
function connectionForm(ctx: PageContext, adapter: AnyAdapter, c: ConnectionView | undefined, posted: Record<string, unknown>, error?: unknown): PageResult {
  const { t } = ctx;
  const refill: Record<string, unknown> = { ...(c?.config ?? {}) };
  for (const [k, v] of Object.entries(posted)) {
    if (!k.startsWith('config.')) continue;
    const key = k.slice('config.'.length);
    if (adapter.secretKeys.includes(key)) continue;
    const last = Array.isArray(v) ? v[v.length - 1] : v;
    if (typeof last === 'string' && last.trim() !== '') refill[key] = last === 'true' ? true : last === 'false' ? false : last;
  }
  if (typeof posted.instance === 'string') refill.instance = posted.instance;
  const title = typeof posted.title === 'string' ? posted.title : c?.title ?? '';
  const schedule = typeof posted.schedule === 'string' ? posted.schedule : c?.schedule ?? '';
  const enabled = Object.keys(posted).length > 0 ? checked(posted.enabled) : c?.enabled ?? true;
  const action = c ? `/it/connections/${c.id}/edit` : '/it/connections/new';
  const heading = c ? t('it.form.editTitle', { title: c.title }) : t('it.form.newFor', { platform: adapter.title });
  const message = error instanceof Error ? error.message : undefined;
  const body = html`<p><a href="${c ? `/it/connections/${c.id}` : '/it/connections/new'}">${t('form.back')}</a></p>
    <h1>${heading}</h1>
    ${formError(message)}
    <form method="post" action="${action}" class="stack it-form" novalidate>
      <input type="hidden" name="platform" value="${adapter.id}">
      <label for="f-title">${t('it.form.title')}<input id="f-title" type="text" name="title" value="${title}" placeholder="${adapter.title}" maxlength="200"></label>
      <label for="f-schedule">${t('it.form.schedule')}<input id="f-schedule" type="text" name="schedule" value="${schedule}" placeholder="0 0 18 * * 1-5" spellcheck="false">
        <small class="muted">${t('it.form.scheduleHint')}</small></label>
      <label class="check"><input type="hidden" name="enabled" value="false"><input type="checkbox" name="enabled" value="true"${enabled ? html` checked` : ''}>${t('it.form.enabled')}</label>
      ${configInputs(ctx, adapter, refill, c?.secretsSet ?? [], c !== undefined)}
      <p class="muted">${t('it.form.checkNote')}</p>
      <div class="actions"><button type="submit">${c ? t('form.save') : t('it.form.create')}</button>
        <a href="${c ? `/it/connections/${c.id}` : '/it'}">${t('form.cancel')}</a></div>
    </form>`;
  const status = error instanceof AppError ? error.status : 200;
  return { title: heading, body, status, current: '/it' };
}

/** The backups' card for a caller who may manage them (backups:manage in every school of the database), else none. */
async function backupHealthFor(deps: DashboardDeps, ctx: PageContext): Promise<Awaited<ReturnType<typeof readBackupHealth>> | undefined> {
  if (!deps.backups || !ctx.grant.permissions.has('backups:manage')) return undefined;
  try {
    await mayManageBackups(deps.pool, ctx.caller);
  } catch (error) {
    if (error instanceof ForbiddenError) return undefined;
    throw error;
  }
  return readBackupHealth(deps.pool, { nightly: deps.backups.jobs.nightly, now: ctx.now });
}
