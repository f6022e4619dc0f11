import { createHash } from 'node:crypto';
import type { SourceRecord } from '../ports/records.js';

/**
 * Replaces personal data and credentials in a capture of platform answers (src/sync/capture.ts), the
 * same way everywhere, so that a school can hand a real capture to maintainers and the capture still
 * replays: the same pupil keeps the same pseudonym in every answer, request and page.
 *
 * What is replaced:
 * - names: every word of the persons' names the adapter mapped, and of fields named like names in the
 *   answers (firstName, last_name, fio, nickName, ShortName …), wherever the word stands — JSON, HTML,
 *   homework text — by an invented word of letters only (parsers that read Cyrillic words still work);
 * - birth dates of those persons (ISO and «ДД.ММ.ГГГГ»), moved within their year;
 * - phones and e-mails: of the persons, of fields named so, and anything that looks like one;
 * - secrets and logins of the connection, and tokens: string values of fields named like tokens,
 *   session ids and passwords, cookies the platform set, `login=` / `username=` in URLs and pages.
 *
 * Ids are kept: they are not personal on their own and the capture must keep its links. What the
 * adapter does not map and no field name betrays (a name in a free-text comment of a person the
 * capture never names elsewhere) can stay: the record command says so, and a person must review.
 */
export class Pseudonymizer {
  /** Whole strings (tokens, logins, secrets, e-mails, phones, dates) → replacements. */
  private readonly exact = new Map<string, string>();
  /** Name words, lower-cased → replacement (capitalised like the original when applied). */
  private readonly words = new Map<string, string>();
  private counter = 0;
  private pattern?: RegExp;

  /** Learns what the mapped records say about people: names, birth dates, contacts. */
  learnRecords(records: Iterable<SourceRecord>): void {
    for (const r of records) {
      if (r.type !== 'person') continue;
      this.learnName(r.lastName, 'last');
      this.learnName(r.firstName, 'first');
      if (r.middleName) this.learnName(r.middleName, 'middle');
      if (r.birthDate) this.learnBirthDate(r.birthDate);
      if (r.phone) this.learnExact(r.phone, 'phone');
      if (r.email) this.learnExact(r.email, 'email');
      if (r.telegram) this.learnExact(r.telegram, 'token');
    }
  }

  /** Learns the connection's secrets and logins (values of the adapter's secret keys, `login`, `username`). */
  learnConfig(config: unknown, secretKeys: readonly string[]): void {
    const visit = (value: unknown): void => {
      if (Array.isArray(value)) return value.forEach(visit);
      if (!value || typeof value !== 'object') return;
      for (const [key, item] of Object.entries(value)) {
        if (typeof item === 'string' && item.length > 0) {
          if (secretKeys.includes(key) || /password|secret|token/i.test(key)) this.learnExact(item, 'secret');
          else if (/^(login|username|user|email)$/i.test(key)) this.learnExact(item, 'login');
        } else visit(item);
      }
    };
    visit(config);
  }

