import { randomBytes } from 'node:crypto';
import { open, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { loadDemoSchool } from '../../src/demo/load.js';
import { fixedClock } from '../../src/lib/clock.js';
import { createLogger } from '../../src/lib/logger.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { runCli, tempDataDir, type CliOutcome } from '../support/processes.js';

/**
 * `backup run | verify | restore-drill | list | prune` as a cron job runs them: real processes against a real
 * database, their exit codes and what they print (the engine itself: backup.test.ts).
 */
let db: TestDatabase;
let dataDir: string;

function cli(args: string[], env: Record<string, string> = {}): Promise<CliOutcome> {
  return runCli(args, {
    DATA_DIR: dataDir, DATABASE_URL: db.url, CONNECTION_SECRETS_KEY: randomBytes(32).toString('base64'),
    BACKUP_TARGETS: `a@RU=dir:${path.join(dataDir, 'a')},b@RU-MOS=dir:${path.join(dataDir, 'b')}`, ...env,
  });
}

beforeAll(async () => {
  dataDir = await tempDataDir();
  db = await createTestDatabase();
  const clock = fixedClock(new Date('2025-09-06T12:00:00Z'));
  await loadDemoSchool({ pool: db.pool, clock, logger: createLogger('silent') }, { seed: 5, pupils: 25, year: 2025, until: '2025-09-05' });
});

afterAll(async () => {
  await db.drop();
  await rm(dataDir, { recursive: true, force: true });
});

describe('backup commands', () => {
  it('run, verify, a corrupted copy named, the drill from the other target, list', async () => {
    const run = await cli(['backup', 'run']);
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout) as { name: string; status: string };
    expect(result.status).toBe('succeeded');
    expect((await cli(['backup', 'verify'])).code).toBe(0);

    const file = await open(path.join(dataDir, 'b', result.name, 'journal_event.copy.gz'), 'r+');
    await file.write(Buffer.from('x'), 0, 1, 40);
    await file.close();
    const verify = await cli(['backup', 'verify']);
    expect(verify.code).toBe(1);
    expect(verify.stdout).toContain(`ok      a: ${result.name}`);
    expect(verify.stdout).toContain(`FAILED  b: ${result.name}`);
    expect(verify.stdout).toContain('journal_event.copy.gz: SHA-256 differs from the manifest');

    const fromB = await cli(['backup', 'restore-drill', '--target', 'b']);
    expect(fromB.code).toBe(1);
    expect(fromB.stdout).toContain('restore drill: FAILED');
    const drill = await cli(['backup', 'restore-drill']);
    expect(drill.code).toBe(0);
    expect(drill.stdout).toContain(`restore drill: PASSED — backup ${result.name} from target a`);
    expect(drill.stdout).toMatch(/chain [0-9a-f-]{36}: \d+ events, intact, head \d+ = backup/);

    const list = JSON.parse((await cli(['backup', 'list'])).stdout) as { runs: Array<{ name: string }>; targets: Array<{ name: string; backups: string[] }>; drills: Array<{ status: string; actor: string; backup: string | null }>; lastGood: { name: string } };
    expect(list.runs.map((r) => r.name)).toEqual([result.name]);
    expect(list.targets).toEqual([expect.objectContaining({ name: 'a', backups: [result.name], count: 1 }), expect.objectContaining({ name: 'b', backups: [result.name], count: 1 })]);
    expect(list.lastGood).toMatchObject({ name: result.name });
    // Every drill is on record, the CLI's too: newest first, the passed one and the one from the corrupted copy.
    expect(list.drills.map((d) => [d.status, d.actor])).toEqual([['passed', 'cli'], ['failed', 'cli']]);
  });

  it('prune --dry-run prints what would go past BACKUP_KEEP_MANUAL and deletes nothing; prune deletes it', async () => {
    const [first] = (await readdir(path.join(dataDir, 'a'))).sort();
    const second = (JSON.parse((await cli(['backup', 'run'])).stdout) as { name: string; targets: Array<{ pruned: string[] }> });
    expect(second.targets.map((t) => t.pruned)).toEqual([[], []]);
    const plan = await cli(['backup', 'prune', '--dry-run'], { BACKUP_KEEP_MANUAL: '1' });
    expect(plan.code).toBe(0);
    const planned = { targets: ['a', 'b'].map((target) => ({ target, kept: [second.name], removed: [first], errors: [] })) };
    expect(JSON.parse(plan.stdout)).toEqual({ dryRun: true, ...planned });
    expect(await readdir(path.join(dataDir, 'a'))).toContain(first);
    const pruned = await cli(['backup', 'prune'], { BACKUP_KEEP_MANUAL: '1' });
    expect(pruned.code).toBe(0);
    expect(JSON.parse(pruned.stdout)).toEqual({ dryRun: false, ...planned });
    expect(await readdir(path.join(dataDir, 'a'))).toEqual([second.name]);
    expect(await readdir(path.join(dataDir, 'b'))).toEqual([second.name]);
  });

  it('refuses a target outside the schools\' region, naming it', async () => {
    const refused = await cli(['backup', 'run'], { BACKUP_TARGETS: `a@RU=dir:${path.join(dataDir, 'a')},osh@KG=dir:${path.join(dataDir, 'kg')}` });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('backup target "osh" (KG) is outside the allowed regions of school');
    expect(await readdir(dataDir)).not.toContain('kg');
  });
});
