import { createHash } from 'node:crypto';
import * as cheerio from 'cheerio';
import iconv from 'iconv-lite';
import { z } from 'zod';
import { perRun } from '../../src/ports/session.js';
import { AdapterError, type AdapterContext, type HttpClient, type HttpRequest, type HttpResponse, type PlatformSocket } from '../../src/ports/adapter.js';
import { CookieJar } from '../../src/ports/cookies.js';

export const NetSchoolConfigSchema = z.object({
  /** The region's server, without /webapi: https://sgo.edu-74.ru, https://asurso.ru … */
  baseUrl: z.url(),
  /** The school's numeric id on the server (`scid`); the name is the most common login mistake. */
  schoolId: z.coerce.number().int().positive(),
  /** A staff account (school administrator or deputy) that sees every pupil's diary — see README.md. */
  login: z.string().min(1),
  password: z.string().min(1),
  requestsPerSecond: z.number().positive().max(1000).default(5),
  /** Pupils whose diaries are read at once (the rate limit still applies). */
  parallelPupils: z.number().int().min(1).max(16).default(4),
  /** How long a queued report may take before the read fails as transient. */
  reportTimeoutSeconds: z.number().int().min(5).max(3600).default(180),
});

export type NetSchoolConfig = z.infer<typeof NetSchoolConfigSchema>;

/** The salted password hash of NetSchool's login form: md5(salt + md5hex(password in windows-1251)). */
export function passwordHash(password: string, salt: string): { pw: string; pw2: string } {
  const inner = createHash('md5').update(iconv.encode(password, 'win1251')).digest('hex');
  const pw2 = createHash('md5').update(salt + inner).digest('hex');
  return { pw: pw2.slice(0, password.length), pw2 };
}

const RATE_LIMIT_MARKER = /Следующая попытка/i;
const SECURITY_WARNING = 'NetSchool SecurityWarning';
const WAF_MARKERS = /Доступ к сайту|Access denied|Request rejected/i;

/**
 * NetSchool answers failures as 409 `{message}` (bad credentials, or «Следующая попытка…» when it
 * throttles logins), 401, a 200 HTML login page when the session is gone, the «SecurityWarning»
 * interstitial, a WAF page, `{code, message, details}` or 5xx pages.
 */
