import { Router } from 'express';
import { z } from 'zod';
import { visibilityOf, visibleClass } from '../../auth/access.js';
import { grantIn, permit, type Caller } from '../../auth/caller.js';
import type { ClassSummary, SchoolRepository } from '../../db/repositories/schools.js';
import type { Pool } from '../../db/pool.js';
import { NotFoundError } from '../../lib/errors.js';
import { callerOf } from '../caller.js';
import { parseRequest } from '../errors.js';
import type { components } from '../openapi.js';

type School = components['schemas']['School'];
type Class = components['schemas']['Class'];

const SchoolParams = z.object({ schoolId: z.uuid() });
const SchoolPatch = z.strictObject({ primarySourceId: z.uuid().nullable().optional(), uiLocale: z.enum(['ru', 'ky']).optional() })
  .refine((p) => p.primarySourceId !== undefined || p.uiLocale !== undefined, { message: 'give primarySourceId or uiLocale' });

/** A school's primary source and dashboard language, set by a caller who manages its connections (PATCH /v1/schools/{id}). */
export async function patchSchool(schools: SchoolRepository, caller: Caller, schoolId: string, patch: { primarySourceId?: string | null; uiLocale?: 'ru' | 'ky' }): Promise<School> {
  permit(caller, schoolId, 'connections:manage');
  let school: School | null = await schools.find(schoolId);
  if (school && patch.primarySourceId !== undefined) school = await schools.setPrimarySource(schoolId, patch.primarySourceId);
  if (school && patch.uiLocale !== undefined) school = await schools.setUiLocale(schoolId, patch.uiLocale);
  if (!school) throw new NotFoundError(`school ${schoolId}`);
  return school;
}

/** Schools the caller belongs to, a school's primary source (administrators), and the classes the caller sees. */
export function schoolsRouter(schools: SchoolRepository, pool: Pool): Router {
  const router = Router();
  router.get('/v1/schools', async (_req, res) => {
    const caller = callerOf(res);
    const data: School[] = (await schools.list()).filter((s) => grantIn(caller, s.id) !== undefined);
    res.json({ data });
  });
  router.patch('/v1/schools/:schoolId', async (req, res) => {
    const { schoolId } = parseRequest(SchoolParams, req.params, 'path');
    // Permitted before the body is parsed (a foreign school is 404, not 400); patchSchool checks again for the dashboard.
    permit(callerOf(res), schoolId, 'connections:manage');
    res.json(await patchSchool(schools, callerOf(res), schoolId, parseRequest(SchoolPatch, req.body, 'body')));
  });
  router.get('/v1/schools/:schoolId/classes', async (req, res) => {
    const { schoolId } = parseRequest(SchoolParams, req.params, 'path');
    const data: Class[] = await visibleClasses(schools, pool, callerOf(res), schoolId);
    res.json({ data });
  });
  return router;
}

/** The school's classes the caller sees (journal:read; a teacher's or a parent's own). */
export async function visibleClasses(schools: SchoolRepository, pool: Pool, caller: Caller, schoolId: string): Promise<ClassSummary[]> {
  const grant = permit(caller, schoolId, 'journal:read');
  if (!(await schools.find(schoolId))) throw new NotFoundError(`school ${schoolId}`);
  const visibility = await visibilityOf(pool, grant);
  return (await schools.classes(schoolId)).filter((c) => visibleClass(visibility, c.id));
}
