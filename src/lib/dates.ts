import { dayIn } from '../ports/time.js';

/** Calendar-day helpers on ISO dates ('2025-09-01'); arithmetic in UTC so no time zone shifts a day. */

/** Today's date in an IANA time zone. */
export function todayIn(timeZone: string, now = new Date()): string {
  return dayIn(now, timeZone);
}

/** `2025-09-01` shifted by −3 days → `2025-08-29` (the ports' addDays, under the name the services use). */
export { addDays as shiftDays } from '../ports/ranges.js';

/** From 1 September of the current school year to today, in the school's time zone. */
export function schoolYearSoFar(timeZone: string, now: Date): { from: string; to: string } {
  const today = todayIn(timeZone, now);
  const year = Number(today.slice(0, 4)) - (Number(today.slice(5, 7)) < 9 ? 1 : 0);
  return { from: `${year}-09-01`, to: today };
}

/** A school-local time of day, HH:MM (00:00–23:59). */
export const TIME_OF_DAY = /^([01]\d|2[0-3]):[0-5]\d$/;
