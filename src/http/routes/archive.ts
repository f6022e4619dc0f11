import { Router, type Response } from 'express';
import { z } from 'zod';
import { accessClass, seesSubject, visibilityOf } from '../../auth/access.js';
import { recordAudit } from '../../auth/audit.js';
import { actorOf, permit, schoolsAskedFor, type Caller } from '../../auth/caller.js';
import { verifyArchive } from '../../archive/check.js';
import {
  backupClose, confirmClose, listCloses, lockClose, printClose, readClose, sealClose, signOffClose, startClose, type CloseDeps, type ConfirmStep,
} from '../../archive/close.js';
import { ARCHIVE_KINDS, listArchive, readArchiveItem, type ArchiveItemView, type ArchiveKind } from '../../archive/store.js';
import type { Pool } from '../../db/pool.js';
import { sealOwner, verifyPageCode, type PageVerdict } from '../../archive/verify.js';
import { ForbiddenError, NotFoundError } from '../../lib/errors.js';
import { callerOf, optionalCallerOf } from '../caller.js';
import { parseRequest } from '../errors.js';

const PeriodParams = z.object({ schoolId: z.uuid(), periodId: z.uuid() });
const SchoolParams = z.object({ schoolId: z.uuid() });
/** The bodies of the lock and the sign-off (an override's reason) and of a confirmation; the dashboard's forms parse theirs with them too. */
export const Override = z.strictObject({ override: z.string().trim().min(3).max(1000).optional() });
export const ConfirmBody = z.strictObject({
  step: z.enum(['finals', 'pages', 'class']),
  classId: z.uuid(),
  subjectId: z.uuid().optional(),
  note: z.string().max(1000).optional(),
});
const SealParams = z.object({ code: z.string().min(1).max(40) });
const SealQuery = z.object({ d: z.string().regex(/^[0-9a-f]{64}$/, 'the page digest: 64 hex digits').optional() });
const ArchiveQuery = z.object({
  school: z.uuid().optional(),
  kind: z.enum(ARCHIVE_KINDS).optional(),
  period: z.uuid().optional(),
  class: z.uuid().optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().regex(/^[^|]{1,40}\|[0-9a-f-]{36}$/, 'a cursor from a previous page').optional(),
});
const ItemParams = z.object({ id: z.uuid() });
const PrintBody = z.strictObject({ classIds: z.array(z.uuid()).max(100).optional() });

export type ArchiveRouterDeps = Omit<CloseDeps, 'pool' | 'clock'> & Pick<CloseDeps, 'pool' | 'clock'>;

/**
 * The period close, step by step (archive/close.ts), the verification of a printout by its code, and the
 * archive. Deputies (and the director) run the close (`periods:close`); teachers confirm their subjects'
 * pages and class teachers their class (`periods:confirm`, within their own scope); only the director
 * signs off (or an API key with `periods:close`, for a school's own script). A printout's code is checked
 * by anyone holding the printout: without credentials the answer says whether it matches and where it
 * changed (row number, date), no names and no values; signed in with access to the class, it says whose
 * cell changed, from what to what, and the history events (a read recorded in the audit log).
 */
