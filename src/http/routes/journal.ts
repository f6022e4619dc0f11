import { Router } from 'express';
import { z } from 'zod';
import { accessClass, seesSubject, type ClassAccess } from '../../auth/access.js';
import { recordAudit } from '../../auth/audit.js';
import { actorOf, type Caller } from '../../auth/caller.js';
import type { Pool } from '../../db/pool.js';
import type { Clock } from '../../lib/clock.js';
import { NotFoundError } from '../../lib/errors.js';
import { readClassSubjects, readJournalPage, type JournalPage as Page } from '../../journal/queries.js';
import { IsoDateSchema } from '../../ports/records.js';
import { callerOf } from '../caller.js';
import { parseRequest } from '../errors.js';
import type { components } from '../openapi.js';

type JournalPage = components['schemas']['JournalPage'];

const Params = z.object({ classId: z.uuid() });
const SchoolParams = z.object({ schoolId: z.uuid(), classId: z.uuid() });
const Query = z.object({
  subject: z.uuid().optional(),
  from: IsoDateSchema.optional(),
  to: IsoDateSchema.optional(),
});
export type JournalQuery = z.infer<typeof Query>;

export interface JournalRouteOptions {
  /** Widest date range of one page, in days (JOURNAL_PAGE_MAX_DAYS). */
  maxDays: number;
  clock: Clock;
}

/**
 * The class journal page, under its school (a class of another school is 404) and by class id alone.
 * Staff and API clients see the class they may see whole (a read recorded in the audit log); a subject
 * teacher their subjects' pages; a parent only their children's rows, without the sources' disagreements.
 */
export function journalRouter(pool: Pool, options: JournalRouteOptions): Router {
  const router = Router();
  const answer = (caller: Caller, schoolId: string | undefined, classId: string, query: JournalQuery): Promise<JournalPage> =>
    readJournalPageFor(pool, options, caller, schoolId, classId, query);
  router.get('/v1/schools/:schoolId/classes/:classId/journal', async (req, res) => {
    const { schoolId, classId } = parseRequest(SchoolParams, req.params, 'path');
    res.json(await answer(callerOf(res), schoolId, classId, parseRequest(Query, req.query, 'query')));
  });
  router.get('/v1/classes/:classId/journal', async (req, res) => {
    const { classId } = parseRequest(Params, req.params, 'path');
    res.json(await answer(callerOf(res), undefined, classId, parseRequest(Query, req.query, 'query')));
  });
  return router;
}

/**
 * The journal page a caller may see: the class's access, its subject (a subject teacher's own only), the
 * page (at most `maxDays`), a parent's narrowing to their children, and the staff's read in the audit log.
 */
export async function readJournalPageFor(
  pool: Pool, options: JournalRouteOptions, caller: Caller, schoolId: string | undefined, classId: string, query: JournalQuery,
): Promise<Page> {
  const access = await accessClass(pool, caller, classId, 'journal:read', schoolId);
  if (query.subject && !seesSubject(access, classId, query.subject)) throw new NotFoundError(`subject ${query.subject}`);
  const page = await readJournalPage(pool, { schoolId, classId, subjectId: query.subject, from: query.from, to: query.to, maxDays: options.maxDays });
  if (access.view === 'children') return childrenOnly(page, access);
  if (caller.kind !== 'parent') {
    await recordAudit(pool, options.clock, [access.schoolId], {
      actor: actorOf(caller), action: 'journal_page.read', objectType: 'class', objectIds: [classId, page.subject.id],
      detail: { from: page.from, to: page.to, pupils: page.rows.length },
    });
  }
  return page;
}

/** The subjects of a class's journal the caller may open (a subject teacher: their own), by name. */
export async function journalSubjectsFor(pool: Pool, caller: Caller, classId: string): Promise<Array<{ id: string; name: string }>> {
  const access = await accessClass(pool, caller, classId, 'journal:read');
  return (await readClassSubjects(pool, classId)).filter((s) => seesSubject(access, classId, s.id));
}

/** A parent's page: their children's rows only, each cell the shown value without the other sources' versions. */
function childrenOnly(page: Page, access: ClassAccess): Page {
  const children = access.visibility.whole ? undefined : access.visibility.scope.children;
  return {
    ...page,
    sources: [],
    rows: page.rows.filter((r) => children?.has(r.pupil.id)).map((r) => ({
      ...r,
      cells: r.cells.map((c) => ({ ...c, agreement: c.agreement === 'single' ? 'single' : 'agree', others: [] })),
    })),
  };
}
