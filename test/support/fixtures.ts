import type { Pool } from '../../src/db/pool.js';

/** A school and a connection of it, written directly: the tenant set-up that precedes any sync. */
export async function createSchool(pool: Pool, options: { name?: string; timeZone?: string } = {}): Promise<string> {
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO school (name, region, time_zone) VALUES ($1, 'Test region', $2) RETURNING id::text`,
    [options.name ?? 'Школа № 1', options.timeZone ?? 'Europe/Moscow'],
  );
  return rows[0]!.id;
}

export async function createConnection(pool: Pool, schoolId: string, platform = 'demo', title = platform): Promise<string> {
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO connection (school_id, platform, title) VALUES ($1, $2, $3) RETURNING id::text`,
    [schoolId, platform, title],
  );
  return rows[0]!.id;
}
