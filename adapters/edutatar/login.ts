import * as cheerio from 'cheerio';
import { AdapterError } from '../../src/ports/adapter.js';
import { textOf } from './mapping.js';

/**
 * The form login's pages and what they say (README.md, "Login"): the form (`/login/`, earlier
 * `/logon`) with `main_login2`/`main_password2` since 2021-10 (`main_login`/`main_password` before),
 * the page a login lands on (`/user/anketa` when it worked, `/message` when it did not), and the texts
 * of refusals and ended sessions. Pure: HTML in, findings out.
 */

const TEXTS = {
  signedIn: 'Личный кабинет',
  wrong: 'Неверный логин или пароль',
  unknownUser: 'Пользователь не найден',
  empty: 'Введите логин и пароль',
  blocked: 'Доступ в систему временно заблокирован',
  choose: 'Выберите дальнейшее действие',
  restricted: 'Restricted IP',
} as const;

export type FieldPair = 'main_login' | 'main_login2';

export interface LoginForm {
  /** The field pair the form's inputs name; undefined when the page shows neither. */
  fields?: FieldPair;
  /** The form's `action`, when the page names one. */
  action?: string;
}

/** The login form of a page: which field pair its inputs use and where it posts. */
export function readLoginForm(html: string): LoginForm {
  const $ = cheerio.load(html);
  const fields = (['main_login2', 'main_login'] as const).find((name) => $(`input[name="${name}"]`).length > 0);
  const action = fields ? $(`input[name="${fields}"]`).closest('form').attr('action')?.trim() : undefined;
  return { ...(fields ? { fields } : {}), ...(action ? { action } : {}) };
}

export function passwordField(login: FieldPair): string {
  return login === 'main_login2' ? 'main_password2' : 'main_password';
}

/** The text of a page's notice box (`/message`'s `div.alert-danger`, the older `.err_text`, `div.err_msg`, `div.inner`). */
function noticeOf($: cheerio.CheerioAPI): string {
  for (const selector of ['.alert-danger', '.alert', '.err_text', '.err_msg', 'div.inner']) {
    const text = textOf($(selector).first());
    if (text) return text;
  }
  return '';
}

export interface Landing {
  /** The path the request ended on after its redirects. */
  path: string;
  html: string;
}

const LOCKED_WAIT_MS = 30 * 60_000;

const TWO_FACTOR_MESSAGE = 'edu.tatar.ru asks this account for a second factor. The service cannot answer it: turn two-factor '
  + 'authentication off for the service account (the school administrator or deputy it logs in as), or give the service another account without it.';

/**
 * What the page a login ended on says. A temporary lock is `rate_limited` with a long wait (more logins
 * now would only prolong it); a wrong login or password, or an unknown user, is `auth`; «Введите логин
 * и пароль.» means the form did not get the fields it expects — `permanent` (set `loginFields`).
 * A second-factor form has no public evidence: the check is kept because it is harmless.
 */
export function loginOutcome(landing: Landing): AdapterError | undefined {
  const $ = cheerio.load(landing.html);
  const text = textOf($('body').length > 0 ? $('body') : $.root());
  const notice = noticeOf($);
  if (text.includes(TEXTS.blocked)) {
    return new AdapterError('rate_limited', `edu.tatar.ru has temporarily blocked logins for this account («${TEXTS.blocked}»), usually after `
      + 'several refused logins: the service tries again later; if it repeats, check the password', { retryAfterMs: LOCKED_WAIT_MS });
  }
  if (text.includes(TEXTS.wrong)) return new AdapterError('auth', `edu.tatar.ru refused the login: «${TEXTS.wrong}.» (check the login and password)`);
  if (notice.includes(TEXTS.unknownUser)) return new AdapterError('auth', `edu.tatar.ru refused the login: «${TEXTS.unknownUser}» (check the login)`);
  if (text.includes(TEXTS.empty)) {
    return new AdapterError('permanent', `edu.tatar.ru answered «${TEXTS.empty}.»: the login form did not receive the login and password under `
      + 'the field names sent; set loginFields to the pair the site\'s form uses (main_login2 since 2021, main_login before)');
  }
  if (landing.path.startsWith('/user/anketa') || (text.includes(TEXTS.signedIn) && !readLoginForm(landing.html).fields)) return undefined;
  const codeInput = $('input[autocomplete="one-time-code"], input[name="code"], input[name="otp"], input[name="sms_code"]').length > 0;
  if (codeInput || /двухфакторн|код подтверждения/i.test(text)) return new AdapterError('permanent', TWO_FACTOR_MESSAGE);
  if (landing.path.startsWith('/message')) return new AdapterError('auth', 'edu.tatar.ru refused the login (its /message page, with a text the adapter does not know)');
  return new AdapterError('auth', `edu.tatar.ru did not confirm the login (it ended on ${landing.path} without «${TEXTS.signedIn}»)`);
}

/**
 * Whether a data page is edu.tatar.ru's answer to an ended session: a landing on the login pages or
 * `/message`, or a page saying «Выберите дальнейшее действие» or «Пользователь не найден» without the
 * signed-in user's «Личный кабинет». The texts are looked for in the raw page first: most pages have neither.
 */
export function sessionEnded(landing: Landing): string | undefined {
  if (/^\/(login|logon|message)\b/.test(landing.path)) return `redirected to ${landing.path}`;
  const phrase = [TEXTS.choose, TEXTS.unknownUser].find((p) => landing.html.includes(p));
  if (!phrase) return undefined;
  const $ = cheerio.load(landing.html);
  return noticeOf($).includes(phrase) || !textOf($.root()).includes(TEXTS.signedIn) ? `«${phrase}»` : undefined;
}

/** «Restricted IP» as the whole body: the site refuses the network the service runs from. */
export function isRestrictedIp(body: unknown): boolean {
  return typeof body === 'string' && body.length < 200 && body.trim() === TEXTS.restricted;
}
