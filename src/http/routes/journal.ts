import { Router } from 'express';
import { z } from 'zod';
import { accessClass, seesSubject, type ClassAccess } from '../../auth/access.js';
import { recordAudit } from '../../auth/audit.js';
import { actorOf, type Caller } from '../../auth/caller.js';
import type { Pool } from '../../db/pool.js';
import type { Clock } from '../../lib/clock.js';
import { NotFoundError } from '../../lib/errors.js';
import { readJournalPage, type JournalPage as Page } from '../../journal/queries.js';
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
  const answer = async (caller: Caller, schoolId: string | undefined, classId: string, query: z.infer<typeof Query>): Promise<JournalPage> => {
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
  };
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
