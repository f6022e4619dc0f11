import { createHash } from 'node:crypto';
import iconv from 'iconv-lite';
import { z } from 'zod';
import { platformText } from '../../src/ports/platform-text.js';
import { AdapterError, type AdapterContext, type HttpClient, type HttpRequest, type HttpResponse } from '../../src/ports/adapter.js';
import { CookieJar } from '../../src/ports/cookies.js';
import type { Endpoint } from '../../src/ports/response.js';
import { Relogin, credentialKey, perRun } from '../../src/ports/session.js';
import { AUTH_DATA, LOGIN, LOGIN_DATA, LOGOUT, LOGOUT_ASP, SECURITY_WARNING, SESSION_ROLE, type LoginAnswer } from './endpoints.js';
import { serverVersion, versionBefore, type Version } from './version.js';

export const NetSchoolConfigSchema = z.object({
  /** The region's server, without /webapi: https://sgo.edu-74.ru, https://asurso.ru … */
  baseUrl: z.url(),
  /** The school's numeric id on the server (`scid`); the name is the most common login mistake. */
  schoolId: z.coerce.number().int().positive(),
  /** A staff account (school administrator or deputy) — see README.md. */
  login: z.string().min(1),
  password: z.string().min(1),
  requestsPerSecond: z.number().positive().max(1000).default(5),
  /** Pupils whose diaries are read at once (the rate limit still applies). */
  parallelPupils: z.number().int().min(1).max(16).default(4),
  /** How long a queued report may take before the read fails as transient. */
  reportTimeoutSeconds: z.number().int().min(5).max(3600).default(180),
  /** Whether extra-curricular lessons (`isEaLesson`, «Разговоры о важном») are read as lessons too. */
  extraCurricular: z.boolean().default(false),
});

export type NetSchoolConfig = z.infer<typeof NetSchoolConfigSchema>;

/** The salted password hash of NetSchool's login form: md5(salt + md5hex(password in windows-1251)). */
export function passwordHash(password: string, salt: string): { pw: string; pw2: string } {
  const inner = createHash('md5').update(iconv.encode(password, 'win1251')).digest('hex');
  const pw2 = createHash('md5').update(salt + inner).digest('hex');
  return { pw: pw2.slice(0, password.length), pw2 };
}

const RATE_LIMIT_MARKER = /Следующая попытка/i;
/** NetSchool's small page announcing another open session of the account (lentryd `isSecurityWarning`). */
const SECURITY_WARNING_PAGE = '/asp/SecurityWarning.asp';
/** How the classifier names that page, and how `inSession` knows it among the `auth` failures. */
const SECURITY_WARNING_ERROR = 'NetSchool SecurityWarning';
const DEAD_SESSION = 'NetSchool session ended';

const isSecurityWarning = (error: unknown): boolean => error instanceof AdapterError && error.message.startsWith(SECURITY_WARNING_ERROR);

/**
 * The messages NetSchool is known to answer (README evidence and captures): kept as they are; any other message is
 * withheld (platformText), for a server's free text may name a pupil.
 */
const KNOWN_TEXTS = new Set(['Неправильный пароль или имя пользователя', 'Ошибка доступа']);

const messageOf = (data: unknown): string | undefined =>
  typeof data === 'object' && data !== null && typeof (data as { message?: unknown }).message === 'string' ? platformText((data as { message: string }).message, KNOWN_TEXTS) || undefined : undefined;

/**
 * NetSchool's failures: 409 `{message}` (bad credentials, or «Следующая попытка…» when it throttles
 * logins); 401 with `auth-error: SessionExpired` (an ended session; another `auth-error` means no
 * access); 500, which clients answer with a new login; «Ошибка доступа» as the text of a dead session
 * (2019); the SecurityWarning page; a redirect instead of an answer.
 */
