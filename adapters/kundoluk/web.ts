import { createHash } from 'node:crypto';
import * as cheerio from 'cheerio';
import { AdapterError, type AdapterContext, type HttpClient, type HttpRequest, type HttpResponse } from '../../src/ports/adapter.js';
import { CookieJar } from '../../src/ports/cookies.js';
import type { EnrollmentRecord, PersonRecord } from '../../src/ports/records.js';
import { perRun } from '../../src/ports/session.js';
import type { KundolukConfig } from './client.js';
import { classIdOf } from './mapping.js';
import type { Pupil } from './types.js';

/**
 * The legacy web journal (kundoluk.edu.kg, platforms.md §4.2), as far as the roster needs it: the
 * teacher's form login (`POST /account/login` → 302 and a session cookie), the teacher's list of class
 * journals (`GET /journal2`) and each class journal (`GET /journal2?class=<id>`), whose rows are the
 * class's pupils. Known: the login, its error text and the URLs. Assumed [I]: the pages' structure
 * (links `journal2?class=<id>` captioned with the class; rows `tbody tr` with `data-student-id` or a
 * link `/journal/student/<id>/…`, the name in `td.fio` or the second cell) and a 302 to the login page
 * when the session has ended.
 */

type Ctx = AdapterContext<KundolukConfig>;
type Teacher = NonNullable<KundolukConfig['teacher']>;

/** The login page's answer to a wrong login or password («Your name or password is wrong!»). */
export const LOGIN_REFUSED = 'Ысымыңыз же сыр сөзүңүз туура эмес!';

const isLoginPath = (url: string, base: string) => /\/account\/login\b/i.test(URL.canParse(url, base) ? new URL(url, base).pathname : url);

/**
 * The web journal answers in HTML: a refused login is the login page again (200) with LOGIN_REFUSED;
 * redirects come back to the client (a good login is one, an ended session another); 429 and 5xx are
 * the HTTP client's defaults.
 */
function classifyKundolukWeb(response: HttpResponse): AdapterError | undefined {
  const { status, data, url } = response;
  if (status === 200 && isLoginPath(url, url) && typeof data === 'string' && data.includes(LOGIN_REFUSED)) {
    return new AdapterError('auth', `the Kundoluk web journal refused the teacher's login: «${LOGIN_REFUSED}» (wrong login or password)`, { status });
  }
  return undefined;
}

/** A page that sends the teacher to the login form: a redirect there, or the form itself. */
function sessionEnded(response: HttpResponse): boolean {
  if (response.status >= 300 && response.status < 400) return isLoginPath(String(response.headers.location ?? ''), response.url);
  return response.status === 200 && typeof response.data === 'string' && /<form[^>]+action="[^"]*account\/login/i.test(response.data);
}

/**
 * The teacher's session with the web journal, one per sync run (kept in ctx.session): the cookie jar,
 * a login with the stored password when the session ends, the connection's rate limit.
 */
export class KundolukWeb {
  private readonly http: HttpClient;
  private readonly cookies = new CookieJar();
  private loggingIn?: Promise<void>;
  private signedIn = false;
  /** Counts logins, so that one ended session leads to one new login however many pages notice it. */
  private session = 0;

