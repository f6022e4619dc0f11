import type { Pool } from '../db/pool.js';
import type { Clock } from '../lib/clock.js';
import type { SecretBox } from '../lib/secret-box.js';
import { ApiKeys } from './api-keys.js';
import { OneTimeCodes, type CodeLimits, type SendCode } from './one-time-codes.js';
import { GrantCache } from './grants.js';
import { Sessions } from './sessions.js';
import { Users } from './users.js';

/** Sign-in settings (from the environment: SESSION_TTL_SECONDS, OTP_*). */
export interface AuthSettings { sessionTtlSeconds: number; codes?: CodeLimits }

/** The parts of authentication the API and the CLI use, on one pool and one server key. */
export interface Auth { pool: Pool; keys: ApiKeys; sessions: Sessions; users: Users; codes: OneTimeCodes }

export const DEFAULT_CODE_LIMITS: CodeLimits = { ttlSeconds: 300, perLogin: 5, perAddress: 30, windowSeconds: 3600 };

/** `send` delivers one-time codes (the notify engine's outbox); without it codes are counted but never sent. */
export function createAuth(pool: Pool, box: SecretBox, clock: Clock, settings: AuthSettings, send?: SendCode): Auth {
  const grants = new GrantCache(pool);
  return {
    pool,
    keys: new ApiKeys(pool, box.derive('api-keys'), clock),
    sessions: new Sessions(pool, clock, settings.sessionTtlSeconds, grants),
    users: new Users(pool, clock, grants),
    codes: new OneTimeCodes(pool, clock, box.derive('one-time-codes'), settings.codes ?? DEFAULT_CODE_LIMITS, send),
  };
}
