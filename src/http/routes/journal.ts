import { Router } from 'express';
import { z } from 'zod';
import type { Pool } from '../../db/pool.js';
import { readJournalPage } from '../../journal/queries.js';
import { IsoDateSchema } from '../../ports/records.js';
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
}

/**
 * The class journal page, under its school (a class of another school is 404) and, as before, by
 * class id alone (the class's own school scopes the reads).
 */
export function journalRouter(pool: Pool, options: JournalRouteOptions): Router {
  const router = Router();
  const answer = async (schoolId: string | undefined, classId: string, query: z.infer<typeof Query>): Promise<JournalPage> =>
    readJournalPage(pool, { schoolId, classId, subjectId: query.subject, from: query.from, to: query.to, maxDays: options.maxDays });
  router.get('/v1/schools/:schoolId/classes/:classId/journal', async (req, res) => {
    const { schoolId, classId } = parseRequest(SchoolParams, req.params, 'path');
    res.json(await answer(schoolId, classId, parseRequest(Query, req.query, 'query')));
  });
  router.get('/v1/classes/:classId/journal', async (req, res) => {
    const { classId } = parseRequest(Params, req.params, 'path');
    res.json(await answer(undefined, classId, parseRequest(Query, req.query, 'query')));
  });
  return router;
}
