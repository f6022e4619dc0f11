import { readBackupStatus, readDrill, type BackupStatus, type DrillView } from '../../../../archive/backup-status.js';
import { actorOf } from '../../../../auth/caller.js';
import { ForbiddenError, NotFoundError } from '../../../../lib/errors.js';
import { mayManageBackups, queueDrill } from '../../../routes/backups.js';
import type { PageContext, PageResult } from '../../context.js';
import { html, type Html } from '../../html.js';
import type { MessageKey } from '../../messages/index.js';
import type { Pages } from '../../pages.js';
import type { DashboardDeps } from '../../router.js';
import { idOf, need, statusBadge, str } from './shared.js';

const LIVE = new Set(['queued', 'running']);

/**
 * The backups as the administrator keeps them (001 §3.4, Инструкция §4.2: two media, a backup at each
 * period close): whether the newest good backup is overdue, what each target holds, the recent runs and
 * restore drills, and a backup or a drill asked for now — on the service the API's routes call
 * (routes/backups.ts), with its rule: backups:manage in every school of the database.
 */
export function registerBackupPages(pages: Pages, deps: DashboardDeps): void {
  const backupsOf = () => {
    if (!deps.backups) throw new NotFoundError('the backups');
    return deps.backups;
  };
  /** The page's own refusal: why a school's administrator may not manage a region's backups. */
  const allowed = async (ctx: PageContext): Promise<PageResult | undefined> => {
    need(ctx, 'backups:manage');
    try {
      await mayManageBackups(deps.pool, ctx.caller);
      return undefined;
    } catch (error) {
      if (!(error instanceof ForbiddenError)) throw error;
      const title = ctx.t('it.backups.title');
      return { title, status: 403, body: html`<h1>${title}</h1><p class="error" data-backups-refused>${ctx.t('it.backups.refused')}</p>` };
    }
  };

  pages.get('/it/backups', async (ctx) => {
    const refused = await allowed(ctx);
    if (refused) return refused;
    const backups = backupsOf();
    const status = await readBackupStatus(deps.pool, await backups.targets(), { limit: 20, nightly: backups.jobs.nightly, now: deps.clock.now() });
    const live = statusSection(ctx, status);
    const { t } = ctx;
    const body = html`<h1>${t('it.backups.title')}</h1>
      <p class="muted">${t('it.backups.intro')}</p>
      ${live}
      <div class="actions">
        <form method="post" action="/it/backups/run"><button type="submit" data-backup-now>${t('it.backups.runNow')}</button></form>
        <form method="post" action="/it/backups/drill">
          <label>${t('it.backups.drillFrom')} <select name="target"><option value="">${t('it.backups.anyTarget')}</option>
            ${status.targets.map((target) => html`<option value="${target.name}">${target.name}</option>`)}</select></label>
          <button type="submit" data-drill-now>${t('it.backups.drillNow')}</button>
        </form>
      </div>`;
    return { title: t('it.backups.title'), body, fragment: live };
  });

  pages.post('/it/backups/run', async (ctx) => {
    const refused = await allowed(ctx);
    if (refused) return refused;
    await backupsOf().jobs.requestBackup(actorOf(ctx.caller));
    return '/it/backups?notice=it.backups.queued';
  });

  pages.post('/it/backups/drill', async (ctx) => {
    const refused = await allowed(ctx);
    if (refused) return refused;
    const id = await queueDrill(backupsOf(), actorOf(ctx.caller), str((ctx.req.body as Record<string, unknown> | undefined)?.target));
    return `/it/backups/drills/${id}?notice=it.backups.drillQueued`;
  });

  pages.get('/it/backups/drills/:id', async (ctx) => {
    const refused = await allowed(ctx);
    if (refused) return refused;
    const drill = await readDrill(deps.pool, idOf(ctx));
    const live = drillSection(ctx, drill);
    const { t } = ctx;
    const body = html`<p><a href="/it/backups">${t('form.back')}</a></p><h1>${t('it.drill.title')}</h1>${live}`;
    return { title: t('it.drill.title'), body, fragment: live, current: '/it/backups' };
  });
}

