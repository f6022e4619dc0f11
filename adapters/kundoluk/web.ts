import { createHash } from 'node:crypto';
import { AdapterError, type AdapterContext, type HttpClient, type HttpRequest, type HttpResponse } from '../../src/ports/adapter.js';
import { CookieJar } from '../../src/ports/cookies.js';
import { missingPart } from '../../src/ports/response.js';
import { credentialKey, perRun, Relogin } from '../../src/ports/session.js';
import type { KundolukConfig } from './client.js';
import { WEB_JOURNAL, WEB_LOGIN, type JournalPage } from './endpoints.js';
import { classIdOf, groupBy } from './mapping.js';
import { classOfCaption, nameKey, splitName } from './web-pages.js';

/**
 * The legacy web journal (kundoluk.edu.kg) as far as the roster needs it: the form login
 * (`POST account/login` → 302 and a session cookie: Extravert03/kundoluk-api, zaqSmg/kundoluk), the
 * class journal `journal2?class=<id>&quarter=<n>` with its subject links, and one subject page per
 * class, whose table lists the class's pupils (the KParser scraper). Assumed [I]: that an ended session
 * is a redirect to the login page (or the login form), as the login's own redirect suggests.
 */

type Ctx = AdapterContext<KundolukConfig>;
type Teacher = NonNullable<KundolukConfig['teacher']>;

const isLoginPath = (url: string, base: string) => /\/account\/login\b/i.test(URL.canParse(url, base) ? new URL(url, base).pathname : url);

/** A refused login is the login page again (200) with its refusal text; the rest is the HTTP client's (429, 5xx). */
function classifyKundolukWeb(response: HttpResponse): AdapterError | undefined {
  const { status, data, url } = response;
  if (status !== 200 || typeof data !== 'string' || !isLoginPath(url, url)) return undefined;
  const { refused } = WEB_LOGIN.parse(data);
  return refused ? new AdapterError('auth', `the Kundoluk web journal refused the login: «${refused}» (wrong login or password)`, { status }) : undefined;
}

/** A page that sends the user to the login form: a redirect there, or the form itself [I]. */
function sessionEnded(response: HttpResponse): boolean {
  if (response.status >= 300 && response.status < 400) return isLoginPath(String(response.headers.location ?? ''), response.url);
  return response.status === 200 && typeof response.data === 'string' && /<form[^>]+action="[^"]*account\/login/i.test(response.data);
}

/**
 * The web journal session, one per sync run (kept in ctx.session): the cookie jar, a login with the
 * stored password when the session ends (one however many pages notice it), the connection's rate limit.
 */
export class KundolukWeb {
  private readonly http: HttpClient;
  private readonly cookies = new CookieJar();
  private readonly relogin = new Relogin<number>(() => this.logIn());
  private logins = 0;

