import type { DateRange } from '../../src/ports/adapter.js';
import { addDays, overlaps } from '../../src/ports/ranges.js';
import type { PeriodRecord } from '../../src/ports/records.js';

/**
 * The school year's calendar as far as the adapter needs it: the API answers terms by number (1–4) of
 * the current school year, and `qmarks` numbers the year mark 5, but no answer carries a date, so the
 * quarters' dates come from the configuration (the apps keep their own tables too).
 */

export interface Term {
  number: number;
  start: string;
  end: string;
}

/**
 * How far a school's real quarter dates may stray from the configured ones: terms whose dates come this
 * close to the range are read too, so a mark near a boundary is not lost to a calendar that differs
 * (the three clients' own tables differ by up to two weeks).
 */
const SLACK_DAYS = 14;

/** `qmarks/all`'s number of the year mark (kundoluk-plus «Год», the Python client «5 - годовая»). */
export const YEAR_QUARTER = 5;

/** .NET's empty date (`0001-01-01T00:00:00`), which the Python client filters out: no date at all. */
export const isEmptyDate = (value: string): boolean => value.startsWith('0001-01-01');

/** Whether a date-time names its offset (`Z`, `+06:00`, `+0600`), rather than being school-local. */
export const hasOffset = (value: string): boolean => /(Z|[+-]\d{2}:?\d{2})$/i.test(value.trim());

/** The start year of the school year a day belongs to (from August on: that year). */
export function schoolYearOf(date: string): number {
  const year = Number(date.slice(0, 4));
  return Number(date.slice(5, 7)) >= 8 ? year : year - 1;
}

/** The configured quarters (MM-DD) as dates of the school year starting in `year`. */
export function termsOf(config: ReadonlyArray<{ from: string; to: string }>, year: number): Term[] {
  const dated = (monthDay: string) => `${Number(monthDay.slice(0, 2)) >= 8 ? year : year + 1}-${monthDay}`;
  return config.map((t, i) => ({ number: i + 1, start: dated(t.from), end: dated(t.to) }));
}

/** The terms whose dates (give or take SLACK_DAYS) meet the range. */
export function termsMeeting(terms: Term[], range: DateRange): Term[] {
  return terms.filter((t) => overlaps({ from: addDays(t.start, -SLACK_DAYS), to: addDays(t.end, SLACK_DAYS) }, range));
}

/** The quarter a day falls in, or the last one begun by then (the first before the year starts). */
export function termAt(terms: Term[], date: string): Term {
  return [...terms].reverse().find((t) => t.start <= date) ?? terms[0]!;
}

export function periodId(year: number, term: number): string {
  return term === YEAR_QUARTER ? `${year}-y` : `${year}-q${term}`;
}

/** The four quarters and the school year (whose marks `qmarks` numbers 5), from the first quarter's first day to the last one's last. */
export function periodRecords(terms: Term[], year: number): PeriodRecord[] {
  const quarters = terms.map((t): PeriodRecord => ({
    type: 'period', externalId: periodId(year, t.number), year, kind: 'quarter', number: t.number, title: `${t.number} четверть`, startDate: t.start, endDate: t.end,
  }));
  const schoolYear: PeriodRecord = {
    type: 'period', externalId: periodId(year, YEAR_QUARTER), year, kind: 'year', number: 1, title: `${year}/${year + 1} учебный год`,
    startDate: terms[0]!.start, endDate: terms[terms.length - 1]!.end,
  };
  return [...quarters, schoolYear];
}
