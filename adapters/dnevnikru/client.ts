import * as cheerio from 'cheerio';
import { z } from 'zod';
import { AdapterError, type AdapterContext, type HttpClient, type HttpResponse } from '../../src/ports/adapter.js';
import type { Endpoint } from '../../src/ports/response.js';
import { platformText } from '../../src/ports/platform-text.js';
import { credentialKey, perRun, Relogin } from '../../src/ports/session.js';
import { LOGIN } from './endpoints.js';

export const DnevnikConfigSchema = z
  .object({
    /** API host of the instance: https://api.dnevnik.ru, https://api.school.mosreg.ru, https://api.kundelik.kz … */
    baseUrl: z.url(),
    /** Access-Token issued to the school's partner application (OAuth2); or log in with the four below. */
    token: z.string().min(1).optional(),
    login: z.string().min(1).optional(),
    password: z.string().min(1).optional(),
    clientId: z.string().min(1).optional(),
    clientSecret: z.string().min(1).optional(),
    /** The school to read; by default the first school of the account (`users/me/context`). */
    schoolId: z.string().regex(/^\d+$/).optional(),
    /** Points scale of the instance's marks: 5, or 10 for Kundelik. */
    scale: z.number().int().min(2).max(100).default(5),
    requestsPerSecond: z.number().positive().max(1000).default(5),
    /** Days covered by one lessons / marks / log-entries request. */
    rangeDays: z.number().int().min(1).max(92).default(31),
    /**
     * The pupils' parents and their contacts (one request per pupil, one per 100 parents): `all` on every
     * run; `rotate` (default) all on a run of four weeks or more, a fifth of the pupils on a daily run,
     * each pupil in turn; `off`.
     */
    relatives: z.enum(['all', 'rotate', 'off']).default('rotate'),
    /** Read homework files through `users/me/school/{s}/homeworks` (one request per date slice). */
    homeworkFiles: z.boolean().default(true),
  })
  .refine((c) => c.token !== undefined || (c.login && c.password && c.clientId && c.clientSecret), {
    message: 'give either token, or login, password, clientId and clientSecret',
  });

export type DnevnikConfig = z.infer<typeof DnevnikConfigSchema>;

/**
 * The scopes a login asks for: the community clients' set (kesha1225/DnevnikRuAPI, KunAPIPy) without
 * avatar, wall and messages. EducationalInfo covers lessons, marks, log entries, works and timetables;
 * FriendsAndRelatives the relatives, ContactInfo the parents' phones and e-mails, Files homework files.
 */
const LOGIN_SCOPE = 'Schools,Relatives,EduGroups,Lessons,marks,EduWorks,EducationalInfo,CommonInfo,ContactInfo,FriendsAndRelatives,Files';

/** The `type` of an error body → kind (the API's error list as SchoolMosregRuAPI `exceptions.py` copies it; both spellings). */
const ERROR_KINDS: Record<string, AdapterError['kind']> = {
  authorizationFailed: 'auth', tokenRequired: 'auth', authorizationTokenRequired: 'auth', invalidToken: 'auth', authorizationInvalidToken: 'auth',
  // Five refused logins: logging in again only makes it worse, so the run stops with an auth alert.
  maxAttempsExceeded: 'auth',
  apiRequestLimit: 'rate_limited', requestLimit: 'rate_limited',
  apiResourceUnavailable: 'not_found', resourceUnavailable: 'not_found',
  apiServerError: 'transient', serverError: 'transient', apiUnknownError: 'transient',
  invalidRequest: 'permanent', parameterInvalid: 'permanent', apiMethodNotSupported: 'permanent', methodNotSupported: 'permanent',
  apiHttpsRequired: 'permanent', httpsRequired: 'permanent', authorizationOutOfScope: 'permanent', outOfScope: 'permanent',
  authorizationNotOwner: 'permanent', notOwner: 'permanent', authorizationOwnerForbidden: 'permanent', ownerForbidden: 'permanent',
  authorizationSystemForbidden: 'permanent', systemForbidden: 'permanent',
};

/**
 * The error descriptions the API is known to answer (its error list and the evidence in README.md): kept
 * in messages as they are; any other description is withheld (platformText), for it may name a pupil.
 */
const KNOWN_TEXTS = new Set([
  "Can't authorize", 'You must supply valid token to access method', 'Неверный или неактивный токен', 'Неверный логин или пароль',
  'Превышено количество попыток входа', 'Превышено количество попыток', 'Превышен лимит запросов для данного токена',
  'Ресурс не существует', 'Server Work', 'Неверный период', 'Сервис временно недоступен. Ведутся технические работы',
]);

/** `{type, description}` of an error body, parsed or (for answers read as text) still text. */
function errorBody(data: unknown): { type: string; description?: unknown } | undefined {
  let body = data;
  if (typeof body === 'string' && /^\s*\{/.test(body) && body.length < 10_000) {
    try {
      body = JSON.parse(body);
    } catch {
      return undefined;
    }
  }
  if (!body || typeof body !== 'object' || typeof (body as { type?: unknown }).type !== 'string') return undefined;
  return body as { type: string; description?: unknown };
}

/** The endpoint's path, without the host and the query (ids in a path are the platform's, not names). */
function pathOf(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return url.split('?')[0] ?? url;
  }
}

