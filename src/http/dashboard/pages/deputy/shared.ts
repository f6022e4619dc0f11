import { listPeriods } from '../../../../archive/content.js';
import type { Pool } from '../../../../db/pool.js';
import { NotFoundError } from '../../../../lib/errors.js';
import type { PageContext } from '../../context.js';
import { html, query, type Html } from '../../html.js';

export type PeriodOption = Awaited<ReturnType<typeof listPeriods>>[number];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A query or form value as a string ('' when absent or repeated). */
export function param(value: unknown): string {
  return typeof value === 'string' ? value.trim() : '';
}

/** An id from the address: a malformed one is an unknown one (404), as the API answers. */
export function idParam(value: unknown, what: string): string {
  const id = param(value);
  if (!UUID.test(id)) throw new NotFoundError(what);
  return id.toLowerCase();
}

/** The school's periods, and the one a page opens on: the one asked for (unknown: 404), else the quarter (or half-year) of today, else the last one begun. */
export async function periodsOf(pool: Pool, ctx: PageContext): Promise<{ periods: PeriodOption[]; chosen: PeriodOption | undefined }> {
  const periods = await listPeriods(pool, ctx.school.id);
  const asked = param(ctx.req.query.period);
  if (asked) {
    const chosen = periods.find((p) => p.id === asked);
    if (!chosen) throw new NotFoundError(`period ${asked}`);
    return { periods, chosen };
  }
  const today = ctx.fmt.today(ctx.now);
  const parts = periods.filter((p) => p.kind !== 'year');
  const chosen = parts.find((p) => p.startDate <= today && today <= p.endDate)
    ?? [...parts].reverse().find((p) => p.startDate <= today)
    ?? periods.find((p) => p.startDate <= today && today <= p.endDate) ?? periods[0];
  return { periods, chosen };
}

export function periodLabel(ctx: PageContext, p: PeriodOption): string {
  return ctx.t('deputy.period.option', { title: p.title, from: ctx.fmt.date(p.startDate), to: ctx.fmt.date(p.endDate) });
}

export function periodSelect(ctx: PageContext, periods: PeriodOption[], chosen: string | undefined, name = 'period', withNone = false): Html {
  return html`<label>${ctx.t('deputy.period.label')}
    <select name="${name}">${withNone ? html`<option value="">${ctx.t('deputy.period.none')}</option>` : ''}${periods.map((p) => html`<option value="${p.id}"${p.id === chosen ? html` selected` : ''}>${periodLabel(ctx, p)}</option>`)}</select></label>`;
}

/** Previous / next links of a `?page=` list (page numbers from 1). */
export function pager(ctx: PageContext, path: string, params: Record<string, string | undefined>, page: number, pages: number): Html {
  if (pages <= 1) return html``;
  return html`<nav class="pager" aria-label="${ctx.t('list.page', { page })}">
    ${page > 1 ? html`<a href="${path}${query({ ...params, page: page - 1 })}">${ctx.t('list.prev')}</a>` : ''}
    <span>${ctx.t('deputy.list.pageOf', { page, pages })}</span>
    ${page < pages ? html`<a href="${path}${query({ ...params, page: page + 1 })}">${ctx.t('list.next')}</a>` : ''}
  </nav>`;
}

/** A page number from `?page=` within 1…pages. */
export function pageParam(value: unknown, pages: number): number {
  const n = Number.parseInt(param(value), 10);
  return Number.isFinite(n) && n >= 1 ? Math.min(n, Math.max(1, pages)) : 1;
}
