import { z } from 'zod';
import type { DateRange } from '../../src/ports/adapter.js';
import type { PeriodRecord } from '../../src/ports/records.js';
import { addDays, overlaps } from '../../src/ports/ranges.js';

/**
 * The school year's calendar as far as the adapter needs it. edu.tatar.ru names terms by number only —
 * `select#term` offers 1–4 («1&nbsp;четверть») or, in grades 10–11, 1–2 («1&nbsp;полугодие») — and no page
 * in any public client shows their dates (clients hard-code them), so the dates come from the
 * configuration (`terms`), with gap-free defaults: every school day falls in exactly one term.
 */

const MonthDaySchema = z.string().regex(/^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/, 'expected MM-DD');

/** `MM-DD` in the school year starting in `year`: a day from August on falls in its first calendar year, the others in its second. */
export const dated = (monthDay: string, year: number): string => `${Number(monthDay.slice(0, 2)) >= 8 ? year : year + 1}-${monthDay}`;

const TermDatesSchema = z.object({ from: MonthDaySchema, to: MonthDaySchema })
  .refine((t) => dated(t.from, 2000) <= dated(t.to, 2000), 'a term ends before it starts');

type TermDates = z.infer<typeof TermDatesSchema>;

const QUARTERS: TermDates[] = [{ from: '09-01', to: '10-31' }, { from: '11-01', to: '12-31' }, { from: '01-01', to: '03-31' }, { from: '04-01', to: '05-31' }];
const HALF_YEARS: TermDates[] = [{ from: '09-01', to: '12-31' }, { from: '01-01', to: '05-31' }];

/** The configuration key `terms`: the school's quarters (grades 1–9) and half-years (10–11) as MM-DD. */
export const TermsConfigSchema = z.object({
  quarters: z.array(TermDatesSchema).length(4).default(QUARTERS),
  halfYears: z.array(TermDatesSchema).length(2).default(HALF_YEARS),
}).default({ quarters: QUARTERS, halfYears: HALF_YEARS });

export type TermsConfig = z.infer<typeof TermsConfigSchema>;

export type TermKind = 'quarter' | 'half_year';

/** One term of a class's journal: the `term` parameter it is asked with and its period. */
export interface Term {
  /** The journal's `term` parameter as the selector gives it («1»). */
  value: string;
  kind: TermKind;
  number: number;
  periodId: string;
  title: string;
  startDate: string;
  endDate: string;
}

/**
 * How far a school's real term dates may stray from the configured ones: terms whose dates come this
 * close to the range are read too, so a mark near a boundary is not lost to a calendar that differs.
 */
const SLACK_DAYS = 7;

const TITLES: Record<TermKind, string> = { quarter: 'четверть', half_year: 'полугодие' };

/**
 * The kind of a `select#term` option from its text («1&nbsp;четверть», «2&nbsp;полугодие»), or from the
 * class's grade when the text says neither (10–11: half-years, as every public client assumes).
 * Trimesters appear in no evidence: `undefined`, and the caller fails clearly.
 */
export function termKindOf(text: string, grade: number): TermKind | undefined {
  const t = text.toLowerCase();
  if (t.includes('четверт')) return 'quarter';
  if (t.includes('полугод')) return 'half_year';
  if (t.includes('триместр')) return undefined;
  return grade >= 10 ? 'half_year' : 'quarter';
}

function periodIdOf(year: number, kind: TermKind, number: number): string {
  return `${year}/${kind}-${number}`;
}

/** The term `number` of `kind` in the school year starting in `year`, dated by the configuration; undefined when it has no such term. */
export function termOf(config: TermsConfig, year: number, kind: TermKind, number: number, value: string): Term | undefined {
  const dates = (kind === 'quarter' ? config.quarters : config.halfYears)[number - 1];
  if (!dates) return undefined;
  return {
    value, kind, number, periodId: periodIdOf(year, kind, number), title: `${number} ${TITLES[kind]}`,
    startDate: dated(dates.from, year), endDate: dated(dates.to, year),
  };
}

/** Whether a term (give or take SLACK_DAYS) meets the read range. */
export function termMeets(term: Term, range: DateRange): boolean {
  return overlaps({ from: addDays(term.startDate, -SLACK_DAYS), to: addDays(term.endDate, SLACK_DAYS) }, range);
}

export function periodRecord(term: Term, year: number): PeriodRecord {
  return { type: 'period', externalId: term.periodId, year, kind: term.kind, number: term.number, title: term.title, startDate: term.startDate, endDate: term.endDate };
}
