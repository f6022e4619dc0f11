import { permit, type Permission } from '../../../../auth/caller.js';
import { NotFoundError } from '../../../../lib/errors.js';
import type { ConnectionService } from '../../../../sync/connections.js';
import type { SyncQueue } from '../../../../sync/queue.js';
import type { PageContext } from '../../context.js';
import { html, query, type Html } from '../../html.js';
import type { MessageKey } from '../../messages/index.js';
import type { DashboardDeps } from '../../router.js';

/** A fixed page size for the lists paged with `?page=`. */
export const PAGE_SIZE = 25;

/** The caller may `permission` in the page's school (else the 403 page). */
export function need(ctx: PageContext, permission: Permission): void {
  permit(ctx.caller, ctx.school.id, permission);
}

/** The sync engine's parts, as the API has them (a deployment without them has no connection pages: 404 like the API). */
export function syncOf(deps: DashboardDeps): { connections: ConnectionService; queue: SyncQueue } {
  if (!deps.sync) throw new NotFoundError('the sync engine');
  return deps.sync;
}

/** A 1-based page number from `?page=`. */
export function pageOf(ctx: PageContext): number {
  const n = Number(ctx.req.query.page);
  return Number.isInteger(n) && n >= 1 && n <= 10_000 ? n : 1;
}

/** A string from the query or the form, or undefined. */
export function str(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/** The form's values of a repeated field (checkboxes). */
export function list(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return typeof value === 'string' ? [value] : [];
}

export function statusBadge(ctx: PageContext, status: string): Html {
  const key = `it.status.${status}` as MessageKey;
  return html`<span class="badge ${status}" data-status="${status}">${ctx.t(key)}</span>`;
}

/** A duration in ms as seconds, minutes or hours. */
export function duration(ctx: PageContext, ms: number | null): string {
  if (ms === null) return '—';
  const s = ms / 1000;
  if (s < 60) return ctx.t('time.seconds', { value: ctx.fmt.number(s, s < 10 ? 1 : 0) });
  if (s < 3600) return ctx.t('time.minutes', { value: ctx.fmt.number(s / 60, 1) });
  return ctx.t('time.hours', { value: ctx.fmt.number(s / 3600, 1) });
}

/** Previous / next links of a page of a list, keeping its filters. */
export function pager(ctx: PageContext, path: string, params: Record<string, string | undefined>, page: number, hasNext: boolean): Html {
  if (page === 1 && !hasNext) return html``;
  return html`<nav class="pager" aria-label="${ctx.t('list.page', { page })}">
    ${page > 1 ? html`<a href="${path}${query({ ...params, page: page - 1 })}" rel="prev">${ctx.t('list.prev')}</a>` : ''}
    <span aria-current="page">${ctx.t('list.page', { page })}</span>
    ${hasNext ? html`<a href="${path}${query({ ...params, page: page + 1 })}" rel="next">${ctx.t('list.next')}</a>` : ''}
  </nav>`;
}

/** A message shown next to a form when the service refused it. */
export function formError(message: string | undefined): Html {
  return message ? html`<p class="error" role="alert" data-form-error>${message}</p>` : html``;
}

/** A check box posted after its hidden "false": ticked when the last value is "true". */
export function checked(value: unknown): boolean {
  const last = Array.isArray(value) ? value[value.length - 1] : value;
  return last === 'true';
}

/** The `:id` of the path, when it is a UUID; any other is a page that does not exist. */
export function idOf(ctx: PageContext): string {
  const id = ctx.req.params.id;
  if (typeof id !== 'string' || !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) throw new NotFoundError('page');
  return id;
}
