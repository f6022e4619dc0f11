import type { Config } from '../config.js';
import type { Database } from '../db/database.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import type { SecretBox } from '../lib/secret-box.js';
import type { CloseDeps } from './close.js';
import { backupDepsOf } from './backup-config.js';
import { runBackup } from './backup.js';

/**
 * The period close's parts as the service and the CLI build them: the signing box, the printer (sealed
 * PDFs and summary sheets filed in the archive, their QR codes opening PUBLIC_URL, else the address the
 * service listens on) and the backup to every configured target.
 */
export function closeDepsOf(db: Database, config: Config, clock: Clock, box: SecretBox, logger: Logger, listening?: () => string | undefined): CloseDeps {
  const publicUrl = () => config.PUBLIC_URL ?? listening?.() ?? `http://${config.HOST}:${config.PORT}`;
  const backups = backupDepsOf(config, db, clock, logger);
  return {
    pool: db.pool, clock, box,
    // The printer (and pdfmake with it) is loaded by the first print, not at every start.
    print: async (close, classIds) => (await import('./printouts.js')).printerOf({ pool: db.pool, clock, publicUrl })(close, classIds),
    backup: async (reason) => {
      const result = await runBackup(backups, { reason });
      return { id: result.runId, status: result.status };
    },
  };
}
