import { Router } from 'express';
import { z } from 'zod';
import type { Pool } from '../../db/pool.js';
import { readJournalPage } from '../../journal/queries.js';
import { IsoDateSchema } from '../../ports/records.js';
import { parseRequest } from '../errors.js';
import type { components } from '../openapi.js';

type JournalPage = components['schemas']['JournalPage'];

const Params = z.object({ classId: z.uuid() });
const Query = z.object({
  subject: z.uuid().optional(),
  from: IsoDateSchema.optional(),
  to: IsoDateSchema.optional(),
});

export function journalRouter(pool: Pool): Router {
  const router = Router();
  router.get('/v1/classes/:classId/journal', async (req, res) => {
    const { classId } = parseRequest(Params, req.params, 'path');
    const query = parseRequest(Query, req.query, 'query');
    const page: JournalPage = await readJournalPage(pool, { classId, subjectId: query.subject, from: query.from, to: query.to });
    res.json(page);
  });
  return router;
}
