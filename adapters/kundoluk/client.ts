import { z } from 'zod';
import { platformText } from '../../src/ports/platform-text.js';
import { AdapterError, type AdapterContext, type HttpClient, type HttpRequest, type HttpResponse } from '../../src/ports/adapter.js';
import type { Endpoint } from '../../src/ports/response.js';
import { credentialKey, perRun, Relogin } from '../../src/ports/session.js';
import { LOGIN, type Account } from './endpoints.js';
import { PUPIL_ROLES, roleOf } from './mapping.js';
import { classOfCaption } from './web-pages.js';

const MonthDaySchema = z.string().regex(/^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/, 'expected MM-DD');

/**
 * The quarter table of the mobile app (kundoluk-plus `school_year.dart`): the API names terms by number
 * only and gives no dates, so the app keeps its own (the Python client's differs in Q3/Q4: to 20 March,
 * from 24 March).
 */
const APP_TERMS = [
  { from: '09-01', to: '11-04' }, { from: '11-10', to: '12-30' }, { from: '01-12', to: '03-05' }, { from: '03-09', to: '05-31' },
];

/** A class of the legacy web journal: its id there (`journal2?class=`) and its name («7А»). */
const WebClassSchema = z.object({
  id: z.union([z.string().trim().regex(/^\d+$/, 'expected the web journal\'s numeric class id'), z.number().int().positive().transform(String)]),
  name: z.string().trim().refine((name) => classOfCaption(name) !== undefined, 'expected a class name with its grade, like «7А»'),
});

export const KundolukConfigSchema = z.object({
  /** The mobile API, `https://kundoluk.edu.gov.kg/api/`. */
  baseUrl: z.url().default('https://kundoluk.edu.gov.kg/api/'),
  /** One login per pupil (`auth/loginStudent`): the API is pupil-scoped. */
  accounts: z.array(z.object({ username: z.string().trim().min(1), password: z.string().min(1) })).min(1).max(5000),
  /** The school's four quarters as MM-DD (a day from August on falls in the school year's first calendar year, the others in its second). */
  terms: z.array(z.object({ from: MonthDaySchema, to: MonthDaySchema })).length(4).default(APP_TERMS),
  requestsPerSecond: z.number().positive().max(1000).default(5),
  /** Pupils read at once (the rate limit still applies). */
  parallelPupils: z.number().int().min(1).max(16).default(4),
  /** Weeks covered by one schedule request (`gradebook/list`); kundoluk-plus asks for a whole quarter at once. */
  weeksPerRequest: z.number().int().min(1).max(13).default(2),
  /**
   * Optional: a login to the legacy web journal (kundoluk.edu.kg) and the class journals to read there,
   * whose subject pages list every pupil of a class, those without an account in `accounts` too (web.ts).
   * Their ids must be given: no public client shows a page that lists them.
   */
  teacher: z.object({
    baseUrl: z.url().default('https://kundoluk.edu.kg/'),
    login: z.string().trim().min(1),
    password: z.string().min(1),
    classes: z.array(WebClassSchema).min(1).max(200),
  }).optional(),
});

export type KundolukConfig = z.infer<typeof KundolukConfigSchema>;
type Ctx = AdapterContext<KundolukConfig>;

/** How many pupils are read at once: the configured number, or one when the run must be reproducible. */
export const parallelPupils = (ctx: Ctx): number => ctx.parallelism(ctx.config.parallelPupils);

interface Envelope {
  resultCode?: unknown;
  resultMessage?: unknown;
  message?: unknown;
}

const isEnvelope = (data: unknown): data is Envelope => typeof data === 'object' && data !== null && !Array.isArray(data) && 'resultCode' in data;

/** The server's own words, as kundoluk-plus' `extractServerErrorMessage`: a list of `{errorMessage}` (HTTP 400), or `message` / `resultMessage` / `errorMessage`. */
function serverMessage(data: unknown): string | undefined {
  const one = (e: unknown) => (typeof e === 'object' && e !== null ? (e as Record<string, unknown>).errorMessage ?? (e as Record<string, unknown>).message : e);
  if (Array.isArray(data)) return data.map((e) => String(one(e) ?? '').trim()).filter(Boolean).join('; ') || undefined;
  if (typeof data === 'object' && data !== null) {
    const body = data as Record<string, unknown>;
    return String(body.message ?? body.resultMessage ?? body.errorMessage ?? '').trim() || undefined;
  }
  return undefined;
}

