import { z } from 'zod';
import { AdapterError, type AdapterContext, type HttpClient, type HttpRequest, type HttpResponse } from '../../src/ports/adapter.js';
import { CookieJar } from '../../src/ports/cookies.js';
import type { Endpoint } from '../../src/ports/response.js';
import { Relogin, credentialKey, perRun } from '../../src/ports/session.js';
import { TermsConfigSchema } from './calendar.js';
import { LOGIN_PAGE, LOGON_ANSWER, LOGON_PAGE, MESSAGE } from './endpoints.js';
import { pathOf } from './html.js';
import { isRestrictedIp, loginOutcome, passwordField, sessionEnded, type FieldPair, type Landing } from './login.js';

export const EduTatarConfigSchema = z.object({
  baseUrl: z.url().default('https://edu.tatar.ru'),
  /** A school administrator's or deputy's account with the journal rights (see README.md). */
  login: z.string().min(1),
  password: z.string().min(1),
  /** The login form's field names: read from the form (`auto`), `main_login2`/`main_password2` (since 2021-10), or the older `main_login`/`main_password`. */
  loginFields: z.enum(['auto', 'main_login', 'main_login2']).default('auto'),
  /** The school's term dates (the site shows none): quarters for grades 1–9, half-years for 10–11, as MM-DD. */
  terms: TermsConfigSchema,
  requestsPerSecond: z.number().positive().max(1000).default(3),
  /** Journal pages read at once (the rate limit still applies). */
  parallelPages: z.number().int().min(1).max(8).default(2),
});

export type EduTatarConfig = z.infer<typeof EduTatarConfigSchema>;

/**
 * A login that redirects to the cabinet has worked (the landing public clients check); the cabinet
 * itself is not read: it carries the account's mail password in a hidden form.
 */
const CABINET_PATH = /^\/user\/anketa\b/;

/** Redirects followed per request: a login passes through several pages, an ended session through the login's. */
const MAX_HOPS = 5;

/** Only «Restricted IP» is the classifier's (any page may be it); 429 and 5xx are the HTTP client's defaults, 3xx come back. */
function classifyEduTatar(response: HttpResponse): AdapterError | undefined {
  if (!isRestrictedIp(response.data)) return undefined;
  return new AdapterError('permanent', 'edu.tatar.ru refuses the network the service runs from («Restricted IP»): run it from an allowed network (a Russian IP address)', { status: response.status });
}

/**
 * One logged-in session per sync run: the cookie jar (`DNSID`, `HLP`), the form login with its
 * redirects, and one new login when a page shows the session ended (src/ports/session.ts Relogin).
 * A refused or locked login is not tried again in the same run: more attempts would only lock it.
 */
export class EduTatarClient {
  private readonly http: HttpClient;
  private readonly cookies = new CookieJar();
  private readonly relogin = new Relogin<number>(() => this.logIn());
  private logins = 0;
  private refusal?: AdapterError;

  private constructor(private readonly ctx: AdapterContext<EduTatarConfig>) {
    const { config } = ctx;
    this.http = ctx.http({
      baseUrl: `${this.origin}/`,
      credentialKey: credentialKey(this.origin, config.login),
      requestsPerSecond: config.requestsPerSecond,
      concurrency: ctx.parallelism(config.parallelPages),
      classify: classifyEduTatar,
    });
  }

  static of(ctx: AdapterContext<EduTatarConfig>): EduTatarClient {
    return perRun(ctx, 'edutatar.client', () => new EduTatarClient(ctx));
  }

  private get origin(): string {
    return this.ctx.config.baseUrl.replace(/\/+$/, '');
  }

  /** A page of the logged-in session, parsed by its endpoint; logs in first, and once more when the session ended. */
  read<T>(endpoint: Endpoint<T>, query?: HttpRequest['query']): Promise<T> {
    return this.relogin.run(async () => {
      const landing = await this.follow({ url: endpoint.path.slice(1), ...(query ? { query } : {}) });
      const ended = sessionEnded(landing);
      if (ended) throw new AdapterError('auth', `edu.tatar.ru ended the session (${endpoint.path}: ${ended})`);
      return endpoint.parse(landing.html);
    }, () => this.ctx.logger.info({ path: endpoint.path }, 'edu.tatar.ru session ended; logging in again'));
  }

  /**
   * One request with the session's cookies, following up to MAX_HOPS redirects on the site (cookies
   * kept at every hop); a redirect to a path `stopAt` accepts ends there, unread.
   */
  private async follow(request: HttpRequest, stopAt?: RegExp): Promise<Landing> {
    let response = await this.exchange(request);
    for (let hop = 0; response.status >= 300 && response.status < 400; hop += 1) {
      const location = String(response.headers.location ?? '');
      const next = URL.canParse(location, response.url) ? new URL(location, response.url) : undefined;
      if (!next || hop === MAX_HOPS) throw new AdapterError('permanent', `edu.tatar.ru redirected ${pathOf(request.url)} more than ${MAX_HOPS} times (last to ${next?.pathname ?? 'nowhere'})`);
      if (next.hostname !== new URL(this.origin).hostname) throw offSite(request.url, next);
      if (stopAt?.test(next.pathname)) return { path: next.pathname, html: '' };
      response = await this.exchange({ url: next.toString() });
    }
    return { path: pathOf(response.url), html: typeof response.data === 'string' ? response.data : '' };
  }

  private async exchange(request: HttpRequest): Promise<HttpResponse<string>> {
    const response = await this.http.request<string>({ ...request, headers: { ...request.headers, ...this.cookies.header() }, responseType: 'text' });
    this.cookies.keep(response);
    return response;
  }

  /** The form's page (`/login/`, or `/logon` where there is none) → `POST` the form → the page the redirects end on. */
  private async logIn(): Promise<number> {
    if (this.refusal) throw this.refusal;
    const { config } = this.ctx;
    this.cookies.clear();
    const page = await this.follow({ url: 'login/' }).catch((error: unknown) => {
      if (error instanceof AdapterError && error.kind === 'not_found') return this.follow({ url: 'logon' });
      throw error;
    });
    const form = (page.path.startsWith('/logon') ? LOGON_PAGE : LOGIN_PAGE).parse(page.html);
    const fields: FieldPair = config.loginFields !== 'auto' ? config.loginFields : form.fields ?? 'main_login2';
    const landing = await this.follow({
      method: 'POST', url: (form.action ?? '/logon').replace(/^\//, ''),
      form: { [fields]: config.login, [passwordField(fields)]: config.password },
      headers: { Referer: `${this.origin}${page.path}` },
    }, CABINET_PATH);
    landingEndpoint(landing.path)?.parse(landing.html);
    const failure = loginOutcome(landing);
    if (failure) {
      this.refusal = failure;
      throw failure;
    }
    this.logins += 1;
    return this.logins;
  }
}

/** The endpoint of the page a login ends on, when it is one the catalogue knows. */
function landingEndpoint(path: string): Endpoint<unknown> | undefined {
  if (path.startsWith('/message')) return MESSAGE;
  return path.startsWith('/logon') ? LOGON_ANSWER : undefined;
}

/** A redirect off the site; to «Моя школа» it says what that means. */
function offSite(from: string, to: URL): AdapterError {
  const moved = /(^|\.)ms-edu\.tatar\.ru$/.test(to.hostname)
    ? ': the school\'s journal has moved to «Моя школа» (ms-edu.tatar.ru), which this adapter does not read'
    : '';
  return new AdapterError('permanent', `edu.tatar.ru redirected ${pathOf(from)} to another site (${to.hostname})${moved}`);
}
