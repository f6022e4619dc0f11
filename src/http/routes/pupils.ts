import { Router } from 'express';
import { z } from 'zod';
import { accessPupil } from '../../auth/access.js';
import { recordAudit } from '../../auth/audit.js';
import { actorOf, permit, type Caller } from '../../auth/caller.js';
import type { Pool } from '../../db/pool.js';
import { readChildren, readPupilWeek, type Child, type PupilWeek } from '../../journal/pupil-week.js';
import type { Clock } from '../../lib/clock.js';
import { callerOf } from '../caller.js';
import { parseRequest } from '../errors.js';

const Params = z.object({ pupilId: z.uuid() });
const WeekQuery = z.object({ week: z.string().max(10).optional() });
const ChildrenQuery = z.object({ school: z.uuid().optional() });

/**
 * A pupil's week (the diary: lessons, homework, marks and absences from Monday to Sunday) for a parent,
 * the class teacher and the school's staff; another family's child is 404. The API and the dashboard's
 * parent pages both answer through these functions.
 */
export async function answerPupilWeek(pool: Pool, clock: Clock, caller: Caller, pupilId: string, week: string | undefined): Promise<PupilWeek> {
  const { schoolId } = await accessPupil(pool, caller, pupilId, 'journal:read');
  const answer = await readPupilWeek(pool, { schoolId, pupilId, week, now: clock.now() });
  if (caller.kind !== 'parent') {
    await recordAudit(pool, clock, [schoolId], { actor: actorOf(caller), action: 'pupil_week.read', objectType: 'person', objectIds: [pupilId], detail: { from: answer.from } });
  }
  return answer;
}

/** The caller's own children (a parent's guardianships) in each school it is a parent in, or the one asked for. */
export async function answerChildren(pool: Pool, clock: Clock, caller: Caller, school?: string): Promise<Array<Child & { schoolId: string }>> {
  // A school asked for is one the caller stands in (else 404, as every `?school=` list answers).
  if (school) permit(caller, school, 'journal:read');
  const grants = [...caller.grants.values()].filter((g) => g.roles.includes('parent') && g.personId && g.permissions.has('journal:read') && (!school || g.schoolId === school));
  const lists = await Promise.all(grants.map(async (g) => (await readChildren(pool, g.schoolId, g.personId!, clock.now())).map((c) => ({ ...c, schoolId: g.schoolId }))));
  return lists.flat();
}

export function pupilsRouter(pool: Pool, clock: Clock): Router {
  const router = Router();
  router.get('/v1/pupils/:pupilId/week', async (req, res) => {
    const { pupilId } = parseRequest(Params, req.params, 'path');
    const { week } = parseRequest(WeekQuery, req.query, 'query');
    res.json(await answerPupilWeek(pool, clock, callerOf(res), pupilId, week));
  });
  router.get('/v1/me/children', async (req, res) => {
    const { school } = parseRequest(ChildrenQuery, req.query, 'query');
    res.json({ items: await answerChildren(pool, clock, callerOf(res), school) });
  });
  return router;
}
