import { actorOf, permit } from '../../../../auth/caller.js';
import {
  backupClose, confirmClose, listCloses, lockClose, printClose, readClose, sealClose, signOffClose, startClose, type CloseDeps, type CloseView,
} from '../../../../archive/close.js';
import { listPeriods, readPeriod, readPeriodClasses, type PeriodClass, type PeriodInfo } from '../../../../archive/content.js';
import { ConflictError, NotFoundError } from '../../../../lib/errors.js';
import { parseRequest } from '../../../errors.js';
import { ConfirmBody, Override, archivePage, closerOf, mayConfirm, signerOf } from '../../../routes/archive.js';
import type { PageContext, PageResult } from '../../context.js';
import { html, query, type Html } from '../../html.js';
import type { MessageKey } from '../../messages/index.js';
import type { Pages } from '../../pages.js';
import type { DashboardDeps } from '../../router.js';
import { idParam, param } from './shared.js';

/** The procedure's steps in order (archive/close.ts). */
const STEPS = ['checks', 'confirm_finals', 'lock', 'seal', 'print', 'backup', 'sign_pages', 'certify_class', 'sign_off'] as const;
type Step = (typeof STEPS)[number];
const CONFIRMATIONS: Record<string, 'finals' | 'pages' | 'class'> = { confirm_finals: 'finals', sign_pages: 'pages', certify_class: 'class' };

/** Items of the archive per page on a close's page. */
const ITEMS_PER_PAGE = 30;

/**
 * The period close, step by step: the school's closes and periods (/close), one close (/close/:periodId)
 * with each step's who and when, the findings that block the lock, the seal and the printouts; each step a
 * form posting to the same service functions as the API's routes, with the same permissions.
 */