/**
 * Texts Kundoluk's servers and proxy are known to answer (client models, README evidence): kept as they
 * are; any other server text is withheld (platformText), for it may name a pupil.
 */
const KNOWN_TEXTS = new Set([
  // README evidence and fixtures:
  'Неверный логин или пароль', 'Пользователь не найден', 'Пользователь «…» не найден', 'Окуучу табылган жок', 'күндүн форматы туура эмес',
  'неверный формат даты', 'Bad Gateway', '502 Bad Gateway',
  // The simulator's own validation texts (not seen from the real server; kept readable, they name no one):
  'Логин не должен содержать пробелов', 'Неверный формат запроса',
]);

/**
 * The server's words, each part through platformText: a `field: text` part keeps its field (a name of the
 * API's, not a person's). `login` is replaced by «…» first (a refusal may repeat it).
 */
function serverWords(data: unknown, login?: string): string | undefined {
  const raw = serverMessage(data);
  if (raw === undefined) return undefined;
  return raw.split('; ').map((part) => {
    const text = login ? withoutLogin(part, login) : part;
    const field = /^([A-Za-z_][A-Za-z0-9_.[\]]*): (.*)$/.exec(text);
    return field ? `${field[1]}: ${platformText(field[2], KNOWN_TEXTS)}` : platformText(text, KNOWN_TEXTS);
  }).join('; ');
}

const isLogin = (url: string) => /\/auth\/loginStudent\/?(\?|$)/i.test(url);

/**
 * Kundoluk answers failures as HTTP 400 with a list of `{errorMessage}`, 401 (the token is gone: the
 * client logs in again), an envelope with `resultCode` ≠ 0, 5xx, or an HTML page from the proxy in front.
 * On the login: 410 means the pupil must change the password (react-kundoluk), and a refusal (400, 401,
 * 403 or a failed envelope: the status of a wrong password is not known) is `auth` with the server's text.
 */
export function classifyKundoluk(response: HttpResponse): AdapterError | undefined {
  const { status, data } = response;
  const failed = status === 200 && isEnvelope(data) && Number(data.resultCode) !== 0;
  if (isLogin(response.url) && (status === 410 || [400, 401, 403].includes(status) || failed)) return new AdapterError('auth', serverMessage(data) ?? '', { status });
  if (status === 401 || status === 429) return undefined;
  if (status === 400) return new AdapterError('permanent', `Kundoluk refused the request (HTTP 400): ${serverWords(data) || 'invalid request'}`, { status });
  if (typeof data === 'string' && /<html|<!doctype/i.test(data)) {
    const title = /<title>([^<]*)<\/title>/i.exec(data)?.[1]?.trim();
    return new AdapterError('transient', `Kundoluk answered with an HTML page${title ? ` «${platformText(title, KNOWN_TEXTS)}»` : ''} (HTTP ${status})`, { status });
  }
  if (failed) return new AdapterError('permanent', `Kundoluk: ${serverWords(data) || 'the request failed'} (resultCode ${String(data.resultCode)})`, { status });
  return undefined;
}

/** A signed-in account: its token and the login answer's account fields. */
interface Session {
  token: string;
  account: Account;
}

const PARENT_HINT = 'the parent view needs the child\'s PIN and a parent login that no public client shows; give the pupil\'s own login';
const STAFF_HINT = 'teachers and staff sign in through AIS, which this adapter does not support; give the pupils\' logins';

/** Account types that are not a pupil's (kundoluk-plus `UserRole`), with what to do instead. */
const NOT_PUPILS: Record<string, { whose: string; hint: string }> = {
  parent: { whose: 'a parent\'s', hint: PARENT_HINT }, родитель: { whose: 'a parent\'s', hint: PARENT_HINT },
  teacher: { whose: 'a teacher\'s', hint: STAFF_HINT }, учитель: { whose: 'a teacher\'s', hint: STAFF_HINT },
  admin: { whose: 'an administrator\'s', hint: STAFF_HINT }, administrator: { whose: 'an administrator\'s', hint: STAFF_HINT },
  администратор: { whose: 'an administrator\'s', hint: STAFF_HINT },
};

