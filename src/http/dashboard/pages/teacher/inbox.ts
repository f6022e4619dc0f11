import { STATUSES, listDiscrepancies, type DiscrepancyView } from '../../../../checks/discrepancies.js';
import { RULES } from '../../../../checks/rules/index.js';
import { ValidationError } from '../../../../lib/errors.js';
import { inboxOf } from '../../../routes/discrepancies.js';
import type { PageContext, PageResult } from '../../context.js';
import { html, query, type Html } from '../../html.js';
import type { Pages } from '../../pages.js';
import type { DashboardDeps } from '../../router.js';
import { badge, chooseClass, classOptions, options, param, severityKey, statusKey, subjectOptions } from './shared.js';

/** Rows per inbox page (the service's cursor pages them). */
export const INBOX_PAGE = 25;

type Status = (typeof STATUSES)[number];

/** The inbox's filters from the address: open findings unless another status (or `all`) is asked for. */
function statusFilter(asked: string | undefined): { value: string; list: Status[] | undefined } {
  if (asked === 'all') return { value: 'all', list: undefined };
  const value = asked ?? 'open';
  if (!(STATUSES as readonly string[]).includes(value)) throw new ValidationError(`status: one of ${STATUSES.join(', ')}, all`);
  return { value, list: [value as Status] };
}

/**
 * `/inbox`: the discrepancies this caller's GET /v1/discrepancies lists (inboxOf: the school whole for
 * deputies and IT, a teacher's own classes, subjects and assignments), filtered, newest day first.
 */
export function registerInbox(pages: Pages, deps: DashboardDeps): void {
  pages.get('/inbox', async (ctx) => inboxPage(ctx, deps));
}

async function inboxPage(ctx: PageContext, deps: DashboardDeps): Promise<PageResult> {
  const { t } = ctx;
  const choice = await chooseClass(ctx, deps, false);
  const rule = param(ctx, 'rule');
  if (rule !== undefined && !/^[a-z][a-z0-9_]*$/.test(rule)) throw new ValidationError('rule: a rule id (a-z, 0-9, _)');
  const status = statusFilter(param(ctx, 'status'));
  const cursor = param(ctx, 'cursor');
  const inbox = await inboxOf(deps.pool, ctx.caller, ctx.school.id);
  const list = await listDiscrepancies(deps.pool, {
    schoolId: ctx.school.id, ...inbox, classId: choice.classId, subjectId: choice.subjectId, rule, status: status.list, cursor, limit: INBOX_PAGE,
  });
  const keep = { class: choice.classId, subject: choice.subjectId, rule, status: status.value === 'open' ? undefined : status.value };
  const statuses = [...STATUSES.map((s) => ({ value: s, label: t(statusKey(s)) })), { value: 'all', label: t('teacher.status.all') }];
  const filters = html`<form method="get" action="/inbox" class="filters teacher-filters" aria-label="${t('form.filter')}">
    ${classOptions(ctx, choice, true)}
    ${choice.classId || choice.subjectId ? subjectOptions(ctx, choice, true) : ''}
    <label>${t('teacher.filter.rule')}<select name="rule">${options(ruleOptions(rule), rule, t('form.all'))}</select></label>
    <label>${t('teacher.filter.status')}<select name="status">${options(statuses, status.value)}</select></label>
    <button type="submit">${t('form.apply')}</button>
    <a href="/inbox">${t('form.reset')}</a>
  </form>`;
  const pager = html`<nav class="pager" aria-label="${t('teacher.inbox.pages')}">
    ${cursor ? html`<a href="/inbox${query(keep)}">${t('list.first')}</a>` : ''}
    ${list.nextCursor ? html`<a href="/inbox${query({ ...keep, cursor: list.nextCursor })}" rel="next" data-next>${t('list.next')}</a>` : ''}
  </nav>`;
  const body = html`<h1>${t('teacher.inbox.title')}</h1>
    <p class="muted">${t('teacher.inbox.intro')}</p>
    ${filters}
    ${list.items.length === 0 ? html`<p class="card" data-empty>${t('teacher.inbox.empty')}</p>` : html`
      <p class="muted" aria-live="polite">${t('list.shown', { count: list.items.length })}</p>
      ${inboxTable(ctx, list.items)}`}
    ${pager}`;
  return { title: t('teacher.inbox.title'), body };
}

/** The checks' rules by title; a rule asked for that they do not know (an older or a test finding's) stays chosen. */
function ruleOptions(rule: string | undefined): Array<{ value: string; label: string }> {
  const known = RULES.map((r) => ({ value: r.id, label: r.title })).sort((a, b) => a.label.localeCompare(b.label, 'ru'));
  return rule && !known.some((r) => r.value === rule) ? [...known, { value: rule, label: rule }] : known;
}

function inboxTable(ctx: PageContext, items: DiscrepancyView[]): Html {
  const { t, fmt } = ctx;
  return html`<div class="table-wrap"><table class="inbox" data-inbox>
    <thead><tr>
      <th scope="col">${t('teacher.inbox.severity')}</th><th scope="col">${t('teacher.inbox.rule')}</th><th scope="col">${t('teacher.inbox.day')}</th>
      <th scope="col">${t('teacher.filter.class')}</th><th scope="col">${t('teacher.filter.subject')}</th>
      <th scope="col">${t('teacher.inbox.assignee')}</th><th scope="col">${t('teacher.filter.status')}</th>
    </tr></thead>
    <tbody>${items.map((d) => html`<tr data-discrepancy="${d.id}">
      <td>${badge(ctx, d.severity, severityKey(d.severity))}</td>
      <td><a href="/inbox/${d.id}">${d.title ?? d.rule}</a><br><span class="muted rule-id">${d.rule}</span></td>
      <td data-label="${t('teacher.inbox.day')}">${fmt.date(d.day)}</td>
      <td data-label="${t('teacher.filter.class')}">${d.className ?? '—'}</td>
      <td data-label="${t('teacher.filter.subject')}">${d.subjectName ?? '—'}</td>
      <td data-label="${t('teacher.inbox.assignee')}">${d.assignee?.name ?? '—'}</td>
      <td>${badge(ctx, d.status, statusKey(d.status))}</td>
    </tr>`)}</tbody>
  </table></div>`;
}