export function registerClose(pages: Pages, deps: DashboardDeps): void {
  const closeDeps = (): CloseDeps | undefined => (deps.archive ? { pool: deps.pool, clock: deps.clock, ...deps.archive } : undefined);

  pages.get('/close', async (ctx) => {
    const { t, fmt } = ctx;
    permit(ctx.caller, ctx.school.id, 'periods:confirm');
    const periods = await listPeriods(deps.pool, ctx.school.id);
    const closes = new Map((await listCloses(deps.pool, ctx.school.id)).map((c) => [c.periodId, c]));
    const mayClose = ctx.grant.permissions.has('periods:close') && deps.archive !== undefined;
    const body = html`
      <h1>${t('deputy.close.title')}</h1>
      <p class="muted">${t('deputy.close.intro')}</p>
      ${deps.archive ? '' : html`<p class="warning">${t('deputy.close.unavailable')}</p>`}
      <div class="table-wrap"><table id="closes">
        <thead><tr><th scope="col">${t('deputy.period.label')}</th><th scope="col">${t('deputy.close.dates')}</th><th scope="col">${t('deputy.close.status')}</th>
          <th scope="col">${t('deputy.close.started')}</th><th scope="col">${t('deputy.close.closed')}</th><th scope="col">${t('deputy.close.actions')}</th></tr></thead>
        <tbody>${periods.map((p) => {
          const c = closes.get(p.id);
          return html`<tr data-period="${p.id}" data-status="${c?.status ?? 'none'}">
            <th scope="row">${p.title}</th><td>${fmt.date(p.startDate)} — ${fmt.date(p.endDate)}</td>
            <td>${statusBadge(ctx, c?.status)}</td><td>${c ? fmt.dateTime(c.startedAt) : '—'}</td><td>${c?.closedAt ? fmt.dateTime(c.closedAt) : '—'}</td>
            <td class="actions">${c ? html`<a href="/close/${p.id}">${t('deputy.close.open')}</a>`
              : mayClose ? html`<form method="post" action="/close/${p.id}/start" class="inline"><button type="submit" class="secondary">${t('deputy.close.start')}</button></form>`
                : html`<a href="/close/${p.id}">${t('form.open')}</a>`}</td></tr>`;
        })}</tbody>
      </table></div>`;
    return { title: t('deputy.close.title'), body };
  });

  pages.get('/close/:periodId', async (ctx) => closePage(ctx, deps));

  /** A step's post: the service's function under the API's permission, then back to the close's page (a refusal shown on it). */
  const step = (name: string, run: (ctx: PageContext, d: CloseDeps, periodId: string) => Promise<unknown>) => {
    pages.post(`/close/:periodId/${name}`, async (ctx) => {
      const periodId = idParam(ctx.req.params.periodId, 'period');
      const d = closeDeps();
      if (!d) throw new NotFoundError('the period close');
      try {
        await run(ctx, d, periodId);
      } catch (error) {
        if (error instanceof ConflictError) return closePage(ctx, deps, { step: name, message: error.message });
        throw error;
      }
      return `/close/${periodId}${query({ notice: `deputy.close.done.${name}` })}`;
    });
  };
  const override = (ctx: PageContext) => parseRequest(Override, { override: param(ctx.req.body?.override) || undefined }, 'body').override;
  step('start', async (ctx, d, periodId) => startClose(d, { schoolId: ctx.school.id, periodId, actor: closerOf(ctx.caller, ctx.school.id) }));
  step('lock', async (ctx, d, periodId) => {
    const actor = closerOf(ctx.caller, ctx.school.id);
    return lockClose(d, { schoolId: ctx.school.id, periodId, actor, override: override(ctx) });
  });
  step('seal', async (ctx, d, periodId) => sealClose(d, { schoolId: ctx.school.id, periodId, actor: closerOf(ctx.caller, ctx.school.id) }));
  step('print', async (ctx, d, periodId) => {
    const actor = closerOf(ctx.caller, ctx.school.id);
    const classId = param(ctx.req.body?.classId);
    return printClose(d, { schoolId: ctx.school.id, periodId, actor, classIds: classId ? [idParam(classId, 'class')] : undefined });
  });
  step('backup', async (ctx, d, periodId) => backupClose(d, { schoolId: ctx.school.id, periodId, actor: closerOf(ctx.caller, ctx.school.id) }));
  step('confirm', async (ctx, d, periodId) => {
    permit(ctx.caller, ctx.school.id, 'periods:confirm');
    const b = ctx.req.body ?? {};
    const body = parseRequest(ConfirmBody, {
      step: param(b.step), classId: param(b.classId), subjectId: param(b.subjectId) || undefined, note: param(b.note) || undefined,
    }, 'body');
    await mayConfirm(deps.pool, ctx.caller, ctx.school.id, body);
    return confirmClose(d, { schoolId: ctx.school.id, periodId, actor: actorOf(ctx.caller), ...body });
  });
  step('sign-off', async (ctx, d, periodId) => {
    const actor = signerOf(ctx.caller, ctx.school.id);
    return signOffClose(d, { schoolId: ctx.school.id, periodId, actor, override: override(ctx) });
  });
}

