import type { PageContext, PageResult } from './context.js';
import { html, type Html } from './html.js';
import { LOCALES, isMessageKey, type Translate } from './messages/index.js';
import { NAV } from './nav.js';
import { assetUrl } from './assets.js';

/** The page frame: the school, the menu of what this caller may use, the language switch, sign-out. */
export function layout(ctx: PageContext, page: PageResult): Html {
  const { t } = ctx;
  const current = page.current ?? ctx.req.path;
  const groups = NAV.map((g) => ({ ...g, items: g.items.filter((i) => i.show(ctx.caller, ctx.grant)) })).filter((g) => g.items.length > 0);
  const isCurrent = (href: string) => current === href || (href !== '/it' && href !== '/parent' && current.startsWith(`${href}/`));
  const notice = typeof ctx.req.query.notice === 'string' && isMessageKey(ctx.req.query.notice) ? t(ctx.req.query.notice) : undefined;
  return document(ctx.locale, t, page.title, html`
    <header class="top">
      <a class="brand" href="/">${t('app.name')}</a>
      <span class="school">${ctx.schools.length > 1 ? schoolSwitch(ctx) : ctx.school.name}</span>
      <span class="who">${t('app.signedInAs', { login: ctx.caller.login })}</span>
      ${languageSwitch(ctx)}
      <form method="post" action="/logout" class="inline"><button type="submit" class="link">${t('app.signOut')}</button></form>
    </header>
    <div class="frame">
      <nav class="menu" aria-label="${t('app.menu')}">
        <details open class="menu-toggle"><summary>${t('app.menu')}</summary>
        ${groups.map((g) => html`<h2>${t(g.label)}</h2><ul>${g.items.map((i) => html`<li><a href="${i.href}"${isCurrent(i.href) ? html` aria-current="page"` : ''}>${t(i.label)}</a></li>`)}</ul>`)}
        </details>
      </nav>
      <main id="main" tabindex="-1">
        ${notice ? html`<p class="notice" role="status">${notice}</p>` : ''}
        ${page.body}
        <p class="zone">${t('app.timeZone', { zone: ctx.school.timeZone })}</p>
      </main>
    </div>`, page.scripts);
}

/** A page outside the frame (sign-in, errors before sign-in). */
export function document(locale: string, t: Translate, title: string, body: Html, scripts: string[] = []): Html {
  return html`<!doctype html>
<html lang="${locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="htmx-config" content='{"includeIndicatorStyles":false,"allowEval":false,"historyCacheSize":0}'>
<title>${title} — ${t('app.name')}</title>
<link rel="stylesheet" href="${assetUrl('app.css')}">
<link rel="icon" href="${assetUrl('favicon.svg')}" type="image/svg+xml">
<script src="${assetUrl('htmx.min.js')}" defer></script>
<script src="${assetUrl('app.js')}" defer></script>
${scripts.map((s) => html`<script src="${assetUrl(s)}" defer></script>`)}
</head>
<body hx-boost="false">
<a class="skip" href="#main">${t('app.skip')}</a>
${body}
</body>
</html>`;
}

function languageSwitch(ctx: PageContext): Html {
  const back = ctx.req.originalUrl;
  return html`<form method="post" action="/language" class="inline lang">
    <input type="hidden" name="back" value="${back}">
    <label><span class="sr">${ctx.t('app.language')}</span>
    <select name="locale" data-autosubmit>${LOCALES.map((l) => html`<option value="${l}"${l === ctx.locale ? html` selected` : ''}>${ctx.t(`lang.${l}`)}</option>`)}</select></label>
    <noscript><button type="submit">${ctx.t('form.apply')}</button></noscript>
  </form>`;
}

function schoolSwitch(ctx: PageContext): Html {
  return html`<form method="get" action="/" class="inline">
    <label><span class="sr">${ctx.t('app.school')}</span>
    <select name="school" data-autosubmit>${ctx.schools.map((s) => html`<option value="${s.id}"${s.id === ctx.school.id ? html` selected` : ''}>${s.name}</option>`)}</select></label>
    <noscript><button type="submit">${ctx.t('form.apply')}</button></noscript>
  </form>`;
}
