import express, { Router, type Request } from 'express';
import { z } from 'zod';
import type { Pool } from '../../db/pool.js';
import { AppError, NotFoundError } from '../../lib/errors.js';
import type { Clock } from '../../lib/clock.js';
import { IsoDateSchema } from '../../ports/records.js';
import { writeCsv } from '../../paper/csv.js';
import { importPaper, MAX_PAPER_BYTES, type PaperFormat, type PaperImportResult as ImportResult } from '../../paper/import.js';
import { readPaperPage } from '../../paper/page.js';
import { writeXlsx } from '../../paper/xlsx.js';
import { parseRequest } from '../errors.js';
import { callerOf } from '../caller.js';
import { accessClass, seesSubject } from '../../auth/access.js';
import { actorOf, type Caller, type Permission } from '../../auth/caller.js';
import type { components } from '../openapi.js';

type PaperImportResult = components['schemas']['PaperImportResult'];

export const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const CSV_TYPES = ['text/csv', 'application/csv'];

const Params = z.object({ classId: z.uuid() });
const TemplateQuery = z.object({
  subject: z.uuid(),
  from: IsoDateSchema.optional(),
  to: IsoDateSchema.optional(),
  format: z.enum(['xlsx', 'csv']).default('xlsx'),
  prefill: z.uuid().optional(),
});
const ImportQuery = z.object({ subject: z.uuid() });

/**
 * The paper journal's template (XLSX, or CSV with `format=csv`) and its import. The import has its own
 * body limit (10 MB, raw bytes) beside the API's 1 MB JSON one; its content type decides the format.
 */
export function paperRouter(pool: Pool, clock: Clock): Router {
  const router = Router();
  router.get('/v1/classes/:classId/paper-template', async (req, res) => {
    const { classId } = parseRequest(Params, req.params, 'path');
    const query = parseRequest(TemplateQuery, req.query, 'query');
    await subjectPage(pool, callerOf(res), classId, query.subject, 'journal:read');
    const page = await readPaperPage(pool, { classId, subjectId: query.subject, from: query.from, to: query.to, prefill: query.prefill });
    const name = `paper-${classId.slice(0, 8)}-${query.subject.slice(0, 8)}.${query.format}`;
    res.setHeader('content-disposition', `attachment; filename="${name}"`);
    if (query.format === 'csv') res.type('text/csv; charset=utf-8').send(writeCsv(page));
    else res.type(XLSX_TYPE).send(await writeXlsx(page));
  });
  router.post('/v1/classes/:classId/paper', express.raw({ type: [XLSX_TYPE, ...CSV_TYPES], limit: MAX_PAPER_BYTES }), async (req, res) => {
    const { classId } = parseRequest(Params, req.params, 'path');
    const { subject } = parseRequest(ImportQuery, req.query, 'query');
    const result: PaperImportResult = await importPaperAs({ pool, clock }, callerOf(res), {
      classId, subjectId: subject, format: () => formatOf(req), body: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
    });
    res.json(result);
  });
  return router;
}

/**
 * Imports a filled paper page as the caller: their own class × subject page (records:write), then the
 * file's format (read after the access check, so a foreign class answers 404 whatever was sent).
 */
export async function importPaperAs(
  deps: { pool: Pool; clock: Clock }, caller: Caller, input: { classId: string; subjectId: string; format: () => PaperFormat; body: Buffer },
): Promise<ImportResult> {
  await subjectPage(deps.pool, caller, input.classId, input.subjectId, 'records:write');
  return importPaper(deps, { classId: input.classId, subjectId: input.subjectId, format: input.format(), body: input.body, actor: actorOf(caller) });
}

/** A teacher's own class × subject page (or any of the school's for its administrators); never a parent's. */
export async function subjectPage(pool: Pool, caller: Caller, classId: string, subjectId: string, permission: Permission): Promise<void> {
  const access = await accessClass(pool, caller, classId, permission);
  if (access.view === 'children' || !seesSubject(access, classId, subjectId)) throw new NotFoundError(`class ${classId}`);
}

function formatOf(req: Request): PaperFormat {
  if (req.is(XLSX_TYPE)) return 'xlsx';
  if (req.is(CSV_TYPES)) return 'csv';
  throw new AppError('unsupported_media_type', `send the file as ${XLSX_TYPE} (XLSX) or text/csv (CSV)`, 415);
}