async function closePage(ctx: PageContext, deps: DashboardDeps, refused?: { step: string; message: string }): Promise<PageResult> {
  const { t, fmt } = ctx;
  permit(ctx.caller, ctx.school.id, 'periods:confirm');
  const periodId = idParam(ctx.req.params.periodId, 'period');
  const period = await readPeriod(deps.pool, ctx.school.id, periodId);
  let close: CloseView | undefined;
  try {
    close = await readClose(deps.pool, ctx.school.id, periodId);
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
  }
  const mayClose = ctx.grant.permissions.has('periods:close') && deps.archive !== undefined;
  const title = t('deputy.close.of', { period: period.title });
  const head = html`
    <p><a href="/close">${t('deputy.close.back')}</a></p>
    <h1>${title}</h1>
    <p class="muted">${fmt.date(period.startDate)} — ${fmt.date(period.endDate)} · ${t('deputy.close.status')}: <span id="close-status" data-status="${close?.status ?? 'none'}">${statusBadge(ctx, close?.status)}</span></p>
    ${refused ? html`<div class="error" role="alert" data-refused="${refused.step}"><strong>${t('deputy.close.refused')}</strong> <span data-error-message>${refused.message}</span></div>` : ''}`;
  if (!close) {
    const body = html`${head}<p class="notice">${t('deputy.close.notStarted')}</p>
      ${mayClose ? html`<form method="post" action="/close/${period.id}/start"><button type="submit">${t('deputy.close.start')}</button></form>` : ''}`;
    return { title, body, status: refused ? 409 : 200, current: '/close' };
  }
  const classes = await readPeriodClasses(deps.pool, period);
  const archive = ctx.grant.permissions.has('archive:read')
    ? await archivePage(deps.pool, { schoolIds: [ctx.school.id], periodId: period.id, limit: ITEMS_PER_PAGE, cursor: cursorParam(ctx.req.query.cursor) })
    : undefined;
  const isDirector = ctx.caller.kind === 'staff' && ctx.grant.roles.includes('director');
  const logins = new Map((await deps.auth.users.listOf(ctx.school.id)).map((u) => [`user:${u.id}`, u.login]));
  const who = (actor: string) => logins.get(actor) ?? (actor.startsWith('api:') ? t('deputy.close.apiKey') : actor);
  const body = html`${head}
    <div class="deputy-close">
      <section aria-labelledby="steps-h" class="deputy-steps">
        <h2 id="steps-h">${t('deputy.close.steps')}</h2>
        <ol class="steps">${STEPS.map((s) => stepItem(ctx, close, s, { mayClose, isDirector, classes, backup: deps.archive?.backup !== undefined, who }))}</ol>
      </section>
      <aside class="deputy-side">
        ${findingsCard(ctx, close)}
        ${close.waitingFor.length > 0 ? html`<section class="card deputy-card" aria-labelledby="waiting-h"><h2 id="waiting-h">${t('deputy.close.waiting')}</h2>
          <ul id="waiting">${close.waitingFor.map((w) => html`<li data-waiting="${w.split(':')[0]}">${waitingText(ctx, w)}</li>`)}</ul></section>` : ''}
        ${sealCard(ctx, close)}
      </aside>
    </div>
    ${confirmForm(ctx, close, classes)}
    ${archive ? printoutsTable(ctx, close, period, archive, classes) : ''}`;
  return { title, body, status: refused ? 409 : 200, current: '/close' };
}

function cursorParam(value: unknown): string | undefined {
  const c = param(value);
  return /^[^|]{1,40}\|[0-9a-f-]{36}$/.test(c) ? c : undefined;
}

function statusBadge(ctx: PageContext, status: string | undefined): Html {
  const tone: Record<string, string> = { open: 'warn', locked: 'info', sealed: 'info', closed: 'ok' };
  return html`<span class="badge ${tone[status ?? ''] ?? ''}">${ctx.t(`deputy.close.state.${(status ?? 'none') as 'none'}`)}</span>`;
}

interface StepOptions { mayClose: boolean; isDirector: boolean; classes: PeriodClass[]; backup: boolean; who(actor: string): string }