/** The status, runs, drills and targets; refreshed every two seconds while a run or a drill waits or runs. */
function statusSection(ctx: PageContext, s: BackupStatus): Html {
  const { t, fmt } = ctx;
  const busy = s.runs.some((r) => LIVE.has(r.status)) || s.drills.some((d) => LIVE.has(d.status));
  const poll = busy ? html` hx-get="/it/backups" hx-trigger="every 2s" hx-swap="outerHTML"` : html``;
  const reason = (r: string) => t(`it.backups.reason.${r}` as MessageKey);
  return html`<section id="backups-live" aria-busy="${busy ? 'true' : 'false'}" data-backups-busy="${busy ? 'true' : 'false'}"${poll}>
    <dl class="facts card">
      <dt>${t('it.backups.lastGood')}</dt>
      <dd data-last-good="${s.lastGood?.name ?? ''}">${s.lastGood ? html`${fmt.dateTime(s.lastGood.finishedAt)} · <code>${s.lastGood.name}</code> ${statusBadge(ctx, s.lastGood.status)}` : t('it.backups.none')}</dd>
      <dt>${t('it.backups.schedule')}</dt><dd>${s.nightly ? t('it.backups.nightlyOn') : t('it.backups.nightlyOff')}</dd>
      <dt>${t('it.backups.lastDrill')}</dt>
      <dd data-last-drill="${s.lastDrill?.status ?? ''}">${s.lastDrill ? html`<a href="/it/backups/drills/${s.lastDrill.id}">${s.lastDrill.finishedAt ? fmt.dateTime(s.lastDrill.finishedAt) : t('it.backups.notYet')}</a> ${statusBadge(ctx, s.lastDrill.status)}` : t('it.backups.none')}</dd>
    </dl>
    ${s.stale ? html`<p class="error" role="alert" data-backups-stale>${t('it.backups.stale')}</p>` : ''}
    <h2>${t('it.backups.targets')}</h2>
    <div class="table-wrap"><table class="it-backup-targets">
      <thead><tr><th scope="col">${t('it.backups.target')}</th><th scope="col">${t('it.backups.region')}</th><th scope="col">${t('it.backups.location')}</th>
        <th scope="col" class="num">${t('it.backups.count')}</th><th scope="col">${t('it.backups.newest')}</th></tr></thead>
      <tbody>${s.targets.map((x) => html`<tr data-target="${x.name}"><th scope="row">${x.name}</th><td>${x.region}</td><td class="it-wrap"><code>${x.location}</code></td>
        <td class="num" data-count>${fmt.number(x.count)}</td><td>${x.error ? html`<span class="error">${x.error}</span>` : x.backups[0] ? html`<code>${x.backups[0]}</code>` : '—'}</td></tr>`)}</tbody>
    </table></div>
    <h2>${t('it.backups.runs')}</h2>
    ${s.runs.length === 0 ? html`<p class="muted">${t('list.empty')}</p>` : html`<div class="table-wrap"><table class="it-backup-runs">
      <thead><tr><th scope="col">${t('it.runs.queued')}</th><th scope="col">${t('it.backups.reasonCol')}</th><th scope="col">${t('it.connections.status')}</th>
        <th scope="col">${t('it.backups.name')}</th><th scope="col">${t('it.backups.onTargets')}</th><th scope="col">${t('it.backups.error')}</th></tr></thead>
      <tbody>${s.runs.map((r) => html`<tr data-backup-run="${r.id}"><td>${fmt.dateTime(r.queuedAt)}</td><td>${reason(r.reason)}</td><td>${statusBadge(ctx, r.status)}</td>
        <td>${r.name ? html`<code>${r.name}</code>` : '—'}</td>
        <td>${r.targets.length === 0 ? '—' : r.targets.map((x) => html`<span class="badge ${x.ok ? 'succeeded' : 'failed'}">${x.name}</span> `)}</td>
        <td class="it-wrap">${r.error ?? ''}</td></tr>`)}</tbody></table></div>`}
    <h2>${t('it.backups.drills')}</h2>
    ${s.drills.length === 0 ? html`<p class="muted">${t('it.backups.noDrills')}</p>` : html`<div class="table-wrap"><table class="it-backup-drills">
      <thead><tr><th scope="col">${t('it.runs.queued')}</th><th scope="col">${t('it.connections.status')}</th><th scope="col">${t('it.backups.name')}</th>
        <th scope="col">${t('it.backups.target')}</th><th scope="col">${t('it.backups.error')}</th></tr></thead>
      <tbody>${s.drills.map((d) => html`<tr data-drill="${d.id}"><td><a href="/it/backups/drills/${d.id}">${fmt.dateTime(d.queuedAt)}</a></td><td>${statusBadge(ctx, d.status)}</td>
        <td>${d.backup ? html`<code>${d.backup}</code>` : '—'}</td><td>${d.target ?? d.onlyTarget ?? '—'}</td><td class="it-wrap">${d.error ?? ''}</td></tr>`)}</tbody></table></div>`}
  </section>`;
}