export function archiveRouter(deps: ArchiveRouterDeps): Router {
  const router = Router();
  const { pool, clock } = deps;
  const closing = (res: Response, schoolId: string) => closerOf(callerOf(res), schoolId);

  router.get('/v1/schools/:schoolId/period-closes', async (req, res) => {
    const { schoolId } = parseRequest(SchoolParams, req.params, 'path');
    permit(callerOf(res), schoolId, 'periods:confirm');
    res.json({ data: await listCloses(pool, schoolId) });
  });
  router.get('/v1/schools/:schoolId/periods/:periodId/close', async (req, res) => {
    const { schoolId, periodId } = parseRequest(PeriodParams, req.params, 'path');
    permit(callerOf(res), schoolId, 'periods:confirm');
    res.json(await readClose(pool, schoolId, periodId));
  });
  router.post('/v1/schools/:schoolId/periods/:periodId/close', async (req, res) => {
    const { schoolId, periodId } = parseRequest(PeriodParams, req.params, 'path');
    const actor = closing(res, schoolId);
    res.status(201).json(await startClose(deps, { schoolId, periodId, actor }));
  });
  router.post('/v1/schools/:schoolId/periods/:periodId/close/lock', async (req, res) => {
    const { schoolId, periodId } = parseRequest(PeriodParams, req.params, 'path');
    const actor = closing(res, schoolId);
    const body = parseRequest(Override, req.body ?? {}, 'body');
    res.json(await lockClose(deps, { schoolId, periodId, actor, override: body.override }));
  });
  router.post('/v1/schools/:schoolId/periods/:periodId/close/seal', async (req, res) => {
    const { schoolId, periodId } = parseRequest(PeriodParams, req.params, 'path');
    const actor = closing(res, schoolId);
    res.json(await sealClose(deps, { schoolId, periodId, actor }));
  });
  router.post('/v1/schools/:schoolId/periods/:periodId/close/print', async (req, res) => {
    const { schoolId, periodId } = parseRequest(PeriodParams, req.params, 'path');
    const actor = closing(res, schoolId);
    const { classIds } = parseRequest(PrintBody, req.body ?? {}, 'body');
    res.json(await printClose(deps, { schoolId, periodId, actor, classIds }));
  });
  router.post('/v1/schools/:schoolId/periods/:periodId/close/backup', async (req, res) => {
    const { schoolId, periodId } = parseRequest(PeriodParams, req.params, 'path');
    const actor = closing(res, schoolId);
    res.json(await backupClose(deps, { schoolId, periodId, actor }));
  });
  router.post('/v1/schools/:schoolId/periods/:periodId/close/confirm', async (req, res) => {
    const { schoolId, periodId } = parseRequest(PeriodParams, req.params, 'path');
    const caller = callerOf(res);
    permit(caller, schoolId, 'periods:confirm');
    const body = parseRequest(ConfirmBody, req.body ?? {}, 'body');
    await mayConfirm(pool, caller, schoolId, body);
    res.json(await confirmClose(deps, { schoolId, periodId, actor: actorOf(caller), ...body }));
  });
  router.post('/v1/schools/:schoolId/periods/:periodId/close/sign-off', async (req, res) => {
    const { schoolId, periodId } = parseRequest(PeriodParams, req.params, 'path');
    const caller = callerOf(res);
    const actor = signerOf(caller, schoolId);
    const body = parseRequest(Override, req.body ?? {}, 'body');
    res.json(await signOffClose(deps, { schoolId, periodId, actor, override: body.override }));
  });

  router.get('/v1/seals/:code', async (req, res) => {
    const { code } = parseRequest(SealParams, req.params, 'path');
    const { d } = parseRequest(SealQuery, req.query, 'query');
    const caller = optionalCallerOf(res);
    const detailed = caller ? await seesDetail(caller, code) : false;
    const verdict = await verifyPageCode(pool, code, d);
    if (detailed) {
      await recordAudit(pool, clock, [verdict.schoolId], {
        actor: actorOf(caller!), action: 'seal.verify', objectType: 'class', objectIds: [verdict.class.id], detail: { code: verdict.code, status: verdict.status },
      });
    }
    const body = detailed ? verdict : publicVerdict(verdict);
    res.format({
      'application/json': () => res.json(body),
      'text/html': () => res.type('html').send(verdictPage(body)),
      default: () => res.json(body),
    });
  });

  /** Whether the caller may see the names and values behind a code: staff with the class's journal (its subject's, for a teacher). */
  const seesDetail = async (caller: Caller, code: string): Promise<boolean> => {
    const owner = await sealOwner(pool, code).catch(() => undefined);
    if (!owner || caller.kind === 'parent') return false;
    const access = await accessClass(pool, caller, owner.classId, 'journal:read').catch(() => undefined);
    return access !== undefined && access.view !== 'children';
  };

  router.get('/v1/archive', async (req, res) => {
    const q = parseRequest(ArchiveQuery, req.query, 'query');
    const schoolIds = schoolsAskedFor(callerOf(res), 'archive:read', q.school);
    res.json(await archivePage(pool, { schoolIds, kind: q.kind, periodId: q.period, classId: q.class, limit: q.limit, cursor: q.cursor }));
  });
  router.get('/v1/archive/:id', async (req, res) => {
    const { id } = parseRequest(ItemParams, req.params, 'path');
    const item = await readArchiveItem(pool, id);
    permit(callerOf(res), item.schoolId, 'archive:read', `archive item ${id}`);
    res.json(item);
  });
  router.get('/v1/archive/:id/content', async (req, res) => {
    const { id } = parseRequest(ItemParams, req.params, 'path');
    const caller = callerOf(res);
    const grant = permit(caller, (await readArchiveItem(pool, id)).schoolId, 'archive:read', `archive item ${id}`);
    if (!(await visibilityOf(pool, grant)).whole) throw new NotFoundError(`archive item ${id}`);
    const item = await readArchiveItem(pool, id, 'content');
    await recordAudit(pool, clock, [item.schoolId], { actor: actorOf(caller), action: 'archive.download', objectType: 'archive_item', objectIds: [id], detail: { kind: item.kind } });
    res.setHeader('content-disposition', `attachment; filename*=UTF-8''${encodeURIComponent(item.filename)}`);
    res.setHeader('x-content-sha256', item.sha256);
    res.type(item.mediaType).send(item.content);
  });
  router.post('/v1/schools/:schoolId/archive/verify', async (req, res) => {
    const { schoolId } = parseRequest(SchoolParams, req.params, 'path');
    permit(callerOf(res), schoolId, 'archive:read');
    res.json(await verifyArchive(pool, schoolId));
  });
  return router;
}

