import { DiscrepancyPatchSchema, type DiscrepancyPatch, type DiscrepancyView } from '../../../../checks/discrepancies.js';
import type { JournalPage } from '../../../../journal/queries.js';
import { shiftDays } from '../../../../lib/dates.js';
import { NotFoundError, ValidationError } from '../../../../lib/errors.js';
import { actOnDiscrepancy, visibleDiscrepancy } from '../../../routes/discrepancies.js';
import { readJournalPageFor } from '../../../routes/journal.js';
import type { PageContext, PageResult } from '../../context.js';
import { html, query, type Html } from '../../html.js';
import type { Pages } from '../../pages.js';
import type { DashboardDeps } from '../../router.js';
import { journalGrid } from './grid.js';
import { badge, idParam, journalOptions, kindKey, severityKey, statusKey } from './shared.js';

/** Days on each side of a finding's day its evidence grid shows (bounded by the page's maximum). */
const EVIDENCE_DAYS = 7;

/**
 * `/inbox/:id`: one discrepancy as GET /v1/discrepancies/{id} shows it to the caller (404 when it may
 * not see it), with its evidence — the journal grid around its day for paper and cross-source findings,
 * the facts for regulation ones — and the PATCH's actions (acknowledge, dismiss with a reason, open
 * again, justify) under the same permission check.
 */
export function registerDiscrepancy(pages: Pages, deps: DashboardDeps): void {
  pages.get('/inbox/:id', async (ctx) => discrepancyPage(ctx, deps));
  pages.post('/inbox/:id', async (ctx) => {
    const id = idOf(ctx);
    const action = String(ctx.req.body?.action ?? '');
    const patched = await actOnDiscrepancy(deps.pool, ctx.caller, id, () => patchOf(ctx, action));
    return `/inbox/${patched.id}${query({ notice: `teacher.discrepancy.done.${action}` })}`;
  });
}

function idOf(ctx: PageContext): string {
  const id = idParam(String(ctx.req.params.id ?? ''), 'id');
  if (!id) throw new NotFoundError('discrepancy');
  return id;
}

/** The form's action as the API's patch (the same schema: a dismissal needs its reason). */
function patchOf(ctx: PageContext, action: string): DiscrepancyPatch {
  const text = (name: string) => (typeof ctx.req.body?.[name] === 'string' && ctx.req.body[name].trim() !== '' ? String(ctx.req.body[name]) : undefined);
  const asked: Record<string, unknown> | undefined = {
    acknowledge: { status: 'acknowledged' },
    reopen: { status: 'open' },
    dismiss: { status: 'dismissed', reason: text('reason') },
    justify: { justification: text('justification') },
  }[action];
  if (!asked) throw new ValidationError(ctx.t('teacher.discrepancy.badAction'));
  const parsed = DiscrepancyPatchSchema.safeParse(Object.fromEntries(Object.entries(asked).filter(([, v]) => v !== undefined)));
  if (!parsed.success) throw new ValidationError(ctx.t(action === 'dismiss' ? 'teacher.discrepancy.reasonNeeded' : 'teacher.discrepancy.textNeeded'));
  return parsed.data;
}

async function discrepancyPage(ctx: PageContext, deps: DashboardDeps): Promise<PageResult> {
  const { t } = ctx;
  const d = await visibleDiscrepancy(deps.pool, ctx.caller, idOf(ctx), 'discrepancies:read');
  const title = d.title ?? d.rule;
  const evidence = await evidenceOf(ctx, deps, d);
  const body = html`<p><a href="/inbox">${t('teacher.discrepancy.back')}</a></p>
    <h1>${title}</h1>
    <p>${badge(ctx, d.severity, severityKey(d.severity))} ${badge(ctx, d.status, statusKey(d.status))} ${badge(ctx, 'info', kindKey(d.kind))}</p>
    <div class="card teacher-card">${facts(ctx, d)}</div>
    ${evidence}
    ${actions(ctx, d)}`;
  return { title, body, current: '/inbox' };
}

function facts(ctx: PageContext, d: DiscrepancyView): Html {
  const { t, fmt } = ctx;
  const row = (key: Parameters<typeof t>[0], value: Html | string) => html`<dt>${t(key)}</dt><dd>${value}</dd>`;
  return html`<dl class="facts" data-facts>
    ${row('teacher.inbox.rule', html`${d.rule}${d.clauses.length ? html` <span class="muted">(${d.clauses.join('; ')})</span>` : ''}`)}
    ${row('teacher.inbox.day', fmt.date(d.day))}
    ${row('teacher.filter.class', d.className ?? '—')}
    ${row('teacher.filter.subject', d.subjectName ?? '—')}
    ${row('teacher.discrepancy.sources', d.sources.map((s) => s.title).join(', ') || '—')}
    ${d.expected !== null && d.expected !== undefined ? row('teacher.discrepancy.expected', value(d.expected)) : ''}
    ${d.found !== null && d.found !== undefined ? row('teacher.discrepancy.found', value(d.found)) : ''}
    ${row('teacher.inbox.assignee', d.assignee?.name ?? '—')}
    ${d.statusReason ? row('teacher.discrepancy.reason', d.statusReason) : ''}
    ${d.statusAt ? row('teacher.discrepancy.statusAt', fmt.dateTime(d.statusAt)) : ''}
    ${d.justification ? row('teacher.discrepancy.justification', html`<span data-justification>${d.justification}</span>`) : ''}
    ${row('teacher.discrepancy.firstSeen', fmt.dateTime(d.firstSeenAt))}
    ${row('teacher.discrepancy.lastSeen', fmt.dateTime(d.lastSeenAt))}
    ${d.resolvedAt ? row('teacher.discrepancy.resolvedAt', fmt.dateTime(d.resolvedAt)) : ''}
  </dl>`;
}

