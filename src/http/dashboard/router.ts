import compression from 'compression';
import express, { Router, type Request, type RequestHandler, type Response } from 'express';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import type { AppDeps } from '../app.js';
import { SESSION_COOKIE } from '../auth.js';
import { optionalCallerOf } from '../caller.js';
import { setSessionCookie } from '../routes/auth.js';
import { serveAsset } from './assets.js';
import { html } from './html.js';
import { document } from './layout.js';
import { isLocale, translator, type Translate } from './messages/index.js';
import { homeOf } from './nav.js';
import { LOCALE_COOKIE, Pages, localeOf } from './pages.js';
import { registerDeputyPages } from './pages/deputy.js';
import { registerItPages } from './pages/it.js';
import { registerParentPages } from './pages/parent.js';
import { registerTeacherPages } from './pages/teacher.js';
import { systemClock, type Clock } from '../../lib/clock.js';
import { RateLimitedError } from '../../lib/errors.js';

/** What the dashboard's pages use: the API's own services (no second query layer), with the clock made definite. */
export type DashboardDeps = AppDeps & { clock: Clock };

/** Paths of the dashboard (everything outside /v1 and /health). */
const SECURITY_HEADERS: Record<string, string> = {
  // Scripts only from our own files (htmx with eval off); styles may be set inline by uPlot and our bars.
  'content-security-policy': "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; "
    + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
  'x-frame-options': 'DENY',
};

/**
 * The web interface at `/`: server-rendered pages (small HTML, htmx for partial updates and live
 * progress), signed in with the API's accounts and sessions (the HTTP-only session cookie), each page
 * calling the same services as the API's routes.
 */
export function dashboardRouter(input: AppDeps): Router {
  const deps: DashboardDeps = { ...input, clock: input.clock ?? systemClock };
  const router = Router();
  router.use((req, res, next) => {
    if (req.path.startsWith('/v1/') || req.path === '/health') return next('router');
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
    next();
  });
  router.use(compression());
  router.get('/assets/:name', serveAsset);
  router.use(express.urlencoded({ extended: false, limit: '1mb' }));
  const signIns = new RateLimiterMemory({ points: input.rates?.perAddressPerMinute ?? 60, duration: 60 });
  const allowed = async (req: Request): Promise<number | undefined> => {
    try {
      await signIns.consume(req.ip ?? 'unknown');
      return undefined;
    } catch (rejection) {
      return Math.max(1, Math.ceil(((rejection as { msBeforeNext?: number }).msBeforeNext ?? 60_000) / 1000));
    }
  };

  router.get('/login', async (req, res) => {
    if (optionalCallerOf(res) && optionalCallerOf(res)!.kind !== 'api') return res.redirect(303, safeNext(req.query.next));
    sendLogin(req, res, {});
  });
  /** A sign-in form's post: rate-limited per address (the same page with the wait), errors to the error handler. */
  const signInStep = (byCode: boolean, work: (req: Request, res: Response, t: Translate) => Promise<void>): RequestHandler => async (req, res, next) => {
    try {
      const t = translator(localeOf(req, undefined));
      const wait = await allowed(req);
      if (wait) return sendLogin(req, res, { error: t('login.rateLimited', { seconds: wait }), status: 429, code: byCode });
      await work(req, res, t);
    } catch (error) {
      if (error instanceof RateLimitedError) return sendLogin(req, res, { error: translator(localeOf(req, undefined))('login.rateLimited', { seconds: error.retryAfterSeconds }), status: 429, code: byCode });
      next(error);
    }
  };
  router.post('/login', signInStep(false, async (req, res, t) => {
    const login = String(req.body?.login ?? '').trim();
    const password = String(req.body?.password ?? '');
    const user = login && password ? await deps.auth.users.checkPassword(login, password) : undefined;
    if (!user) return sendLogin(req, res, { error: t('login.failed'), login, status: 401 });
    await startSession(res, req, deps, user.id);
    res.redirect(303, safeNext(req.body?.next));
  }));
  router.post('/login/code', signInStep(true, async (req, res, t) => {
    const login = String(req.body?.login ?? '').trim();
    // The same answer whether or not the login exists or could be reached (as POST /v1/auth/code).
    if (login) await deps.auth.codes.request(login, req.ip ?? 'unknown', (l) => deps.auth.users.findByLogin(l));
    sendLogin(req, res, { info: t('login.codeSent'), login, code: true, codeSent: true });
  }));
  router.post('/login/code/verify', signInStep(true, async (req, res, t) => {
    const login = String(req.body?.login ?? '').trim();
    const code = String(req.body?.code ?? '').trim();
    const user = login ? await deps.auth.users.findByLogin(login) : undefined;
    if (!user || !code || !(await deps.auth.codes.verify(user.id, code))) {
      return sendLogin(req, res, { error: t('login.codeFailed'), login, code: true, codeSent: true, status: 401 });
    }
    await startSession(res, req, deps, user.id);
    res.redirect(303, safeNext(req.body?.next));
  }));
  router.post('/logout', async (req, res, next) => {
    try {
      const caller = optionalCallerOf(res);
      if (caller && caller.kind !== 'api' && caller.sessionId) await deps.auth.sessions.revoke(caller.sessionId);
      res.clearCookie(SESSION_COOKIE, { path: '/' });
      res.redirect(303, '/login?out=1');
    } catch (error) {
      next(error);
    }
  });
  router.post('/language', (req, res) => {
    const locale = req.body?.locale;
    if (isLocale(locale)) res.cookie(LOCALE_COOKIE, locale, { sameSite: 'lax', secure: req.secure, path: '/', maxAge: 365 * 86400_000 });
    res.redirect(303, safeNext(req.body?.back));
  });

  const pages = new Pages({ schools: deps.schools, logger: deps.logger, clock: deps.clock });
  pages.get('/', async (ctx) => homeOf(ctx.caller, ctx.grant) + (typeof ctx.req.query.school === 'string' ? `?school=${encodeURIComponent(ctx.school.id)}` : ''));
  registerItPages(pages, deps);
  registerTeacherPages(pages, deps);
  registerDeputyPages(pages, deps);
  registerParentPages(pages, deps);
  router.use(pages.router);
  // A dashboard path no page answers: the 404 page (signed in or not).
  router.use((req, res) => {
    const t = translator(localeOf(req, undefined));
    res.status(404).type('html').send(document(localeOf(req, undefined), t, t('error.notFound.title'),
      html`<main id="main" class="login"><h1>${t('error.notFound.title')}</h1><p>${t('error.notFound.text')}</p><p><a href="/">${t('error.back')}</a></p></main>`).value);
  });
  return router;
}