  private constructor(private readonly ctx: Ctx, private readonly teacher: Teacher) {
    this.http = ctx.http({
      baseUrl: teacher.baseUrl.replace(/\/*$/, '/'),
      credentialKey: credentialKey(teacher.baseUrl, teacher.login),
      requestsPerSecond: ctx.config.requestsPerSecond,
      concurrency: 1,
      classify: classifyKundolukWeb,
    });
  }

  static of(ctx: Ctx): KundolukWeb {
    const { teacher } = ctx.config;
    if (!teacher) throw new AdapterError('permanent', 'Kundoluk: the connection has no login for the web journal');
    return perRun(ctx, 'kundoluk.web', () => new KundolukWeb(ctx, teacher));
  }

  /** Signs in (once, however many ask). */
  async login(): Promise<void> {
    await this.relogin.session();
  }

  /** A journal page, parsed; a page that sends the user to the login form means one new login and the page again. */
  page(url: string, query?: HttpRequest['query']): Promise<JournalPage> {
    return this.relogin.run(async () => {
      const response = await this.http.request({ url, query, responseType: 'text', headers: this.cookies.header() });
      this.cookies.keep(response);
      if (sessionEnded(response)) throw new AdapterError('auth', 'the Kundoluk web journal keeps sending the user to its login page just after a good login');
      if (response.status !== 200 || typeof response.data !== 'string') {
        throw new AdapterError('permanent', `the Kundoluk web journal answered ${url.split('?')[0]} with HTTP ${response.status}`, { status: response.status });
      }
      return WEB_JOURNAL.parse(response.data);
    }, () => this.ctx.logger.info({ path: url.split('?')[0] }, 'the Kundoluk web journal session ended; logging in again'));
  }

  /** `POST account/login` (form `login, password, language=ru, type=default`): a 302 with the session cookie. */
  private async logIn(): Promise<number> {
    const { login, password } = this.teacher;
    this.cookies.clear();
    const response = await this.http.request({
      method: 'POST', url: 'account/login', form: { login, password, language: 'ru', type: 'default' }, responseType: 'text',
    });
    const { status } = response;
    const redirect = status >= 300 && status < 400;
    if (!redirect || sessionEnded(response)) {
      throw new AdapterError('auth', `the Kundoluk web journal did not sign in (HTTP ${status}, ${redirect ? 'back to the login page' : 'not the redirect of a good login'})`, { status });
    }
    this.cookies.keep(response);
    if (this.cookies.size === 0) throw new AdapterError('auth', 'the Kundoluk web journal answered the login without a session cookie', { status });
    return (this.logins += 1);
  }
}

/** A pupil row of a class's subject page. */
interface WebPupil {
  /** `web-<id>`: the pupil-journal id when the row links to it, else a digest of the class journal and the name. */
  id: string;
  classId: string;
  lastName: string;
  firstName: string;
  middleName?: string;
}

/** A class of the web journal as configured, with the API's class id (grade + letter). */
export interface WebClass {
  webId: string;
  id: string;
  grade: number;
  letter?: string;
}

/** The external id of a pupil known from the web journal only. */
function webPupilId(classWebId: string, name: string, linked: string | undefined): string {
  return `web-${linked ?? createHash('sha256').update(`${classWebId}\n${nameKey(name)}`).digest('hex').slice(0, 16)}`;
}

/**
 * A subject link's page, on the web journal's own host: the scraper requests the (absolute) href as it
 * is, but the session cookie must not go anywhere else, so only its path and query are kept.
 */
function onSite(href: string, base: string): string {
  const url = new URL(href, base);
  return new URL(`${url.pathname}${url.search}`, base).toString();
}

type PupilRows = NonNullable<JournalPage['pupils']>;

/** The pupils of one class journal: its page, or else the page of its first subject. */
async function classPupils(ctx: Ctx, c: Teacher['classes'][number], quarter: number): Promise<PupilRows> {
  const web = KundolukWeb.of(ctx);
  const page = await web.page('journal2', { class: c.id, quarter });
  if (page.pupils) return page.pupils;
  const first = page.subjects[0];
  if (!first) throw missingPart(WEB_JOURNAL, 'ul.uk-subnav a', `class journal ${c.id} lists no subject`);
  const subject = await web.page(onSite(first.href, ctx.config.teacher!.baseUrl));
  if (!subject.pupils) throw missingPart(WEB_JOURNAL, 'table.elementFixed-striped', `the first subject page of class journal ${c.id} has no pupil table`);
  return subject.pupils;
}

/**
 * The configured classes of the web journal with their pupils, read in quarter `quarter`. Rows whose
 * name is not «Фамилия Имя …» are counted as skipped; two rows of one name in one class (which no id
 * tells apart) are counted as ambiguous and left out.
 */
export async function readWebRoster(ctx: Ctx, quarter: number): Promise<{ classes: WebClass[]; pupils: WebPupil[]; skipped: number; ambiguous: number }> {
  const classes: WebClass[] = [];
  const rows: WebPupil[] = [];
  let skipped = 0;
  for (const c of ctx.config.teacher!.classes) {
    const place = classOfCaption(c.name)!;
    const cls: WebClass = { webId: c.id, id: classIdOf(place.grade, place.letter), ...place };
    classes.push(cls);
    for (const row of await classPupils(ctx, c, quarter)) {
      const name = splitName(row.name);
      if (name) rows.push({ id: webPupilId(c.id, row.name, row.webId), classId: cls.id, ...name });
      else skipped += 1;
    }
  }
  const byId = groupBy(rows, (p) => p.id);
  const pupils = [...byId.values()].filter((same) => same.length === 1).map((same) => same[0]!);
  return { classes, pupils, skipped, ambiguous: rows.length - pupils.length };
}
