/**
 * Local school time → instants. Platforms give lesson times and mark dates as local wall-clock time
 * without an offset; the source records want instants with one.
 */

const formats = new Map<string, Intl.DateTimeFormat>();
const offsets = new Map<string, string>();

function formatOf(timeZone: string): Intl.DateTimeFormat {
  let format = formats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' });
    formats.set(timeZone, format);
  }
  return format;
}

/** The UTC offset of `timeZone` at the given local date and hour, as "+03:00" (cached per zone, day and hour). */
export function offsetOf(timeZone: string, date: string, time = '12:00'): string {
  const key = `${timeZone}|${date}|${time.slice(0, 2)}`;
  let offset = offsets.get(key);
  if (offset === undefined) {
    offset = computeOffset(timeZone, date, `${time.slice(0, 2)}:00`);
    if (offsets.size > 100_000) offsets.clear();
    offsets.set(key, offset);
  }
  return offset;
}

function computeOffset(timeZone: string, date: string, time: string): string {
  const guess = new Date(`${date}T${time}:00Z`);
  const parts = formatOf(timeZone).formatToParts(guess);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const local = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'));
  const minutes = Math.round((local - guess.getTime()) / 60_000);
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

/** "2025-09-01" + "08:30" in Europe/Moscow → "2025-09-01T08:30:00+03:00". */
export function localInstant(date: string, time: string, timeZone: string): string {
  const hhmm = time.slice(0, 5);
  return `${date}T${hhmm}:00${offsetOf(timeZone, date, hhmm)}`;
}

/** "2025-09-01T10:15:30" (local, no offset) → an instant in `timeZone`; undefined when not a local date-time. */
export function localDateTime(value: string | null | undefined, timeZone: string): string | undefined {
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(:\d{2})?/.exec(value ?? '');
  if (!match) return undefined;
  return `${match[1]}T${match[2]}${match[3] ?? ':00'}${offsetOf(timeZone, match[1]!, match[2])}`;
}

const dayFormats = new Map<string, Intl.DateTimeFormat>();

/** The calendar day an instant falls on in `timeZone` («today» of the school: `dayIn(ctx.now(), ctx.timeZone)`). */
export function dayIn(instant: number | Date, timeZone: string): string {
  let format = dayFormats.get(timeZone);
  if (!format) dayFormats.set(timeZone, (format = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' })));
  return format.format(instant);
}
