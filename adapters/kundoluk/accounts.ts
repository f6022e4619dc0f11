import type { AdapterContext, HttpRequest } from '../../src/ports/adapter.js';
import { mapLimit } from '../../src/ports/concurrency.js';
import type { Endpoint } from '../../src/ports/response.js';
import { once, perRun } from '../../src/ports/session.js';
import { dayIn } from '../../src/ports/time.js';
import { schoolYearOf, termsOf, type Term } from './calendar.js';
import type { ViewOptions } from './class-view.js';
import { KundolukClient, parallelPupils, type KundolukConfig } from './client.js';
import { groupBy, pupilOf, type Pupil } from './mapping.js';

/**
 * What every stream of a run shares: the accounts' pupils (one login each), the run's school year and
 * quarters, and the pupil-by-pupil reads of the API.
 */

type Ctx = AdapterContext<KundolukConfig>;

/**
 * The pupils of the connection, one per account (the same pupil twice is read once). The first
 * account logs in alone: bad settings or a server that is down fail on one login, not on all.
 */
export function pupils(ctx: Ctx): Promise<Pupil[]> {
  return once(ctx, 'kundoluk.pupils', async () => {
    const client = KundolukClient.of(ctx);
    const first = await client.login(0);
    const rest = await mapLimit(ctx.config.accounts.slice(1).map((_, i) => i + 1), parallelPupils(ctx), (i) => client.login(i));
    const byId = new Map<string, Pupil>();
    [first, ...rest].forEach((account, i) => {
      const pupil = pupilOf(i, account);
      if (!byId.has(pupil.id)) byId.set(pupil.id, pupil);
    });
    return [...byId.values()];
  });
}

/** The run's school year and quarters; a range in an earlier year than today's is read, but the API answers the current year only. */
export function view(ctx: Ctx): ViewOptions & { terms: Term[] } {
  return perRun(ctx, 'kundoluk.view', () => {
    const year = schoolYearOf(ctx.range.from);
    if (year < schoolYearOf(dayIn(ctx.now(), ctx.timeZone))) ctx.logger.warn({ year }, 'Kundoluk answers the current school year only: an earlier year\'s marks and absences cannot be read');
    return { range: ctx.range, year, timeZone: ctx.timeZone, terms: termsOf(ctx.config.terms, year), twelve: new Set<string>() };
  });
}

/** Pupils class by class, so that a batch holds a class. */
export const byClass = (list: Pupil[]): Pupil[][] => [...groupBy(list, (p) => p.classId).values()];

/** Each pupil's answer to a GET, parsed by its endpoint, `parallelPupils` at once, handed to `use` as it comes (answers are not kept). */
export function readEach<T, R>(ctx: Ctx, list: Pupil[], endpoint: Endpoint<T>, request: { url: string; query?: HttpRequest['query'] }, use: (pupil: Pupil, answer: T) => R): Promise<R[]> {
  const client = KundolukClient.of(ctx);
  return mapLimit(list, parallelPupils(ctx), async (pupil) => use(pupil, await client.get(pupil.index, endpoint, request.url, request.query)));
}
