import { dayIn } from '../../src/ports/time.js';
import type { Ctx } from './school.js';

/**
 * Reads of what rarely changes — the pupils' parents, the classes' class teachers — spread over the
 * school week: a daily run reads one id in TURNS (by a hash of the id), so that each is read again every
 * fifth school day; a run of WHOLE_RANGE_DAYS or more (a connection's first, full sync) reads them all.
 * Nothing is lost in between: the journal keeps guardians and roles it is not sent again.
 */

const TURNS = 5;
const WHOLE_RANGE_DAYS = 28;

/** Weekdays (Monday to Friday) since Monday 5 January 1970 up to a day: consecutive school days have consecutive turns. */
function weekdayNumber(day: string): number {
  const days = Math.round((Date.parse(`${day}T00:00:00Z`) - Date.UTC(1970, 0, 5)) / 86_400_000);
  return Math.floor(days / 7) * 5 + Math.min(days % 7, 4);
}

/** A small stable hash of an id (FNV-1a), to spread the ids over the turns. */
function turnOf(id: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) hash = Math.imul(hash ^ id.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % TURNS;
}

/** Whether this run reads an id: always for `all` or a long run, never for `off`, else on the id's turn. */
export function onTurn(ctx: Pick<Ctx, 'range' | 'timeZone' | 'now'>, mode: 'all' | 'rotate' | 'off'): (id: string) => boolean {
  if (mode === 'off') return () => false;
  const days = (Date.parse(ctx.range.to) - Date.parse(ctx.range.from)) / 86_400_000 + 1;
  if (mode === 'all' || days >= WHOLE_RANGE_DAYS) return () => true;
  const today = dayIn(ctx.now(), ctx.timeZone);
  const turn = weekdayNumber(today) % TURNS;
  return (id) => turnOf(id) === turn;
}
