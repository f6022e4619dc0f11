import { Router } from 'express';
import { z } from 'zod';
import { accessClass, visibilityOf, type ClassAccess } from '../../auth/access.js';
import { permit, schoolsWith, type Caller } from '../../auth/caller.js';
import type { Pool } from '../../db/pool.js';
import type { Clock } from '../../lib/clock.js';
import { ForbiddenError, NotFoundError, ValidationError } from '../../lib/errors.js';
import { IsoDateSchema } from '../../ports/records.js';
import { callerOf } from '../caller.js';
import { parseRequest } from '../errors.js';

const ClassParams = z.object({ classId: z.uuid() });
const SummaryQuery = z.object({ year: z.uuid().optional(), format: z.enum(['pdf', 'xlsx', 'json']).default('pdf') });
const ReportSchool = z.object({ school: z.uuid().optional() });
const ReportQuery = z.object({
  class: z.uuid().optional(),
  subject: z.uuid().optional(),
  period: z.uuid().optional(),
  from: IsoDateSchema.optional(),
  to: IsoDateSchema.optional(),
  format: z.enum(['pdf', 'xlsx', 'json']).default('pdf'),
});

/**
 * The printed documents over HTTP: a class's summary sheet (its staff who see the class whole; never a
 * parent) and the regulations' reports (reports:read in the school). Access is checked before the
 * optional details are validated, so a foreign id is a 404 whatever else the query says. The report
 * modules (pdfmake, exceljs) are loaded on the first request.
 */
export function reportsRouter(pool: Pool, clock: Clock): Router {
  const router = Router();
  router.get('/v1/classes/:classId/summary-sheet', async (req, res) => {
    const { classId } = parseRequest(ClassParams, req.params, 'path');
    const access = await classAccess(pool, callerOf(res), classId);
    const query = parseRequest(SummaryQuery, req.query, 'query');
    const [{ readSummarySheet, renderSummaryPdf, renderSummaryXlsx }, { MEDIA_TYPES, safeName }] = await Promise.all([import('../../reports/summary.js'), import('../../reports/produce.js')]);
    const year = query.year ?? (await pool.query<{ y: string }>('SELECT academic_year_id::text AS y FROM class_group WHERE id = $1', [classId])).rows[0]?.y;
    if (!year) throw new NotFoundError(`class ${classId}`);
    const sheet = await readSummarySheet(pool, { schoolId: access.schoolId, classId, academicYearId: year });
    if (query.format === 'json') {
      res.json(sheet);
      return;
    }
    const now = clock.now().toISOString();
    const bytes = query.format === 'pdf' ? await renderSummaryPdf(sheet, now) : await renderSummaryXlsx(sheet, now);
    res.setHeader('content-disposition', `attachment; filename*=UTF-8''${encodeURIComponent(safeName(`summary-${sheet.className}`))}.${query.format}`);
    res.type(MEDIA_TYPES[query.format]).send(bytes);
  });
  router.get('/v1/reports/:kind', async (req, res) => {
    const caller = callerOf(res);
    const schoolId = schoolOf(caller, parseRequest(ReportSchool, { school: req.query.school }, 'query').school);
    const { REPORT_KINDS, produceReport } = await import('../../reports/produce.js');
    const kind = parseRequest(z.enum(REPORT_KINDS), req.params.kind, 'path.kind');
    const query = parseRequest(ReportQuery, { ...req.query, school: undefined }, 'query');
    await mayReport(pool, caller, schoolId, kind, query.class);
    const report = await produceReport(pool, { kind, schoolId, classId: query.class, subjectId: query.subject, periodId: query.period, from: query.from, to: query.to }, query.format, clock.now());
    if (query.format === 'json') {
      res.json(report.data);
      return;
    }
    res.setHeader('content-disposition', `attachment; filename*=UTF-8''${encodeURIComponent(report.filename)}`);
    res.type(report.mediaType).send(report.bytes);
  });
  return router;
}

/** The class seen whole with reports:read (or journal:read): its class teacher, the school's staff; a parent never (404), a subject teacher not (403). */
async function classAccess(pool: Pool, caller: Caller, classId: string): Promise<ClassAccess> {
  let access: ClassAccess;
  try {
    access = await accessClass(pool, caller, classId, 'reports:read');
  } catch (error) {
    if (!(error instanceof ForbiddenError)) throw error;
    access = await accessClass(pool, caller, classId, 'journal:read');
  }
  if (access.view === 'children') throw new NotFoundError(`class ${classId}`);
  if (access.view !== 'whole') throw new ForbiddenError('the summary sheet shows every subject of the class: its class teacher and the school\'s staff may have it');
  return access;
}

/**
 * A class teacher (reports:read without the whole school) has the reports of their own class: `class`
 * is required and must be theirs (else 404), and the school-wide user activity is not theirs.
 */
export async function mayReport(pool: Pool, caller: Caller, schoolId: string, kind: string, classId: string | undefined): Promise<void> {
  const visibility = await visibilityOf(pool, permit(caller, schoolId, 'reports:read'));
  if (visibility.whole) return;
  if (kind === 'user_activity') throw new ForbiddenError('the user activity report covers the whole school: its administrators and deputies may have it');
  if (!classId) throw new ForbiddenError('give "class": this account has the reports of its own class');
  if (!visibility.scope.classes.has(classId)) throw new NotFoundError(`class ${classId}`);
}

/** The school asked for (permitted, else 404/403), or the caller's only school with reports:read. */
function schoolOf(caller: Caller, school: string | undefined): string {
  if (school) {
    permit(caller, school, 'reports:read');
    return school;
  }
  const schools = schoolsWith(caller, 'reports:read');
  if (schools !== 'all' && schools.length === 1) return schools[0]!;
  if (schools !== 'all' && schools.length === 0) throw new ForbiddenError('this caller may not use reports:read in any school');
  throw new ValidationError('query.school: give the school (the caller has reports in more than one)');
}
