import { inspect } from 'node:util';
import { describe, expect, it } from '@jest/globals';
import { describeS3, s3PlaceOf } from '../../src/archive/backup-s3-spec.js';
import { resolveRegions, withinRegions } from '../../src/archive/backup-jurisdiction.js';
import { backupTargetSpecs, parseBackupTargets } from '../../src/archive/backup-targets.js';
import { loadConfig } from '../../src/config.js';

describe('backup targets', () => {
  it('parses name@REGION=dir:/path entries and refuses what it cannot use', () => {
    expect(parseBackupTargets(' a@RU-MOS=dir:/mnt/a , b@RU=dir:/srv/b')).toEqual([
      { name: 'a', region: 'RU-MOS', kind: 'dir', location: '/mnt/a' },
      { name: 'b', region: 'RU', kind: 'dir', location: '/srv/b' },
    ]);
    expect(() => parseBackupTargets('a=dir:/x')).toThrow('is not name@REGION=dir:/path or name@REGION=s3://bucket/prefix');
    expect(() => parseBackupTargets('a@ru=dir:/x')).toThrow('is not name@REGION=dir:/path or name@REGION=s3://bucket/prefix');
    expect(() => parseBackupTargets('a@RU=dir:/x,a@RU=dir:/y')).toThrow('"a" is used twice');
    expect(() => loadConfig({ BACKUP_TARGETS: 'nope' })).toThrow('BACKUP_TARGETS: backup target "nope"');
  });

  it('parses an s3:// target with its settings from BACKUP_S3_<NAME>_*, the secret kept out of every print', () => {
    const env = {
      BACKUP_S3_OFF_SITE_ENDPOINT: 'https://storage.yandexcloud.net', BACKUP_S3_OFF_SITE_REGION: 'ru-central1',
      BACKUP_S3_OFF_SITE_ACCESS_KEY_ID: 'AKIDEXAMPLE', BACKUP_S3_OFF_SITE_SECRET_ACCESS_KEY: 'very-secret-key',
    };
    const [dir, s3] = parseBackupTargets('a@RU=dir:/mnt/a,off-site@RU=s3://jb-backups/school/nightly/', env);
    expect(dir).toEqual({ name: 'a', region: 'RU', kind: 'dir', location: '/mnt/a' });
    expect(s3).toMatchObject({
      name: 'off-site', region: 'RU', kind: 's3', location: 's3://jb-backups/school/nightly/',
      s3: { bucket: 'jb-backups', prefix: 'school/nightly', endpoint: 'https://storage.yandexcloud.net', signingRegion: 'ru-central1', accessKeyId: 'AKIDEXAMPLE', forcePathStyle: true },
    });
    if (s3?.kind !== 's3') throw new Error('not an s3 spec');
    expect(s3.s3.secretAccessKey.reveal()).toBe('very-secret-key');
    expect(`${JSON.stringify(s3)} ${String(s3.s3.secretAccessKey)} ${inspect(s3, { depth: 5 })}`).not.toContain('very-secret-key');
    expect(describeS3(s3.s3)).toBe('s3://jb-backups/school/nightly (storage.yandexcloud.net)');

    const aws = parseBackupTargets('b@RU=s3://bucket', { BACKUP_S3_B_ACCESS_KEY_ID: 'k', BACKUP_S3_B_SECRET_ACCESS_KEY: 's' })[0];
    expect(aws).toMatchObject({ kind: 's3', s3: { bucket: 'bucket', prefix: '', endpoint: undefined, signingRegion: 'us-east-1', forcePathStyle: false } });
  });

  it('refuses an s3 target without its credentials, naming the variable, at the configuration\'s load', () => {
    expect(() => parseBackupTargets('off-site@RU=s3://bucket/p', { BACKUP_S3_OFF_SITE_ACCESS_KEY_ID: 'k' }))
      .toThrow('backup target "off-site": BACKUP_S3_OFF_SITE_SECRET_ACCESS_KEY is not set');
    expect(() => parseBackupTargets('s@RU=s3://bucket/p', { BACKUP_S3_S_SECRET_ACCESS_KEY: 'x' })).toThrow('BACKUP_S3_S_ACCESS_KEY_ID is not set');
    expect(() => parseBackupTargets('s@RU=s3://B/p', {})).toThrow('the location must be s3://bucket');
    expect(() => loadConfig({ BACKUP_TARGETS: 's@RU=s3://bucket', BACKUP_S3_S_ACCESS_KEY_ID: 'k', BACKUP_S3_S_SECRET_ACCESS_KEY: '' }))
      .toThrow('BACKUP_TARGETS: backup target "s": BACKUP_S3_S_SECRET_ACCESS_KEY is not set');
    const config = loadConfig({ BACKUP_TARGETS: 's@RU=s3://bucket', BACKUP_S3_S_ACCESS_KEY_ID: 'k', BACKUP_S3_S_SECRET_ACCESS_KEY: 'x', BACKUP_S3_S_ENDPOINT: 'http://127.0.0.1:9000', BACKUP_S3_S_FORCE_PATH_STYLE: 'false' });
    expect(config.BACKUP_TARGETS[0]).toMatchObject({ kind: 's3', s3: { endpoint: 'http://127.0.0.1:9000', forcePathStyle: false } });
  });

  it('counts a bucket as a place apart from directories, and two targets on one endpoint and bucket as one', () => {
    expect(s3PlaceOf({ endpoint: 'https://storage.yandexcloud.net', bucket: 'x' })).toBe(s3PlaceOf({ endpoint: 'https://storage.yandexcloud.net', bucket: 'x' }));
    expect(s3PlaceOf({ endpoint: 'https://storage.yandexcloud.net', bucket: 'x' })).not.toBe(s3PlaceOf({ endpoint: undefined, bucket: 'x' }));
  });

  it('defaults to two directories under DATA_DIR in the schools\' own region', () => {
    const config = loadConfig({ DATA_DIR: '/var/jb' });
    expect(backupTargetSpecs(config)).toEqual([
      { name: 'a', region: 'auto', kind: 'dir', location: '/var/jb/backups/a' },
      { name: 'b', region: 'auto', kind: 'dir', location: '/var/jb/backups/b' },
    ]);
    const ru = [{ schoolId: 's1', allowed: ['RU'] }, { schoolId: 's2', allowed: ['RU'] }];
    expect(resolveRegions(backupTargetSpecs(config), ru).map((s) => s.region)).toEqual(['RU', 'RU']);
    expect(() => resolveRegions(backupTargetSpecs(config), [...ru, { schoolId: 'k1', allowed: ['KG'] }])).toThrow('allow no common one');
  });

  it('keeps a target within every school\'s regions (a subdivision lies within its country, not the other way)', () => {
    expect(withinRegions('RU-MOS', ['RU'])).toBe(true);
    expect(withinRegions('RU', ['RU-MOS'])).toBe(false);
    expect(withinRegions('KG', ['RU'])).toBe(false);
    const spec = { name: 'x', region: 'RU', kind: 'dir' as const, location: '/x' };
    expect(() => resolveRegions([spec], [{ schoolId: 'k1', allowed: ['KG'] }])).toThrow('backup target "x" (RU) is outside the allowed regions of school k1 (KG)');
  });
});