export function classifyNetSchool(response: HttpResponse): AdapterError | undefined {
  const { status, data } = response;
  const message = messageOf(data);
  if (status === 409) {
    const raw = (data as { message?: unknown } | undefined)?.message;
    if (typeof raw === 'string' && RATE_LIMIT_MARKER.test(raw)) return new AdapterError('rate_limited', 'NetSchool refused the login for now (it throttles logins: «Следующая попытка…»)', { status, retryAfterMs: 60_000 });
    return new AdapterError('auth', `NetSchool: ${message ?? 'wrong login or password'} (HTTP 409)`, { status });
  }
  if (status === 401) {
    const authError = String(response.headers['auth-error'] ?? '');
    if (authError && authError !== 'SessionExpired') return new AdapterError('permanent', `NetSchool refused access (${platformText(authError)}): the account lacks the rights for this page`, { status });
    return new AdapterError('auth', `${DEAD_SESSION} (HTTP 401)`, { status });
  }
  if (status === 500) return new AdapterError('auth', `${DEAD_SESSION}? HTTP 500${message ? `: ${message}` : ''}`, { status });
  if (status >= 300 && status < 400) return new AdapterError('auth', `NetSchool redirected to ${String(response.headers.location ?? '').split('?')[0] || 'the login page'}: the session ended`, { status });
  if (typeof data === 'string') {
    if (/^\s*Ошибка доступа\s*$/.test(data)) return new AdapterError('auth', `${DEAD_SESSION} («Ошибка доступа»)`, { status });
    if (status < 300 && data.length < 1000 && data.includes(SECURITY_WARNING_PAGE)) return new AdapterError('auth', `${SECURITY_WARNING_ERROR}: another session of this account is open`, { status });
  }
  if (status >= 400 && status < 500 && ![401, 403, 404, 429].includes(status) && message) return new AdapterError('permanent', `NetSchool HTTP ${status}: ${message}`, { status });
  return undefined;
}

/** A logged-in session: its token, the one-shot `ver` of its login, the school's name, the server's version. */
export interface Session {
  at: string;
  ver: string;
  schoolName: string;
  version?: Version;
}

/**
 * The run's NetSchool session (one per sync run, in ctx.session): cookies (`NSSESSIONID`), the `at`
 * header, one new login when the session ends (src/ports/session.ts Relogin), the role choice and
 * the SecurityWarning acknowledged, logout at the end.
 */
export class NetSchoolClient {
  private readonly http: HttpClient;
  private readonly cookies = new CookieJar();
  private readonly relogin: Relogin<Session>;
  /** The session of the last login, until logout. */
  private last?: Session;

  private constructor(private readonly ctx: AdapterContext<NetSchoolConfig>) {
    const config = ctx.config;
    this.http = ctx.http({
      baseUrl: `${this.origin}/webapi/`,
      credentialKey: credentialKey(this.origin, config.schoolId, config.login),
      requestsPerSecond: config.requestsPerSecond,
      concurrency: ctx.parallelism(config.parallelPupils),
      classify: classifyNetSchool,
      headers: { 'X-Requested-With': 'XMLHttpRequest', Referer: `${this.origin}/` },
    });
    this.relogin = new Relogin(() => this.logIn());
  }

  get origin(): string {
    return this.ctx.config.baseUrl.replace(/\/+$/, '').replace(/\/webapi$/i, '');
  }

  static of(ctx: AdapterContext<NetSchoolConfig>): NetSchoolClient {
    return perRun(ctx, 'netschool.client', () => new NetSchoolClient(ctx));
  }

  /** Reads an endpoint in the session (a new login and once more when the session ended) and parses its answer. */
  async call<T>(endpoint: Endpoint<T>, request: HttpRequest): Promise<T> {
    return this.inSession((session) => this.send(endpoint, request, session));
  }

  /**
   * Runs `work` in the session. The one renewal is Relogin's: a refused session (`auth`) gets one new
   * login and `work` once more. The SecurityWarning page is no ended session: it is acknowledged and
   * `work` repeated in the same session. A 500 that a new login does not cure is transient.
   */
  async inSession<T>(work: (session: Session) => Promise<T>): Promise<T> {
    const acknowledging = async (session: Session): Promise<T> => {
      try {
        return await work(session);
      } catch (error) {
        if (!isSecurityWarning(error)) throw error;
        await this.acknowledgeWarning(session);
        return work(session);
      }
    };
    try {
      return await this.relogin.run(acknowledging, () => this.ctx.logger.info({}, 'NetSchool session ended; logging in again'));
    } catch (error) {
      if (error instanceof AdapterError && error.kind === 'auth' && error.status === 500) throw new AdapterError('transient', error.message.replace(`${DEAD_SESSION}? `, 'NetSchool '), { status: 500 });
      throw error;
    }
  }

  /** One request with the session's headers; the answer parsed by its endpoint's schema. */
  async send<T>(endpoint: Endpoint<T>, request: HttpRequest, session?: Session): Promise<T> {
    const response = await this.exchange({ ...request, ...(endpoint.body === 'text' ? { responseType: 'text' } : {}) }, session);
    return endpoint.parse(response.data);
  }

  /** One request with the session's `at` and the cookies; the cookies it sets are kept. */
  private async exchange(request: HttpRequest, session?: Session): Promise<HttpResponse> {
    const response = await this.http.request({ ...request, headers: { ...request.headers, ...(session ? { at: session.at } : {}), ...this.cookies.header() } });
    this.cookies.keep(response);
    return response;
  }