  private constructor(private readonly ctx: Ctx, private readonly teacher: Teacher) {
    this.http = ctx.http({
      baseUrl: teacher.baseUrl.replace(/\/*$/, '/'),
      credentialKey: createHash('sha256').update(`${teacher.baseUrl}\n${teacher.login}`).digest('hex').slice(0, 16),
      requestsPerSecond: ctx.config.requestsPerSecond,
      concurrency: 1,
      classify: classifyKundolukWeb,
    });
  }

  static of(ctx: Ctx): KundolukWeb {
    const { teacher } = ctx.config;
    if (!teacher) throw new AdapterError('permanent', 'Kundoluk: the connection has no teacher login for the web journal');
    return perRun(ctx, 'kundoluk.web', () => new KundolukWeb(ctx, teacher));
  }

  /** Signs the teacher in (once, however many ask). */
  login(): Promise<void> {
    if (this.signedIn) return Promise.resolve();
    this.loggingIn ??= this.logIn().finally(() => {
      this.loggingIn = undefined;
    });
    return this.loggingIn;
  }

  /** A page as the teacher: signs in first, and once more when the page sends the teacher to the login form. */
  async page(url: string, query?: HttpRequest['query']): Promise<string> {
    await this.login();
    const used = this.session;
    let response = await this.get(url, query);
    if (sessionEnded(response)) {
      if (this.session === used) {
        this.ctx.logger.info({ path: url }, 'the Kundoluk web journal session ended; logging in again');
        this.signedIn = false;
      }
      await this.login();
      response = await this.get(url, query);
      if (sessionEnded(response)) throw new AdapterError('auth', 'the Kundoluk web journal keeps sending the teacher to its login page just after a good login');
    }
    if (response.status !== 200 || typeof response.data !== 'string') {
      throw new AdapterError('permanent', `the Kundoluk web journal answered ${url} with HTTP ${response.status}`, { status: response.status });
    }
    return response.data;
  }

  private async get(url: string, query?: HttpRequest['query']): Promise<HttpResponse> {
    const response = await this.http.request({ url, query, responseType: 'text', headers: this.cookies.header() });
    this.cookies.keep(response);
    return response;
  }

  /** `POST account/login` (form `login, password, language, type`): a 302 with the session cookie, or the login page with LOGIN_REFUSED. */
  private async logIn(): Promise<void> {
    const { login, password } = this.teacher;
    this.cookies.clear();
    const response = await this.http.request({
      method: 'POST', url: 'account/login', form: { login, password, language: 'ru', type: 'default' }, responseType: 'text',
    });
    const { status } = response;
    const redirect = status >= 300 && status < 400;
    if (!redirect || sessionEnded(response)) {
      throw new AdapterError('auth', `the Kundoluk web journal did not sign the teacher in (HTTP ${status}, ${redirect ? 'back to the login page' : 'not the redirect of a good login'})`, { status });
    }
    this.cookies.keep(response);
    if (this.cookies.size === 0) throw new AdapterError('auth', 'the Kundoluk web journal answered the teacher\'s login without a session cookie', { status });
    this.signedIn = true;
    this.session += 1;
  }
}

/** A class journal of the teacher's list. */
export interface WebClass {
  /** The web journal's id of the class (`journal2?class=`). */
  webId: string;
  /** The class as the API knows it: grade + letter («7А»). */
  id: string;
  grade: number;
  letter?: string;
}

/** A pupil row of a class journal. */
export interface WebPupil {
  /** The web journal's id of the pupil: its own numbering, not the API's `studentId`. */
  webId: string;
  classId: string;
  lastName: string;
  firstName: string;
  middleName?: string;
}

const squash = (value: string) => value.replace(/\s+/g, ' ').trim();

/** Latin letters that look like Cyrillic ones («7A» typed with a Latin A) are read as the Cyrillic ones. */
const LOOKALIKES: Record<string, string> = { A: 'А', B: 'В', C: 'С', E: 'Е', H: 'Н', K: 'К', M: 'М', O: 'О', P: 'Р', T: 'Т', X: 'Х', Y: 'У' };

/** «7А», «7 А», «7-а», «7 «А» класс», «11A» → grade and letter (none in «7 класс»); undefined when no grade leads. */
export function classOfCaption(caption: string): { grade: number; letter?: string } | undefined {
  const m = /^\s*(\d{1,2})(?:\s*[-–]?\s*[«"']?\s*(\p{L})(?!\p{L}))?/u.exec(caption);
  const grade = Number(m?.[1]);
  if (!m || grade > 12) return undefined;
  const raw = m[2]?.toUpperCase();
  const letter = raw ? LOOKALIKES[raw] ?? raw : undefined;
  return { grade, ...(letter ? { letter } : {}) };
}

/** The teacher's class journals (`GET /journal2`): links `journal2?class=<id>`, once per class; captions that name no class are counted. */
export function classesOf(html: string, base: string): { classes: WebClass[]; unreadable: number } {
  const $ = cheerio.load(html);
  const classes = new Map<string, WebClass>();
  let unreadable = 0;
  $('a[href*="journal2"]').each((_, a) => {
    const href = $(a).attr('href') ?? '';
    const webId = URL.canParse(href, base) ? new URL(href, base).searchParams.get('class')?.trim() : undefined;
    if (!webId || classes.has(webId)) return;
    const place = classOfCaption(squash($(a).text()));
    if (!place) {
      unreadable += 1;
      return;
    }
    classes.set(webId, { webId, id: classIdOf(place.grade, place.letter), ...place });
  });
  return { classes: [...classes.values()], unreadable };
}

const KYRGYZ_PATRONYMIC = /^(уулу|кызы)$/i;

/**
 * «Фамилия Имя Отчество» → its parts. A Kyrgyz surname of the form «Бакытбек уулу» / «Нурбек кызы»
 * (the father's name and «son of» / «daughter of») takes two words; so does such a patronymic at the end.
 */
export function splitName(full: string): { lastName: string; firstName: string; middleName?: string } | undefined {
  const words = squash(full).split(' ').filter(Boolean);
  const surnameWords = words.length >= 3 && KYRGYZ_PATRONYMIC.test(words[1]!) ? 2 : 1;
  const lastName = words.slice(0, surnameWords).join(' ');
  const firstName = words[surnameWords];
  const middleName = words.slice(surnameWords + 1).join(' ');
  if (!lastName || !firstName) return undefined;
  return { lastName, firstName, ...(middleName ? { middleName } : {}) };
}

/** The pupils of a class journal (`GET /journal2?class=`): one per `tbody` row with an id and a name; the others are counted. */
export function pupilsOf(html: string, classId: string): { pupils: WebPupil[]; skipped: number } {
  const $ = cheerio.load(html);
  const pupils = new Map<string, WebPupil>();
  let skipped = 0;
  $('table tbody tr').each((_, tr) => {
    const row = $(tr);
    const cell = row.find('td.fio').length > 0 ? row.find('td.fio').first() : row.children('td').eq(1);
    const link = cell.find('a[href*="/journal/student/"]').attr('href') ?? row.find('a[href*="/journal/student/"]').attr('href') ?? '';
    const webId = row.attr('data-student-id')?.trim() || /\/journal\/student\/(\d+)/.exec(link)?.[1];
    const name = splitName(cell.text());
    if (!webId || !name) {
      skipped += 1;
      return;
    }
    if (!pupils.has(webId)) pupils.set(webId, { webId, classId, ...name });
  });
  return { pupils: [...pupils.values()], skipped };
}

/** The external id of a pupil known from the web journal only. */
export const webPupilId = (webId: string) => `web-${webId}`;

export function webPupilRecords(p: WebPupil): [PersonRecord, EnrollmentRecord] {
  const id = webPupilId(p.webId);
  return [
    { type: 'person', externalId: id, role: 'pupil', lastName: p.lastName, firstName: p.firstName, classExternalId: p.classId, ...(p.middleName ? { middleName: p.middleName } : {}) },
    { type: 'enrollment', externalId: `${id}@${p.classId}`, pupilExternalId: id, classExternalId: p.classId },
  ];
}

/** The items by key, in their order (Map.groupBy is Node 21+). */
export function groupBy<T>(items: Iterable<T>, key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

const words = (value: string | undefined) => squash(value ?? '').toLowerCase().replace(/ё/g, 'е');
const middleNamesAgree = (a: string | undefined, b: string | undefined) => !a || !b || words(a) === words(b);

export interface RosterMatch {
  /** Rows of pupils who have an account in the connection: web id → the account's pupil. */
  matched: Map<string, Pupil>;
  /** Rows of pupils without an account. */
  webOnly: WebPupil[];
  /** Rows that name alike pupils (same class, last and first name) that their middle names do not tell apart: left out. */
  unresolved: WebPupil[];
}

/**
 * The web journal's rows matched to the accounts' pupils by class, last and first name (letter case,
 * spaces and ё/е aside) and the middle name when both know it: the web journal numbers pupils its own
 * way, so the ids cannot be compared. A row and an account match when each is the other's only
 * candidate; a row without a candidate is a pupil without an account; the rest are left out.
 */
export function matchRoster(rows: WebPupil[], accounts: Pupil[]): RosterMatch {
  const key = (p: { classId: string; lastName: string; firstName: string }) => `${p.classId}|${words(p.lastName)}|${words(p.firstName)}`;
  const byKey = groupBy(accounts, key);
  const rowsByKey = groupBy(rows, key);
  const match: RosterMatch = { matched: new Map(), webOnly: [], unresolved: [] };
  for (const [k, group] of rowsByKey) {
    const pupils = byKey.get(k) ?? [];
    for (const row of group) {
      const candidates = pupils.filter((p) => middleNamesAgree(p.middleName, row.middleName));
      const rivals = candidates.length === 1 ? group.filter((r) => middleNamesAgree(candidates[0]!.middleName, r.middleName)) : [];
      if (candidates.length === 0) match.webOnly.push(row);
      else if (rivals.length === 1) match.matched.set(row.webId, candidates[0]!);
      else match.unresolved.push(row);
    }
  }
  return match;
}
