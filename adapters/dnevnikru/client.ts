import { createHash } from 'node:crypto';
import * as cheerio from 'cheerio';
import { z } from 'zod';
import { perRun } from '../../src/ports/session.js';
import { AdapterError, type AdapterContext, type HttpClient, type HttpResponse } from '../../src/ports/adapter.js';

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
    /** The school to read; by default the first school of the account. */
    schoolId: z.string().regex(/^\d+$/).optional(),
    /** Points scale of the instance's marks: 5, or 10 for Kundelik. */
    scale: z.number().int().min(2).max(100).default(5),
    requestsPerSecond: z.number().positive().max(1000).default(5),
    /** Days covered by one lessons / marks / log-entries request. */
    rangeDays: z.number().int().min(1).max(92).default(31),
  })
  .refine((c) => c.token !== undefined || (c.login && c.password && c.clientId && c.clientSecret), {
    message: 'give either token, or login, password, clientId and clientSecret',
  });

export type DnevnikConfig = z.infer<typeof DnevnikConfigSchema>;

const ERROR_KINDS: Record<string, AdapterError['kind']> = {
  authorizationFailed: 'auth', tokenRequired: 'auth', parameterInvalid: 'permanent', invalidRequest: 'permanent',
  apiServerError: 'transient', apiUnknownError: 'transient', maxAttempsExceeded: 'rate_limited',
};

/** Дневник.ру answers failures as `{type, description}`, HTML error pages, or HTTP 550 "Server Work". */
export function classifyDnevnik(response: HttpResponse): AdapterError | undefined {
  const { status, data } = response;
  if (typeof data === 'string' && /<html/i.test(data)) {
    const message = cheerio.load(data)('.error__description').text().trim() || 'an HTML error page';
    return new AdapterError(status === 404 ? 'not_found' : 'transient', `Дневник.ру: ${message}`, { status });
  }
  if (status === 550) return new AdapterError('transient', 'Дневник.ру is under maintenance (HTTP 550 Server Work)', { status });
  if (status >= 300 && status < 400) {
    return new AdapterError('permanent', `Дневник.ру redirected to ${String(response.headers.location ?? '').split('?')[0] || 'another page'} (HTTP ${status})`, { status });
  }
  const body = data as { type?: unknown; description?: unknown } | null;
  if (status >= 400 && body && typeof body === 'object' && typeof body.type === 'string') {
    const kind = status === 429 ? 'rate_limited' : (ERROR_KINDS[body.type] ?? (status >= 500 ? 'transient' : 'permanent'));
    return new AdapterError(kind, `Дневник.ру ${body.type}: ${String(body.description ?? '')}`, { status });
  }
  return undefined;
}

/**
 * One logged-in API client per sync run (kept in ctx.session): Access-Token on every call, a login by
 * credentials when there is no token, and one new login when the token is refused mid-run.
 */
export class DnevnikClient {
  private token?: string;
  private readonly http: HttpClient;

  private constructor(private readonly ctx: AdapterContext<DnevnikConfig>) {
    const config = ctx.config;
    this.token = config.token;
    this.http = ctx.http({
      baseUrl: `${config.baseUrl.replace(/\/+$/, '')}/v2/`,
      credentialKey: createHash('sha256').update(config.login ?? config.token ?? '').digest('hex').slice(0, 16),
      requestsPerSecond: config.requestsPerSecond,
      concurrency: 3,
      classify: classifyDnevnik,
    });
  }

  static of(ctx: AdapterContext<DnevnikConfig>): DnevnikClient {
    return perRun(ctx, 'dnevnik.client', () => new DnevnikClient(ctx));
  }

  async get<T>(path: string, query?: Record<string, string>): Promise<T> {
    if (!this.token) await this.login();
    const used = this.token!;
    try {
      return (await this.http.request<T>({ url: path, query, headers: { 'Access-Token': used } })).data;
    } catch (error) {
      if (!(error instanceof AdapterError) || error.kind !== 'auth' || !this.canLogin()) throw error;
      // Parallel reads that met the same expired token log in once.
      if (this.token === used) {
        this.ctx.logger.info({ path: path.split('?')[0] }, 'Дневник.ру refused the token; logging in again');
        await this.login();
      }
      return (await this.http.request<T>({ url: path, query, headers: { 'Access-Token': this.token! } })).data;
    }
  }

  private canLogin(): boolean {
    const c = this.ctx.config;
    return Boolean(c.login && c.password && c.clientId && c.clientSecret);
  }

  private loggingIn?: Promise<void>;

  private login(): Promise<void> {
    this.loggingIn ??= this.logIn().finally(() => {
      this.loggingIn = undefined;
    });
    return this.loggingIn;
  }

  private async logIn(): Promise<void> {
    if (!this.canLogin()) throw new AdapterError('auth', 'Дневник.ру: no token and no credentials to log in with');
    const c = this.ctx.config;
    const response = await this.http.request<{ accessToken?: string }>({
      method: 'POST', url: 'authorizations/bycredentials',
      json: { client_id: c.clientId, client_secret: c.clientSecret, username: c.login, password: c.password, scope: 'Schools,Relatives,EduGroups,Lessons,marks,EduWorks,CommonInfo' },
    });
    if (!response.data.accessToken) throw new AdapterError('auth', 'Дневник.ру: the login answer had no accessToken');
    this.token = response.data.accessToken;
  }
}
