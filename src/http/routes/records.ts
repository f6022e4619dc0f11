import { Router } from 'express';
import { z } from 'zod';
import { seesFact, visibilityOf } from '../../auth/access.js';
import { recordAudit } from '../../auth/audit.js';
import { actorOf, permit } from '../../auth/caller.js';
import type { Pool } from '../../db/pool.js';
import { readRecord, RECORD_COLLECTIONS, type RecordCollection } from '../../journal/records.js';
import type { Clock } from '../../lib/clock.js';
import { NotFoundError } from '../../lib/errors.js';
import { callerOf } from '../caller.js';
import { parseRequest } from '../errors.js';

const Params = z.object({ schoolId: z.uuid(), id: z.uuid() });

/**
 * One mark, absence, lesson or period mark as it is now: what a webhook's thin payload links to
 * (`data.fetch`). The school's staff and API clients with journal:read (a read of a child's record, so
 * audited), a teacher for their classes and subjects, a parent for their children.
 */
export function recordsRouter(pool: Pool, clock: Clock): Router {
  const router = Router();
  for (const collection of Object.keys(RECORD_COLLECTIONS) as RecordCollection[]) {
    router.get(`/v1/schools/:schoolId/${collection}/:id`, async (req, res) => {
      const { schoolId, id } = parseRequest(Params, req.params, 'path');
      const caller = callerOf(res);
      const grant = permit(caller, schoolId, 'journal:read', `${collection} ${id}`);
      const found = await readRecord(pool, collection, schoolId, id);
      if (!found || !seesFact(await visibilityOf(pool, grant), found)) throw new NotFoundError(`${collection} ${id}`);
      if (caller.kind !== 'parent') {
        await recordAudit(pool, clock, [schoolId], { actor: actorOf(caller), action: `${found.entity}.read`, objectType: found.entity, objectIds: [id] });
      }
      res.json({ entity: found.entity, ...found.record });
    });
  }
  return router;
}
