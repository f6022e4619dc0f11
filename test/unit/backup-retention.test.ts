import { describe, expect, it } from '@jest/globals';
import { planRetention, type RunRow } from '../../src/archive/backup-retention.js';
import { loadConfig } from '../../src/config.js';

/** Retention's decision for one target (the deletion itself: test/integration/backup-retention.test.ts). */
const good = (reason: RunRow['reason']): RunRow => ({ reason, status: 'succeeded', targets: [{ name: 'a', ok: true }] });
const day = (d: number, tail = 'aaaaaa') => `202509${String(d).padStart(2, '0')}T003000Z-${tail}`;
const keep = { nightly: 2, manual: 1 };

describe('planRetention', () => {
  it('keeps the newest nightly and manual backups by count and every period close, removing the rest oldest first', () => {
    const names = [day(9), day(8), day(7), day(6), day(5), day(4), day(3)];
    const runs = new Map<string, RunRow>([
      [day(9), good('nightly')], [day(8), good('manual')], [day(7), good('nightly')], [day(6), good('period_close')],
      [day(5), good('nightly')], [day(4), good('manual')], [day(3), good('period_close')],
    ]);
    expect(planRetention('a', names, runs, keep)).toEqual({ keep: [day(9), day(8), day(7), day(6), day(3)], remove: [day(4), day(5)] });
  });

  it('keeps a backup without a row, and a name not shaped like ours even with a row', () => {
    const names = ['old-copy', day(9), day(8), day(7, 'bbbbbb'), day(6), '20250905T003000Z-big'];
    const runs = new Map<string, RunRow>([[day(9), good('nightly')], [day(8), good('nightly')], [day(6), good('nightly')], ['20250905T003000Z-big', good('nightly')]]);
    expect(planRetention('a', names, runs, keep)).toEqual({ keep: ['old-copy', day(9), day(8), day(7, 'bbbbbb'), '20250905T003000Z-big'], remove: [day(6)] });
  });

  it('removes nothing when the newest of ours is not a good copy of a recorded run on this target', () => {
    const names = [day(9), day(8), day(7), day(6)];
    const older = new Map<string, RunRow>([[day(8), good('nightly')], [day(7), good('nightly')], [day(6), good('nightly')]]);
    const cases: Array<[RunRow | undefined, string]> = [
      [undefined, 'has no backup_run row in this database'],
      [{ ...good('nightly'), status: 'running' }, 'is from a run that is running'],
      [{ ...good('nightly'), status: 'failed' }, 'is from a run that is failed'],
      [{ ...good('nightly'), status: 'partial', targets: [{ name: 'a', ok: false }, { name: 'b', ok: true }] }, 'is not recorded as written to this target'],
    ];
    for (const [run, why] of cases) {
      const runs = new Map(older);
      if (run) runs.set(day(9), run);
      expect(planRetention('a', names, runs, keep)).toEqual({ keep: names, remove: [], withheld: `the newest backup ${day(9)} ${why}` });
    }
    const partial = new Map(older).set(day(9), { ...good('nightly'), status: 'partial', targets: [{ name: 'a', ok: true }, { name: 'b', ok: false }] });
    expect(planRetention('a', names, partial, keep).remove).toEqual([day(6), day(7)]);
    // A hand-made name sorting first does not stand for the newest backup.
    expect(planRetention('a', ['zz-copy', ...names], partial, keep)).toEqual({ keep: ['zz-copy', day(9), day(8)], remove: [day(6), day(7)] });
  });

  it('withholds nothing when nothing is past its count', () => {
    expect(planRetention('a', [day(9), day(8)], new Map(), keep)).toEqual({ keep: [day(9), day(8)], remove: [] });
    expect(planRetention('a', [], new Map(), keep)).toEqual({ keep: [], remove: [] });
  });
});

describe('retention settings', () => {
  it('default to 14 nightly and 5 manual backups and refuse less than one', () => {
    expect(loadConfig({})).toMatchObject({ BACKUP_KEEP_NIGHTLY: 14, BACKUP_KEEP_MANUAL: 5 });
    expect(loadConfig({ BACKUP_KEEP_NIGHTLY: '30', BACKUP_KEEP_MANUAL: '1' })).toMatchObject({ BACKUP_KEEP_NIGHTLY: 30, BACKUP_KEEP_MANUAL: 1 });
    expect(() => loadConfig({ BACKUP_KEEP_NIGHTLY: '0' })).toThrow('BACKUP_KEEP_NIGHTLY');
    expect(() => loadConfig({ BACKUP_KEEP_MANUAL: '2.5' })).toThrow('BACKUP_KEEP_MANUAL');
  });
});