/** Дневник.ру answers failures as `{type, description}`, HTML error pages, HTTP 550 "Server Work", 429 / 433 when limited. */
export function classifyDnevnik(response: HttpResponse): AdapterError | undefined {
  const { status, data } = response;
  if (typeof data === 'string' && /<html/i.test(data)) {
    const message = platformText(cheerio.load(data)('.error__description').text(), KNOWN_TEXTS) || 'an HTML error page';
    return new AdapterError(status === 404 ? 'not_found' : 'transient', `Дневник.ру: ${message} (HTTP ${status})`, { status });
  }
  if (status === 550) return new AdapterError('transient', 'Дневник.ру is under maintenance (HTTP 550 Server Work)', { status });
  if (status >= 300 && status < 400) {
    return new AdapterError('permanent', `Дневник.ру redirected to ${String(response.headers.location ?? '').split('?')[0] || 'another page'} (HTTP ${status})`, { status });
  }
  if (status < 400) return undefined;
  const body = errorBody(data);
  const limited = status === 429 || status === 433;
  if (!body) return limited ? new AdapterError('rate_limited', `Дневник.ру: too many requests (HTTP ${status})`, { status }) : undefined;
  const byStatus = limited ? 'rate_limited' : status === 401 ? 'auth' : status === 404 ? 'not_found' : status >= 500 ? 'transient' : 'permanent';
  const kind = limited ? 'rate_limited' : (ERROR_KINDS[body.type] ?? byStatus);
  return new AdapterError(kind, `Дневник.ру ${platformText(body.type)}: ${platformText(body.description, KNOWN_TEXTS)} (HTTP ${status} on ${pathOf(response.url)})`, { status });
}

/**
 * One API client per sync run (kept in ctx.session): Access-Token on every call, a login by credentials
 * when there is no token, one new login when the token is refused mid-run (src/ports/session.ts), and
 * every answer parsed by its endpoint's schema.
 */
export class DnevnikClient {
  private readonly http: HttpClient;
  private readonly token: Relogin<string>;

  private constructor(private readonly ctx: AdapterContext<DnevnikConfig>) {
    const config = ctx.config;
    this.http = ctx.http({
      baseUrl: `${config.baseUrl.replace(/\/+$/, '')}/v2/`,
      credentialKey: credentialKey(config.login ?? config.token),
      requestsPerSecond: config.requestsPerSecond,
      concurrency: ctx.parallelism(3),
      classify: classifyDnevnik,
    });
    this.token = new Relogin(() => this.logIn(), () => this.canLogIn());
    if (config.token) this.token.seed(config.token);
  }

  static of(ctx: AdapterContext<DnevnikConfig>): DnevnikClient {
    return perRun(ctx, 'dnevnik.client', () => new DnevnikClient(ctx));
  }

  /** GETs `path` (relative to /v2/) and parses the answer with `endpoint`'s schema (as text for the lossless ones). */
  get<T>(endpoint: Endpoint<T>, path: string, query?: Record<string, string>): Promise<T> {
    const responseType = endpoint.body === 'text' ? 'text' : 'json';
    return this.read(endpoint, (token) => this.http.request({ url: path, query, headers: { 'Access-Token': token }, responseType }));
  }

  /** POSTs `json` to `path` and parses the answer with `endpoint`'s schema. */
  post<T>(endpoint: Endpoint<T>, path: string, json: unknown): Promise<T> {
    return this.read(endpoint, (token) => this.http.request({ method: 'POST', url: path, json, headers: { 'Access-Token': token } }));
  }

  private async read<T>(endpoint: Endpoint<T>, send: (token: string) => Promise<HttpResponse>): Promise<T> {
    const response = await this.token.run(send, () => this.ctx.logger.info({ endpoint: endpoint.path }, 'Дневник.ру refused the token; logging in again'));
    return endpoint.parse(response.data);
  }

  private canLogIn(): boolean {
    const c = this.ctx.config;
    return Boolean(c.login && c.password && c.clientId && c.clientSecret);
  }

  private async logIn(): Promise<string> {
    if (!this.canLogIn()) throw new AdapterError('auth', 'Дневник.ру: no token and no credentials to log in with');
    const c = this.ctx.config;
    const response = await this.http.request({
      method: 'POST', url: 'authorizations/bycredentials',
      json: { client_id: c.clientId, client_secret: c.clientSecret, username: c.login, password: c.password, scope: LOGIN_SCOPE },
    });
    const answer = LOGIN.parse(response.data);
    const token = answer.accessToken ?? answer.credentials?.accessToken;
    if (token) return token;
    // kesha1225/DnevnikRuAPI reads a refusal from the body whatever the status.
    throw new AdapterError('auth', answer.type ? `Дневник.ру ${platformText(answer.type)}: ${platformText(answer.description, KNOWN_TEXTS)}` : 'Дневник.ру: the login answer had no accessToken');
  }
}