/** Who runs the close's steps: `periods:close` in the school (else 404/403); the actor recorded with each step. */
export function closerOf(caller: Caller, schoolId: string): string {
  permit(caller, schoolId, 'periods:close');
  return actorOf(caller);
}

/** Who signs the close off: the director (or an API key with `periods:close`, for a school's own script). */
export function signerOf(caller: Caller, schoolId: string): string {
  const grant = permit(caller, schoolId, 'periods:close');
  if (caller.kind !== 'api' && !grant.roles.includes('director')) throw new ForbiddenError('the director signs the close off');
  return actorOf(caller);
}

/** A teacher confirms their own subjects' pages; a class teacher certifies their own class (the class outside the caller's scope: 404). */
export async function mayConfirm(pool: Pool, caller: Caller, schoolId: string, body: { step: ConfirmStep; classId: string; subjectId?: string }): Promise<void> {
  const access = await accessClass(pool, caller, body.classId, 'periods:confirm', schoolId);
  if (body.step === 'class' ? access.view !== 'whole' : body.subjectId !== undefined && !seesSubject(access, body.classId, body.subjectId)) {
    throw new ForbiddenError(body.step === 'class' ? 'only the class teacher certifies the class' : 'only the subject\'s teacher confirms its pages');
  }
}

/** One page of the archive, newest first, and the cursor of the next (`createdAt|id` of the last item), as GET /v1/archive answers. */
export async function archivePage(
  pool: Pool, q: { schoolIds: string[] | undefined; kind?: ArchiveKind; periodId?: string; classId?: string; limit: number; cursor?: string },
): Promise<{ data: ArchiveItemView[]; nextCursor: string | null }> {
  const [at, id] = q.cursor ? (q.cursor.split('|') as [string, string]) : [];
  const items = await listArchive(pool, { schoolIds: q.schoolIds, kind: q.kind, periodId: q.periodId, classId: q.classId, limit: q.limit + 1, before: at && id ? { createdAt: at, id } : undefined });
  const page = items.slice(0, q.limit);
  const last = page[page.length - 1];
  return { data: page, nextCursor: items.length > q.limit && last ? `${last.createdAt}|${last.id}` : null };
}

