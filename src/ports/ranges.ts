import type { DateRange } from './adapter.js';

/**
 * Calendar ranges cut the way platforms want them read: slices of N days (Дневник.ру's date-range
 * endpoints, Kundoluk's schedule), whole weeks from Monday (NetSchool's diary). Dates are ISO days;
 * arithmetic in UTC so that no time zone shifts a day.
 */

/** `2025-09-01` + 3 days → `2025-09-04`. */
export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/** The Monday of the week a day falls in. */
export function mondayOf(date: string): string {
  const day = new Date(`${date}T00:00:00Z`).getUTCDay();
  return addDays(date, -((day + 6) % 7));
}

/** Consecutive slices of at most `days` days covering the range exactly (the last one may be shorter). */
export function* daySlices(range: DateRange, days: number): Generator<DateRange> {
  if (days < 1) throw new RangeError('a slice needs at least one day');
  for (let from = range.from; from <= range.to; from = addDays(from, days)) {
    const end = addDays(from, days - 1);
    yield { from, to: end < range.to ? end : range.to };
  }
}

/**
 * Runs of `weeks` whole weeks (Monday to Sunday) covering the range: the first starts on the Monday of
 * the range's first day, the last ends on a Sunday on or after its last day.
 */
export function* weekSlices(range: DateRange, weeks = 1): Generator<DateRange> {
  if (weeks < 1) throw new RangeError('a slice needs at least one week');
  for (let from = mondayOf(range.from); from <= range.to; from = addDays(from, 7 * weeks)) {
    yield { from, to: addDays(from, 7 * weeks - 1) };
  }
}

/** Whether two ranges share a day. */
export const overlaps = (a: DateRange, b: DateRange): boolean => a.from <= b.to && b.from <= a.to;
