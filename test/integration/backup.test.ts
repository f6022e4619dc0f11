import { randomBytes } from 'node:crypto';
import { mkdtemp, open, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { runBackup, type BackupDeps } from '../../src/archive/backup.js';
import { restoreDrill } from '../../src/archive/backup-drill.js';
import { checkBackupTargets } from '../../src/archive/backup-jurisdiction.js';
import { NightlyBackups } from '../../src/archive/backup-nightly.js';
import { parseBackupTargets } from '../../src/archive/backup-targets.js';
import { recordedDigests, verifyTargets } from '../../src/archive/backup-verify.js';
import { loadConfig } from '../../src/config.js';
import { loadDemoSchool } from '../../src/demo/load.js';
import { fixedClock } from '../../src/lib/clock.js';
import { createLogger } from '../../src/lib/logger.js';
import { startService } from '../../src/main.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { adminUrl, SERVER_ENV } from '../support/env.js';

/**
 * Backups (issue 14, reliability.md 16): a small loaded school backed up to two directories, one copy
 * corrupted — verify names it, the restore drill takes the other and the restored database's row counts and
 * history chain equal the source's; a failing target makes the backup partial while the other is written;
 * a target outside the schools' region refuses the service's start; the nightly slot is queued once.
 */
const logger = createLogger('silent');
const clock = fixedClock(new Date('2025-09-13T03:00:00+03:00'));
let db: TestDatabase;
let dir: string;
let schoolId: string;

const settingsFor = (targets: string) => ({ BACKUP_TARGETS: parseBackupTargets(targets), BACKUP_REQUIRE_TWO: true, DATA_DIR: dir, BACKUP_METHOD: 'logical' as const });
const depsFor = (targets: string): BackupDeps => ({ pool: db.pool, url: db.url, clock, logger, settings: settingsFor(targets) });

async function liveCounts(tables: string[]): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const t of tables) counts[t] = Number((await db.pool.query<{ n: string }>(`SELECT count(*) AS n FROM "${t}"`)).rows[0]!.n);
  return counts;
}

beforeAll(async () => {
  db = await createTestDatabase();
  dir = await mkdtemp(path.join(os.tmpdir(), 'jb-backup-'));
  ({ schoolId } = await loadDemoSchool({ pool: db.pool, clock, logger }, { seed: 4, pupils: 30, year: 2025, until: '2025-09-12' }));
});

afterAll(async () => {
  await db.drop();
  await rm(dir, { recursive: true, force: true });
});

describe('backups on two targets', () => {
  const targets = () => `a@RU=dir:${path.join(dir, 'a')},b@RU-MOS=dir:${path.join(dir, 'b')}`;

  it('writes one backup to both targets, with its manifest, and records the run', async () => {
    const result = await runBackup(depsFor(targets()), { reason: 'manual' });
    expect(result).toMatchObject({ status: 'succeeded', method: 'logical', targets: [{ name: 'a', region: 'RU', ok: true }, { name: 'b', region: 'RU-MOS', ok: true }] });
    expect(result.rows).toBeGreaterThan(1000);
    const run = await db.pool.query('SELECT reason, status, name, manifest_sha256 FROM backup_run WHERE id = $1', [result.runId]);
    expect(run.rows[0]).toEqual({ reason: 'manual', status: 'succeeded', name: result.name, manifest_sha256: result.manifestSha256 });
    expect((await readdir(path.join(dir, 'a', result.name))).sort()).toEqual((await readdir(path.join(dir, 'b', result.name))).sort());
  });

  it('verify names the corrupted target; the drill restores from the other and its counts and chain equal the source', async () => {
    const [a] = await checkBackupTargets(settingsFor(targets()), db.pool, logger);
    const [name] = await a!.list();
    // One byte flipped in the middle of the marks' file on target a.
    const file = await open(path.join(dir, 'a', name!, 'mark.copy.gz'), 'r+');
    const { size } = await file.stat();
    const byte = Buffer.alloc(1);
    await file.read(byte, 0, 1, Math.floor(size / 2));
    await file.write(Buffer.from([byte[0]! ^ 0xff]), 0, 1, Math.floor(size / 2));
    await file.close();

    const all = await checkBackupTargets(settingsFor(targets()), db.pool, logger);
    const reports = await verifyTargets(all, { recorded: await recordedDigests(db.pool) });
    expect(reports.map((r) => [r.target, r.ok])).toEqual([['a', false], ['b', true]]);
    expect(reports[0]!.problems).toEqual(['mark.copy.gz: SHA-256 differs from the manifest (the file is corrupted)']);

    const drill = await restoreDrill({ pool: db.pool, targets: all, adminUrl: adminUrl(process.env[SERVER_ENV]!), logger });
    expect(drill.mismatches).toEqual([]);
    expect(drill).toMatchObject({ ok: true, backup: name, target: 'b', kept: false });
    expect(drill.skipped).toEqual([{ target: 'a', backup: name, problems: [expect.stringContaining('mark.copy.gz')] }]);
    const restored = Object.fromEntries(drill.tables.map((t) => [t.table, t.restored]));
    expect(restored).toEqual(await liveCounts(drill.tables.map((t) => t.table)));
    expect(restored.mark).toBeGreaterThan(100);
    const head = (await db.pool.query<{ seq: string }>('SELECT seq::text FROM journal_head WHERE school_id = $1', [schoolId])).rows[0]!;
    expect(drill.chains).toEqual([{ schoolId, ok: true, events: Number(head.seq), headSeq: head.seq, expectedSeq: head.seq, headMatches: true }]);
    const left = await db.pool.query(`SELECT 1 FROM pg_database WHERE datname = $1`, [drill.database]);
    expect(left.rowCount).toBe(0);
  });

  it('a failing target makes the backup partial and the other target still gets it', async () => {
    const blocked = path.join(dir, 'not-a-directory');
    await writeFile(blocked, 'a file where the target directory should be');
    const result = await runBackup(depsFor(`a@RU=dir:${path.join(dir, 'a')},c@RU=dir:${path.join(blocked, 'c')}`), { reason: 'period_close' });
    expect(result.status).toBe('partial');
    expect(result.targets).toEqual([
      expect.objectContaining({ name: 'a', ok: true }),
      expect.objectContaining({ name: 'c', ok: false, error: expect.stringContaining('ENOTDIR') }),
    ]);
    const [a] = await checkBackupTargets(settingsFor(`a@RU=dir:${path.join(dir, 'a')},b@RU=dir:${path.join(dir, 'b')}`), db.pool, logger);
    const [report] = await verifyTargets([a!], { backup: result.name });
    expect(report).toMatchObject({ ok: true, target: 'a', backup: result.name });
    const run = await db.pool.query('SELECT reason, status, error FROM backup_run WHERE id = $1', [result.runId]);
    expect(run.rows[0]).toEqual({ reason: 'period_close', status: 'partial', error: expect.stringContaining('c: ') });
  });
});