/**
 * One API client per sync run (kept in ctx.session) for all the connection's accounts: one rate limit
 * for the connection, a session per account, and one new login with the stored password when a token
 * is refused (HTTP 401), as kundoluk-plus does.
 */
export class KundolukClient {
  private readonly http: HttpClient;
  private readonly sessions: Array<Relogin<Session>>;

  private constructor(private readonly ctx: Ctx) {
    const { config } = ctx;
    this.http = ctx.http({
      baseUrl: config.baseUrl.replace(/\/*$/, '/'),
      credentialKey: credentialKey(config.baseUrl, ...config.accounts.map((a) => a.username)),
      requestsPerSecond: config.requestsPerSecond,
      concurrency: parallelPupils(ctx),
      classify: classifyKundoluk,
    });
    this.sessions = config.accounts.map((_, i) => new Relogin(() => this.logIn(i)));
  }

  static of(ctx: Ctx): KundolukClient {
    return perRun(ctx, 'kundoluk.client', () => new KundolukClient(ctx));
  }

  /** Logs the account in (once per run, however many ask) and returns its account fields. */
  async login(index: number): Promise<Account> {
    return (await this.sessions[index]!.session()).account;
  }

  /** A GET as the account, its answer parsed by the endpoint's schema. */
  get<T>(index: number, endpoint: Endpoint<T>, url: string, query?: HttpRequest['query']): Promise<T> {
    return this.sessions[index]!.run(
      async ({ token }) => endpoint.parse((await this.http.request({ url, query, headers: { authorization: `Bearer ${token}` } })).data),
      () => this.ctx.logger.info({ account: index + 1, path: url }, 'Kundoluk refused the token; logging in again'),
    );
  }

  /** `POST auth/loginStudent` `{username, password, device}`: the token and the account fields. */
  private async logIn(index: number): Promise<Session> {
    const { username, password } = this.ctx.config.accounts[index]!;
    const who = `account #${index + 1} of ${this.ctx.config.accounts.length}`;
    let response: HttpResponse<unknown>;
    try {
      response = await this.http.request({ method: 'POST', url: 'auth/loginStudent', json: { username, password, device: 'android' } });
    } catch (error) {
      if (!(error instanceof AdapterError) || error.kind !== 'auth') throw error;
      if (error.status === 410) {
        throw new AdapterError('auth', `Kundoluk requires ${who} to change its password in the Kundoluk app before it signs in again (HTTP 410)`, { status: 410 });
      }
      throw new AdapterError('auth', `Kundoluk refused the login of ${who}: ${serverWords([error.message], username) || 'wrong login or password'}`, { status: error.status });
    }
    const account = LOGIN.parse(response.data);
    if (!account.token) throw new AdapterError('auth', `Kundoluk gave ${who} no token: ${serverWords(response.data, username) || 'the login failed'}`);
    this.checkRole(account, who);
    if (account.changePassword) this.ctx.logger.warn({ account: index + 1 }, 'Kundoluk asks this account to change its password (changePassword); it is read as long as the server lets it sign in');
    return { token: account.token, account };
  }

  /**
   * Only pupils' accounts are read. A parent's view exists (`parent/gradebook/…?student_pin=`, react-kundoluk)
   * but needs the child's PIN, and how parents sign in and list their children is not publicly known.
   */
  private checkRole(account: Account, who: string): void {
    const role = roleOf(account);
    if (!role || PUPIL_ROLES.has(role)) return;
    const known = NOT_PUPILS[role];
    if (!known) {
      this.ctx.logger.warn({ role }, 'a Kundoluk account of an unknown type signed in through the pupils\' login; it is read as a pupil\'s');
      return;
    }
    throw new AdapterError('permanent', `Kundoluk: ${who} is ${known.whose} account (type «${role}»), and only pupils' accounts are supported: ${known.hint}`);
  }
}

/** The server's text without the login in it: logins are pupils' data, and errors reach alerts. */
function withoutLogin(text: string, login: string): string {
  return text.split(login).join('«…»').trim();
}
