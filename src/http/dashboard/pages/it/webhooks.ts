import { AppError, NotFoundError } from '../../../../lib/errors.js';
import { createEndpoint, getEndpoint, listEndpoints, updateEndpoint } from '../../../../webhooks/endpoints.js';
import { listAttempts, listMessages, resend } from '../../../../webhooks/messages.js';
import { endpointSchoolFor, messageOwnerFor } from '../../../routes/webhooks.js';
import type { PageContext, PageResult } from '../../context.js';
import { html, query, type Html } from '../../html.js';
import type { MessageKey } from '../../messages/index.js';
import type { Pages } from '../../pages.js';
import type { DashboardDeps } from '../../router.js';
import { formError, need, str, idOf } from './shared.js';

const PAGE = 20;

function webhooksOf(deps: DashboardDeps): NonNullable<DashboardDeps['webhooks']> {
  if (!deps.webhooks) throw new NotFoundError('the webhook engine');
  return deps.webhooks;
}

export function registerWebhookPages(pages: Pages, deps: DashboardDeps): void {
  const listPage = async (ctx: PageContext, shown?: { url: string; secret: string }, error?: unknown, posted: Record<string, unknown> = {}): Promise<PageResult> => {
    need(ctx, 'webhooks:manage');
    const { box } = webhooksOf(deps);
    const { t, fmt } = ctx;
    const after = str(ctx.req.query.after);
    const page = await listEndpoints(deps.pool, box, ctx.school.id, PAGE, after && /^[0-9a-f-]{36}$/i.test(after) ? after : undefined);
    const body = html`<h1>${t('it.webhooks.title')}</h1>
      ${shown ? html`<div class="card it-once" role="status"><p>${t('it.webhooks.secretOnce', { url: shown.url })}</p><code data-new-secret>${shown.secret}</code></div>` : ''}
      ${page.items.length === 0 ? html`<p class="muted">${t('list.empty')}</p>` : html`<div class="table-wrap"><table>
        <thead><tr><th scope="col">${t('it.webhooks.url')}</th><th scope="col">${t('it.webhooks.events')}</th><th scope="col">${t('it.connections.status')}</th><th scope="col">${t('it.webhooks.failing')}</th><th scope="col">${t('it.webhooks.created')}</th></tr></thead>
        <tbody>${page.items.map((e) => html`<tr data-webhook="${e.id}"><th scope="row"><a href="/it/webhooks/${e.id}">${e.url}</a>${e.description ? html`<br><small class="muted">${e.description}</small>` : ''}</th>
          <td>${e.eventTypes.map((x) => html`<code>${x}</code> `)}</td><td><span class="badge ${e.status === 'enabled' ? 'ok' : 'bad'}">${t(`it.webhooks.${e.status}`)}</span></td>
          <td>${e.failingSince ? fmt.dateTime(e.failingSince) : '—'}</td><td>${fmt.dateTime(e.createdAt)}</td></tr>`)}</tbody></table></div>`}
      ${page.next ? html`<nav class="pager"><a href="/it/webhooks${query({ after: page.next })}" rel="next">${t('list.next')}</a></nav>` : ''}
      <h2>${t('it.webhooks.add')}</h2>
      ${formError(error instanceof Error ? error.message : undefined)}
      <form method="post" action="/it/webhooks" class="stack card">
        <label for="w-url">${t('it.webhooks.url')}<input id="w-url" type="url" name="url" required value="${typeof posted.url === 'string' ? posted.url : ''}" placeholder="https://"></label>
        <label for="w-events">${t('it.webhooks.events')}<input id="w-events" type="text" name="eventTypes" required value="${typeof posted.eventTypes === 'string' ? posted.eventTypes : ''}" placeholder="mark.created, attendance.*">
          <small class="muted">${t('it.webhooks.eventsHint')}</small></label>
        <label for="w-desc">${t('it.webhooks.description')}<input id="w-desc" type="text" name="description" maxlength="500" value="${typeof posted.description === 'string' ? posted.description : ''}"></label>
        <div class="actions"><button type="submit">${t('it.webhooks.create')}</button></div>
      </form>`;
    return { title: t('it.webhooks.title'), body, status: error instanceof AppError ? error.status : undefined, current: '/it/webhooks' };
  };

  pages.get('/it/webhooks', (ctx) => listPage(ctx));
  pages.post('/it/webhooks', async (ctx) => {
    need(ctx, 'webhooks:manage');
    const { box, targets } = webhooksOf(deps);
    const body = ctx.req.body as Record<string, unknown>;
    try {
      const eventTypes = String(body.eventTypes ?? '').split(/[\s,]+/).filter(Boolean);
      const created = await createEndpoint(deps.pool, box, targets, ctx.school.id, { url: String(body.url ?? '').trim(), eventTypes, description: str(body.description) ?? null });
      return listPage(ctx, { url: created.url, secret: created.secret });
    } catch (error) {
      if (error instanceof AppError && error.status < 500) return listPage(ctx, undefined, error, body);
      throw error;
    }
  });

  pages.get('/it/webhooks/:id', async (ctx) => {
    const { box } = webhooksOf(deps);
    const schoolId = await endpointSchoolFor(deps.pool, ctx.caller, idOf(ctx));
    const endpoint = await getEndpoint(deps.pool, box, idOf(ctx));
    const { t, fmt } = ctx;
    const before = str(ctx.req.query.before);
    const messages = await listMessages(deps.pool, schoolId, endpoint.id, PAGE, before && !Number.isNaN(Date.parse(before)) ? before : undefined);
    const attempts = new Map<string, Awaited<ReturnType<typeof listAttempts>>>();
    for (const m of messages.items) attempts.set(m.id, await listAttempts(deps.pool, schoolId, m.id, 50));
    const body = html`<p><a href="/it/webhooks">${t('form.back')}</a></p>
      <h1>${t('it.webhook.title')}</h1>
      <dl class="facts card">
        <dt>${t('it.webhooks.url')}</dt><dd><code>${endpoint.url}</code></dd>
        <dt>${t('it.webhooks.events')}</dt><dd>${endpoint.eventTypes.map((x) => html`<code>${x}</code> `)}</dd>
        <dt>${t('it.connections.status')}</dt><dd>${t(`it.webhooks.${endpoint.status}`)}${endpoint.disabledReason ? html` — ${endpoint.disabledReason}` : ''}</dd>
        <dt>${t('it.webhooks.failing')}</dt><dd>${endpoint.failingSince ? fmt.dateTime(endpoint.failingSince) : '—'}</dd>
      </dl>
      <form method="post" action="/it/webhooks/${endpoint.id}/status" class="actions"><input type="hidden" name="status" value="${endpoint.status === 'enabled' ? 'disabled' : 'enabled'}">
        <button type="submit" class="secondary">${endpoint.status === 'enabled' ? t('it.webhook.disable') : t('it.webhook.enable')}</button></form>
      <h2>${t('it.webhook.messages')}</h2>
      ${messages.items.length === 0 ? html`<p class="muted">${t('list.empty')}</p>` : html`<div class="table-wrap"><table>
        <thead><tr><th scope="col">${t('it.webhooks.created')}</th><th scope="col">${t('it.webhook.event')}</th><th scope="col">${t('it.connections.status')}</th><th scope="col">${t('it.webhook.attempts')}</th><th scope="col"><span class="sr">${t('it.webhook.replay')}</span></th></tr></thead>
        <tbody>${messages.items.map((m) => html`<tr data-message="${m.id}"><td>${fmt.dateTime(m.createdAt)}</td><td><code>${m.eventType}</code></td><td>${messageStatus(ctx, m.status)}${m.lastStatusCode ? html` <small>HTTP ${m.lastStatusCode}</small>` : ''}</td>
          <td><ol class="it-attempts">${(attempts.get(m.id) ?? []).map((a) => html`<li data-attempt="${a.attempt}">${fmt.dateTime(a.startedAt)} · ${triggerOf(ctx, a.trigger)} · ${a.succeeded ? html`<span class="badge ok">${a.statusCode ?? 'ok'}</span>` : html`<span class="badge bad">${a.statusCode ?? a.error ?? '—'}</span>`} · ${t('it.webhook.ms', { value: fmt.number(a.durationMs) })}</li>`)}</ol></td>
          <td><form method="post" action="/it/webhook-messages/${m.id}/replay" class="inline"><button type="submit" class="secondary">${t('it.webhook.replay')}</button></form></td></tr>`)}</tbody></table></div>`}
      ${messages.next ? html`<nav class="pager"><a href="/it/webhooks/${endpoint.id}${query({ before: messages.next })}" rel="next">${t('list.next')}</a></nav>` : ''}`;
    return { title: t('it.webhook.title'), body, current: '/it/webhooks' };
  });

  pages.post('/it/webhooks/:id/status', async (ctx) => {
    const { box, targets } = webhooksOf(deps);
    await endpointSchoolFor(deps.pool, ctx.caller, idOf(ctx));
    const status = (ctx.req.body as Record<string, unknown>).status === 'enabled' ? 'enabled' : 'disabled';
    await updateEndpoint(deps.pool, box, targets, idOf(ctx), { status });
    return `/it/webhooks/${idOf(ctx)}?notice=form.saved`;
  });

  pages.post('/it/webhook-messages/:id/replay', async (ctx) => {
    const { enqueue } = webhooksOf(deps);
    const owner = await messageOwnerFor(deps.pool, ctx.caller, idOf(ctx));
    await resend(deps.pool, deps.clock, enqueue, { ...owner, messageId: idOf(ctx) });
    return `/it/webhooks/${owner.endpointId}?notice=it.webhook.replayed`;
  });
}

const MESSAGE_STATUS: Record<string, { key: MessageKey; badge: string }> = {
  pending: { key: 'it.wstatus.pending', badge: 'queued' },
  sending: { key: 'it.wstatus.sending', badge: 'running' },
  succeeded: { key: 'it.wstatus.succeeded', badge: 'succeeded' },
  failed: { key: 'it.wstatus.failed', badge: 'failed' },
};

function messageStatus(ctx: PageContext, status: string): Html {
  const known = MESSAGE_STATUS[status];
  return html`<span class="badge ${known?.badge ?? ''}" data-message-status="${status}">${known ? ctx.t(known.key) : status}</span>`;
}

const TRIGGERS: Record<string, MessageKey> = { event: 'it.wtrigger.event', replay: 'it.wtrigger.replay', recover: 'it.wtrigger.recover' };

function triggerOf(ctx: PageContext, trigger: string): string {
  const key = TRIGGERS[trigger];
  return key ? ctx.t(key) : trigger;
}
