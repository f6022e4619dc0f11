import { Router, type NextFunction, type Request, type Response } from 'express';
import type { ParentCaller, StaffCaller } from '../../auth/caller.js';
import { grantIn } from '../../auth/caller.js';
import type { SchoolRepository, SchoolSummary } from '../../db/repositories/schools.js';
import { AppError, ConflictError, ForbiddenError, NotFoundError, RateLimitedError, UnauthorizedError, ValidationError } from '../../lib/errors.js';
import type { Logger } from '../../lib/logger.js';
import type { Clock } from '../../lib/clock.js';
import { cookieOf } from '../auth.js';
import { optionalCallerOf } from '../caller.js';
import type { PageContext, PageResult } from './context.js';
import { formatFor } from './format.js';
import { html } from './html.js';
import { document, layout } from './layout.js';
import { isLocale, translator, type Locale } from './messages/index.js';

export const LOCALE_COOKIE = 'jb_lang';
export const SCHOOL_COOKIE = 'jb_school';

/** A page handler: the context of a signed-in caller in; a page, a redirect (a string) or nothing (it answered itself) out. */
export type PageHandler = (ctx: PageContext) => Promise<PageResult | string | void>;

export interface PagesDeps { schools: SchoolRepository; logger: Logger; clock: Clock }

/**
 * The dashboard's routes: each page gets a signed-in caller (else a redirect to the sign-in page), its
 * school, language and time zone, and its errors rendered as pages (404 for what the caller may not see,
 * exactly as the API answers). A string result redirects (303 after a form), so a reload never posts twice.
 */
export class Pages {
  readonly router = Router();
  constructor(private readonly deps: PagesDeps) {}

  get(path: string, handler: PageHandler): void {
    this.router.get(path, (req, res, next) => void this.run(req, res, next, handler));
  }

  post(path: string, handler: PageHandler): void {
    this.router.post(path, (req, res, next) => void this.run(req, res, next, handler));
  }

  private async run(req: Request, res: Response, next: NextFunction, handler: PageHandler): Promise<void> {
    let ctx: PageContext | undefined;
    try {
      ctx = await this.context(req, res);
      if (!ctx) {
        if (req.method === 'GET') res.redirect(303, `/login?next=${encodeURIComponent(req.originalUrl)}`);
        else res.redirect(303, '/login');
        return;
      }
      const result = await handler(ctx);
      if (res.headersSent || result === undefined) return;
      if (typeof result === 'string') {
        if (ctx.htmx) res.setHeader('HX-Redirect', result).status(204).end();
        else res.redirect(303, result);
        return;
      }
      this.send(ctx, result);
    } catch (error) {
      if (res.headersSent) return next(error);
      if (error instanceof UnauthorizedError) {
        res.redirect(303, '/login');
        return;
      }
      this.fail(req, res, ctx, error);
    }
  }

  /** Sends a page: the fragment alone for htmx, else the framed page. */
  send(ctx: PageContext, page: PageResult): void {
    ctx.res.status(page.status ?? 200).type('html');
    ctx.res.setHeader('cache-control', 'no-store');
    ctx.res.setHeader('vary', 'HX-Request, Cookie');
    if (ctx.htmx && page.fragment) ctx.res.send(page.fragment.value);
    else ctx.res.send(layout(ctx, page).value);
  }

  private fail(req: Request, res: Response, ctx: PageContext | undefined, error: unknown): void {
    const locale = ctx?.locale ?? localeOf(req, undefined);
    const t = translator(locale);
    let status = 500;
    let title = t('error.internal.title');
    let text = t('error.internal.text');
    if (error instanceof NotFoundError) [status, title, text] = [404, t('error.notFound.title'), t('error.notFound.text')];
    else if (error instanceof ForbiddenError) [status, title, text] = [403, t('error.forbidden.title'), t('error.forbidden.text')];
    else if (error instanceof ValidationError) [status, title, text] = [400, t('error.bad.title'), error.message];
    else if (error instanceof ConflictError) [status, title, text] = [409, t('error.conflict.title'), error.message];
    else if (error instanceof RateLimitedError) [status, title, text] = [429, t('error.bad.title'), t('login.rateLimited', { seconds: error.retryAfterSeconds })];
    else if (error instanceof AppError && error.status < 500) [status, title, text] = [error.status, t('error.bad.title'), error.message];
    else this.deps.logger.error({ err: error, method: req.method, path: req.path }, 'dashboard page failed');
    const body = html`<h1>${title}</h1><p class="error" data-error-message>${text}</p><p><a href="/">${t('error.back')}</a></p>`;
    if (ctx && !ctx.htmx) this.send(ctx, { title, body, status });
    else if (ctx) ctx.res.status(status).type('html').send(body.value);
    else res.status(status).type('html').send(document(locale, t, title, html`<main id="main" class="login">${body}</main>`).value);
  }

  private async context(req: Request, res: Response): Promise<PageContext | undefined> {
    const caller = optionalCallerOf(res);
    if (!caller || caller.kind === 'api') return undefined;
    // The caller's own schools only (its grants), not the region's list.
    const all = (await Promise.all([...caller.grants.keys()].map((id) => this.deps.schools.find(id))))
      .filter((s): s is SchoolSummary => s !== null).sort((a, b) => a.name.localeCompare(b.name, 'ru') || a.id.localeCompare(b.id));
    if (all.length === 0) throw new ForbiddenError('this account belongs to no school');
    const asked = typeof req.query.school === 'string' ? req.query.school : cookieOf(req, SCHOOL_COOKIE);
    const school: SchoolSummary = all.find((s) => s.id === asked) ?? all[0]!;
    if (typeof req.query.school === 'string' && school.id === req.query.school) {
      res.cookie(SCHOOL_COOKIE, school.id, { httpOnly: true, sameSite: 'lax', secure: req.secure, path: '/' });
    }
    const locale = localeOf(req, school);
    return {
      req, res, caller: caller as StaffCaller | ParentCaller, school, grant: grantIn(caller, school.id)!, schools: all, locale,
      t: translator(locale), fmt: formatFor(locale, school.timeZone), htmx: req.headers['hx-request'] === 'true', now: this.deps.clock.now(),
    };
  }
}

/** The page's language: the caller's own choice (the switch's cookie), else the school's, else Russian. */
export function localeOf(req: Request, school: SchoolSummary | undefined): Locale {
  const chosen = cookieOf(req, LOCALE_COOKIE);
  if (isLocale(chosen)) return chosen;
  return school?.uiLocale ?? 'ru';
}
