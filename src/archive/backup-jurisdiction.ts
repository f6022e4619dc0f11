import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Pool } from '../db/pool.js';
import { ConfigError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { countryOf } from '../notify/contacts.js';
import { s3PlaceOf } from './backup-s3-spec.js';
import { backupTargetSpecs, openTargets, type BackupTarget, type BackupTargetSpec } from './backup-targets.js';

/**
 * Personal data stay in their jurisdiction (reliability.md 16: Russian tenants' data and backups on RF hosts,
 * Kyrgyz tenants' apart). Every school has its allowed regions — `school.data_regions`, or else its country
 * (the one its phones are read in: notify/contacts.ts countryOf). A backup holds every school of the
 * database, so each target must lie within EVERY school's list; one that does not is refused, at the
 * service's start and at each backup, naming the target and the school's id (never its people).
 */
export interface SchoolRegions {
  schoolId: string;
  allowed: string[];
}

/** Each school's allowed regions. */
export async function schoolRegions(pool: Pool): Promise<SchoolRegions[]> {
  const { rows } = await pool.query<{ id: string; region: string; time_zone: string; data_regions: string[] | null }>(
    'SELECT id::text, region, time_zone, data_regions FROM school ORDER BY created_at, id');
  return rows.map((r) => ({ schoolId: r.id, allowed: r.data_regions && r.data_regions.length > 0 ? r.data_regions : [countryOf(r.region, r.time_zone)] }));
}

/** True when `region` is one of `allowed` or a subdivision of one (RU-MOW lies within RU; RU does not lie within RU-MOW). */
export function withinRegions(region: string, allowed: readonly string[]): boolean {
  return allowed.some((a) => region === a || region.startsWith(`${a}-`));
}

/**
 * The targets with their regions resolved and checked: 'auto' (the default directories, on the database's
 * own host) becomes the one region every school allows; a target outside a school's regions, or 'auto'
 * when the schools share no region, is a ConfigError.
 */
export function resolveRegions(specs: readonly BackupTargetSpec[], schools: readonly SchoolRegions[]): BackupTargetSpec[] {
  return specs.map((spec) => {
    let region = spec.region;
    if (region === 'auto') {
      const common = schools.length === 0 ? ['local'] : schools[0]!.allowed.filter((r) => schools.every((s) => withinRegions(r, s.allowed)));
      if (common.length === 0) {
        throw new ConfigError(`backup target "${spec.name}" has no region and the schools of this database allow no common one: configure BACKUP_TARGETS with a region per target (name@REGION=dir:/path)`);
      }
      region = common[0]!;
    } else {
      const outside = schools.find((s) => !withinRegions(region, s.allowed));
      if (outside) {
        throw new ConfigError(`backup target "${spec.name}" (${region}) is outside the allowed regions of school ${outside.schoolId} (${outside.allowed.join(', ')}): personal data must stay in the jurisdiction; remove the target or move it`);
      }
    }
    return { ...spec, region };
  });
}

export interface BackupTargetSettings {
  BACKUP_TARGETS: BackupTargetSpec[];
  BACKUP_REQUIRE_TWO: boolean;
  DATA_DIR: string;
}

/**
 * The start's and every backup's check: the targets, resolved against the schools now in the database.
 * Fewer than two distinct places is a warning (a refusal with BACKUP_REQUIRE_TWO=true); two directories on
 * one file system are warned of too (one medium, whatever the paths). A bucket is a place apart from any
 * directory; two S3 targets are one place when they share endpoint and bucket (prefixes do not separate media).
 */
export async function checkBackupTargets(config: BackupTargetSettings, pool: Pool, logger?: Logger): Promise<BackupTarget[]> {
  const specs = resolveRegions(backupTargetSpecs(config), await schoolRegions(pool));
  const places = new Set(specs.map((s) => (s.kind === 's3' ? s3PlaceOf(s.s3) : path.resolve(s.location))));
  if (places.size < 2) {
    const message = `backups go to ${places.size} place(s): the regulations ask for two media kept in different rooms (set BACKUP_TARGETS)`;
    if (config.BACKUP_REQUIRE_TWO) throw new ConfigError(message);
    logger?.warn({ targets: specs.map((s) => s.name) }, message);
  } else if (config.BACKUP_TARGETS.length > 0 && (await sameDevice(specs))) {
    logger?.warn({ targets: specs.map((s) => s.name) }, 'backup targets share one file system: they are not independent media');
  }
  return openTargets(specs);
}

/** True when every target is a directory and they all lie on one file system (a bucket is always a medium apart). */
async function sameDevice(specs: readonly BackupTargetSpec[]): Promise<boolean> {
  if (specs.some((s) => s.kind === 's3')) return false;
  const devices = await Promise.all(specs.map((s) => stat(s.location).then((st) => st.dev, () => undefined)));
  const known = devices.filter((d) => d !== undefined);
  return known.length >= 2 && new Set(known).size === 1;
}
