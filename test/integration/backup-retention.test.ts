import { mkdir, mkdtemp, readdir, rm, writeFile as writeFs } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { runBackup, type BackupDeps, type BackupResult } from '../../src/archive/backup.js';
import { restoreDrill } from '../../src/archive/backup-drill.js';
import { checkBackupTargets } from '../../src/archive/backup-jurisdiction.js';
import { pruneBackups } from '../../src/archive/backup-retention.js';
import { parseBackupTargets, type BackupTarget } from '../../src/archive/backup-targets.js';
import { startS3Simulator, type S3Simulator } from '../../src/archive/s3-simulator.js';
import { loadDemoSchool } from '../../src/demo/load.js';
import { fixedClock, type Clock } from '../../src/lib/clock.js';
import { createLogger } from '../../src/lib/logger.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { adminUrl, SERVER_ENV } from '../support/env.js';

/**
 * Retention (backup-retention.ts) on a directory and an S3 bucket (the simulator): after a nightly backup each
 * target keeps the newest BACKUP_KEEP_NIGHTLY nightly backups, every period close and the manual ones, and the
 * run's row names what went; a backup without a row, or with a name not ours, stays; a target the run failed
 * on loses nothing, nor one whose newest copy the database does not record as good; a removal cut short is
 * never listed (a directory's `.deleting`, a bucket without its marker) and the next prune deletes a directory's
 * leftover; the drill still finds the newest.
 */
const logger = createLogger('silent');
const PREFIX = 'jb/retention';
let db: TestDatabase;
let dir: string;
let sim: S3Simulator;

const at = (iso: string): Clock => fixedClock(new Date(iso));
const s3Env = (secret = sim.credentials.secretAccessKey) => ({
  BACKUP_S3_OFF_SITE_ENDPOINT: sim.endpoint, BACKUP_S3_OFF_SITE_ACCESS_KEY_ID: sim.credentials.accessKeyId, BACKUP_S3_OFF_SITE_SECRET_ACCESS_KEY: secret,
});
const targetsSpec = () => `a@RU=dir:${path.join(dir, 'a')},off-site@RU=s3://backups/${PREFIX}`;
const settingsFor = (keepNightly: number, env = s3Env()) => ({
  BACKUP_TARGETS: parseBackupTargets(targetsSpec(), env), BACKUP_REQUIRE_TWO: true, DATA_DIR: dir, BACKUP_METHOD: 'logical' as const,
  BACKUP_KEEP_NIGHTLY: keepNightly, BACKUP_KEEP_MANUAL: 5,
});
const depsFor = (clock: Clock, keepNightly = 14, env = s3Env()): BackupDeps => ({ pool: db.pool, url: db.url, clock, logger, settings: settingsFor(keepNightly, env) });
const openTargets = async (): Promise<[BackupTarget, BackupTarget]> => {
  const [a, s3] = await checkBackupTargets(settingsFor(14), db.pool, logger);
  return [a!, s3!];
};
/** Keys of one backup in the bucket, without the prefix. */
const keysOf = (backup: string) => sim.keys('backups').filter((k) => k.startsWith(`${PREFIX}/${backup}/`)).map((k) => k.slice(`${PREFIX}/${backup}/`.length));

function writeStream(stream: Writable, bytes: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.once('error', reject);
    stream.once('close', () => resolve());
    stream.end(bytes);
  });
}

/** A complete backup of two small files written straight to a target, as another deployment would. */
async function foreignBackup(target: BackupTarget, backup: string): Promise<void> {
  const writer = await target.begin(backup);
  await writeStream(writer.file('manifest.json'), Buffer.from('{}'));
  await writeStream(writer.file('mark.copy.gz'), Buffer.from('not ours'));
  await writer.commit();
}

async function backup(iso: string, reason: 'nightly' | 'period_close' | 'manual', keepNightly?: number): Promise<BackupResult> {
  const result = await runBackup(depsFor(at(iso), keepNightly), { reason });
  expect(result.status).toBe('succeeded');
  return result;
}

