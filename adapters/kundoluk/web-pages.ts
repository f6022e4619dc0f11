import * as cheerio from 'cheerio';
import { groupBy } from './mapping.js';

/**
 * The pages of the legacy web journal (kundoluk.edu.kg), read as far as public scrapers show them
 * (README.md, "The web journal"): the login form's refusal text (zaqSmg/kundoluk), the class journal's
 * subject links `ul.uk-subnav a` and a subject page's pupil table `table.elementFixed-striped` (the
 * KParser scraper, 2024). Pure functions, no I/O.
 */

/**
 * The login page's refusal, in the language the form was sent with: `language=ru` «No user with such
 * data was found.», `language=ky` «Your name or password is wrong!» (zaqSmg/kundoluk `kundoluk.sh`).
 */
export const LOGIN_REFUSED = ['Пользователя с такими данными не найдено.', 'Ысымыңыз же сыр сөзүңүз туура эмес!'] as const;

/** The login form's answer when it is a page: which refusal it shows, if any. */
export function readLoginAnswer(html: string): { refused?: string } {
  const refused = LOGIN_REFUSED.find((text) => html.includes(text));
  return refused ? { refused } : {};
}

const squash = (value: string) => value.replace(/\s+/g, ' ').trim();

/** A subject link of a class journal: its caption and where it leads (absolute in the scraper). */
interface SubjectLink {
  name: string;
  href: string;
}

/** A pupil row of a subject page: the name as the page writes it, and an id if the row links to the pupil's journal. */
interface PupilRow {
  name: string;
  webId?: string;
}

/**
 * A class journal page: the subject links, and the pupil rows when the page holds the pupil table.
 * The table has two header rows (KParser reads it with `header=(0,1)`); `span.uk-margin-xsmall-right`
 * is removed first, as the scraper does; the name is the first or second cell (the scraper's two
 * versions disagree: a row number may come first). Whether rows link to `/journal/student/<id>/…` is
 * unknown: such an id is used when present.
 */
export function readJournalPage(html: string): { subjects: SubjectLink[]; pupils?: PupilRow[] } {
  const $ = cheerio.load(html);
  const subjects: SubjectLink[] = [];
  $('ul.uk-subnav a').each((_, a) => {
    const href = $(a).attr('href')?.trim();
    if (href) subjects.push({ name: squash($(a).text()), href });
  });
  const table = $('table.elementFixed-striped').first();
  if (table.length === 0) return { subjects };
  table.find('span.uk-margin-xsmall-right').remove();
  const rows = table.find('tr').toArray();
  const body = table.find('thead').length > 0 ? rows.filter((tr) => $(tr).closest('thead').length === 0) : rows.slice(2);
  const pupils: PupilRow[] = [];
  for (const tr of body) {
    if ($(tr).children('td').length === 0) continue;
    const cells = $(tr).children('td, th').toArray().slice(0, 2).map((cell) => squash($(cell).text()));
    // A row without a name (an empty cell) is passed on as one: the roster counts what it cannot read.
    const name = cells.find((text) => /\p{L}{2,}\s+\p{L}/u.test(text)) ?? '';
    const webId = /\/journal\/student\/(\d+)/.exec($(tr).find('a[href*="/journal/student/"]').attr('href') ?? '')?.[1];
    pupils.push({ name, ...(webId ? { webId } : {}) });
  }
  return { subjects, pupils };
}

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

/** Names compared as people write them: letter case, spaces and ё/е aside. */
export const nameKey = (value: string | undefined) => squash(value ?? '').toLowerCase().replace(/ё/g, 'е');

/** Someone the roster matches by name: a pupil of an account, or a row of the web journal. */
interface NamedPupil {
  classId: string;
  lastName: string;
  firstName: string;
  middleName?: string;
}

interface RosterMatch<A, R> {
  /** Rows of pupils who have an account in the connection, with that account's pupil. */
  matched: Array<{ row: R; pupil: A }>;
  /** Rows of pupils without an account. */
  webOnly: R[];
  /** Rows naming alike pupils (same class, last and first name) that their middle names do not tell apart: left out. */
  unresolved: R[];
}

const middleNamesAgree = (a: string | undefined, b: string | undefined) => !a || !b || nameKey(a) === nameKey(b);

/**
 * The web journal's rows matched to the accounts' pupils by class, last and first name (and the middle
 * name when both know it): the web journal numbers pupils its own way, so ids cannot be compared. A
 * row and an account match when each is the other's only candidate; a row without a candidate is a
 * pupil without an account; the rest are left out.
 */
export function matchRoster<A extends NamedPupil, R extends NamedPupil>(rows: R[], accounts: A[]): RosterMatch<A, R> {
  const key = (p: NamedPupil) => `${p.classId}|${nameKey(p.lastName)}|${nameKey(p.firstName)}`;
  const byKey = groupBy(accounts, key);
  const match: RosterMatch<A, R> = { matched: [], webOnly: [], unresolved: [] };
  for (const [k, group] of groupBy(rows, key)) {
    const pupils = byKey.get(k) ?? [];
    for (const row of group) {
      const candidates = pupils.filter((p) => middleNamesAgree(p.middleName, row.middleName));
      const rivals = candidates.length === 1 ? group.filter((r) => middleNamesAgree(candidates[0]!.middleName, r.middleName)) : [];
      if (candidates.length === 0) match.webOnly.push(row);
      else if (rivals.length === 1) match.matched.push({ row, pupil: candidates[0]! });
      else match.unresolved.push(row);
    }
  }
  return match;
}
