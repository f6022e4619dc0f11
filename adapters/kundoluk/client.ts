import { createHash } from 'node:crypto';
import { z } from 'zod';
import { AdapterError, type AdapterContext, type HttpClient, type HttpRequest, type HttpResponse } from '../../src/ports/adapter.js';
import { perRun } from '../../src/ports/session.js';
import type { KundolukAccount } from './types.js';

const MonthDaySchema = z.string().regex(/^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/, 'expected MM-DD');

/**
 * The quarter table of the mobile app (kundoluk-plus `school_year.dart`): the API names terms by number
 * only and gives no dates, so the app keeps its own.
 */
const APP_TERMS = [
  { from: '09-01', to: '11-04' }, { from: '11-10', to: '12-30' }, { from: '01-12', to: '03-05' }, { from: '03-09', to: '05-31' },
];

export const KundolukConfigSchema = z.object({
  /** The mobile API, `https://kundoluk.edu.gov.kg/api/`. */
  baseUrl: z.url().default('https://kundoluk.edu.gov.kg/api/'),
  /** One login per pupil (a parent signs in with the child's login): the API is pupil-scoped. */
  accounts: z.array(z.object({ username: z.string().trim().min(1), password: z.string().min(1) })).min(1).max(5000),
  /** The school's four quarters as MM-DD (a day from August on falls in the school year's first calendar year, the others in its second). */
  terms: z.array(z.object({ from: MonthDaySchema, to: MonthDaySchema })).length(4).default(APP_TERMS),
  requestsPerSecond: z.number().positive().max(1000).default(5),
  /** Pupils read at once (the rate limit still applies). */
  parallelPupils: z.number().int().min(1).max(16).default(4),
  /** Weeks covered by one schedule request (`gradebook/list`). */
  weeksPerRequest: z.number().int().min(1).max(5).default(2),
  /**
   * Optional: a teacher's (or deputy head's) login to the legacy web journal, whose class journals list
   * every pupil of a class, those without an account in `accounts` too (see web.ts).
   */
  teacher: z.object({
    baseUrl: z.url().default('https://kundoluk.edu.kg/'),
    login: z.string().trim().min(1),
    password: z.string().min(1),
  }).optional(),
});

export type KundolukConfig = z.infer<typeof KundolukConfigSchema>;
type Ctx = AdapterContext<KundolukConfig>;

/** The answers' envelope; `actionResult` holds the payload. */
interface Envelope {
  resultCode?: number | string;
  resultMessage?: string | null;
  message?: string | null;
  actionResult?: unknown;
}

function isEnvelope(data: unknown): data is Envelope {
  return typeof data === 'object' && data !== null && !Array.isArray(data) && 'resultCode' in data;
}

/** The payload of an answer: `actionResult` of the envelope, or the answer itself when it has none. */
const payloadOf = (data: unknown): unknown => (isEnvelope(data) ? data.actionResult : data);

/** The server's own words: a list of `{errorMessage}` (HTTP 400), or `message` / `resultMessage`. */
export function serverMessage(data: unknown): string | undefined {
  if (Array.isArray(data)) {
    const messages = data.map((e) => (typeof e === 'object' && e !== null ? String((e as { errorMessage?: unknown; message?: unknown }).errorMessage ?? (e as { message?: unknown }).message ?? '') : String(e)));
    const text = messages.map((m) => m.trim()).filter(Boolean).join('; ');
    return text || undefined;
  }
  if (typeof data === 'object' && data !== null) {
    const body = data as { message?: unknown; resultMessage?: unknown; errorMessage?: unknown };
    const text = String(body.message ?? body.resultMessage ?? body.errorMessage ?? '').trim();
    return text || undefined;
  }
  return undefined;
}

/**
 * Kundoluk answers failures as HTTP 400 with a list of `{errorMessage}`, 401 (the token is gone: the
 * client logs in again), an envelope with `resultCode` ≠ 0, 5xx, or an HTML page from the proxy in front.
 */
