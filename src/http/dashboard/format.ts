import type { Locale } from './messages/index.js';

/** Dates, times and numbers as the school reads them: in its time zone and the page's language. */
export interface Format {
  timeZone: string;
  /** A calendar date (YYYY-MM-DD, no zone) or an instant, as a date: 02.12.2026. */
  date(value: string | Date | null | undefined): string;
  /** A calendar date with its weekday: пн, 02.12. */
  dayShort(value: string): string;
  /** An instant in the school's zone: 02.12.2026, 14:05. */
  dateTime(value: string | Date | null | undefined): string;
  time(value: string | Date | null | undefined): string;
  number(value: number | null | undefined, digits?: number): string;
  /** A share 0…1 as a percentage. */
  percent(value: number | null | undefined, digits?: number): string;
  /** Today's calendar date in the school's zone. */
  today(now: Date): string;
}

const TAGS: Record<Locale, string> = { ru: 'ru-RU', ky: 'ky-KG' };

function instant(value: string | Date): Date {
  return value instanceof Date ? value : new Date(value);
}

export function formatFor(locale: Locale, timeZone: string): Format {
  const tag = TAGS[locale];
  const dateOnly = new Intl.DateTimeFormat(tag, { timeZone: 'UTC', day: '2-digit', month: '2-digit', year: 'numeric' });
  const dayShort = new Intl.DateTimeFormat(tag, { timeZone: 'UTC', weekday: 'short', day: '2-digit', month: '2-digit' });
  const zonedDate = new Intl.DateTimeFormat(tag, { timeZone, day: '2-digit', month: '2-digit', year: 'numeric' });
  const zoned = new Intl.DateTimeFormat(tag, { timeZone, day: '2-digit', month: '2-digit', year: 'numeric', hour: '2-digit', minute: '2-digit' });
  const time = new Intl.DateTimeFormat(tag, { timeZone, hour: '2-digit', minute: '2-digit' });
  const iso = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
  const isCalendarDate = (v: string) => /^\d{4}-\d{2}-\d{2}$/.test(v);
  return {
    timeZone,
    date: (value) => {
      if (value === null || value === undefined) return '—';
      if (typeof value === 'string' && isCalendarDate(value)) return dateOnly.format(new Date(`${value}T00:00:00Z`));
      return zonedDate.format(instant(value));
    },
    dayShort: (value) => dayShort.format(new Date(`${value.slice(0, 10)}T00:00:00Z`)),
    dateTime: (value) => (value === null || value === undefined ? '—' : zoned.format(instant(value))),
    time: (value) => (value === null || value === undefined ? '—' : time.format(instant(value))),
    number: (value, digits = 0) => (value === null || value === undefined || Number.isNaN(value) ? '—'
      : new Intl.NumberFormat(tag, { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(value)),
    percent: (value, digits = 0) => (value === null || value === undefined || Number.isNaN(value) ? '—'
      : new Intl.NumberFormat(tag, { style: 'percent', minimumFractionDigits: digits, maximumFractionDigits: digits }).format(value)),
    today: (now) => iso.format(now),
  };
}
