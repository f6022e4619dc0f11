import * as cheerio from 'cheerio';
import type { Element } from 'domhandler';
import { hrefParam, type Report } from './html.js';
import { nameKey, textOf } from './mapping.js';

/**
 * The school's roster pages read into plain objects (endpoints.ts checks them): the school year
 * (`/school`), the classes (`/school/academic_year/classes`), a class's pupils as the `addUser(…)` calls
 * of `/school/academic_year/pupils?id=<class>`, and the matching of journal rows — which carry no pupil
 * id — to those pupils by name.
 */

/** `/school`: the first `h3` with two years («2025/2026 учебный год»: only the years are in evidence). */
export function readSchoolYear(html: string, report: Report): { startYear: number } {
  const $ = cheerio.load(html);
  const headings = $('h3').toArray().map((h) => textOf($(h)));
  const years = headings.map((text) => /(20\d{2})\s*[/–-]\s*20\d{2}/.exec(text)?.[1]).find(Boolean);
  if (!years) {
    report('h3', 'no school year «20xx/20xx» — the account sees no school pages: use the school administrator\'s or a deputy\'s account with the class journals');
  }
  return { startYear: Number(years ?? 0) };
}

/** The class id of a classes-page row: `edu_class_id=` of «(Свойства класса)», of any link, `id=`, or the last number of the last cell's link. */
function classIdOf($: cheerio.CheerioAPI, tr: Element): string | undefined {
  const links = $(tr).find('a[href]').toArray();
  const props = links.find((a) => textOf($(a)) === '(Свойства класса)');
  const hrefs = [props, ...links].filter((a): a is Element => a !== undefined).map((a) => $(a).attr('href'));
  for (const name of ['edu_class_id', 'id']) {
    const id = hrefs.map((href) => hrefParam(href, name)).find((v) => v && /^\d+$/.test(v));
    if (id) return id;
  }
  const last = $(tr).children('td').last().find('a[href]').first().attr('href');
  return last?.match(/\d+/g)?.at(-1);
}

/** Column positions by the header's texts; the evidence's positional order (grade, letter, class teacher) otherwise. */
function columnsOf($: cheerio.CheerioAPI, table: cheerio.Cheerio<Element>): { grade: number; letter: number; teacher: number } {
  const head = table.find('thead tr').last().children('td, th').toArray().map((c) => textOf($(c)).toLowerCase());
  const at = (name: string, fallback: number) => (head.indexOf(name) >= 0 ? head.indexOf(name) : fallback);
  return { grade: at('номер класса', 0), letter: at('литера', 1), teacher: at('руководитель', 2) };
}

export interface ClassRow {
  id: string;
  grade: number;
  letter: string;
  teacher?: string;
}

/** `/school/academic_year/classes`: a row per class — grade, letter, class teacher («Руководитель», a full name) and the class id. */
export function readClasses(html: string, report: Report): { classes: ClassRow[] } {
  const $ = cheerio.load(html);
  const table = $('table#dataTable, table.table').first();
  const columns = columnsOf($, table);
  const classes: ClassRow[] = [];
  for (const tr of (table.length > 0 ? table.find('tr') : $('tr')).toArray()) {
    const cells = $(tr).children('td').toArray().map((td) => textOf($(td)));
    const id = classIdOf($, tr);
    const grade = Number(cells[columns.grade]);
    if (!id || !Number.isInteger(grade) || grade < 0 || grade > 12) continue;
    const teacher = cells[columns.teacher];
    classes.push({ id, grade, letter: (cells[columns.letter] ?? '').toUpperCase(), ...(teacher ? { teacher } : {}) });
  }
  if (classes.length === 0) report('table#dataTable tr', 'no class row with a grade and an edu_class_id link');
  return { classes };
}

export interface PupilEntry {
  id: string;
  fullName: string;
}

/** Cyrillic words (Tatar letters too) joined by spaces or hyphens: a name inside an `addUser(…)` call. */
const NAME_RUN = /[А-Яа-яЁёӘәӨөҮүҖҗҢңҺһ]+(?:[\s-]+[А-Яа-яЁёӘәӨөҮүҖҗҢңҺһ]+)+/g;

/**
 * The pupils of a class as `addUser(…)` calls (one per line, anywhere in the page): the second integer
 * of the call is the pupil's id, the longest run of Cyrillic words the full name. The rest of the
 * argument list is not public, so nothing else is read (no birth date, sex or enrolment dates).
 */
export function readPupils(html: string, report: Report): { pupils: PupilEntry[] } {
  const pupils: PupilEntry[] = [];
  const calls = html.split('addUser(');
  calls.slice(1).forEach((rest, i) => {
    const line = rest.split('\n')[0]!.replace(/\\u([0-9a-fA-F]{4})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    // The function's own definition («function addUser(a, b, c) {») and words about it carry no numbers.
    if (/function\s*$/.test(calls[i]!) || !/\d/.test(line)) return;
    const id = line.match(/\d+/g)?.[1];
    const fullName = (line.match(NAME_RUN) ?? []).map((n) => n.replace(/\s+/g, ' ').trim()).sort((a, b) => b.length - a.length)[0];
    if (!id) report(`addUser(…)[${i}]`, 'no pupil id (the call\'s second integer)');
    else if (!fullName) report(`addUser(…)[${i}]`, 'no pupil name');
    else pupils.push({ id, fullName });
  });
  if (pupils.length === 0 && cheerio.load(html)('table tbody tr').length > 0) {
    report('addUser(…)', 'not found: the page lists its pupils in a shape the adapter does not know');
  }
  return { pupils };
}

/**
 * A class's pupils by name, for the journal's rows. A row names its pupil in full («Фамилия Имя
 * Отчество», as the roster does) or by two words; a name that fits no pupil or several is not guessed.
 */
export class Roster {
  private readonly full = new Map<string, string[]>();
  private readonly short = new Map<string, string[]>();

  constructor(pupils: readonly PupilEntry[]) {
    for (const p of pupils) {
      const key = nameKey(p.fullName);
      add(this.full, key, p.id);
      add(this.short, key.split(' ').slice(0, 2).join(' '), p.id);
    }
  }

  /** The pupil a row's name stands for, or undefined when it fits none or several. */
  find(name: string): string | undefined {
    const key = nameKey(name);
    const matches = this.full.get(key) ?? (key.split(' ').length === 2 ? this.short.get(key) : undefined) ?? [];
    return matches.length === 1 ? matches[0] : undefined;
  }
}

function add(map: Map<string, string[]>, key: string, id: string): void {
  const list = map.get(key);
  if (!list) map.set(key, [id]);
  else if (!list.includes(id)) list.push(id);
}