/** A finding's expected or found value: a scalar as text, an object as its fields. */
function value(v: unknown): Html {
  if (v === null || typeof v !== 'object') return html`${String(v)}`;
  if (Array.isArray(v)) return html`${scalars(v)}`;
  return html`<dl class="facts nested">${Object.entries(v).map(([k, x]) => html`<dt>${k}</dt><dd>${Array.isArray(x) ? scalars(x) : typeof x === 'object' && x !== null ? JSON.stringify(x) : String(x)}</dd>`)}</dl>`;
}

function scalars(list: unknown[]): string {
  return list.length === 0 ? '—' : list.map((x) => (typeof x === 'object' && x !== null ? JSON.stringify(x) : String(x))).join(', ');
}

/** The journal grid of the finding's class and subject around its day, when the caller may read that journal. */
async function evidenceOf(ctx: PageContext, deps: DashboardDeps, d: DiscrepancyView): Promise<Html> {
  const { t } = ctx;
  if (d.kind !== 'paper' && d.kind !== 'cross_source') return html``;
  if (!d.classId || !d.subjectId || !d.day) return html`<p class="muted">${t('teacher.discrepancy.noGrid')}</p>`;
  const options = journalOptions(deps);
  const days = Math.max(0, Math.min(EVIDENCE_DAYS, Math.floor((options.maxDays - 1) / 2)));
  let page: JournalPage;
  try {
    page = await readJournalPageFor(deps.pool, options, ctx.caller, undefined, d.classId,
      { subject: d.subjectId, from: shiftDays(d.day, -days), to: shiftDays(d.day, days) });
  } catch (error) {
    // Assigned a finding of a journal it may not read: the facts are all it sees.
    if (error instanceof NotFoundError) return html`<p class="muted">${t('teacher.discrepancy.noGrid')}</p>`;
    throw error;
  }
  const link = `/journal${query({ class: d.classId, subject: d.subjectId, from: page.from, to: page.to })}`;
  return html`<section aria-labelledby="evidence"><h2 id="evidence">${t('teacher.discrepancy.evidence')}</h2>
    <p class="muted">${t('teacher.discrepancy.evidenceIntro', { from: ctx.fmt.date(page.from), to: ctx.fmt.date(page.to) })} <a href="${link}">${t('teacher.discrepancy.openJournal')}</a></p>
    ${journalGrid(ctx, page, { pupilId: d.pupilId, lessonId: d.lessonId })}
  </section>`;
}

function actions(ctx: PageContext, d: DiscrepancyView): Html {
  const { t } = ctx;
  if (!ctx.grant.permissions.has('discrepancies:write')) return html``;
  const form = (action: string, inner: Html) => html`<form method="post" action="/inbox/${d.id}" class="stack card"><input type="hidden" name="action" value="${action}">${inner}</form>`;
  const status = d.status === 'resolved' ? html`<p class="muted">${t('teacher.discrepancy.resolvedNote')}</p>` : html`
    <div class="actions">
      ${d.status !== 'acknowledged' ? form('acknowledge', html`<button type="submit">${t('teacher.discrepancy.acknowledge')}</button>`) : ''}
      ${d.status !== 'open' ? form('reopen', html`<button type="submit" class="secondary">${t('teacher.discrepancy.reopen')}</button>`) : ''}
    </div>
    ${d.status !== 'dismissed' ? form('dismiss', html`<label>${t('teacher.discrepancy.reasonLabel')}<textarea name="reason" required maxlength="2000"></textarea></label>
      <div><button type="submit" class="danger">${t('teacher.discrepancy.dismiss')}</button></div>`) : ''}`;
  return html`<section aria-labelledby="act" class="teacher-actions"><h2 id="act">${t('teacher.discrepancy.actions')}</h2>
    ${status}
    ${form('justify', html`<label>${t('teacher.discrepancy.justificationLabel')}<textarea name="justification" required maxlength="4000"></textarea></label>
      <div><button type="submit" class="secondary">${t('teacher.discrepancy.justify')}</button></div>`)}
  </section>`;
}