function stepItem(ctx: PageContext, close: CloseView, step: Step, o: StepOptions): Html {
  const { t, fmt } = ctx;
  const rows = close.steps.filter((s) => s.step === step);
  const whole = rows.filter((s) => s.classId === null && s.subjectId === null);
  const last = [...(whole.length > 0 ? whole : rows)].sort((a, b) => a.at.localeCompare(b.at)).pop();
  const waiting = close.waitingFor.some((w) => w === step || w.startsWith(`${step}:`));
  const done = step === 'lock' ? close.lockedAt !== null : step === 'seal' ? close.seal !== null : step === 'sign_off' ? close.status === 'closed'
    : step in CONFIRMATIONS || step === 'print' || step === 'backup' ? !waiting && (rows.length > 0 || close.status === 'closed') : rows.length > 0;
  const current = !done && nextStep(close) === step;
  const state = done ? 'done' : current ? 'current' : 'todo';
  const who = last ? html`<p class="muted deputy-who" data-actor="${last.actor}" data-at="${last.at}">${t('deputy.close.byWhen', { actor: o.who(last.actor), at: fmt.dateTime(last.at) })}</p>` : '';
  const action = (path: string, label: MessageKey, extra: Html | string = '', secondary = false) => html`
    <form method="post" action="/close/${close.period.id}/${path}" class="deputy-step-form">${extra}<button type="submit"${secondary ? html` class="secondary"` : ''}>${t(label)}</button></form>`;
  let detail: Html | string = '';
  let form: Html | string = '';
  const d = last?.detail ?? null;
  switch (step) {
    case 'checks':
      if (d) detail = html`<p>${t('deputy.close.checks.detail', { found: num(d.found), opened: num(d.opened), unresolved: num(d.unresolved), severe: num(d.severe) })}</p>`;
      if (o.mayClose && close.status === 'open') form = action('start', 'deputy.close.checks.again', '', true);
      break;
    case 'lock':
      if (close.lockedAt) {
        detail = html`<p>${t('deputy.close.lock.detail', { severe: close.openSevere ?? 0, seq: close.lockSeq ?? '—' })}</p>
          ${close.overrideReason ? html`<p data-override>${t('deputy.close.lock.override', { reason: close.overrideReason })}</p>` : ''}`;
      } else if (o.mayClose) {
        const severe = close.findings.severe;
        form = action('lock', 'deputy.close.lock.do', html`
          ${severe > 0 ? html`<p class="warning">${t('deputy.close.lock.severe', { count: severe })}</p>` : ''}
          <label>${t(severe > 0 ? 'deputy.close.lock.reasonRequired' : 'deputy.close.lock.reason')}
            <textarea name="override" minlength="3" maxlength="1000"${severe > 0 ? html` required` : ''}></textarea></label>`);
      }
      break;
    case 'seal':
      if (close.seal) detail = html`<p>${t('deputy.close.seal.detail', { code: close.seal.code, pages: close.seal.pages })}</p>`;
      else if (o.mayClose && close.status === 'locked') form = action('seal', 'deputy.close.seal.do');
      break;
    case 'print': {
      const items = rows.reduce((n, r) => n + (Array.isArray(r.detail?.items) ? (r.detail.items as unknown[]).length : 0), 0);
      if (rows.length > 0) detail = html`<p>${t('deputy.close.print.detail', { count: items, classes: rows.filter((r) => r.classId).length })}</p>`;
      if (o.mayClose && close.seal) {
        form = action('print', rows.length > 0 ? 'deputy.close.print.again' : 'deputy.close.print.do', html`
          <p class="muted">${t('deputy.close.print.slow')}</p>
          <label>${t('deputy.close.print.which')}<select name="classId"><option value="">${t('deputy.close.print.all')}</option>
            ${o.classes.map((c) => html`<option value="${c.id}">${c.name}</option>`)}</select></label>`, rows.length > 0);
      }
      break;
    }
    case 'backup':
      if (d) detail = html`<p>${t('deputy.close.backup.detail', { status: String(d.status ?? '—') })}</p>`;
      if (o.mayClose && close.status !== 'open') form = o.backup ? action('backup', 'deputy.close.backup.do', '', rows.length > 0) : html`<p class="muted">${t('deputy.close.backup.unavailable')}</p>`;
      break;
    case 'confirm_finals':
    case 'sign_pages':
    case 'certify_class':
      detail = html`<p>${t('deputy.close.confirm.count', { count: rows.length })}</p>`;
      break;
    case 'sign_off':
      if (close.status === 'closed') detail = html`<p>${t('deputy.close.signOff.detail', { at: fmt.dateTime(close.closedAt), actor: close.closedBy ? o.who(close.closedBy) : '—' })}</p>`;
      else if (o.isDirector && close.seal) {
        const waitingOthers = close.waitingFor.filter((w) => w !== 'sign_off').length;
        form = action('sign-off', 'deputy.close.signOff.do', html`
          <label>${t(waitingOthers > 0 ? 'deputy.close.lock.reasonRequired' : 'deputy.close.lock.reason')}
            <textarea name="override" minlength="3" maxlength="1000"${waitingOthers > 0 ? html` required` : ''}></textarea></label>`);
      } else if (!o.isDirector) detail = html`<p class="muted">${t('deputy.close.signOff.director')}</p>`;
      break;
  }
  return html`<li class="${state}" data-step="${step}" data-state="${state}"${current ? html` aria-current="step"` : ''}>
    <strong>${t(`deputy.close.step.${step}`)}</strong> ${done ? html`<span class="badge ok">${t('deputy.close.stepDone')}</span>` : ''}
    <p class="muted">${t(`deputy.close.step.${step}.hint`)}</p>${who}${detail}${form}</li>`;
}

