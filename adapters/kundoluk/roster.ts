import type { AdapterContext, AdapterStream } from '../../src/ports/adapter.js';
import type { GoneId, SourceRecord } from '../../src/ports/records.js';
import { pupils, view } from './accounts.js';
import { periodRecords, termAt } from './calendar.js';
import type { KundolukConfig } from './client.js';
import { classRecord, enrollmentRecord, pupilRecord } from './mapping.js';
import { readWebRoster } from './web.js';
import { matchRoster } from './web-pages.js';

type Ctx = AdapterContext<KundolukConfig>;

/** The configured class journals of the web journal with their pupils, in the quarter of the range's end (read by the roster alone, once a run). */
async function webRoster(ctx: Ctx) {
  const roster = await readWebRoster(ctx, termAt(view(ctx).terms, ctx.range.to).number);
  if (roster.skipped > 0) ctx.logger.warn({ skipped: roster.skipped }, 'rows of the Kundoluk web journal without a full name were skipped');
  if (roster.ambiguous > 0) ctx.logger.warn({ ambiguous: roster.ambiguous }, 'rows of the Kundoluk web journal naming two pupils of one class alike were left out');
  return roster;
}

/**
 * Roster: the quarters and the school year, the classes, the pupils from their login answers; with a
 * web journal login, also every pupil of the configured class journals who has no account in the
 * connection (as `web-…`). A pupil with an account keeps the API's id; the web journal's id it had
 * while it had no account is retired first, so the journal hands the person over to the new id.
 */
export const roster: AdapterStream<KundolukConfig> = {
  granularity: 'pupil',
  async *read(ctx) {
    const list = await pupils(ctx);
    const { year, terms } = view(ctx);
    const web = ctx.config.teacher ? await webRoster(ctx) : undefined;
    const classes = new Map(list.map((p) => [p.classId, classRecord(p.grade, p.letter, year)]));
    for (const c of web?.classes ?? []) if (!classes.has(c.id)) classes.set(c.id, classRecord(c.grade, c.letter, year));
    const people: SourceRecord[] = list.flatMap((p) => [pupilRecord(p), enrollmentRecord(p)]);
    if (!web) {
      yield { records: [...periodRecords(terms, year), ...classes.values(), ...people] };
      return;
    }
    const match = matchRoster(web.pupils, list);
    people.push(...match.webOnly.flatMap((p) => [pupilRecord(p), enrollmentRecord(p)]));
    if (match.unresolved.length > 0) {
      ctx.logger.warn({ rows: match.unresolved.length }, 'pupils of the Kundoluk web journal whose names (class, last, first and middle name) do not tell them apart from pupils with accounts were left out');
    }
    ctx.logger.info({ classes: web.classes.length, rows: web.pupils.length, withAccount: match.matched.length, withoutAccount: match.webOnly.length }, 'read the Kundoluk web journal\'s class journals');
    const handedOver = match.matched.map(({ row }): GoneId => ({ type: 'person', externalId: row.id }));
    yield { records: [...periodRecords(terms, year), ...classes.values()], goneIds: handedOver };
    yield { records: people };
  },
};
