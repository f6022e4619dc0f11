import { Router } from 'express';
import { z } from 'zod';
import { withTransaction, type Pool } from '../../db/pool.js';
import { readCompliance } from '../../checks/compliance.js';
import {
  DiscrepancyPatchSchema, KINDS, STATUSES, getDiscrepancy, listDiscrepancies, patchDiscrepancy, type DiscrepancyFilter, type DiscrepancyPatch, type DiscrepancyView,
} from '../../checks/discrepancies.js';
import { ProfileSettingsSchema, presets, resolveProfile } from '../../checks/profiles.js';
import { runChecks } from '../../checks/service.js';
import type { Clock } from '../../lib/clock.js';
import { NotFoundError, ValidationError } from '../../lib/errors.js';
import { IsoDateSchema } from '../../ports/records.js';
import { parseRequest } from '../errors.js';
import { callerOf } from '../caller.js';
import { seesFact, visibilityOf } from '../../auth/access.js';
import { actorOf, permit, schoolsAskedFor, type Caller, type Permission } from '../../auth/caller.js';

const Id = z.object({ id: z.uuid() });
const SchoolId = z.object({ schoolId: z.uuid() });
const ListQuery = z.object({
  school: z.uuid().optional(),
  class: z.uuid().optional(),
  subject: z.uuid().optional(),
  assignee: z.uuid().optional(),
  rule: z.string().regex(/^[a-z][a-z0-9_]*$/).optional(),
  status: z.string().optional().transform((s, ctx) => {
    if (s === undefined) return undefined;
    const list = s.split(',').map((x) => x.trim()).filter(Boolean);
    const bad = list.filter((x) => !(STATUSES as readonly string[]).includes(x));
    if (bad.length > 0) ctx.addIssue({ code: 'custom', message: `unknown status ${bad.join(', ')}; one of ${STATUSES.join(', ')}` });
    return list as Array<(typeof STATUSES)[number]>;
  }),
  kind: z.enum(KINDS).optional(),
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
const ComplianceQuery = z.object({ period: z.uuid().optional(), from: IsoDateSchema.optional(), to: IsoDateSchema.optional() });
const ChecksBody = z.strictObject({ from: IsoDateSchema.optional(), to: IsoDateSchema.optional(), rules: z.array(z.string()).max(100).optional() });
const ProfileBody = z.strictObject({ preset: z.string().max(100).optional(), settings: ProfileSettingsSchema.optional() });


/**
 * The discrepancy inbox (list, one, act on one), a school's compliance view, running its checks now,
 * and its regulation profile.
 */
export function discrepanciesRouter(pool: Pool, clock: Clock): Router {
  const router = Router();
  const visible = (caller: Caller, id: string, permission: Permission) => visibleDiscrepancy(pool, caller, id, permission);
  router.get('/v1/discrepancies', async (req, res) => {
    const q = parseRequest(ListQuery, req.query, 'query');
    const { schoolIds, visibleTo } = await inboxOf(pool, callerOf(res), q.school);
    res.json(await listDiscrepancies(pool, {
      schoolId: q.school, schoolIds, visibleTo, classId: q.class, subjectId: q.subject, assigneeId: q.assignee, rule: q.rule, status: q.status,
      kind: q.kind, cursor: q.cursor, limit: q.limit,
    }));
  });
  router.get('/v1/discrepancies/:id', async (req, res) => {
    res.json(await visible(callerOf(res), parseRequest(Id, req.params, 'path').id, 'discrepancies:read'));
  });
  router.patch('/v1/discrepancies/:id', async (req, res) => {
    const { id } = parseRequest(Id, req.params, 'path');
    res.json(await actOnDiscrepancy(pool, callerOf(res), id, () => parseRequest(DiscrepancyPatchSchema, req.body ?? {}, 'body')));
  });
  router.get('/v1/schools/:schoolId/compliance', async (req, res) => {
    const { schoolId } = parseRequest(SchoolId, req.params, 'path');
    permit(callerOf(res), schoolId, 'compliance:read');
    const q = parseRequest(ComplianceQuery, req.query, 'query');
    if ((q.from === undefined) !== (q.to === undefined)) throw new ValidationError('query: give both from and to, or a period');
    res.json(await readCompliance(pool, { schoolId, periodId: q.period, from: q.from, to: q.to }, clock.now()));
  });
  router.post('/v1/schools/:schoolId/checks', async (req, res) => {
    const { schoolId } = parseRequest(SchoolId, req.params, 'path');
    permit(callerOf(res), schoolId, 'checks:run');
    const body = parseRequest(ChecksBody, req.body ?? {}, 'body');
    res.json(await runChecks(pool, clock, { schoolId, ...body }));
  });
  router.get('/v1/schools/:schoolId/profile', async (req, res) => {
    const { schoolId } = parseRequest(SchoolId, req.params, 'path');
    permit(callerOf(res), schoolId, 'compliance:read');
    res.json(await readProfile(pool, schoolId));
  });
  router.put('/v1/schools/:schoolId/profile', async (req, res) => {
    const { schoolId } = parseRequest(SchoolId, req.params, 'path');
    permit(callerOf(res), schoolId, 'profile:manage');
    const body = parseRequest(ProfileBody, req.body ?? {}, 'body');
    if (body.preset !== undefined && !presets().has(body.preset)) {
      throw new ValidationError(`body.preset: unknown preset "${body.preset}"; one of ${[...presets().keys()].join(', ')}`);
    }
    await withTransaction(pool, async (client) => {
      const { rowCount } = await client.query(
        `UPDATE school SET regulation_profile = COALESCE($2, regulation_profile), regulation_settings = COALESCE($3::jsonb, regulation_settings),
                updated_at = now() WHERE id = $1`,
        [schoolId, body.preset ?? null, body.settings === undefined ? null : JSON.stringify(body.settings)],
      );
      if (rowCount === 0) throw new NotFoundError(`school ${schoolId}`);
    });
    res.json(await readProfile(pool, schoolId));
  });
  return router;
}

/** The discrepancy if the caller may `permission` it: its school's staff, or the teacher it concerns (else 404). */
export async function visibleDiscrepancy(pool: Pool, caller: Caller, id: string, permission: Permission): Promise<DiscrepancyView> {
  const d = await getDiscrepancy(pool, id);
  const grant = permit(caller, d.schoolId, permission, `discrepancy ${id}`);
  if (!seesFact(await visibilityOf(pool, grant), { classId: d.classId, subjectId: d.subjectId, assigneeId: d.assignee?.id })) throw new NotFoundError(`discrepancy ${id}`);
  return d;
}

/**
 * Acts on one discrepancy as the caller, if it may (`discrepancies:write` on a discrepancy it sees; else
 * 404). The patch is read after the access check, so a foreign id answers 404 whatever the body says.
 */
export async function actOnDiscrepancy(pool: Pool, caller: Caller, id: string, readPatch: () => DiscrepancyPatch): Promise<DiscrepancyView> {
  await visibleDiscrepancy(pool, caller, id, 'discrepancies:write');
  return patchDiscrepancy(pool, id, readPatch(), actorOf(caller));
}

/** Whose discrepancies a list shows: the filter's `schoolIds` and `visibleTo` (listDiscrepancies). */
export type Inbox = Pick<DiscrepancyFilter, 'schoolIds' | 'visibleTo'>;

/**
 * Whose discrepancies a list shows: the schools the caller sees whole, or — in the one school asked for
 * (or its only one) — a teacher's own inbox.
 */
export async function inboxOf(pool: Pool, caller: Caller, school: string | undefined): Promise<Inbox> {
  const schools = schoolsAskedFor(caller, 'discrepancies:read', school);
  if (schools === undefined) return { schoolIds: undefined, visibleTo: undefined };
  const views = await Promise.all(schools.map(async (s) => ({ s, v: await visibilityOf(pool, permit(caller, s, 'discrepancies:read')) })));
  const whole = views.filter((x) => x.v.whole).map((x) => x.s);
  const own = views.length === 1 ? views[0]!.v : undefined;
  if (whole.length > 0 || !own || own.whole) return { schoolIds: whole, visibleTo: undefined };
  return { schoolIds: schools, visibleTo: { personId: own.scope.personId, classes: [...own.scope.classes], pairs: [...own.scope.pairs] } };
}

async function readProfile(pool: Pool, schoolId: string): Promise<unknown> {
  const { rows } = await pool.query<{ preset: string; settings: unknown }>(
    'SELECT regulation_profile AS preset, regulation_settings AS settings FROM school WHERE id = $1', [schoolId],
  );
  const row = rows[0];
  if (!row) throw new NotFoundError(`school ${schoolId}`);
  return { preset: row.preset, settings: row.settings, profile: resolveProfile(row.preset, row.settings), presets: [...presets().keys()] };
}