async function startSession(res: Response, req: Request, deps: DashboardDeps, userId: string): Promise<void> {
  const session = await deps.auth.sessions.create(userId, 'cookie');
  setSessionCookie(res, session.token, session.maxAgeSeconds, req.secure);
}

/** Only a path of this site (never `//host` or a scheme) is followed after signing in. */
function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/(?![/\\])/.test(next) && !next.startsWith('/login') ? next : '/';
}

interface LoginState { error?: string; info?: string; login?: string; status?: number; code?: boolean; codeSent?: boolean }

function sendLogin(req: Request, res: Response, state: LoginState): void {
  const locale = localeOf(req, undefined);
  const t: Translate = translator(locale);
  const next = typeof req.query.next === 'string' ? req.query.next : typeof req.body?.next === 'string' ? req.body.next : '';
  const byCode = state.code ?? req.query.code === '1';
  const form = byCode
    ? html`
      <form method="post" action="${state.codeSent ? '/login/code/verify' : '/login/code'}" class="stack card">
        <input type="hidden" name="next" value="${next}">
        <label>${t('login.login')}<input type="text" name="login" autocomplete="username" required value="${state.login ?? ''}"></label>
        ${state.codeSent ? html`<label>${t('login.code')}<input type="text" name="code" inputmode="numeric" autocomplete="one-time-code" required autofocus></label>` : ''}
        <button type="submit">${state.codeSent ? t('login.submit') : t('login.sendCode')}</button>
        <a href="/login${next ? `?next=${encodeURIComponent(next)}` : ''}">${t('login.byPassword')}</a>
      </form>`
    : html`
      <form method="post" action="/login" class="stack card">
        <input type="hidden" name="next" value="${next}">
        <label>${t('login.login')}<input type="text" name="login" autocomplete="username" required autofocus value="${state.login ?? ''}"></label>
        <label>${t('login.password')}<input type="password" name="password" autocomplete="current-password" required></label>
        <button type="submit">${t('login.submit')}</button>
        <a href="/login?code=1${next ? `&next=${encodeURIComponent(next)}` : ''}">${t('login.byCode')}</a>
      </form>`;
  const out = req.query.out === '1' ? html`<p class="notice" role="status">${t('login.signedOut')}</p>` : '';
  const body = html`<main id="main" class="login">
    <h1>${t('app.name')}</h1><p class="tagline">${t('app.tagline')}</p>
    ${out}${state.error ? html`<p class="error" role="alert">${state.error}</p>` : ''}${state.info ? html`<p class="notice" role="status">${state.info}</p>` : ''}
    <h2>${t('login.title')}</h2>
    ${form}
    <form method="post" action="/language" class="lang-login"><input type="hidden" name="back" value="${req.originalUrl}">
      <label>${t('app.language')}<select name="locale" data-autosubmit>${(['ru', 'ky'] as const).map((l) => html`<option value="${l}"${l === locale ? html` selected` : ''}>${t(`lang.${l}`)}</option>`)}</select></label>
      <noscript><button type="submit">${t('form.apply')}</button></noscript>
    </form>
  </main>`;
  res.status(state.status ?? 200).setHeader('cache-control', 'no-store');
  res.type('html').send(document(locale, t, t('login.title'), body).value);
}
