import { shiftDays, todayIn } from '../lib/dates.js';
import { localInstant } from '../ports/time.js';

/**
 * Quiet hours in the school's time zone: a non-urgent message due inside them waits for their end (its
 * job's `startAfter`); one due outside goes now. `from`–`to` may wrap midnight (21:00–08:00) or not
 * (13:00–14:00); equal times mean no quiet hours.
 */
export function quietUntil(now: Date, timeZone: string, quiet: { from: string; to: string }): Date | undefined {
  if (quiet.from === quiet.to) return undefined;
  const today = todayIn(timeZone, now);
  for (const day of [shiftDays(today, -1), today]) {
    const start = new Date(localInstant(day, quiet.from, timeZone));
    const endDay = quiet.to > quiet.from ? day : shiftDays(day, 1);
    const end = new Date(localInstant(endDay, quiet.to, timeZone));
    if (now >= start && now < end) return end;
  }
  return undefined;
}

/** When a message due `now` may go: now, or the end of the quiet hours it falls in. */
export function sendableAt(now: Date, timeZone: string, quiet: { from: string; to: string }): Date {
  return quietUntil(now, timeZone, quiet) ?? now;
}

/** The instant of a school-local time of day on a school-local day. */
export function localAt(day: string, time: string, timeZone: string): Date {
  return new Date(localInstant(day, time, timeZone));
}