  /** Whether `session` is the last login's (not one a renewal replaced, nor one logged out). */
  isLatest(session: Session): boolean {
    return session === this.last;
  }

  /** The headers a WebSocket of the session carries. */
  socketHeaders(session: Session): Record<string, string> {
    return { at: session.at, ...this.cookies.header() };
  }

  /** logindata → auth/getdata (one-shot salt) → login with the salted hash, then what the login's entry point asks for. */
  private async logIn(): Promise<Session> {
    const c = this.ctx.config;
    this.cookies.clear();
    const loginData = await this.send(LOGIN_DATA, { url: 'logindata' });
    if (loginData.schoolLogin === false || loginData.esiaMainAuth === true) {
      throw new AdapterError('permanent', 'NetSchool: this server signs in through Госуслуги (ЕСИА) only; password login is off, so the adapter cannot log in. Ask the region for a staff login with a password.');
    }
    const raw = await this.exchange({ method: 'POST', url: 'auth/getdata' });
    if (typeof raw.data !== 'object' || raw.data === null) {
      throw new AdapterError('permanent', 'NetSchool did not return the login data (auth/getdata): the server may sign in through Госуслуги (ЕСИА) only');
    }
    const auth = AUTH_DATA.parse(raw.data);
    const { pw, pw2 } = passwordHash(c.password, auth.salt);
    const answer = await this.send(LOGIN, {
      method: 'POST', url: 'login', form: { loginType: '1', scid: String(c.schoolId), un: c.login, pw, pw2, lt: auth.lt, ver: auth.ver },
    });
    const session = this.sessionOf(answer, auth.ver, serverVersion(loginData.version));
    await this.enter(session, answer.entryPoint ?? '');
    this.last = session;
    return session;
  }

  private sessionOf(answer: LoginAnswer, ver: string, version: Version | undefined): Session {
    const raw = answer.message ?? answer.errorMessage;
    if (raw && RATE_LIMIT_MARKER.test(raw)) throw new AdapterError('rate_limited', 'NetSchool refused the login for now (it throttles logins: «Следующая попытка…»)', { retryAfterMs: 60_000 });
    const message = platformText(raw, KNOWN_TEXTS);
    if (!answer.at) throw new AdapterError('auth', `NetSchool: the login failed${message ? `: ${message}` : ''}`);
    return { at: answer.at, ver, schoolName: answer.accountInfo?.currentOrganization?.name?.trim() ?? '', version };
  }

  /** What NetSchool's own pages do after a login that lands on an «attention» page. */
  private async enter(session: Session, entryPoint: string): Promise<void> {
    if (entryPoint.includes('choose-session-role')) {
      // The vendor's choose-session-role page offers 0 (staff) and 2 (parent); the adapter reads as staff.
      this.ctx.logger.info({}, 'NetSchool asks this account to choose a role; choosing staff (roleGroup=0)');
      await this.send(SESSION_ROLE, { method: 'POST', url: 'context/sessionrole', query: { roleGroup: 0 } }, session).catch((error: unknown) => {
        throw new AdapterError('permanent', `NetSchool: this account has several roles and choosing the staff role failed (${(error as Error).message}); use an account with the staff role`);
      });
    }
    if (entryPoint.includes(SECURITY_WARNING_PAGE)) await this.acknowledgeWarning(session);
  }

  private async acknowledgeWarning(session: Session): Promise<void> {
    this.ctx.logger.info({}, 'NetSchool showed the SecurityWarning (another session is open); acknowledging it');
    await this.send(SECURITY_WARNING, { method: 'POST', url: `${this.origin}${SECURITY_WARNING_PAGE}`, form: { at: session.at, WarnType: '2' } }, session);
  }

  /**
   * Ends the session (NetSchool warns about a parallel session at the next login otherwise): best
   * effort, at the end of the run's last stream; a failure is only logged.
   */
  async logOut(): Promise<void> {
    const session = this.last;
    if (!session) return;
    this.last = undefined;
    this.relogin.drop();
    const old = session.version && versionBefore(session.version, [5, 29]);
    await this.send(old ? LOGOUT_ASP : LOGOUT, { method: 'POST', url: old ? `${this.origin}/asp/logout.asp` : 'auth/logout', form: { at: session.at, ver: session.ver } }, session)
      .catch((error: unknown) => this.ctx.logger.info({ reason: (error as Error).message }, 'NetSchool logout failed'));
    this.cookies.clear();
  }
}
