import type { Config } from '../config.js';
import type { Database } from '../db/database.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import type { BackupDeps, BackupSettings } from './backup.js';
import type { NightlyOptions } from './backup-nightly.js';

/** The backups' settings from the environment. */
export function backupSettingsOf(config: Config): BackupSettings {
  return {
    BACKUP_TARGETS: config.BACKUP_TARGETS, BACKUP_REQUIRE_TWO: config.BACKUP_REQUIRE_TWO, DATA_DIR: config.DATA_DIR,
    BACKUP_METHOD: config.BACKUP_METHOD, PG_DUMP_PATH: config.PG_DUMP_PATH,
    BACKUP_KEEP_NIGHTLY: config.BACKUP_KEEP_NIGHTLY, BACKUP_KEEP_MANUAL: config.BACKUP_KEEP_MANUAL,
  };
}

/** What runBackup needs, for the service (the nightly backup, the period close) and the CLI. */
export function backupDepsOf(config: Config, db: Pick<Database, 'pool' | 'url'>, clock: Clock, logger: Logger): BackupDeps {
  return { pool: db.pool, url: db.url, clock, logger, settings: backupSettingsOf(config) };
}

/** The nightly backup's schedule, or undefined when BACKUP_NIGHTLY_AT=off. Local time: this process's zone. */
export function nightlyOptionsOf(config: Config): NightlyOptions | undefined {
  if (config.BACKUP_NIGHTLY_AT === 'off') return undefined;
  return { at: config.BACKUP_NIGHTLY_AT, timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone, pollingSeconds: 30 };
}