const num = (v: unknown) => (typeof v === 'number' ? v : 0);

/** The first step the procedure still waits for (its order: lock, seal, print, backup, then the confirmations and the sign-off). */
function nextStep(close: CloseView): Step | undefined {
  if (close.status === 'open') return 'lock';
  if (!close.seal) return 'seal';
  for (const s of ['print', 'backup', 'confirm_finals', 'sign_pages', 'certify_class', 'sign_off'] as const) {
    if (close.waitingFor.some((w) => w === s || w.startsWith(`${s}:`))) return s;
  }
  return undefined;
}

/** A line of the service's waitingFor (`step` or `step: N of M (labels…)`) in the page's language. */
function waitingText(ctx: PageContext, w: string): string {
  const [step, ...rest] = w.split(':');
  if (!(STEPS as readonly string[]).includes(step!)) return w;
  const name = ctx.t(`deputy.close.step.${step as Step}`);
  const counted = /^\s*(\d+) of (\d+) \((.*)\)$/.exec(rest.join(':'));
  if (counted) return ctx.t('deputy.close.waitingCount', { step: name, left: counted[1]!, total: counted[2]!, list: counted[3]! });
  return rest.length > 0 ? `${name}:${rest.join(':')}` : name;
}

function findingsCard(ctx: PageContext, close: CloseView): Html {
  const { t, fmt } = ctx;
  const f = close.findings;
  return html`<section class="card deputy-card" aria-labelledby="findings-h" id="findings" data-unresolved="${f.unresolved}" data-severe="${f.severe}">
    <h2 id="findings-h">${t('deputy.close.findings')}</h2>
    <p>${t('deputy.close.findings.summary', { unresolved: f.unresolved, severe: f.severe })}</p>
    ${close.status === 'open' && f.severe > 0 ? html`<p class="warning">${t('deputy.close.findings.blocks')}</p>` : ''}
    ${f.byRule.length > 0 ? html`<div class="table-wrap"><table class="deputy-compact">
      <thead><tr><th scope="col">${t('deputy.compliance.rule')}</th><th scope="col">${t('deputy.close.severity')}</th><th scope="col" class="num">${t('deputy.close.count')}</th></tr></thead>
      <tbody>${f.byRule.map((r) => html`<tr data-rule="${r.rule}" data-severity="${r.severity}"><th scope="row"><code>${r.rule}</code></th>
        <td><span class="badge ${r.severity}">${r.severity === 'severe' ? t('deputy.close.severe') : r.severity === 'warning' ? t('deputy.close.warning') : r.severity}</span></td>
        <td class="num">${fmt.number(r.count)}</td></tr>`)}</tbody></table></div>` : ''}
    ${close.postCloseChanges > 0 ? html`<p class="warning" data-post-close="${close.postCloseChanges}">${t('deputy.close.postClose', { count: close.postCloseChanges })}</p>` : ''}
  </section>`;
}

function sealCard(ctx: PageContext, close: CloseView): Html | string {
  const { t, fmt } = ctx;
  if (!close.seal) return '';
  const s = close.seal;
  return html`<section class="card deputy-card" aria-labelledby="seal-h" id="seal" data-code="${s.code}">
    <h2 id="seal-h">${t('deputy.close.seal')}</h2>
    <dl class="facts">
      <dt>${t('deputy.close.seal.code')}</dt><dd><strong>${s.code}</strong></dd>
      <dt>${t('deputy.close.seal.pages')}</dt><dd>${fmt.number(s.pages)}</dd>
      <dt>${t('deputy.close.seal.chain')}</dt><dd>${s.chainSeq}</dd>
      <dt>${t('deputy.close.seal.at')}</dt><dd>${fmt.dateTime(s.createdAt)}</dd>
      <dt>${t('deputy.close.seal.digest')}</dt><dd><code class="deputy-digest">${s.digest}</code></dd>
    </dl>
  </section>`;
}

