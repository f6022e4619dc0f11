import { addDays } from '../ports/ranges.js';
import type { DemoHoliday, DemoPeriod } from './types.js';

/**
 * The Russian school year: 1 September to the end of May, four quarters (grades 1–9) or two half-years
 * (grades 10–11), autumn, winter and spring holidays and the public holidays. Dates are ISO strings and
 * all arithmetic is in UTC, so no time zone moves a day.
 */

/** 1 = Monday … 7 = Sunday. */
export function weekday(date: string): number {
  const day = new Date(`${date}T00:00:00Z`).getUTCDay();
  return day === 0 ? 7 : day;
}

export interface SchoolYearCalendar {
  startDate: string;
  /** The last school day. */
  lastDay: string;
  endDate: string;
  holidays: DemoHoliday[];
  periods: DemoPeriod[];
}

const QUARTER_GRADES = [1, 2, 3, 4, 5, 6, 7, 8, 9];
const HALF_GRADES = [10, 11];
const ALL_GRADES = [...QUARTER_GRADES, ...HALF_GRADES];

export function schoolYear(startYear: number): SchoolYearCalendar {
  const y = startYear;
  const n = startYear + 1;
  const holidays: DemoHoliday[] = [
    { title: 'Осенние каникулы', startDate: `${y}-10-27`, endDate: `${y}-11-04` },
    { title: 'Зимние каникулы', startDate: `${y}-12-29`, endDate: `${n}-01-11` },
    { title: 'День защитника Отечества', startDate: `${n}-02-23`, endDate: `${n}-02-23` },
    { title: 'Международный женский день', startDate: `${n}-03-08`, endDate: `${n}-03-09` },
    { title: 'Весенние каникулы', startDate: `${n}-03-23`, endDate: `${n}-03-31` },
    { title: 'Праздник Весны и Труда', startDate: `${n}-05-01`, endDate: `${n}-05-01` },
    { title: 'День Победы', startDate: `${n}-05-09`, endDate: `${n}-05-11` },
  ];
  const lastDay = `${n}-05-26`;
  const period = (id: string, kind: DemoPeriod['kind'], number: number, title: string, startDate: string, endDate: string, grades: number[]): DemoPeriod =>
    ({ id, kind, number, title, startDate, endDate, grades });
  const periods = [
    period('q1', 'quarter', 1, '1 четверть', `${y}-09-01`, `${y}-10-26`, QUARTER_GRADES),
    period('q2', 'quarter', 2, '2 четверть', `${y}-11-05`, `${y}-12-28`, QUARTER_GRADES),
    period('q3', 'quarter', 3, '3 четверть', `${n}-01-12`, `${n}-03-22`, QUARTER_GRADES),
    period('q4', 'quarter', 4, '4 четверть', `${n}-04-01`, lastDay, QUARTER_GRADES),
    period('h1', 'half_year', 1, '1 полугодие', `${y}-09-01`, `${y}-12-28`, HALF_GRADES),
    period('h2', 'half_year', 2, '2 полугодие', `${n}-01-12`, lastDay, HALF_GRADES),
    period('y', 'year', 1, `${y}/${n} учебный год`, `${y}-09-01`, lastDay, ALL_GRADES),
  ];
  return { startDate: `${y}-09-01`, lastDay, endDate: `${n}-05-31`, holidays, periods };
}

/** Monday–Friday outside holidays, within the school year. */
export function isSchoolDay(calendar: SchoolYearCalendar, date: string): boolean {
  if (date < calendar.startDate || date > calendar.lastDay || weekday(date) > 5) return false;
  return !calendar.holidays.some((h) => date >= h.startDate && date <= h.endDate);
}

/** Every school day from the first to `until` (inclusive, capped at the last school day). */
export function schoolDays(calendar: SchoolYearCalendar, until: string): string[] {
  const days: string[] = [];
  const last = until < calendar.lastDay ? until : calendar.lastDay;
  for (let d = calendar.startDate; d <= last; d = addDays(d, 1)) if (isSchoolDay(calendar, d)) days.push(d);
  return days;
}
