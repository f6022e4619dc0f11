import type { Pool } from '../db/pool.js';
import type { DeadLetters, SyncQueue } from './queue.js';

/**
 * Alerts: what the school's IT administrator must look at — a connection whose credentials or
 * configuration stopped working (`auth`, `permanent`), a sync that went to the dead letters after its
 * retries (`dead_letter`). Raised by the executor, closed by the connection's next successful run.
 */
export type AlertKind = 'auth' | 'permanent' | 'dead_letter';

export interface AlertView {
  id: string;
  connectionId: string;
  runId: string | null;
  kind: AlertKind;
  message: string;
  createdAt: string;
  resolvedAt: string | null;
}

export async function raiseAlert(pool: Pool, connectionId: string, runId: string | null, kind: AlertKind, message: string): Promise<void> {
  await pool.query('INSERT INTO alert (connection_id, run_id, kind, message) VALUES ($1, $2, $3, $4)', [connectionId, runId, kind, message]);
}

/** A successful run closes the connection's open alerts (every kind is a failure it disproves). */
export async function resolveAlerts(pool: Pool, connectionId: string): Promise<void> {
  await pool.query(
    'UPDATE alert SET resolved_at = now() WHERE connection_id = $1 AND resolved_at IS NULL',
    [connectionId],
  );
}

export interface AlertFilter {
  connectionId?: string;
  /** Only the open ones (default), or all. */
  open?: boolean;
  limit?: number;
  /** Only those of these schools' connections. */
  schoolIds?: string[];
}

/** Alerts, newest first. */
export async function listAlerts(pool: Pool, filter: AlertFilter = {}): Promise<AlertView[]> {
  const { rows } = await pool.query<Omit<AlertView, 'createdAt' | 'resolvedAt'> & { createdAt: Date; resolvedAt: Date | null }>(
    `SELECT id::text, connection_id::text AS "connectionId", run_id::text AS "runId", kind, message,
            created_at AS "createdAt", resolved_at AS "resolvedAt"
       FROM alert
      WHERE ($1::uuid IS NULL OR connection_id = $1) AND (NOT $2 OR resolved_at IS NULL)
        AND ($4::uuid[] IS NULL OR connection_id IN (SELECT id FROM connection WHERE school_id = ANY($4)))
      ORDER BY created_at DESC, id LIMIT $3`,
    [filter.connectionId ?? null, filter.open ?? true, filter.limit ?? 50, filter.schoolIds ?? null],
  );
  return rows.map((r) => ({ ...r, createdAt: r.createdAt.toISOString(), resolvedAt: r.resolvedAt?.toISOString() ?? null }));
}

export interface SyncHealth {
  openAlerts: number;
  deadLetters: DeadLetters;
}

/** The figures an operator watches: open alerts, and the dead letters' size and age. */
export async function readSyncHealth(pool: Pool, queue: SyncQueue): Promise<SyncHealth> {
  const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM alert WHERE resolved_at IS NULL');
  return { openAlerts: rows[0]!.n, deadLetters: await queue.deadLetters() };
}
