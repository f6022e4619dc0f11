import { describe, expect, it } from '@jest/globals';
import { resolveRegions, withinRegions } from '../../src/archive/backup-jurisdiction.js';
import { backupTargetSpecs, parseBackupTargets } from '../../src/archive/backup-targets.js';
import { loadConfig } from '../../src/config.js';

describe('backup targets', () => {
  it('parses name@REGION=dir:/path entries and refuses what it cannot use', () => {
    expect(parseBackupTargets(' a@RU-MOS=dir:/mnt/a , b@RU=dir:/srv/b')).toEqual([
      { name: 'a', region: 'RU-MOS', kind: 'dir', location: '/mnt/a' },
      { name: 'b', region: 'RU', kind: 'dir', location: '/srv/b' },
    ]);
    expect(() => parseBackupTargets('a=dir:/x')).toThrow('is not name@REGION=dir:/path');
    expect(() => parseBackupTargets('a@ru=dir:/x')).toThrow('is not name@REGION=dir:/path');
    expect(() => parseBackupTargets('a@RU=s3://bucket/prefix')).toThrow('S3 buckets are not supported');
    expect(() => parseBackupTargets('a@RU=dir:/x,a@RU=dir:/y')).toThrow('"a" is used twice');
    expect(() => loadConfig({ BACKUP_TARGETS: 'nope' })).toThrow('BACKUP_TARGETS: backup target "nope"');
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
