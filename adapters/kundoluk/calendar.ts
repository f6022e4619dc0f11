import type { DateRange } from '../../src/ports/adapter.js';
import type { PeriodRecord } from '../../src/ports/records.js';

/**
 * The school year's calendar as far as the adapter needs it: the API answers terms by number (1–4) of
 * the current school year and gives no dates, so the quarters' dates come from the configuration.
 */

export interface Term {
  number: number;
  start: string;
  end: string;
}

/**
 * How far a school's real quarter dates may stray from the configured ones: terms whose dates come this
 * close to the range are read too, so a mark near a boundary is not lost to a calendar that differs.
 */
const SLACK_DAYS = 14;

function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

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
  return terms.filter((t) => addDays(t.start, -SLACK_DAYS) <= range.to && addDays(t.end, SLACK_DAYS) >= range.from);
}

export function periodId(year: number, term: number): string {
  return `${year}-q${term}`;
}

export function periodRecords(terms: Term[], year: number): PeriodRecord[] {
  return terms.map((t) => ({
    type: 'period', externalId: periodId(year, t.number), year, kind: 'quarter', number: t.number, title: `${t.number} четверть`, startDate: t.start, endDate: t.end,
  }));
}

/** The range in pieces of `weeks` weeks (the last one shorter). */
export function* chunksOf(range: DateRange, weeks: number): Generator<DateRange> {
  for (let from = range.from; from <= range.to; from = addDays(from, weeks * 7)) {
    const to = addDays(from, weeks * 7 - 1);
    yield { from, to: to < range.to ? to : range.to };
  }
}
