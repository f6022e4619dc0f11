import { Router } from 'express';
import { z } from 'zod';
import { actorOf, grantIn, type Caller } from '../../auth/caller.js';
import type { BackupRequests } from '../../archive/backup-nightly.js';
import { readBackupRun, readBackupStatus, readDrill } from '../../archive/backup-status.js';
import type { BackupTarget } from '../../archive/backup-targets.js';
import type { Pool } from '../../db/pool.js';
import type { Clock } from '../../lib/clock.js';
import { ForbiddenError, ValidationError } from '../../lib/errors.js';
import { callerOf } from '../caller.js';
import { parseRequest } from '../errors.js';

export interface BackupsRouterDeps {
  pool: Pool;
  clock: Clock;
  /** The backup queue (archive/backup-nightly.ts). */
  jobs: BackupRequests;
  /** The configured targets, checked against the schools' regions (as each backup checks them). */
  targets: () => Promise<BackupTarget[]>;
}

const StatusQuery = z.object({ limit: z.coerce.number().int().min(1).max(200).default(20) });
const IdParams = z.object({ id: z.uuid() });
const DrillBody = z.strictObject({ target: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,39}$/, 'a target name from BACKUP_TARGETS').optional() });

/**
 * The backups over HTTP: their status (runs, drills, what each target holds), a backup or a restore drill
 * asked for by hand (202: queued; the run's or the drill's URL to follow). A backup holds every school of
 * the database, so these need `backups:manage` in every one of them: a region-level key, or an
 * administrator of every school (on a one-school deployment, its IT administrator).
 */
export function backupsRouter(deps: BackupsRouterDeps): Router {
  const router = Router();
  const { pool } = deps;
  const allowed = async (caller: Caller) => mayManageBackups(pool, caller);

  router.get('/v1/backups', async (req, res) => {
    await allowed(callerOf(res));
    const { limit } = parseRequest(StatusQuery, req.query, 'query');
    res.json(await readBackupStatus(pool, await deps.targets(), { limit, nightly: deps.jobs.nightly, now: deps.clock.now() }));
  });
  router.post('/v1/backups', async (_req, res) => {
    const caller = callerOf(res);
    await allowed(caller);
    const id = await deps.jobs.requestBackup(actorOf(caller));
    res.status(202).location(`/v1/backups/runs/${id}`).json(await readBackupRun(pool, id));
  });
  router.get('/v1/backups/runs/:id', async (req, res) => {
    await allowed(callerOf(res));
    const { id } = parseRequest(IdParams, req.params, 'path');
    res.json(await readBackupRun(pool, id));
  });
  router.post('/v1/backups/restore-drills', async (req, res) => {
    const caller = callerOf(res);
    await allowed(caller);
    const { target } = parseRequest(DrillBody, req.body ?? {}, 'body');
    const id = await queueDrill(deps, actorOf(caller), target);
    res.status(202).location(`/v1/backups/restore-drills/${id}`).json(await readDrill(pool, id));
  });
  router.get('/v1/backups/restore-drills/:id', async (req, res) => {
    await allowed(callerOf(res));
    const { id } = parseRequest(IdParams, req.params, 'path');
    res.json(await readDrill(pool, id));
  });
  return router;
}

/** Queues a restore drill, from one named target when asked (a name not in BACKUP_TARGETS is a 400); its id. The API's and the dashboard's. */
export async function queueDrill(deps: Pick<BackupsRouterDeps, 'jobs' | 'targets'>, actor: string, target?: string): Promise<string> {
  if (target && !(await deps.targets()).some((t) => t.name === target)) throw new ValidationError(`no backup target named ${target}`);
  return deps.jobs.requestDrill(actor, target);
}

/** `backups:manage` in every school of the database (a region-level key's scope counts for all); else 403 saying why. */
export async function mayManageBackups(pool: Pool, caller: Caller): Promise<void> {
  if (caller.kind === 'api' && caller.allSchools && caller.scopes.has('backups:manage')) return;
  const { rows } = await pool.query<{ id: string }>('SELECT id::text FROM school');
  const missing = rows.filter((s) => !grantIn(caller, s.id)?.permissions.has('backups:manage'));
  if (rows.length > 0 && missing.length === 0) return;
  throw new ForbiddenError('a backup holds every school of this deployment: managing backups needs backups:manage in all of them (a region-level key, or an administrator of every school)');
}
