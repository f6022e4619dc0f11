import { withTransaction, type Pool } from '../db/pool.js';

/** The platform of the built-in paper source: no adapter, no network, never synced. */
export const PAPER_PLATFORM = 'paper';

/**
 * The school's `paper` connection, created on first use: one per school (an advisory lock serializes
 * the first two imports; an existing one — the demo makes its own — is reused, the oldest if several).
 */
export async function ensurePaperConnection(pool: Pool, schoolId: string): Promise<string> {
  const found = await findPaperConnection(pool, schoolId);
  if (found) return found;
  return withTransaction(pool, async (client) => {
    await client.query(`SELECT pg_advisory_xact_lock(hashtextextended('paper-connection:' || $1, 0))`, [schoolId]);
    const again = await client.query<{ id: string }>(
      `SELECT id::text FROM connection WHERE school_id = $1 AND platform = $2 ORDER BY created_at, id LIMIT 1`, [schoolId, PAPER_PLATFORM],
    );
    if (again.rows[0]) return again.rows[0].id;
    const { rows } = await client.query<{ id: string }>(
      `INSERT INTO connection (school_id, platform, title, config, schedule, enabled) VALUES ($1, $2, 'Бумажный журнал', '{}', NULL, true) RETURNING id::text`,
      [schoolId, PAPER_PLATFORM],
    );
    return rows[0]!.id;
  });
}

/** The school's paper connection, if it has one. */
export async function findPaperConnection(pool: Pool, schoolId: string): Promise<string | undefined> {
  const { rows } = await pool.query<{ id: string }>(
    `SELECT id::text FROM connection WHERE school_id = $1 AND platform = $2 ORDER BY created_at, id LIMIT 1`, [schoolId, PAPER_PLATFORM],
  );
  return rows[0]?.id;
}
