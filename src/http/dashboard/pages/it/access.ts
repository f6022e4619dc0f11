import { PERMISSIONS, ROLES, type Permission, type Role } from '../../../../auth/caller.js';
import { AppError, NotFoundError } from '../../../../lib/errors.js';
import { createApiKey, createSchoolUser, setSchoolMembership } from '../../../routes/auth.js';
import { patchSchool } from '../../../routes/schools.js';
import type { PageContext, PageResult } from '../../context.js';
import { html } from '../../html.js';
import type { Pages } from '../../pages.js';
import type { DashboardDeps } from '../../router.js';
import { schoolConnections } from './connections.js';
import { formError, list, need, str, idOf } from './shared.js';

/** API keys, users and roles (access:manage), and the school's settings (connections:manage), on the API's services. */
export function registerAccessPages(pages: Pages, deps: DashboardDeps): void {
  const keysPage = async (ctx: PageContext, shown?: { name: string; key: string }, error?: unknown): Promise<PageResult> => {
    need(ctx, 'access:manage');
    const { t, fmt } = ctx;
    const keys = await deps.auth.keys.list(ctx.caller);
    const body = html`<h1>${t('it.keys.title')}</h1>
      ${shown ? html`<div class="card it-once" role="status"><p>${t('it.keys.once', { name: shown.name })}</p><code data-new-key>${shown.key}</code></div>` : ''}
      ${keys.length === 0 ? html`<p class="muted">${t('list.empty')}</p>` : html`<div class="table-wrap"><table class="it-table it-keys">
        <thead><tr><th scope="col">${t('it.keys.name')}</th><th scope="col">${t('it.keys.hint')}</th><th scope="col">${t('it.keys.scopes')}</th><th scope="col">${t('it.keys.created')}</th>
          <th scope="col">${t('it.keys.expires')}</th><th scope="col">${t('it.keys.lastUsed')}</th><th scope="col">${t('it.connections.status')}</th><th scope="col"><span class="sr">${t('it.keys.actions')}</span></th></tr></thead>
        <tbody>${keys.map((k) => html`<tr data-key="${k.id}"><th scope="row">${k.name}</th><td class="it-hint"><code title="${k.hint}">${k.hint}</code></td><td class="it-wrap">${k.scopes.length === PERMISSIONS.length ? t('it.keys.allScopes') : k.scopes.map((s) => html`<code>${s}</code> `)}</td>
          <td>${fmt.dateTime(k.createdAt)}</td><td>${k.expiresAt ? fmt.dateTime(k.expiresAt) : '—'}</td><td>${k.lastUsedAt ? fmt.dateTime(k.lastUsedAt) : t('time.never')}</td>
          <td>${k.revokedAt ? html`<span class="badge bad" data-revoked>${t('it.keys.revoked')}</span>` : html`<span class="badge ok">${t('it.keys.active')}</span>`}</td>
          <td>${k.revokedAt ? '' : html`<div class="actions it-row-actions">
            <form method="post" action="/it/keys/${k.id}/rotate" class="inline"><button type="submit" class="secondary">${t('it.keys.rotate')}</button></form>
            <form method="post" action="/it/keys/${k.id}/revoke" class="inline" data-confirm="${t('it.keys.revokeConfirm')}"><button type="submit" class="danger">${t('it.keys.revoke')}</button></form></div>`}</td></tr>`)}</tbody></table></div>`}
      <h2>${t('it.keys.add')}</h2>
      ${formError(error instanceof Error ? error.message : undefined)}
      <form method="post" action="/it/keys" class="stack card">
        <label for="k-name">${t('it.keys.name')}<input id="k-name" type="text" name="name" required maxlength="200"></label>
        <fieldset class="it-set"><legend>${t('it.keys.scopes')}</legend><div class="it-checks">
          ${PERMISSIONS.map((p) => html`<label class="check"><input type="checkbox" name="scopes" value="${p}"${p === 'journal:read' ? html` checked` : ''}><code>${p}</code></label>`)}</div></fieldset>
        <label for="k-exp">${t('it.keys.expires')}<input id="k-exp" type="date" name="expires"><small class="muted">${t('it.keys.expiresHint')}</small></label>
        <div class="actions"><button type="submit">${t('it.keys.create')}</button></div>
      </form>`;
    return { title: t('it.keys.title'), body, status: error instanceof AppError ? error.status : undefined, current: '/it/keys' };
  };
  pages.get('/it/keys', (ctx) => keysPage(ctx));
  pages.post('/it/keys', async (ctx) => {
    need(ctx, 'access:manage');
    const body = ctx.req.body as Record<string, unknown>;
    try {
      const name = str(body.name);
      const scopes = list(body.scopes).filter((s): s is Permission => (PERMISSIONS as readonly string[]).includes(s));
      if (!name) throw new AppError('validation_failed', ctx.t('it.keys.nameRequired'), 400);
      if (scopes.length === 0) throw new AppError('validation_failed', ctx.t('it.keys.scopesRequired'), 400);
      const expires = str(body.expires);
      // The end of the chosen day in the school's zone is near enough: midnight UTC after it.
      const expiresAt = expires && /^\d{4}-\d{2}-\d{2}$/.test(expires) ? new Date(`${expires}T23:59:59Z`) : null;
      const created = await createApiKey(deps.auth, ctx.caller, { name, schoolIds: [ctx.school.id], scopes, expiresAt });
      return keysPage(ctx, { name: created.view.name, key: created.key });
    } catch (error) {
      if (error instanceof AppError && error.status < 500 && !(error instanceof NotFoundError)) return keysPage(ctx, undefined, error);
      throw error;
    }
  });
  pages.post('/it/keys/:id/rotate', async (ctx) => {
    need(ctx, 'access:manage');
    const created = await deps.auth.keys.rotate(ctx.caller, idOf(ctx), 86400);
    return keysPage(ctx, { name: created.view.name, key: created.key });
  });
  pages.post('/it/keys/:id/revoke', async (ctx) => {
    need(ctx, 'access:manage');
    await deps.auth.keys.revoke(ctx.caller, idOf(ctx));
    return '/it/keys?notice=it.keys.revokedNotice';
  });

  const usersPage = async (ctx: PageContext, error?: unknown): Promise<PageResult> => {
    need(ctx, 'access:manage');
    const { t, fmt } = ctx;
    const users = await deps.auth.users.listOf(ctx.school.id);
    const body = html`<h1>${t('it.users.title')}</h1>
      <div class="table-wrap"><table>
        <thead><tr><th scope="col">${t('it.users.login')}</th><th scope="col">${t('it.users.kind')}</th><th scope="col">${t('it.users.roles')}</th><th scope="col">${t('it.users.state')}</th><th scope="col">${t('it.keys.created')}</th></tr></thead>
        <tbody>${users.map((u) => html`<tr data-user="${u.id}"><th scope="row"><a href="/it/users/${u.id}">${u.login}</a></th><td>${t(`it.users.kind.${u.kind}`)}</td>
          <td data-roles="${u.roles.join(',')}">${u.roles.length ? u.roles.map((r) => html`<span class="badge info">${t(`it.role.${r}`)}</span> `) : '—'}</td>
          <td>${u.disabled ? t('it.users.disabled') : u.hasPassword ? t('it.users.password') : t('it.users.codeOnly')}</td><td>${fmt.date(u.createdAt)}</td></tr>`)}</tbody></table></div>
      <h2>${t('it.users.add')}</h2>
      ${formError(error instanceof Error ? error.message : undefined)}
      <form method="post" action="/it/users" class="stack card">
        <label for="u-login">${t('it.users.login')}<input id="u-login" type="text" name="login" required minlength="3" maxlength="200" autocomplete="off"></label>
        <label for="u-kind">${t('it.users.kind')}<select id="u-kind" name="kind"><option value="staff">${t('it.users.kind.staff')}</option><option value="parent">${t('it.users.kind.parent')}</option></select></label>
        <label for="u-password">${t('it.users.newPassword')}<input id="u-password" type="password" name="password" autocomplete="new-password"><small class="muted">${t('it.users.passwordHint')}</small></label>
        ${roleChecks(ctx, [])}
        <div class="actions"><button type="submit">${t('it.users.create')}</button></div>
      </form>`;
    return { title: t('it.users.title'), body, status: error instanceof AppError ? error.status : undefined, current: '/it/users' };
  };
  pages.get('/it/users', (ctx) => usersPage(ctx));
  pages.post('/it/users', async (ctx) => {
    need(ctx, 'access:manage');
    const body = ctx.req.body as Record<string, unknown>;
    try {
      const roles = rolesOf(body.roles);
      const login = str(body.login);
      if (!login || login.length < 3) throw new AppError('validation_failed', ctx.t('it.users.loginRequired'), 400);
      if (roles.length === 0) throw new AppError('validation_failed', ctx.t('it.users.rolesRequired'), 400);
      await createSchoolUser(deps.auth, ctx.caller, ctx.school.id, {
        kind: body.kind === 'parent' ? 'parent' : 'staff', login, password: typeof body.password === 'string' && body.password !== '' ? body.password : undefined, roles, personId: null,
      });
      return '/it/users?notice=it.users.created';
    } catch (error) {
      if (error instanceof AppError && error.status < 500 && !(error instanceof NotFoundError)) return usersPage(ctx, error);
      throw error;
    }
  });
  pages.get('/it/users/:id', async (ctx) => {
    need(ctx, 'access:manage');
    const { t } = ctx;
    const user = (await deps.auth.users.listOf(ctx.school.id)).find((u) => u.id === idOf(ctx));
    if (!user) throw new NotFoundError(`user ${idOf(ctx)}`);
    const body = html`<p><a href="/it/users">${t('form.back')}</a></p><h1>${t('it.user.title', { login: user.login })}</h1>
      <form method="post" action="/it/users/${user.id}" class="stack card">${roleChecks(ctx, user.roles)}
        <div class="actions"><button type="submit">${t('form.save')}</button><a href="/it/users">${t('form.cancel')}</a></div></form>`;
    return { title: t('it.user.title', { login: user.login }), body, current: '/it/users' };
  });
  pages.post('/it/users/:id', async (ctx) => {
    need(ctx, 'access:manage');
    const user = (await deps.auth.users.listOf(ctx.school.id)).find((u) => u.id === idOf(ctx));
    if (!user) throw new NotFoundError(`user ${idOf(ctx)}`);
    await setSchoolMembership(deps.auth, ctx.caller, ctx.school.id, user.id, rolesOf((ctx.req.body as Record<string, unknown>).roles), user.personId);
    return '/it/users?notice=form.saved';
  });

  pages.get('/it/settings', async (ctx) => {
    need(ctx, 'connections:manage');
    const { t } = ctx;
    const connections = deps.sync ? await schoolConnections(deps, ctx) : [];
    const s = ctx.school;
    const body = html`<h1>${t('it.settings.title')}</h1>
      <form method="post" action="/it/settings" class="stack card">
        <label for="s-locale">${t('it.settings.locale')}<select id="s-locale" name="uiLocale">
          ${(['ru', 'ky'] as const).map((l) => html`<option value="${l}"${s.uiLocale === l ? html` selected` : ''}>${t(`lang.${l}`)}</option>`)}</select>
          <small class="muted">${t('it.settings.localeHint')}</small></label>
        <label for="s-primary">${t('it.settings.primary')}<select id="s-primary" name="primarySourceId"><option value="">${t('it.settings.primaryAuto')}</option>
          ${connections.map((c) => html`<option value="${c.id}"${s.primarySourceId === c.id ? html` selected` : ''}>${c.title} (${c.platform})</option>`)}</select>
          <small class="muted">${t('it.settings.primaryHint')}</small></label>
        <div class="actions"><button type="submit">${t('form.save')}</button></div>
      </form>`;
    return { title: t('it.settings.title'), body };
  });
  pages.post('/it/settings', async (ctx) => {
    const body = ctx.req.body as Record<string, unknown>;
    const uiLocale = body.uiLocale === 'ky' ? 'ky' : 'ru';
    const primarySourceId = str(body.primarySourceId) ?? null;
    // The primary source is sent only when it changes (an effective source the list does not offer stays).
    await patchSchool(deps.schools, ctx.caller, ctx.school.id, { uiLocale, ...(primarySourceId !== ctx.school.primarySourceId ? { primarySourceId } : {}) });
    return '/it/settings?notice=form.saved';
  });
}

function rolesOf(value: unknown): Role[] {
  return list(value).filter((r): r is Role => (ROLES as readonly string[]).includes(r));
}

function roleChecks(ctx: PageContext, current: readonly Role[]) {
  return html`<fieldset class="it-set"><legend>${ctx.t('it.users.roles')}</legend><div class="it-checks">
    ${ROLES.map((r) => html`<label class="check"><input type="checkbox" name="roles" value="${r}"${current.includes(r) ? html` checked` : ''}>${ctx.t(`it.role.${r}`)}</label>`)}</div></fieldset>`;
}
