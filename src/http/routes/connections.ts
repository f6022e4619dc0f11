import { Router } from 'express';
import { z } from 'zod';
import { NotFoundError } from '../../lib/errors.js';
import type { ConnectionService, ConnectionView } from '../../sync/connections.js';
import type { EnqueueResult, SyncQueue } from '../../sync/queue.js';
import { listAlerts } from '../../sync/alerts.js';
import { getRun, listRuns, RangeSchema, type RunMode, type RunView } from '../../sync/runs.js';
import type { Pool } from '../../db/pool.js';
import { parseRequest } from '../errors.js';
import { callerOf } from '../caller.js';
import { permit, schoolsAskedFor, type Caller, type Permission } from '../../auth/caller.js';

const Id = z.object({ id: z.uuid() });
const Config = z.record(z.string(), z.unknown());
const Schedule = z.string().min(1).max(100).nullable();
const CreateBody = z.object({
  schoolId: z.uuid(), platform: z.string().min(1), title: z.string().min(1).max(200).optional(), config: Config,
  schedule: Schedule.optional(), enabled: z.boolean().optional(), check: z.boolean().optional(),
}).strict();
const PatchBody = z.object({ title: z.string().min(1).max(200).optional(), config: Config.optional(), schedule: Schedule.optional(), enabled: z.boolean().optional() }).strict();
const SyncBody = z.object({ mode: z.enum(['incremental', 'full', 'range']).default('incremental'), range: RangeSchema.optional(), force: z.boolean().default(false) }).strict()
  .refine((b) => (b.mode === 'range') === (b.range !== undefined), { message: 'a range run names its days in `range` ({from, to}), and only a range run does', path: ['range'] });
const RunsQuery = z.object({
  connection: z.uuid().optional(),
  status: z.enum(['queued', 'running', 'succeeded', 'partial', 'failed']).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

const AlertsQuery = z.object({
  connection: z.uuid().optional(),
  open: z.enum(['true', 'false']).default('true').transform((v) => v === 'true'),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

/** The connection, if the caller may `permission` in its school; a foreign one is 404 like an unknown one. */
export async function visibleConnection(connections: ConnectionService, caller: Caller, id: string, permission: Permission = 'connections:manage'): Promise<ConnectionView> {
  const connection = await connections.get(id);
  permit(caller, connection.schoolId, permission, `connection ${id}`);
  return connection;
}

/** A sync run, if the caller manages its connection's school; else 404 like an unknown one. */
export async function visibleRun(pool: Pool, connections: ConnectionService, caller: Caller, id: string): Promise<RunView> {
  const run = await getRun(pool, id);
  if (!run) throw new NotFoundError(`sync run ${id}`);
  const connection = await connections.get(run.connectionId).catch(() => undefined);
  if (!connection) throw new NotFoundError(`sync run ${id}`);
  permit(caller, connection.schoolId, 'connections:manage', `sync run ${id}`);
  return run;
}

/** "Sync now": the caller may run syncs of the connection's school, the connection is syncable, then a run is queued (or the waiting one returned). */
export async function triggerSync(
  deps: Pick<ConnectionRoutesDeps, 'connections' | 'queue'>, caller: Caller, id: string,
  request: { mode: RunMode; range?: { from: string; to: string }; force?: boolean },
): Promise<EnqueueResult> {
  await visibleConnection(deps.connections, caller, id, 'sync:run');
  await deps.connections.assertSyncable(id, { force: request.force });
  return deps.queue.enqueue(id, 'manual', request.mode, { range: request.range });
}

export interface ConnectionRoutesDeps {
  pool: Pool;
  connections: ConnectionService;
  queue: SyncQueue;
}

/**
 * /v1/connections, /v1/sync-runs and /v1/alerts, for the schools' administrators (connections:manage,
 * sync:run). Secrets go in, never out (`secretsSet` names the keys that are set).
 */
export function connectionsRouter(deps: ConnectionRoutesDeps): Router {
  const router = Router();
  const visible = (caller: Caller, id: string, permission: Permission = 'connections:manage') => visibleConnection(deps.connections, caller, id, permission);
  router.get('/v1/connections', async (req, res) => {
    const { school } = parseRequest(z.object({ school: z.uuid().optional() }), req.query, 'query');
    const schools = schoolsAskedFor(callerOf(res), 'connections:manage', school);
    const all = await deps.connections.list({ schoolId: school });
    res.json({ data: schools ? all.filter((c) => schools.includes(c.schoolId)) : all });
  });
  router.post('/v1/connections', async (req, res) => {
    const { check, ...input } = parseRequest(CreateBody, req.body, 'body');
    permit(callerOf(res), input.schoolId, 'connections:manage');
    res.status(201).json(await deps.connections.create(input, { check }));
  });
  router.get('/v1/platforms', (_req, res) => {
    res.json({ data: deps.connections.platforms() });
  });
  router.get('/v1/connections/:id', async (req, res) => {
    res.json(await visible(callerOf(res), parseRequest(Id, req.params, 'path').id));
  });
  router.patch('/v1/connections/:id', async (req, res) => {
    const { id } = parseRequest(Id, req.params, 'path');
    await visible(callerOf(res), id);
    res.json(await deps.connections.update(id, parseRequest(PatchBody, req.body, 'body')));
  });
  router.delete('/v1/connections/:id', async (req, res) => {
    const { id } = parseRequest(Id, req.params, 'path');
    await visible(callerOf(res), id);
    await deps.connections.delete(id);
    res.status(204).end();
  });
  router.post('/v1/connections/:id/sync', async (req, res) => {
    const { id } = parseRequest(Id, req.params, 'path');
    await visible(callerOf(res), id, 'sync:run');
    const { mode, range, force } = parseRequest(SyncBody, req.body ?? {}, 'body');
    const { run, created } = await triggerSync(deps, callerOf(res), id, { mode, range, force });
    res.status(created ? 202 : 200).json(run);
  });
  router.get('/v1/sync-runs', async (req, res) => {
    const query = parseRequest(RunsQuery, req.query, 'query');
    if (query.connection) await visible(callerOf(res), query.connection);
    const schoolIds = schoolsAskedFor(callerOf(res), 'connections:manage', undefined);
    res.json({ data: await listRuns(deps.pool, { connectionId: query.connection, status: query.status, limit: query.limit, schoolIds }) });
  });
  router.get('/v1/sync-runs/:id', async (req, res) => {
    const { id } = parseRequest(Id, req.params, 'path');
    res.json(await visibleRun(deps.pool, deps.connections, callerOf(res), id));
  });
  router.get('/v1/alerts', async (req, res) => {
    const query = parseRequest(AlertsQuery, req.query, 'query');
    if (query.connection) await visible(callerOf(res), query.connection);
    const schoolIds = schoolsAskedFor(callerOf(res), 'connections:manage', undefined);
    res.json({ data: await listAlerts(deps.pool, { connectionId: query.connection, open: query.open, limit: query.limit, schoolIds }) });
  });
  return router;
}