export function classifyKundoluk(response: HttpResponse): AdapterError | undefined {
  const { status, data } = response;
  if (status === 401 || status === 429) return undefined;
  if (status === 400) return new AdapterError('permanent', `Kundoluk refused the request (HTTP 400): ${serverMessage(data) ?? 'invalid request'}`, { status });
  if (typeof data === 'string' && /<html|<!doctype/i.test(data)) {
    const title = /<title>([^<]*)<\/title>/i.exec(data)?.[1]?.trim();
    return new AdapterError('transient', `Kundoluk answered with an HTML page${title ? ` «${title}»` : ''} (HTTP ${status})`, { status });
  }
  if (status === 200 && isEnvelope(data) && Number(data.resultCode) !== 0) {
    return new AdapterError('permanent', `Kundoluk: ${serverMessage(data) ?? 'the request failed'} (resultCode ${String(data.resultCode)})`, { status });
  }
  return undefined;
}

interface TokenState {
  token?: string;
  loggingIn?: Promise<KundolukAccount>;
}

/**
 * One API client per sync run (kept in ctx.session) for all the connection's accounts: one rate limit
 * for the connection, a Bearer token per account, and one new login with the stored password when a
 * token is refused (HTTP 401), as the app does.
 */
export class KundolukClient {
  private readonly http: HttpClient;
  private readonly tokens = new Map<number, TokenState>();

  private constructor(private readonly ctx: Ctx) {
    const { config } = ctx;
    const logins = config.accounts.map((a) => a.username).join('\n');
    this.http = ctx.http({
      baseUrl: config.baseUrl.replace(/\/*$/, '/'),
      credentialKey: createHash('sha256').update(`${config.baseUrl}\n${logins}`).digest('hex').slice(0, 16),
      requestsPerSecond: config.requestsPerSecond,
      concurrency: config.parallelPupils,
      classify: classifyKundoluk,
    });
  }

  static of(ctx: Ctx): KundolukClient {
    return perRun(ctx, 'kundoluk.client', () => new KundolukClient(ctx));
  }

  /** Logs the account in (once per run, however many ask) and returns its account fields. */
  login(index: number): Promise<KundolukAccount> {
    const state = this.stateOf(index);
    state.loggingIn ??= this.logIn(index, state).finally(() => {
      state.loggingIn = undefined;
    });
    return state.loggingIn;
  }

  /** A GET as the account; the payload (`actionResult`) of the envelope. */
  async get<T>(index: number, url: string, query?: HttpRequest['query']): Promise<T> {
    const state = this.stateOf(index);
    if (!state.token) await this.login(index);
    const used = state.token;
    try {
      return await this.send<T>(state, { url, query });
    } catch (error) {
      if (!(error instanceof AdapterError) || error.kind !== 'auth') throw error;
      if (state.token === used) {
        this.ctx.logger.info({ account: index + 1, path: url }, 'Kundoluk refused the token; logging in again');
        state.token = undefined;
        await this.login(index);
      }
      return this.send<T>(state, { url, query });
    }
  }

  private async send<T>(state: TokenState, request: HttpRequest): Promise<T> {
    const response = await this.http.request<unknown>({ ...request, headers: { authorization: `Bearer ${state.token ?? ''}` } });
    return payloadOf(response.data) as T;
  }

  private stateOf(index: number): TokenState {
    let state = this.tokens.get(index);
    if (!state) this.tokens.set(index, (state = {}));
    return state;
  }

  /** `POST auth/loginStudent`: the token and the account fields, at the top level or in `actionResult`. */
  private async logIn(index: number, state: TokenState): Promise<KundolukAccount> {
    const { username, password } = this.ctx.config.accounts[index]!;
    const total = this.ctx.config.accounts.length;
    let response: HttpResponse<unknown>;
    try {
      response = await this.http.request({ method: 'POST', url: 'auth/loginStudent', json: { username, password, device: 'android' } });
    } catch (error) {
      if (error instanceof AdapterError && error.kind === 'auth') {
        throw new AdapterError('auth', `Kundoluk refused the login of account #${index + 1} of ${total}: wrong login or password`, { status: error.status });
      }
      throw error;
    }
    const body = payloadOf(response.data) as (KundolukAccount & { token?: unknown }) | null;
    if (!body || typeof body.token !== 'string' || body.token === '') {
      throw new AdapterError('auth', `Kundoluk gave account #${index + 1} of ${total} no token: ${serverMessage(response.data) ?? 'the login failed'}`);
    }
    state.token = body.token;
    return body;
  }
}