export function classifyNetSchool(response: HttpResponse): AdapterError | undefined {
  const { status, data } = response;
  const message = typeof data === 'object' && data !== null && typeof (data as { message?: unknown }).message === 'string'
    ? (data as { message: string }).message : undefined;
  if (status === 409) {
    if (message && RATE_LIMIT_MARKER.test(message)) return new AdapterError('rate_limited', `NetSchool refused the login for now: ${message}`, { status, retryAfterMs: 60_000 });
    return new AdapterError('auth', `NetSchool: ${message ?? 'wrong login or password'}`, { status });
  }
  if (status >= 300 && status < 400) {
    const to = String(response.headers.location ?? '');
    return new AdapterError('auth', `NetSchool redirected to ${to.split('?')[0] || 'the login page'}: the session ended`, { status });
  }
  if (typeof data === 'string' && /<html|<!doctype/i.test(data)) {
    if (/SecurityWarning/i.test(data)) return new AdapterError('auth', `${SECURITY_WARNING}: another session of this account is open`, { status });
    if (WAF_MARKERS.test(data)) return new AdapterError('permanent', 'NetSchool: the server\'s firewall refused this address («Доступ к сайту…»)', { status });
    if (status < 400 && /(name="?(UN|un|loginname)"?|id="?login)/.test(data)) return new AdapterError('auth', 'NetSchool answered with its login page: the session ended', { status });
    if (status >= 500) {
      const text = cheerio.load(data)('title, h1, .error').first().text().trim();
      return new AdapterError('transient', `NetSchool: ${text || 'an HTML error page'}`, { status });
    }
  }
  if (status >= 400 && status < 500 && status !== 401 && status !== 403 && status !== 404 && status !== 429 && message) {
    return new AdapterError('permanent', `NetSchool HTTP ${status}: ${message}`, { status });
  }
  return undefined;
}

interface LoginData {
  schoolLogin?: boolean;
}

interface AuthData {
  lt?: string;
  ver?: string;
  salt?: string;
}

interface LoginAnswer {
  at?: string;
  entryPoint?: string;
  timeOut?: number;
  message?: string;
}

/**
 * One logged-in session per sync run (kept in ctx.session): the cookie jar (`NSSESSIONID`, `ESRNSec`),
 * the `at` header, a new login when the session ends (401, login page, redirect), the SecurityWarning
 * acknowledged, and the report queue's SignalR hub.
 */
export class NetSchoolClient {
  readonly http: HttpClient;
  private readonly cookies = new CookieJar();
  private at?: string;
  private ver?: string;
  private loggingIn?: Promise<void>;
  private hub?: ReportHub;

  private constructor(private readonly ctx: AdapterContext<NetSchoolConfig>) {
    const config = ctx.config;
    this.http = ctx.http({
      baseUrl: `${this.origin}/webapi/`,
      credentialKey: createHash('sha256').update(`${config.schoolId}/${config.login}`).digest('hex').slice(0, 16),
      requestsPerSecond: config.requestsPerSecond,
      concurrency: config.parallelPupils,
      classify: classifyNetSchool,
      headers: { 'X-Requested-With': 'XMLHttpRequest', Referer: `${this.origin}/` },
    });
  }

  get origin(): string {
    return this.ctx.config.baseUrl.replace(/\/+$/, '').replace(/\/webapi$/, '');
  }

  static of(ctx: AdapterContext<NetSchoolConfig>): NetSchoolClient {
    return perRun(ctx, 'netschool.client', () => new NetSchoolClient(ctx));
  }

  /** A request in the session; logs in first, and once more when the session turns out to have ended. */
  async call<T>(request: HttpRequest): Promise<T> {
    if (!this.at) await this.login();
    const used = this.at;
    try {
      return await this.send<T>(request);
    } catch (error) {
      if (!(error instanceof AdapterError) || error.kind !== 'auth') throw error;
      if (error.message.startsWith(SECURITY_WARNING)) {
        await this.acknowledgeWarning();
        return this.send<T>(request);
      }
      if (this.at === used) {
        this.ctx.logger.info({ path: request.url.split('?')[0] }, 'NetSchool session ended; logging in again');
        this.at = undefined;
        await this.login();
      }
      return this.send<T>(request);
    }
  }

  private async send<T>(request: HttpRequest): Promise<T> {
    const response = await this.http.request<T>({ ...request, headers: { ...request.headers, ...this.sessionHeaders() } });
    this.cookies.keep(response);
    return response.data;
  }

  sessionHeaders(): Record<string, string> {
    return { ...(this.at ? { at: this.at } : {}), ...this.cookies.header() };
  }

  get token(): string | undefined {
    return this.at;
  }

  private login(): Promise<void> {
    this.loggingIn ??= this.logIn().finally(() => {
      this.loggingIn = undefined;
    });
    return this.loggingIn;
  }

  /** logindata → auth/getdata (one-shot salt) → login with the salted hash (platforms.md §2.2). */
  private async logIn(): Promise<void> {
    const c = this.ctx.config;
    this.cookies.clear();
    const loginData = await this.send<LoginData>({ url: 'logindata' });
    if (loginData.schoolLogin === false) {
      throw new AdapterError('permanent', 'NetSchool: this server signs in through Госуслуги (ЕСИА) only; password login is off, so the adapter cannot log in. Ask the region for a staff login with a password.');
    }
    const auth = await this.send<AuthData | string>({ method: 'POST', url: 'auth/getdata' });
    if (typeof auth !== 'object' || !auth.salt || !auth.lt || !auth.ver) {
      throw new AdapterError('permanent', 'NetSchool did not return the login data (auth/getdata): the server may be ЕСИА-only');
    }
    const { pw, pw2 } = passwordHash(c.password, auth.salt);
    const answer = await this.send<LoginAnswer>({
      method: 'POST', url: 'login',
      form: { loginType: '1', scid: String(c.schoolId), un: c.login, pw, pw2, lt: auth.lt, ver: auth.ver },
    });
    if (answer.message && RATE_LIMIT_MARKER.test(answer.message)) throw new AdapterError('rate_limited', `NetSchool refused the login for now: ${answer.message}`, { retryAfterMs: 60_000 });
    if (!answer.at) throw new AdapterError('auth', `NetSchool: the login failed${answer.message ? `: ${answer.message}` : ''}`);
    if (answer.entryPoint?.includes('choose-session-role')) {
      throw new AdapterError('permanent', 'NetSchool: this account has several roles and asks to choose one; use an account with the staff role only');
    }
    this.at = answer.at;
    this.ver = auth.ver;
  }

  private async acknowledgeWarning(): Promise<void> {
    this.ctx.logger.info({}, 'NetSchool showed the SecurityWarning (another session is open); acknowledging it');
    await this.send({ method: 'POST', url: `${this.origin}/asp/SecurityWarning.asp`, form: { at: this.at ?? '', WarnType: '2', ver: this.ver ?? '' }, responseType: 'text' });
  }

  /** Queues a report, waits for it on the SignalR hub and downloads its HTML (platforms.md §2.5). */
  async report(path: string, body: unknown): Promise<string> {
    const { taskId } = await this.call<{ taskId?: number | string }>({ method: 'POST', url: path, json: body });
    if (taskId === undefined || taskId === null) throw new AdapterError('transient', `NetSchool ${path}: the queue answered without a taskId`);
    const fileCode = await this.reportHub().run(String(taskId));
    return this.call<string>({ url: `files/${encodeURIComponent(fileCode)}`, responseType: 'text' });
  }

  private reportHub(): ReportHub {
    this.hub ??= new ReportHub(this, this.ctx);
    return this.hub;
  }

  /** Closes the hub's socket (the end of the streams that use reports). */
  closeHub(): void {
    this.hub?.close();
    this.hub = undefined;
  }
}

const RS = '\u001e';

/**
 * The report queue's SignalR hub (`/webapi/signalr/queueHub`, JSON protocol over a WebSocket): one
 * socket per run, `startTask` per report, `complete` (or `error`) back per task.
 */
class ReportHub {
  private socket?: PlatformSocket;
  private ready?: Promise<PlatformSocket>;
  private readonly waiting = new Map<string, { resolve: (code: string) => void; reject: (error: Error) => void; timer: NodeJS.Timeout }>();

  constructor(private readonly client: NetSchoolClient, private readonly ctx: AdapterContext<NetSchoolConfig>) {}

  async run(taskId: string): Promise<string> {
    const socket = await this.open();
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(taskId);
        reject(new AdapterError('transient', `NetSchool report ${taskId} did not complete within ${this.ctx.config.reportTimeoutSeconds} s`));
      }, this.ctx.config.reportTimeoutSeconds * 1000);
      this.waiting.set(taskId, { resolve, reject, timer });
      socket.send(JSON.stringify({ type: 1, target: 'startTask', arguments: [Number(taskId), 'report-v2'] }) + RS);
    });
  }

  private open(): Promise<PlatformSocket> {
    // Opening or open: every report of the run shares the one socket.
    if (this.ready) return this.ready;
    const url = `${this.client.origin.replace(/^http/, 'ws')}/webapi/signalr/queueHub?at=${encodeURIComponent(this.client.token ?? '')}`;
    this.ready = new Promise<PlatformSocket>((resolve, reject) => {
      const socket = this.ctx.socket(url, { headers: this.client.sessionHeaders() });
      this.socket = socket;
      socket.on('open', () => socket.send(JSON.stringify({ protocol: 'json', version: 1 }) + RS));
      socket.on('refused', (status) => {
        reject(new AdapterError(status === 401 ? 'auth' : 'transient', `NetSchool report hub refused the connection (HTTP ${status})`, { status }));
      });
      socket.on('error', (error) => this.failAll(new AdapterError('transient', `NetSchool report hub: ${error.message}`), reject));
      socket.on('close', () => this.failAll(new AdapterError('transient', 'NetSchool report hub closed the connection'), reject));
      let handshaken = false;
      socket.on('message', (raw) => {
        for (const frame of raw.split(RS)) {
          if (!frame) continue;
          const message = JSON.parse(frame) as { type?: number; target?: string; arguments?: unknown[]; error?: string };
          if (!handshaken) {
            handshaken = true;
            if (message.error) reject(new AdapterError('transient', `NetSchool report hub: ${message.error}`));
            else resolve(socket);
            continue;
          }
          if (message.type === 1 && (message.target === 'complete' || message.target === 'error')) this.settle(message.target, message.arguments?.[0]);
          if (message.type === 7) socket.close();
        }
      });
    });
    return this.ready;
  }

  private settle(target: string, argument: unknown): void {
    const info = (argument ?? {}) as { taskId?: number | string; data?: unknown; message?: string };
    const entry = this.waiting.get(String(info.taskId));
    if (!entry) return;
    this.waiting.delete(String(info.taskId));
    clearTimeout(entry.timer);
    if (target === 'complete' && (typeof info.data === 'string' || typeof info.data === 'number')) entry.resolve(String(info.data));
    else entry.reject(new AdapterError('transient', `NetSchool report ${info.taskId} failed: ${info.message ?? 'Unknown error'}`));
  }

  private failAll(error: AdapterError, rejectOpen: (e: Error) => void): void {
    rejectOpen(error);
    for (const [taskId, entry] of this.waiting) {
      clearTimeout(entry.timer);
      entry.reject(error);
      this.waiting.delete(taskId);
    }
    this.socket = undefined;
    this.ready = undefined;
  }

  close(): void {
    this.socket?.close();
    this.socket = undefined;
    this.ready = undefined;
  }
}