/** What anyone holding the printout may learn: whether it matches, and where it changed — no names, no values. */
export function publicVerdict(v: PageVerdict): Omit<PageVerdict, 'changes' | 'schoolId' | 'sealId' | 'chainSeq'> & { changes: Array<Record<string, unknown>> } {
  const { schoolId: _s, sealId: _i, chainSeq: _c, changes, ...rest } = v;
  return {
    ...rest,
    changes: changes.map((c) => {
      const at: Record<string, unknown> = { kind: c.kind };
      if ('pupil' in c) at.row = c.pupil.row;
      if ('lesson' in c) Object.assign(at, { date: c.lesson.date, slot: c.lesson.slot });
      if (c.kind === 'lesson' || c.kind === 'header') at.field = c.field;
      return at;
    }),
  };
}

const esc = (s: unknown) => String(s ?? '').replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
const STATUS_TEXT: Record<PageVerdict['status'], string> = {
  matches: 'Страница совпадает с электронным журналом',
  changed: 'Страница НЕ совпадает с электронным журналом: после печати были изменения',
  not_this_printout: 'Эта распечатка не совпадает с тем, что было заверено печатью',
};
const CHANGE_TEXT: Record<string, string> = {
  cell: 'отметка или пропуск', period_mark: 'итоговая отметка', lesson: 'запись урока', lesson_added: 'добавлен урок', lesson_removed: 'удалён урок',
  pupil_added: 'добавлен обучающийся', pupil_removed: 'убран обучающийся', header: 'заголовок',
};

/** The page a phone shows when the QR code is opened: the same verdict as the JSON. */
function verdictPage(v: ReturnType<typeof publicVerdict> | PageVerdict): string {
  const rows = v.changes.map((c) => {
    const x = c as Record<string, unknown> & { pupil?: { name: string; row: number }; lesson?: { date: string }; sealed?: unknown; now?: unknown };
    const where = [x.pupil ? `${x.pupil.row}. ${x.pupil.name}` : x.row ? `строка ${x.row}` : '', x.lesson?.date ?? x.date ?? ''].filter(Boolean).join(', ');
    const what = 'sealed' in x ? `${esc(x.sealed)} → ${esc(x.now)}` : '';
    return `<tr><td>${esc(CHANGE_TEXT[String(x.kind)] ?? x.kind)}${x.field ? ` (${esc(x.field)})` : ''}</td><td>${esc(where)}</td><td>${what}</td></tr>`;
  }).join('');
  return `<!doctype html><html lang="ru"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Проверка печати ${esc(v.code)}</title>
<style>body{font:16px/1.4 system-ui,sans-serif;margin:1rem;max-width:48rem}.ok{color:#14632d}.bad{color:#a11}td,th{padding:.25rem .5rem;border-bottom:1px solid #ddd;text-align:left}</style></head>
<body><h1>Печать ${esc(v.code)}</h1>
<p class="${v.status === 'matches' ? 'ok' : 'bad'}"><strong>${esc(STATUS_TEXT[v.status])}</strong></p>
<p>${esc(v.class.name)}${v.subject ? `, ${esc(v.subject.name)}` : ' — титульный лист'}, ${esc(v.period.title)}. Заверено ${esc(v.sealedAt.slice(0, 10))} (печать ${esc(v.sealCode)}).</p>
${rows ? `<table><thead><tr><th>Что</th><th>Где</th><th>Было → стало</th></tr></thead><tbody>${rows}</tbody></table>` : ''}
${v.changedPages.length ? `<p>Изменённые страницы: ${v.changedPages.map((p) => `${esc(p.subject.name)} (${esc(p.code)})`).join(', ')}</p>` : ''}
</body></html>`;
}
