import type { Pool } from '../db/pool.js';
import { NotFoundError, ValidationError } from '../lib/errors.js';

/**
 * The platform of push connections: another school system (a canteen, an electives register, a
 * school's own LMS) sends its records to us through POST /v1/connections/{id}/records. An internal
 * source like `paper`: no adapter, no secrets, no schedule, never synced; a school has one per
 * sending system, each with its own external ids.
 */
export const PUSH_PLATFORM = 'push';

/** What the push route needs of its connection. */
export interface PushConnection {
  id: string;
  schoolId: string;
  enabled: boolean;
}

/** The push connection with this id; undefined when there is none, or it is of another platform. */
export async function findPushConnection(pool: Pool, id: string): Promise<PushConnection | undefined> {
  const { rows } = await pool.query<PushConnection>(
    `SELECT id::text, school_id::text AS "schoolId", enabled FROM connection WHERE id = $1 AND platform = $2`,
    [id, PUSH_PLATFORM],
  );
  return rows[0];
}

/** A push connection has a title and nothing to configure: no config, no secrets, no schedule. */
export function refusePushSettings(input: { config?: Record<string, unknown>; schedule?: string | null }): void {
  if (input.config !== undefined && Object.keys(input.config).length > 0) {
    throw new ValidationError(`config: a ${PUSH_PLATFORM} connection has no settings (send \`"config": {}\`); its records come in through POST /v1/connections/{id}/records`);
  }
  if (input.schedule !== undefined && input.schedule !== null) {
    throw new ValidationError(`schedule: a ${PUSH_PLATFORM} connection is never synced, so it has no schedule`);
  }
}

/** Creates a push connection of the school (several are allowed: one per sending system, each named by its title). */
export async function createPushConnection(pool: Pool, input: { schoolId: string; title?: string; enabled?: boolean }): Promise<string> {
  if (input.title === undefined) throw new ValidationError('title: name the sending system (a push connection is one per system, told apart by its title)');
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO connection (school_id, platform, title, config, secrets, schedule, enabled)
     SELECT s.id, $2, $3, '{}', NULL, NULL, $4 FROM school s WHERE s.id = $1 RETURNING id::text`,
    [input.schoolId, PUSH_PLATFORM, input.title, input.enabled ?? true],
  );
  if (!rows[0]) throw new NotFoundError(`school ${input.schoolId}`);
  return rows[0].id;
}
