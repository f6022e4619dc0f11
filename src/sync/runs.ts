import type { Pool, PoolClient } from '../db/pool.js';
import type { Rejection } from '../journal/context.js';
import { z } from 'zod';
import { IsoDateSchema } from '../ports/records.js';
import type { StreamResult } from './run-streams.js';

/** SyncRun rows: what ran, why, how far it got, what it changed, what it refused, how it ended. */

export type RunTrigger = 'schedule' | 'manual' | 'retry' | 'demo';
export type RunStatus = 'queued' | 'running' | 'succeeded' | 'partial' | 'failed';
/**
 * incremental: the window after the last run's end, less the look-back; full: the school year so far;
 * range: the days the run names (a past year, a month to read again), without moving the window.
 */
export type RunMode = 'incremental' | 'full' | 'range';

export interface RunView {
  id: string;
  connectionId: string;
  trigger: RunTrigger;
  mode: RunMode;
  /** The days a `range` run reads (null for the others). */
  range: { from: string; to: string } | null;
  status: RunStatus;
  scheduledFor: string | null;
  attempts: number;
  counts: Record<string, Omit<StreamResult, 'rejected' | 'stream'> & { rejected: number }>;
  rejected: Rejection[];
  progress: Record<string, { batches: number; records: number; done: boolean }>;
  requests: number;
  error: string | null;
  errorKind: string | null;
  queuedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
}

const MAX_REJECTED_KEPT = 200;

const COLUMNS = `id::text, connection_id::text AS "connectionId", trigger, mode,
  CASE WHEN range_from IS NULL THEN NULL ELSE json_build_object('from', range_from::text, 'to', range_to::text) END AS range, status, scheduled_for AS "scheduledFor", attempts,
  counts, rejected, progress, requests, error, error_kind AS "errorKind", queued_at AS "queuedAt", started_at AS "startedAt",
  finished_at AS "finishedAt"`;

type RawRun = Omit<RunView, 'scheduledFor' | 'queuedAt' | 'startedAt' | 'finishedAt' | 'durationMs'> & {
  scheduledFor: Date | null; queuedAt: Date; startedAt: Date | null; finishedAt: Date | null;
};

function view(row: RawRun): RunView {
  return {
    ...row,
    scheduledFor: row.scheduledFor?.toISOString() ?? null,
    queuedAt: row.queuedAt.toISOString(),
    startedAt: row.startedAt?.toISOString() ?? null,
    finishedAt: row.finishedAt?.toISOString() ?? null,
    durationMs: row.startedAt && row.finishedAt ? row.finishedAt.getTime() - row.startedAt.getTime() : null,
  };
}

/**
 * Inserts a queued run. A scheduled run names its period: a second insert for the same period is a
 * no-op (null), which is what makes one run per period whatever the number of schedulers.
 */
/** The days of a `range` run: real dates, in order, at most two school years. */
export const RangeSchema = z.object({ from: IsoDateSchema, to: IsoDateSchema })
  .refine((r) => r.from <= r.to, '`from` is after `to`')
  .refine((r) => Date.parse(r.to) - Date.parse(r.from) <= 2 * 366 * 86_400_000, 'a range of more than two years');

export interface RunPlan {
  /** Scheduled runs: the start of their schedule period (one run per period). */
  scheduledFor?: Date;
  /** `range` runs: the days to read. */
  range?: { from: string; to: string };
}