beforeAll(async () => {
  db = await createTestDatabase();
  dir = await mkdtemp(path.join(os.tmpdir(), 'jb-backup-retention-'));
  sim = await startS3Simulator({ buckets: ['backups'] });
  await loadDemoSchool({ pool: db.pool, clock: at('2025-09-01T03:00:00+03:00'), logger }, { seed: 7, pupils: 11, year: 2025, until: '2025-08-31' });
});

afterAll(async () => {
  await sim.close();
  await db.drop();
  await rm(dir, { recursive: true, force: true });
});

describe('retention after each backup', () => {
  const made: Record<string, string> = {};

  it('keeps the 2 newest nightly, the period close and the manual backup on both targets; the run\'s row names what went', async () => {
    made.n1 = (await backup('2025-09-01T00:30:00Z', 'nightly')).name;
    made.close = (await backup('2025-09-02T10:00:00Z', 'period_close')).name;
    made.n2 = (await backup('2025-09-03T00:30:00Z', 'nightly')).name;
    made.manual = (await backup('2025-09-04T12:00:00Z', 'manual')).name;
    const third = await backup('2025-09-05T00:30:00Z', 'nightly');
    made.n3 = third.name;
    expect(third.targets.map((t) => [t.name, t.pruned])).toEqual([['a', []], ['off-site', []]]);

    const next = await backup('2025-09-06T00:30:00Z', 'nightly', 2);
    made.n4 = next.name;
    const gone = [made.n1, made.n2];
    expect(next.targets.map((t) => [t.name, t.pruned, t.pruneError])).toEqual([['a', gone, undefined], ['off-site', gone, undefined]]);
    const row = (await db.pool.query<{ targets: Array<{ name: string; ok: boolean; pruned: string[] }> }>('SELECT targets FROM backup_run WHERE id = $1', [next.runId])).rows[0]!;
    expect(row.targets).toEqual([expect.objectContaining({ name: 'a', ok: true, pruned: gone }), expect.objectContaining({ name: 'off-site', ok: true, pruned: gone })]);

    const left = [made.n4, made.n3, made.manual, made.close];
    const [a, s3] = await openTargets();
    expect(await a.list()).toEqual(left);
    expect(await s3.list()).toEqual(left);
    expect((await readdir(path.join(dir, 'a'))).sort()).toEqual([...left].sort());
    for (const name of gone) expect(keysOf(name!)).toEqual([]);
    for (const name of left) expect(keysOf(name!)).toContain('.complete');
  });

  it('a backup the database has no row for, and a name not shaped like ours, are kept', async () => {
    const [a, s3] = await openTargets();
    const unrecorded = '20250801T000000Z-0a0b0c';
    await foreignBackup(a, unrecorded);
    await foreignBackup(s3, unrecorded);
    await mkdir(path.join(dir, 'a', 'hand-copy'));
    await writeFs(path.join(dir, 'a', 'hand-copy', 'notes.txt'), 'copied by hand');

    const next = await backup('2025-09-07T00:30:00Z', 'nightly', 2);
    made.n5 = next.name;
    expect(next.targets.map((t) => [t.name, t.pruned])).toEqual([['a', [made.n3]], ['off-site', [made.n3]]]);
    expect(await a.list()).toEqual(['hand-copy', made.n5, made.n4, made.manual, made.close, unrecorded]);
    expect(await s3.list()).toEqual([made.n5, made.n4, made.manual, made.close, unrecorded]);
    expect(keysOf(unrecorded).sort()).toEqual(['.complete', 'manifest.json', 'mark.copy.gz']);
  });

  it('a run whose S3 target failed (a wrong secret) prunes nothing there; the directory is pruned', async () => {
    const before = sim.keys('backups');
    const result = await runBackup(depsFor(at('2025-09-08T00:30:00Z'), 1, s3Env('wrong-secret')), { reason: 'nightly' });
    made.n6 = result.name;
    expect(result.status).toBe('partial');
    expect(result.targets).toEqual([
      expect.objectContaining({ name: 'a', ok: true, pruned: [made.n4, made.n5] }),
      expect.objectContaining({ name: 'off-site', ok: false, pruned: [], error: expect.stringContaining('SignatureDoesNotMatch') }),
    ]);
    expect(result.targets[1]).not.toHaveProperty('pruneError');
    expect(sim.keys('backups')).toEqual(before);
    const [a, s3] = await openTargets();
    expect(await a.list()).toEqual(['hand-copy', made.n6, made.manual, made.close, '20250801T000000Z-0a0b0c']);
    expect(await s3.list()).toEqual([made.n5, made.n4, made.manual, made.close, '20250801T000000Z-0a0b0c']);
  });

  it('a target whose newest copy is not recorded as good loses nothing; a dry run deletes nothing; then prune deletes', async () => {
    const [, s3] = await openTargets();
    const deps = { pool: db.pool, logger, settings: { BACKUP_KEEP_NIGHTLY: 1 } };
    // The run recorded off-site as failed: a copy of that backup there is not one to trust as the newest.
    await foreignBackup(s3, made.n6!);
    const before = sim.keys('backups');
    const [held] = await pruneBackups(deps, [s3]);
    expect(held).toEqual({ target: 'off-site', kept: await s3.list(), removed: [], errors: [], withheld: `the newest backup ${made.n6} is not recorded as written to this target` });
    expect(sim.keys('backups')).toEqual(before);

    await s3.remove(made.n6!);
    const [plan] = await pruneBackups(deps, [s3], { dryRun: true });
    expect(plan).toEqual({ target: 'off-site', kept: [made.n5, made.manual, made.close, '20250801T000000Z-0a0b0c'], removed: [made.n4], errors: [] });
    expect(await s3.list()).toContain(made.n4);
    const [done] = await pruneBackups(deps, [s3]);
    expect(done).toEqual(plan);
    expect(await s3.list()).toEqual([made.n5, made.manual, made.close, '20250801T000000Z-0a0b0c']);
    expect(keysOf(made.n4!)).toEqual([]);
  });

  it('a removal cut short is not listed: a directory\'s `.deleting` leftover, a bucket\'s files without their marker', async () => {
    const [a, s3] = await openTargets();
    const leftover = path.join(dir, 'a', '20250820T000000Z-dddddd.deleting');
    await mkdir(leftover);
    await writeFs(path.join(leftover, 'mark.copy.gz'), 'half deleted');
    expect(await a.list()).not.toContain('20250820T000000Z-dddddd.deleting');
    // The next prune deletes the leftover; a `.partial` one (a backup being written) it leaves alone.
    const writing = path.join(dir, 'a', '20250821T000000Z-eeeeee.partial');
    await mkdir(writing);
    const [pruned] = await pruneBackups({ pool: db.pool, logger, settings: settingsFor(14) }, [a]);
    expect(pruned!.swept).toEqual(['20250820T000000Z-dddddd.deleting']);
    expect(await readdir(path.join(dir, 'a'))).not.toContain('20250820T000000Z-dddddd.deleting');
    expect(await readdir(path.join(dir, 'a'))).toContain('20250821T000000Z-eeeeee.partial');
    await rm(writing, { recursive: true });

    const cut = '20250815T000000Z-cccccc';
    await foreignBackup(s3, cut);
    expect(await s3.list()).toContain(cut);
    // The marker's DeleteObject goes through; every attempt at listing what is under the backup fails.
    sim.failNext(3, 500, 'ListObjectsV2');
    await expect(s3.remove(cut)).rejects.toThrow(/^S3 target "off-site" .*ListObjectsV2 failed: InternalError \(HTTP 500\)$/);
    sim.failNext(0);
    expect(keysOf(cut).sort()).toEqual(['manifest.json', 'mark.copy.gz']);
    expect(await s3.list()).not.toContain(cut);
    await s3.remove(cut);
    expect(keysOf(cut)).toEqual([]);
  });

  it('the restore drill still finds the newest backup after pruning', async () => {
    const [a, s3] = await openTargets();
    const drill = await restoreDrill({ pool: db.pool, targets: [s3, a], adminUrl: adminUrl(process.env[SERVER_ENV]!), logger });
    expect(drill.mismatches).toEqual([]);
    // hand-copy sorts first and has no manifest: skipped; n6 is on the directory only (the bucket refused it).
    expect(drill).toMatchObject({ ok: true, backup: made.n6, target: 'a' });
    expect(drill.skipped).toEqual([{ target: 'a', backup: 'hand-copy', problems: [expect.stringContaining('manifest.json')] }]);
  });
});
