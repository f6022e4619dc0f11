import * as cheerio from 'cheerio';
import type { AnyNode, Element } from 'domhandler';
import type { Report } from './html.js';
import { nameKey } from './mapping.js';

/**
 * A class's timetable, `/school/schedule/lessons?edu_class_id=&fdate=&term_number=` (one public client,
 * an admin account, 2022): an `h4` per weekday (its first word the day's name) followed by that day's
 * `table`, a `tr.lessonRow` per lesson of the day, whose text-only cells are [number or time, subject
 * («-»: no lesson), teacher]. The journal shows no lesson numbers at all, so this is where a lesson's
 * place in the day comes from: the n-th lesson of a subject on a day is the n-th row of that subject.
 */

const WEEKDAYS = ['понедельник', 'вторник', 'среда', 'четверг', 'пятница', 'суббота', 'воскресенье'];

/**
 * The text of a cell the way the client reads it (BeautifulSoup's `.string`): a single text child, or
 * the single text of its only element; undefined for an empty cell or one with several children.
 */
function stringOf(node: AnyNode): string | undefined {
  const children = (node as Element).children ?? [];
  if (children.length !== 1) return undefined;
  const child = children[0]!;
  if (child.type === 'text') return (child as unknown as { data: string }).data.replace(/\s+/g, ' ').trim();
  return child.type === 'tag' ? stringOf(child) : undefined;
}

export interface TimetableRow {
  slot: number;
  subject: string;
}

/** Reads the timetable page: per weekday (1 = Monday) the rows that hold a lesson, with their slot. */
export function readTimetable(html: string, report: Report): { days: Array<{ weekday: number; rows: TimetableRow[] }> } {
  const $ = cheerio.load(html);
  const days: Array<{ weekday: number; rows: TimetableRow[] }> = [];
  for (const h4 of $('h4').toArray()) {
    const weekday = WEEKDAYS.indexOf(($(h4).text().trim().split(/\s+/)[0] ?? '').toLowerCase().replace(/[^а-яё]/g, '')) + 1;
    if (weekday === 0) continue;
    const table = $(h4).nextAll('table').first();
    const rows = table.find('tr.lessonRow').toArray().flatMap((tr, i): TimetableRow[] => {
      const texts = $(tr).children('td').toArray().map(stringOf).filter((t): t is string => t !== undefined);
      const subject = texts[1] ?? '';
      // The first cell numbers the lesson when it is a small number; otherwise (a time) the row's place does.
      const numbered = /^\d{1,2}$/.test(texts[0] ?? '') ? Number(texts[0]) : i + 1;
      return subject && subject !== '-' ? [{ slot: numbered, subject }] : [];
    });
    days.push({ weekday, rows });
  }
  if (days.length === 0 && $('tr.lessonRow').length > 0) report('h4 (weekdays)', 'not found: the timetable\'s rows have no weekday headings');
  return { days };
}

export type Timetable = ReturnType<typeof readTimetable>;

/** One lesson column of a class's journals, as the slots are assigned: its group, subject, date and place among its course's lessons that day. */
export interface Column {
  groupId: string;
  subject: string;
  date: string;
  /** 1 for the course's first lesson that day, 2 for its second … */
  nth: number;
  /** The slot the journal itself gives («Урок № N» in the header's title [I]), if it does. */
  slot?: number;
}

function weekdayOf(date: string): number {
  return ((new Date(`${date}T00:00:00Z`).getUTCDay() + 6) % 7) + 1;
}

/**
 * The slot of every column: the journal's own, else the timetable's, where its weekday has an n-th row of the column's subject
 * and no other column of the same group took that slot; the others the lowest slots still free in
 * their group's day, in column order (so lessons never share a slot). Returns how many were not placed.
 */
export function assignSlots(columns: readonly Column[], timetable: Timetable | undefined): { slots: number[]; unplaced: number } {
  const byDay = new Map((timetable?.days ?? []).map((d) => [d.weekday, d.rows]));
  const used = new Map<string, Set<number>>();
  const taken = (c: Column) => used.get(`${c.groupId}|${c.date}`) ?? used.set(`${c.groupId}|${c.date}`, new Set()).get(`${c.groupId}|${c.date}`)!;
  const slots = columns.map((c) => {
    const rows = (byDay.get(weekdayOf(c.date)) ?? []).filter((r) => nameKey(r.subject) === nameKey(c.subject));
    const slot = c.slot ?? rows[c.nth - 1]?.slot;
    if (slot === undefined || taken(c).has(slot)) return undefined;
    taken(c).add(slot);
    return slot;
  });
  let unplaced = 0;
  const result = slots.map((slot, i) => {
    if (slot !== undefined) return slot;
    unplaced += 1;
    const set = taken(columns[i]!);
    let free = 1;
    while (set.has(free)) free += 1;
    set.add(free);
    return free;
  });
  return { slots: result, unplaced };
}

/** `fdate`: the epoch seconds of a day's UTC midnight, as the client sends it (the Monday of the week read). */
export function fdateOf(date: string): number {
  return Date.parse(`${date}T00:00:00Z`) / 1000;
}