/** One drill: its facts, then the restored database against the backup (tables, chains), skipped copies and mismatches. */
function drillSection(ctx: PageContext, d: DrillView): Html {
  const { t, fmt } = ctx;
  const busy = LIVE.has(d.status);
  const poll = busy ? html` hx-get="/it/backups/drills/${d.id}" hx-trigger="every 2s" hx-swap="outerHTML"` : html``;
  const r = d.report;
  return html`<section id="drill-live" data-drill-status="${d.status}" aria-busy="${busy ? 'true' : 'false'}"${poll}>
    <dl class="facts card">
      <dt>${t('it.connections.status')}</dt><dd>${statusBadge(ctx, d.status)} ${busy ? html`<span class="progress" aria-hidden="true"></span>` : ''}</dd>
      <dt>${t('it.runs.queued')}</dt><dd>${fmt.dateTime(d.queuedAt)}</dd>
      <dt>${t('it.run.finished')}</dt><dd>${d.finishedAt ? fmt.dateTime(d.finishedAt) : '—'}</dd>
      <dt>${t('it.backups.name')}</dt><dd>${d.backup ? html`<code>${d.backup}</code>` : '—'}</dd>
      <dt>${t('it.backups.target')}</dt><dd>${d.target ?? d.onlyTarget ?? t('it.backups.anyTarget')}</dd>
      ${d.error ? html`<dt>${t('it.backups.error')}</dt><dd class="error">${d.error}</dd>` : ''}
    </dl>
    ${r && r.skipped.length > 0 ? html`<h2>${t('it.drill.skipped')}</h2><ul>${r.skipped.map((s) => html`<li data-skipped="${s.target}"><code>${s.backup}</code> · ${s.target}: ${s.problems.join('; ')}</li>`)}</ul>` : ''}
    ${r && r.tables.length > 0 ? html`<h2>${t('it.drill.tables')}</h2><div class="table-wrap"><table class="it-drill-tables">
      <thead><tr><th scope="col">${t('it.drill.table')}</th><th scope="col" class="num">${t('it.drill.expected')}</th><th scope="col" class="num">${t('it.drill.restored')}</th></tr></thead>
      <tbody>${r.tables.map((x) => html`<tr data-table="${x.table}"${x.expected === x.restored ? '' : html` class="bad"`}><th scope="row"><code>${x.table}</code></th>
        <td class="num">${fmt.number(x.expected)}</td><td class="num" data-restored>${fmt.number(x.restored)}</td></tr>`)}</tbody></table></div>` : ''}
    ${r && r.chains.length > 0 ? html`<h2>${t('it.drill.chains')}</h2><ul>${r.chains.map((c) => html`<li data-chain="${c.ok && c.headMatches ? 'ok' : 'broken'}">${t(c.ok && c.headMatches ? 'it.drill.chainOk' : 'it.drill.chainBroken', { events: fmt.number(c.events) })}</li>`)}</ul>` : ''}
    ${r && r.mismatches.length > 0 ? html`<h2>${t('it.drill.mismatches')}</h2><ul class="error">${r.mismatches.map((m) => html`<li>${m}</li>`)}</ul>` : ''}
  </section>`;
}
