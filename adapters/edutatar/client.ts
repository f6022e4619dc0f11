import { createHash } from 'node:crypto';
import * as cheerio from 'cheerio';
import { z } from 'zod';
import { AdapterError, type AdapterContext, type HttpClient, type HttpRequest, type HttpResponse } from '../../src/ports/adapter.js';
import { CookieJar } from '../../src/ports/cookies.js';
import { perRun } from '../../src/ports/session.js';
import { textOf } from './mapping.js';

export const EduTatarConfigSchema = z.object({
  baseUrl: z.url().default('https://edu.tatar.ru'),
  /** A school administrator's or deputy's account with the journal rights (see README.md); 2FA must be off. */
  login: z.string().min(1),
  password: z.string().min(1),
  /** The login form's field names: `main_login`/`main_password`, the later `main_login2`/`main_password2`, or read from the form. */
  loginFields: z.enum(['auto', 'main_login', 'main_login2']).default('auto'),
  requestsPerSecond: z.number().positive().max(1000).default(3),
  /** Journal pages read at once (the rate limit still applies). */
  parallelPages: z.number().int().min(1).max(8).default(2),
});

export type EduTatarConfig = z.infer<typeof EduTatarConfigSchema>;

/** What a page says when its session cookie is unknown or expired (platforms.md §3.2). */
const SESSION_GONE = 'Пользователь не найден';
const SESSION_COOKIE = 'DNSID';

function locationOf(response: HttpResponse): string {
  return String(response.headers.location ?? '');
}

/**
 * edu.tatar.ru answers everything as HTML with 200: an expired session is a page saying «Пользователь не
 * найден», or a redirect to the login page. Other redirects come back to the client (a good login is
 * one); 429 and 5xx are the HTTP client's defaults.
 */
export function classifyEduTatar(response: HttpResponse): AdapterError | undefined {
  const { status, data } = response;
  if (status >= 300 && status < 400) {
    const location = locationOf(response);
    const path = URL.canParse(location, response.url) ? new URL(location, response.url).pathname : location;
    return /\/log(on|in)\b/.test(path) ? new AdapterError('auth', 'edu.tatar.ru redirected to its login page: the session ended', { status }) : undefined;
  }
  if (status === 200 && typeof data === 'string' && data.includes(SESSION_GONE) && textOf(cheerio.load(data)('body')).includes(SESSION_GONE)) {
    return new AdapterError('auth', `edu.tatar.ru: «${SESSION_GONE}»: the session ended`, { status });
  }
  return undefined;
}

/** The login form's field names, as configured or as the form at `/logon` names them. */
function loginFieldsOf(html: string, configured: EduTatarConfig['loginFields']): { login: string; password: string; action?: string } {
  const $ = cheerio.load(html);
  const variant = configured !== 'auto' ? configured : $('input[name="main_login2"]').length > 0 ? 'main_login2' : 'main_login';
  const action = $(`input[name="${variant}"]`).closest('form').attr('action')?.trim();
  return { login: variant, password: variant === 'main_login2' ? 'main_password2' : 'main_password', ...(action ? { action } : {}) };
}

const TWO_FACTOR_MESSAGE = 'edu.tatar.ru asks this account for a second factor (two-factor authentication is on). The service cannot '
  + 'answer it: turn two-factor authentication off for the service account (the school administrator or deputy it logs in as), '
  + 'or give the service another account without it.';

/** What the page after the login form says: «Личный кабинет» (in), «Неверный логин или пароль.» / `.err_text`, or a second factor. */
function loginOutcome(html: string): AdapterError | undefined {
  const $ = cheerio.load(html);
  const error = textOf($('.err_text').first());
  const text = textOf($('body'));
  if (error || text.includes('Неверный логин или пароль')) return new AdapterError('auth', `edu.tatar.ru refused the login: ${error || 'Неверный логин или пароль.'}`);
  const codeInput = $('input[autocomplete="one-time-code"], input[name="code"], input[name="otp"], input[name="sms_code"]').length > 0;
  if (codeInput || /двухфакторн|код подтверждения/i.test(text)) return new AdapterError('permanent', TWO_FACTOR_MESSAGE);
  if (text.includes('Личный кабинет')) return undefined;
  return new AdapterError('auth', 'edu.tatar.ru did not confirm the login («Личный кабинет» not shown)');
}

