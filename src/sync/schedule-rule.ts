import { CronExpressionParser } from 'cron-parser';
import { validate as validateCron } from 'node-cron';
import { ValidationError } from '../lib/errors.js';

/**
 * What a connection's schedule may be: a cron expression node-cron runs (5 fields, or 6 with seconds)
 * whose runs are never closer than the minimum interval (SYNC_MIN_INTERVAL_SECONDS). node-cron tells no
 * next times, so cron-parser walks the fire times over one week (in the school's zone, from a fixed
 * Monday: the answer must not depend on today) and the shortest gap between two consecutive ones decides.
 */
const HORIZON_MS = 7 * 86_400_000;
/** A fixed Monday, so that one expression is always judged the same. */
const FROM = new Date('2025-01-06T00:00:00Z');

export function validateSchedule(schedule: string | null | undefined, minIntervalSeconds: number, timeZone = 'UTC'): void {
  if (!schedule) return;
  if (!validateCron(schedule)) throw new ValidationError(`schedule "${schedule}" is not a cron expression`);
  const gap = shortestGapMs(schedule, timeZone, minIntervalSeconds * 1000);
  if (gap !== undefined && gap < minIntervalSeconds * 1000) {
    throw new ValidationError(
      `schedule "${schedule}" runs every ${formatSeconds(gap / 1000)} at times; the minimum interval between two runs is ${formatSeconds(minIntervalSeconds)}`,
      { minIntervalSeconds, shortestGapSeconds: gap / 1000 },
    );
  }
}

/**
 * The shortest gap between consecutive fire times within the horizon (undefined: fewer than two fires);
 * the walk stops at the first gap below `stopBelowMs` (a `* * * * * *` is judged in two steps).
 */
export function shortestGapMs(schedule: string, timeZone: string, stopBelowMs = 0): number | undefined {
  let expression;
  try {
    expression = CronExpressionParser.parse(schedule, { currentDate: new Date(FROM.getTime() - 1), tz: timeZone });
  } catch (error) {
    throw new ValidationError(`schedule "${schedule}" is not a cron expression: ${(error as Error).message}`);
  }
  let previous: number | undefined;
  let shortest: number | undefined;
  while (expression.hasNext()) {
    const at = expression.next().getTime();
    if (at > FROM.getTime() + HORIZON_MS) break;
    if (previous !== undefined) {
      const gap = at - previous;
      shortest = shortest === undefined ? gap : Math.min(shortest, gap);
      if (shortest < stopBelowMs) break;
    }
    previous = at;
  }
  return shortest;
}

function formatSeconds(seconds: number): string {
  if (seconds % 60 !== 0) return `${seconds} s`;
  return seconds % 3600 === 0 ? `${seconds / 3600} h` : `${seconds / 60} min`;
}

/** The next time a schedule fires after `after` (in the school's zone), or null for no schedule or no next time. */
export function nextRunAt(schedule: string | null | undefined, timeZone: string, after: Date): Date | null {
  if (!schedule) return null;
  try {
    const expression = CronExpressionParser.parse(schedule, { currentDate: after, tz: timeZone });
    return expression.hasNext() ? expression.next().toDate() : null;
  } catch {
    return null;
  }
}