describe('jurisdiction', () => {
  it('refuses the service\'s start with a backup target outside the schools\' region, naming the target', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'jb-backup-start-'));
    const config = loadConfig({
      DATABASE_URL: db.url, DATA_DIR: dataDir, PORT: '0', ROLES: 'api', DEMO: 'off', CONNECTION_SECRETS_KEY: randomBytes(32).toString('base64'),
      BACKUP_TARGETS: `a@RU-MOS=dir:${path.join(dataDir, 'a')},bishkek@KG=dir:${path.join(dataDir, 'b')}`,
    });
    try {
      await expect(startService(config, logger, clock)).rejects.toThrow(
        `backup target "bishkek" (KG) is outside the allowed regions of school ${schoolId} (RU): personal data must stay in the jurisdiction; remove the target or move it`);
      await db.pool.query(`UPDATE school SET data_regions = '{KG}' WHERE id = $1`, [schoolId]);
      await expect(startService(config, logger, clock)).rejects.toThrow('backup target "a" (RU-MOS) is outside the allowed regions');
    } finally {
      await db.pool.query('UPDATE school SET data_regions = NULL WHERE id = $1', [schoolId]);
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('the nightly backup', () => {
  it('queues a night\'s slot once across schedulers, and a worker makes the backup', async () => {
    await db.pool.query(`UPDATE school SET created_at = '2025-01-01T00:00:00Z' WHERE id = $1`, [schoolId]);
    const deps = depsFor(`a@RU=dir:${path.join(dir, 'a')},b@RU=dir:${path.join(dir, 'b')}`);
    const options = { at: '02:30', timeZone: 'Europe/Moscow', pollingSeconds: 0.5 };
    const [one, two] = [await NightlyBackups.start(deps, options), await NightlyBackups.start(deps, options)];
    try {
      expect(await one.queueLatest(clock.now())).toBe(true);
      expect(await two.queueLatest(clock.now())).toBe(false);
      const slot = await db.pool.query<{ id: string; slot: Date }>(`SELECT id::text, slot FROM backup_run WHERE reason = 'nightly'`);
      expect(slot.rows.map((r) => r.slot.toISOString())).toEqual(['2025-09-12T23:30:00.000Z']);
      await one.work();
      let status = 'queued';
      while (status === 'queued' || status === 'running') {
        status = (await db.pool.query<{ status: string }>('SELECT status FROM backup_run WHERE id = $1', [slot.rows[0]!.id])).rows[0]!.status;
        if (status === 'queued' || status === 'running') await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(status).toBe('succeeded');
    } finally {
      await one.stop();
      await two.stop();
    }
  });
});