  /** Learns from an answer: values of name-, contact- and token-like fields (JSON), cookies set, logins in text. */
  learnAnswer(body: string, setCookies: readonly string[] = []): void {
    for (const line of setCookies) {
      const value = line.split(';')[0]?.split('=').slice(1).join('=').trim();
      if (value && value.length >= 6) this.learnExact(value, 'token');
    }
    for (const match of body.matchAll(/\b(?:login|username|user_login)=([^&\s"'<>;]{3,})/gi)) this.learnExact(decodeURIComponent(match[1]!), 'login');
    for (const match of body.matchAll(EMAIL)) this.learnExact(match[0], 'email');
    for (const match of body.matchAll(PHONE)) this.learnExact(match[0], 'phone');
    for (const match of body.matchAll(FULL_NAME)) {
      this.learnName(match[1]!, 'last');
      this.learnName(match[2]!, 'first');
      this.learnName(match[3]!, 'middle');
    }
    for (const match of body.matchAll(SURNAME_INITIALS)) this.learnName(match[1]!, 'last');
    const json = parseJson(body);
    if (json !== undefined) this.learnJson(json);
  }

  private learnJson(value: unknown, key = ''): void {
    if (Array.isArray(value)) return value.forEach((v) => this.learnJson(v, key));
    if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) this.learnJson(v, k);
      return;
    }
    if (typeof value === 'number' && PERSONAL_ID_KEY.test(key)) this.learnExact(String(value), 'id');
    if (typeof value !== 'string' || value.trim() === '') return;
    if (PERSONAL_ID_KEY.test(key) && /^\d{6,}$/.test(value.trim())) this.learnExact(value, 'id');
    else if (TOKEN_KEY.test(key)) this.learnExact(value, 'token');
    else if (LOGIN_KEY.test(key)) this.learnExact(value, 'login');
    else if (PHONE_KEY.test(key) && /\d{5}/.test(value)) this.learnExact(value, 'phone');
    else if (EMAIL_KEY.test(key) && value.includes('@')) this.learnExact(value, 'email');
    else if (NAME_KEY.test(key)) this.learnName(value, /first|^name$/i.test(key) ? 'first' : /middle|mid/i.test(key) ? 'middle' : 'last');
    else if (BIRTH_KEY.test(key)) {
      const date = /^(\d{4}-\d{2}-\d{2})/.exec(value)?.[1];
      if (date) this.learnBirthDate(date);
    }
  }

  private learnName(name: string, part: 'first' | 'last' | 'middle'): void {
    for (const word of name.split(/[^\p{L}]+/u)) {
      const key = word.toLowerCase();
      if (word.length < 2 || KEEP_WORDS.has(key) || this.words.has(key)) continue;
      this.words.set(key, inventWord(++this.counter, part));
      this.pattern = undefined;
    }
  }

  private learnBirthDate(date: string): void {
    const [year, month, day] = date.split('-');
    if (!year || !month || !day || this.exact.has(date)) return;
    const shift = createHash('sha256').update(date).digest().readUInt16BE(0) % 365;
    const moved = new Date(Date.UTC(Number(year), 0, 1 + shift)).toISOString().slice(0, 10);
    this.exact.set(date, moved);
    this.exact.set(`${day}.${month}.${year}`, `${moved.slice(8, 10)}.${moved.slice(5, 7)}.${year}`);
    this.pattern = undefined;
  }

  private learnExact(value: string, kind: 'secret' | 'login' | 'token' | 'phone' | 'email' | 'id'): void {
    const text = value.trim();
    if (text.length < (kind === 'token' ? 6 : 3) || this.exact.has(text)) return;
    const n = ++this.counter;
    const replacement = kind === 'id' ? `9${String(n).padStart(text.length - 1, '0')}`
      : kind === 'email' ? `person-${n}@example.org`
      : kind === 'phone' ? `+7 900 ${String(n).padStart(7, '0').replace(/^(\d{3})(\d{2})(\d{2})$/, '$1-$2-$3')}`
        : `${kind}-${String(n).padStart(4, '0')}`;
    this.exact.set(text, replacement);
    if (text !== encodeURIComponent(text)) this.exact.set(encodeURIComponent(text), encodeURIComponent(replacement));
    this.pattern = undefined;
  }

  /**
   * The body with everything learnt replaced. In JSON only string values change (keys and numbers stay
   * byte for byte; escaped strings are decoded first, so `\u0418…` names are found too); other text is
   * replaced throughout.
   */
  apply(body: string): string {
    if (parseJson(body) === undefined) return this.applyText(body);
    return body.replace(/"(?:[^"\\]|\\.)*"(\s*:)?|-?\d{6,}/g, (token, key: string | undefined) => {
      if (key !== undefined) return token;
      if (!token.startsWith('"')) return this.exact.get(token) ?? token;
      const value = JSON.parse(token) as string;
      const replaced = this.applyText(value);
      return replaced === value ? token : JSON.stringify(replaced);
    });
  }

  /** A piece of text with everything learnt replaced: whole values (not inside a longer word or number), then name words. */
  applyText(text: string): string {
    if (this.exact.size > 0) {
      this.pattern ??= new RegExp(`(?<![\\p{L}\\p{N}])(?:${[...this.exact.keys()].sort((a, b) => b.length - a.length).map(escape).join('|')})(?![\\p{L}\\p{N}])`, 'gu');
      text = text.replace(this.pattern, (m) => this.exact.get(m) ?? m);
    }
    if (this.words.size === 0) return text;
    return text.replace(/\p{L}+/gu, (word) => {
      const replacement = this.words.get(word.toLowerCase());
      if (!replacement) return word;
      if (word === word.toUpperCase() && word.length > 1) return replacement.toUpperCase();
      return /^\p{Lu}/u.test(word) ? replacement : replacement.toLowerCase();
    });
  }

  /** What was learnt, for the record command's summary (counts only: never the values). */
  get learnt(): { words: number; values: number } {
    return { words: this.words.size, values: this.exact.size };
  }
}

