import { createHash } from 'node:crypto';
import { withAdvisoryLock, type Pool } from '../db/pool.js';
import { applyBatch } from '../journal/apply-batch.js';
import type { Clock } from '../lib/clock.js';
import { ensurePaperConnection } from './connection.js';
import { readCsv } from './csv.js';
import { PaperFileError, sheetNameOf } from './layout.js';
import { readLessons, readPupils, readSourceCells, readTarget, type PageLesson, type PageTarget } from './page.js';
import { planImport, type CellCounts, type CellRejection } from './plan.js';
import { interpretTables, type PaperFile } from './read-file.js';
import { readXlsx } from './xlsx.js';

/** The largest file taken, XLSX or CSV (a class's year of one subject is well under 1 MB). */
export const MAX_PAPER_BYTES = 10 * 1024 * 1024;

export type PaperFormat = 'xlsx' | 'csv';

export interface PaperImportInput {
  classId: string;
  subjectId: string;
  /** When given, the class must be of this school. */
  schoolId?: string;
  format: PaperFormat;
  body: Buffer;
  /** Who uploaded the file: recorded on the history events. */
  actor: string;
}

export interface PaperImportResult {
  connectionId: string;
  cells: CellCounts;
  rejections: CellRejection[];
  /** History events appended (0 when the file says what the paper source already said). */
  events: number;
}

/**
 * Imports a filled paper template as the school's paper source: the file is read and checked whole
 * (anything that makes it not this class's and subject's template refuses it, writing nothing), then
 * each cell is compared with the paper source's records and the differences go through applyBatch in
 * one transaction.
 */
export async function importPaper(deps: { pool: Pool; clock: Clock }, input: PaperImportInput): Promise<PaperImportResult> {
  if (input.body.length === 0) throw new PaperFileError('the file is empty', 422, 'empty_file');
  if (input.body.length > MAX_PAPER_BYTES) throw new PaperFileError(`the file has ${input.body.length} bytes; at most ${MAX_PAPER_BYTES} are taken`, 413, 'file_too_large');
  const target = await readTarget(deps.pool, input);
  const file = await readPaperFile(input.format, input.body, target.subjectName);
  const lessons = await checkIds(deps.pool, target, file);
  const connectionId = await ensurePaperConnection(deps.pool, target.schoolId);
  // Imports of one school's paper take turns: each compares the file with what the previous one wrote.
  return withAdvisoryLock(deps.pool, lockKey(connectionId), () => applyFile(deps, { connectionId, target, file, lessons, actor: input.actor }));
}

async function applyFile(
  deps: { pool: Pool; clock: Clock },
  o: { connectionId: string; target: PageTarget; file: PaperFile; lessons: Map<string, PageLesson>; actor: string },
): Promise<PaperImportResult> {
  const existing = await readSourceCells(deps.pool, o.connectionId, o.file.lessonIds, o.file.pupilIds);
  const plan = planImport(o.file, existing, o.lessons);
  await linkRefs(deps.pool, o.connectionId, o.target, o.file, o.lessons);
  const result = await applyBatch(deps.pool, deps.clock, {
    connectionId: o.connectionId, stream: 'paper', records: plan.records, goneIds: plan.goneIds, actor: o.actor,
  });
  // A record the journal refused (rare: the file was checked) rejects its cell, counted once.
  const failed = new Set<string>();
  for (const r of result.rejected) {
    const address = plan.addresses[r.index] ?? 'file';
    plan.rejections.push({ cell: address, reason: `${address}: ${r.reason}` });
    const status = plan.statuses.get(address);
    if (status && !failed.has(address)) {
      plan.counts[status]--;
      plan.counts.rejected++;
    }
    failed.add(address);
  }
  return { connectionId: o.connectionId, cells: plan.counts, rejections: plan.rejections, events: result.events };
}

/** A 52-bit advisory lock key naming the paper connection's imports. */
function lockKey(connectionId: string): number {
  return Number.parseInt(createHash('md5').update(`paper-import:${connectionId}`).digest('hex').slice(0, 13), 16);
}

async function readPaperFile(format: PaperFormat, body: Buffer, subjectName: string): Promise<PaperFile> {
  if (format === 'csv') return interpretTables(readCsv(body), null, sheetNameOf(subjectName));
  const { left, right, sheet } = await readXlsx(body, subjectName);
  return interpretTables(left, right, sheet);
}

/** The file must be this class's and subject's page: its marker, and every lesson and pupil id in it. */
async function checkIds(pool: Pool, target: PageTarget, file: PaperFile): Promise<Map<string, PageLesson>> {
  if (file.classId !== target.classId) throw new PaperFileError(`the file is the template of another class (${file.classId}), not of class ${target.classId}`);
  if (file.subjectId !== target.subjectId) throw new PaperFileError(`the file is the template of another subject (${file.subjectId}), not of «${target.subjectName}»`);
  const lessons = new Map((await readLessons(pool, target)).map((l) => [l.id, l]));
  const unknownLessons = file.lessonIds.filter((id) => !lessons.has(id));
  if (unknownLessons.length > 0) throw new PaperFileError(`${unknownLessons.length} lesson id(s) of the file are not lessons of this class and subject: ${unknownLessons.slice(0, 3).join(', ')}`);
  const pupils = new Set((await readPupils(pool, target)).map((p) => p.id));
  const unknownPupils = file.pupilIds.filter((id) => !pupils.has(id));
  if (unknownPupils.length > 0) throw new PaperFileError(`${unknownPupils.length} pupil id(s) of the file are not pupils of this class: ${unknownPupils.slice(0, 3).join(', ')}`);
  return lessons;
}

/**
 * The file names canonical rows by their ids: the paper source knows them under those ids (an external
 * ref whose external id is the canonical id), beside any refs it had (the demo's generator ids). Written
 * once (ON CONFLICT DO NOTHING keeps an earlier ref's digest, so an unchanged lesson stays unchanged).
 */
async function linkRefs(pool: Pool, connectionId: string, target: PageTarget, file: PaperFile, lessons: Map<string, PageLesson>): Promise<void> {
  const groups = [...new Set(file.lessonIds.map((id) => lessons.get(id)!.groupId))];
  const refs: Array<[string, string[]]> = [['person', file.pupilIds], ['lesson', file.lessonIds], ['class', groups], ['subject', [target.subjectId]]];
  await pool.query(
    `INSERT INTO external_ref (connection_id, entity_type, external_id, canonical_id, payload_hash)
     SELECT $1, u.entity_type, u.id, u.id::uuid, 0 FROM unnest($2::text[], $3::text[]) AS u(entity_type, id)
     ON CONFLICT (connection_id, entity_type, external_id) DO UPDATE SET gone_at = NULL WHERE external_ref.gone_at IS NOT NULL`,
    [connectionId, refs.flatMap(([type, ids]) => ids.map(() => type)), refs.flatMap(([, ids]) => ids)],
  );
}
