import { Router } from 'express';
import { z } from 'zod';
import type { SchoolRepository } from '../../db/repositories/schools.js';
import { NotFoundError } from '../../lib/errors.js';
import { parseRequest } from '../errors.js';
import type { components } from '../openapi.js';

type School = components['schemas']['School'];
type Class = components['schemas']['Class'];

const SchoolParams = z.object({ schoolId: z.uuid() });
const SchoolPatch = z.strictObject({ primarySourceId: z.uuid().nullable() });

export function schoolsRouter(schools: SchoolRepository): Router {
  const router = Router();
  router.get('/v1/schools', async (_req, res) => {
    const data: School[] = await schools.list();
    res.json({ data });
  });
  router.patch('/v1/schools/:schoolId', async (req, res) => {
    const { schoolId } = parseRequest(SchoolParams, req.params, 'path');
    const { primarySourceId } = parseRequest(SchoolPatch, req.body, 'body');
    const school: School | null = await schools.setPrimarySource(schoolId, primarySourceId);
    if (!school) throw new NotFoundError(`school ${schoolId}`);
    res.json(school);
  });
  router.get('/v1/schools/:schoolId/classes', async (req, res) => {
    const { schoolId } = parseRequest(SchoolParams, req.params, 'path');
    if (!(await schools.find(schoolId))) throw new NotFoundError(`school ${schoolId}`);
    const data: Class[] = await schools.classes(schoolId);
    res.json({ data });
  });
  return router;
}