/** National personal numbers (Kyrgyzstan's ПИН, СНИЛС, ИНН …): replaced by digits of the same length. */
const PERSONAL_ID_KEY = /^(pin|pinAsString|student_?pin|studentPin|teacher_?pin|snils|inn|passport\w*)$/i;
const TOKEN_KEY = /token|^at$|password|passwd|secret|session|cookie|^sid$|refresh/i;
const LOGIN_KEY = /^(login|username|userName|user_name|loginName|un)$/i;
const PHONE_KEY = /phone|mobile|^tel/i;
const EMAIL_KEY = /e-?mail/i;
const NAME_KEY = /^(first_?name|last_?name|middle_?name|mid_?name|sur_?name|full_?name|short_?name|nick_?name|fio|patronymic|person_?name|student_?name|teacher_?name|displayName|lastNameRu|firstNameRu|middleNameRu)$/i;
const BIRTH_KEY = /birth/i;
/** «Фамилия Имя Отчество» wherever it stands (a page, a comment): known by the patronymic's ending. */
const FULL_NAME = /(?<!\p{L})(\p{Lu}\p{Ll}+(?:-\p{Lu}\p{Ll}+)?)(?:\s|&nbsp;)+(\p{Lu}\p{Ll}+)(?:\s|&nbsp;)+(\p{Lu}\p{Ll}+(?:вич|вна|чна|ична|оглы|кызы|уулу))(?!\p{L})/gu;
/** «Фамилия И. О.» (a teacher on a journal page). */
const SURNAME_INITIALS = /(?<!\p{L})(\p{Lu}\p{Ll}{2,})(?:\s|&nbsp;)+\p{Lu}\.(?:\s|&nbsp;)?\p{Lu}\./gu;
const EMAIL = /[\w.+-]+@[\w-]+(\.[\w-]+)+/g;
const PHONE = /\+\d[\d\s()-]{9,16}\d/g;

/** Words of names that are not personal: Kyrgyz and Turkic patronymic particles, placeholders. */
const KEEP_WORDS = new Set(['уулу', 'кызы', 'оглы', 'кизи', 'угли']);

const SYLLABLES = ['ба', 'ве', 'ги', 'до', 'жу', 'за', 'ки', 'ло', 'му', 'на', 'по', 'ру', 'са', 'ти', 'фу', 'ха'];

/**
 * An invented name word: letters only (parsers that read Cyrillic words still work), unique per number,
 * shaped by the part of the name, and beginning with «Ыы», which no Russian or Kyrgyz name does — so a
 * pseudonym can never be mistaken for (or be) a real person's name.
 */
function inventWord(n: number, part: 'first' | 'last' | 'middle'): string {
  let stem = '';
  for (let k = n; k > 0; k = Math.floor(k / SYLLABLES.length)) stem = SYLLABLES[k % SYLLABLES.length] + stem;
  return `Ыы${stem}${part === 'last' ? 'ов' : part === 'middle' ? 'ович' : 'а'}`;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function parseJson(text: string): unknown {
  if (!/^\s*[[{]/.test(text)) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