/**
 * One logged-in session per sync run (kept in ctx.session): the cookie jar with `DNSID`, the form login
 * (platforms.md §3.2), and one new login when a page says the session ended.
 */
export class EduTatarClient {
  private readonly http: HttpClient;
  private readonly cookies = new CookieJar();
  /** The DNSID of the logged-in session; undefined until a login succeeds. */
  private session?: string;
  private loggingIn?: Promise<void>;

  private constructor(private readonly ctx: AdapterContext<EduTatarConfig>) {
    const { config } = ctx;
    this.http = ctx.http({
      baseUrl: `${this.origin}/`,
      credentialKey: createHash('sha256').update(`${this.origin}/${config.login}`).digest('hex').slice(0, 16),
      requestsPerSecond: config.requestsPerSecond,
      concurrency: config.parallelPages,
      classify: classifyEduTatar,
      headers: { Referer: `${this.origin}/logon` },
    });
  }

  static of(ctx: AdapterContext<EduTatarConfig>): EduTatarClient {
    return perRun(ctx, 'edutatar.client', () => new EduTatarClient(ctx));
  }

  private get origin(): string {
    return this.ctx.config.baseUrl.replace(/\/+$/, '');
  }

  /** A page of the logged-in session; logs in first, and once more when the page says the session ended. */
  async page(url: string, query?: HttpRequest['query']): Promise<string> {
    if (!this.session) await this.login();
    const used = this.session;
    try {
      return await this.send(url, query);
    } catch (error) {
      if (!(error instanceof AdapterError) || error.kind !== 'auth') throw error;
      // Pages read at once all meet the ended session: the first logs in again, the others wait for it.
      if (this.loggingIn) await this.loggingIn;
      else if (this.session === used) {
        this.ctx.logger.info({ path: url }, 'edu.tatar.ru session ended; logging in again');
        await this.login();
      }
      return this.send(url, query);
    }
  }

  private async send(url: string, query?: HttpRequest['query']): Promise<string> {
    const response = await this.exchange({ url, ...(query ? { query } : {}) });
    if (response.status >= 300) throw new AdapterError('permanent', `edu.tatar.ru redirected ${url.split('?')[0]} to ${locationOf(response).split('?')[0]}`, { status: response.status });
    return response.data;
  }

  /** One request with the session's cookies; the cookies it sets are kept. */
  private async exchange(request: HttpRequest): Promise<HttpResponse<string>> {
    const response = await this.http.request<string>({ ...request, headers: this.cookies.header(), responseType: 'text' });
    this.cookies.keep(response);
    return response;
  }

  private login(): Promise<void> {
    this.loggingIn ??= this.logIn().finally(() => {
      this.loggingIn = undefined;
    });
    return this.loggingIn;
  }

  /** `GET /logon` (cookies, the form's field names) → `POST` the form → the page it leads to must say «Личный кабинет». */
  private async logIn(): Promise<void> {
    const { config } = this.ctx;
    this.session = undefined;
    this.cookies.clear();
    const fields = loginFieldsOf(await this.send('logon'), config.loginFields);
    const landing = await this.postForm(fields.action ?? 'logon', { [fields.login]: config.login, [fields.password]: config.password });
    const failure = loginOutcome(landing);
    if (failure) throw failure;
    this.session = this.cookies.get(SESSION_COOKIE);
    if (!this.session) throw new AdapterError('auth', `edu.tatar.ru set no ${SESSION_COOKIE} cookie after the login`);
  }

  /** Posts a form; a redirect (the usual answer to a good login) is followed once, with the cookies it set. */
  private async postForm(url: string, form: Record<string, string>): Promise<string> {
    const response = await this.exchange({ method: 'POST', url, form });
    return response.status >= 300 ? this.send(locationOf(response)) : response.data;
  }
}
