import type { Pool } from '../db/pool.js';
import type { Clock } from '../lib/clock.js';
import type { SecretBox } from '../lib/secret-box.js';
import { ApiKeys } from './api-keys.js';
import { Sessions } from './sessions.js';
import { Users } from './users.js';

/** Sign-in settings (from the environment: SESSION_TTL_SECONDS). */
export interface AuthSettings { sessionTtlSeconds: number }

/** The parts of authentication the API and the CLI use, on one pool and one server key. */
export interface Auth { pool: Pool; keys: ApiKeys; sessions: Sessions; users: Users }

export function createAuth(pool: Pool, box: SecretBox, clock: Clock, settings: AuthSettings): Auth {
  return {
    pool,
    keys: new ApiKeys(pool, box.derive('api-keys'), clock),
    sessions: new Sessions(pool, clock, settings.sessionTtlSeconds),
    users: new Users(pool, clock),
  };
}
