import type { Pool } from '../db/pool.js';

/**
 * The lease of a connection: the one run allowed to write for it now. A run takes the lease with a
 * fresh token when nobody holds it or the holder stopped heart-beating (a dead worker); applyBatch
 * refuses batches whose token is not the lease (the fence), so a run that lost the lease — it was
 * presumed dead, or outlived its job — cannot write late.
 */
export interface LeaseOptions {
  /** A holder silent for longer is presumed dead. */
  deadAfterSeconds: number;
}

/** Takes the lease; false when a live run holds it. */
export async function takeLease(pool: Pool, connectionId: string, runId: string, token: string, options: LeaseOptions): Promise<boolean> {
  const { rowCount } = await pool.query(
    `UPDATE connection SET lease_token = $3, lease_run_id = $2, lease_heartbeat_at = now()
      WHERE id = $1 AND (lease_token IS NULL OR lease_token = $3 OR lease_heartbeat_at < now() - make_interval(secs => $4))`,
    [connectionId, runId, token, options.deadAfterSeconds],
  );
  return rowCount === 1;
}

/** Renews the lease; false when it was lost (another run took it over). */
export async function heartbeat(pool: Pool, connectionId: string, token: string): Promise<boolean> {
  const { rowCount } = await pool.query(
    'UPDATE connection SET lease_heartbeat_at = now() WHERE id = $1 AND lease_token = $2',
    [connectionId, token],
  );
  return rowCount === 1;
}

export async function releaseLease(pool: Pool, connectionId: string, token: string): Promise<void> {
  await pool.query(
    'UPDATE connection SET lease_token = NULL, lease_run_id = NULL, lease_heartbeat_at = NULL WHERE id = $1 AND lease_token = $2',
    [connectionId, token],
  );
}