function confirmForm(ctx: PageContext, close: CloseView, classes: PeriodClass[]): Html | string {
  const { t } = ctx;
  if (close.status === 'closed' || classes.length === 0) return '';
  const subjects = [...new Map(classes.flatMap((c) => c.subjects).map((s) => [s.id, s.name])).entries()].sort((a, b) => a[1].localeCompare(b[1]));
  return html`<section class="card deputy-card" aria-labelledby="confirm-h">
    <h2 id="confirm-h">${t('deputy.close.confirm.title')}</h2>
    <p class="muted">${t('deputy.close.confirm.hint')}</p>
    <form method="post" action="/close/${close.period.id}/confirm" class="filters deputy-filters">
      <label>${t('deputy.close.confirm.step')}<select name="step">
        <option value="finals">${t('deputy.close.step.confirm_finals')}</option>
        ${close.seal ? html`<option value="pages">${t('deputy.close.step.sign_pages')}</option><option value="class">${t('deputy.close.step.certify_class')}</option>` : ''}
      </select></label>
      <label>${t('deputy.compliance.class')}<select name="classId" required>${classes.map((c) => html`<option value="${c.id}">${c.name}</option>`)}</select></label>
      <label>${t('deputy.compliance.subject')}<select name="subjectId"><option value="">${t('deputy.close.confirm.noSubject')}</option>${subjects.map(([id, name]) => html`<option value="${id}">${name}</option>`)}</select></label>
      <label>${t('deputy.close.confirm.note')}<input type="text" name="note" maxlength="1000"></label>
      <button type="submit">${t('deputy.close.confirm.do')}</button>
    </form>
  </section>`;
}

function printoutsTable(ctx: PageContext, close: CloseView, period: PeriodInfo, archive: Awaited<ReturnType<typeof archivePage>>, classes: PeriodClass[]): Html {
  const { t, fmt } = ctx;
  const names = new Map(classes.map((c) => [c.id, c.name]));
  return html`<section aria-labelledby="printouts-h">
    <h2 id="printouts-h">${t('deputy.close.printouts')}</h2>
    ${archive.data.length === 0 ? html`<p class="muted">${t('deputy.close.printouts.none')}</p>` : html`
    <div class="table-wrap"><table id="printouts" class="deputy-compact">
      <thead><tr><th scope="col">${t('deputy.archive.item')}</th><th scope="col">${t('deputy.archive.kind')}</th><th scope="col">${t('deputy.compliance.class')}</th>
        <th scope="col">${t('deputy.close.seal.code')}</th><th scope="col" class="num">${t('deputy.archive.size')}</th><th scope="col">${t('deputy.archive.filed')}</th><th scope="col">${t('form.download')}</th></tr></thead>
      <tbody>${archive.data.map((i) => html`<tr data-item="${i.id}" data-kind="${i.kind}">
        <th scope="row">${i.title}</th><td>${t(`deputy.archive.kind.${i.kind}`)}</td><td>${i.classGroupId ? names.get(i.classGroupId) ?? '—' : '—'}</td>
        <td>${i.sealId && close.seal && i.sealId === close.seal.id ? close.seal.code : '—'}</td>
        <td class="num">${fmt.number(Math.ceil(i.size / 1024))} ${t('deputy.archive.kb')}</td><td>${fmt.dateTime(i.createdAt)}</td>
        <td><a href="/v1/archive/${i.id}/content" download aria-label="${t('form.download')} ${i.filename}">${t('form.download')}</a></td></tr>`)}</tbody>
    </table></div>`}
    ${archive.nextCursor ? html`<nav class="pager"><a href="/close/${period.id}${query({ cursor: archive.nextCursor })}">${t('list.next')}</a></nav>` : ''}
    ${ctx.req.query.cursor ? html`<nav class="pager"><a href="/close/${period.id}">${t('list.first')}</a></nav>` : ''}
  </section>`;
}