export async function insertRun(
  db: Pool | PoolClient, connectionId: string, trigger: RunTrigger, mode: RunMode, plan: RunPlan = {},
): Promise<string | null> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO sync_run (connection_id, trigger, mode, status, scheduled_for, range_from, range_to) VALUES ($1, $2, $3, 'queued', $4, $5, $6)
     ON CONFLICT (connection_id, scheduled_for) DO NOTHING RETURNING id::text`,
    [connectionId, trigger, mode, plan.scheduledFor ?? null, plan.range?.from ?? null, plan.range?.to ?? null],
  );
  return rows[0]?.id ?? null;
}

/**
 * The run of a job's next attempt: the job's previous run, if a dead worker left it unfinished, is
 * closed as failed, and the attempt gets a new run (trigger "retry").
 */
export async function retryRunOf(pool: Pool, jobId: string, fallbackRunId: string): Promise<string> {
  const { rows } = await pool.query<{ id: string; connection_id: string; mode: RunMode; status: RunStatus }>(
    `SELECT id::text, connection_id::text, mode, status FROM sync_run WHERE job_id = $1 OR id = $2 ORDER BY queued_at DESC LIMIT 1`,
    [jobId, fallbackRunId],
  );
  const previous = rows[0];
  if (!previous) throw new Error(`no run for sync job ${jobId}`);
  if (previous.status === 'queued' || previous.status === 'running') {
    await pool.query(
      `UPDATE sync_run SET status = 'failed', error = COALESCE(error, 'interrupted: the worker stopped'), error_kind = COALESCE(error_kind, 'transient'),
              finished_at = now() WHERE id = $1`,
      [previous.id],
    );
  }
  const { rows: created } = await pool.query<{ id: string }>(
    `INSERT INTO sync_run (connection_id, trigger, mode, status, job_id, range_from, range_to)
     SELECT connection_id, 'retry', mode, 'queued', $2, range_from, range_to FROM sync_run WHERE id = $1 RETURNING id::text`,
    [previous.id, jobId],
  );
  return created[0]!.id;
}

export async function getRun(pool: Pool, id: string): Promise<RunView | null> {
  const { rows } = await pool.query<RawRun>(`SELECT ${COLUMNS} FROM sync_run WHERE id = $1`, [id]);
  return rows[0] ? view(rows[0]) : null;
}

/** Runs, newest first; `schoolIds` (when given) keeps those of these schools' connections; `offset` skips that many (a page). */
/** Several runs at once, in no particular order (the unknown ids left out). */
export async function getRuns(pool: Pool, ids: readonly string[]): Promise<RunView[]> {
  if (ids.length === 0) return [];
  const { rows } = await pool.query<RawRun>(`SELECT ${COLUMNS} FROM sync_run WHERE id = ANY($1::uuid[])`, [ids]);
  return rows.map(view);
}

export async function listRuns(pool: Pool, filter: { connectionId?: string; status?: RunStatus; limit?: number; schoolIds?: string[]; offset?: number }): Promise<RunView[]> {
  const { rows } = await pool.query<RawRun>(
    `SELECT ${COLUMNS} FROM sync_run WHERE ($1::uuid IS NULL OR connection_id = $1) AND ($2::text IS NULL OR status = $2)
        AND ($4::uuid[] IS NULL OR connection_id IN (SELECT id FROM connection WHERE school_id = ANY($4)))
      ORDER BY queued_at DESC, id LIMIT $3 OFFSET $5`,
    [filter.connectionId ?? null, filter.status ?? null, filter.limit ?? 50, filter.schoolIds ?? null, filter.offset ?? 0],
  );
  return rows.map(view);
}

export async function markRunning(pool: Pool, id: string, jobId: string | null, attempt: number): Promise<void> {
  await pool.query(
    `UPDATE sync_run SET status = 'running', job_id = $2, attempts = $3, started_at = COALESCE(started_at, now()), error = NULL, error_kind = NULL
      WHERE id = $1`,
    [id, jobId, attempt],
  );
}

/**
 * A running run's progress. The executor sends these without waiting, on any pooled connection, so one can
 * arrive after the run's end: it then changes nothing (only a `running` run takes progress, and its request
 * count never goes down), or a finished run would show the counts of a batch before its last.
 */
export async function saveProgress(pool: Pool, id: string, progress: RunView['progress'], requests: number): Promise<void> {
  await pool.query(`UPDATE sync_run SET progress = $2, requests = GREATEST(requests, $3) WHERE id = $1 AND status = 'running'`, [id, JSON.stringify(progress), requests]);
}

export interface RunOutcome {
  status: RunStatus;
  streams: StreamResult[];
  requests: number;
  error?: string;
  errorKind?: string;
}

/** Ends a run (or, with status 'queued', an attempt that will be retried) with its counts and rejections. */
export async function finishRun(pool: Pool, id: string, outcome: RunOutcome): Promise<void> {
  const counts = Object.fromEntries(outcome.streams.map(({ stream, rejected, ...rest }) => [stream, { ...rest, rejected: rejected.length }]));
  const rejected = outcome.streams.flatMap((s) => s.rejected.map((r) => ({ stream: s.stream, ...r }))).slice(0, MAX_REJECTED_KEPT);
  await pool.query(
    `UPDATE sync_run SET status = $2, counts = $3, rejected = $4, requests = $5, error = $6, error_kind = $7,
            finished_at = CASE WHEN $2 IN ('succeeded', 'partial', 'failed') THEN now() END
      WHERE id = $1`,
    [id, outcome.status, JSON.stringify(counts), JSON.stringify(rejected), outcome.requests, outcome.error ?? null, outcome.errorKind ?? null],
  );
}
