import { randomBytes } from 'node:crypto';
import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { loadDemoSchool } from '../../src/demo/load.js';
import { fixedClock } from '../../src/lib/clock.js';
import { createLogger } from '../../src/lib/logger.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { pdfPages } from '../support/pdf-text.js';
import { runCli, tempDataDir, type CliOutcome } from '../support/processes.js';

/**
 * `period close` as a script runs it — the only school and its earliest open period, the whole close in one
 * command (checks, lock with the override, seal, printouts, backup to both targets) writing the sealed PDFs
 * and the summary sheets into `--out` — then `seal verify` on a printed code and `archive verify`.
 */
let db: TestDatabase;
let dataDir: string;
const key = randomBytes(32).toString('base64');

function cli(args: string[]): Promise<CliOutcome> {
  return runCli(args, {
    DATA_DIR: dataDir, DATABASE_URL: db.url, CONNECTION_SECRETS_KEY: key, PUBLIC_URL: 'https://journal.school.test',
    BACKUP_TARGETS: `a@RU=dir:${path.join(dataDir, 'a')},b@RU=dir:${path.join(dataDir, 'b')}`,
  });
}

beforeAll(async () => {
  dataDir = await tempDataDir();
  db = await createTestDatabase();
  const clock = fixedClock(new Date('2025-11-05T12:00:00Z'));
  await loadDemoSchool({ pool: db.pool, clock, logger: createLogger('silent') }, { seed: 7, pupils: 25, year: 2025, until: '2025-11-04' });
});

afterAll(async () => {
  await db.drop();
  await rm(dataDir, { recursive: true, force: true });
});

describe('period close from the command line', () => {
  it('closes the earliest open period in one command, writes the sealed PDFs and summary sheets, and they verify', async () => {
    const out = path.join(dataDir, 'q1');
    const refused = await cli(['period', 'close', '--out', out]);
    const severe = (await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM discrepancy WHERE severity = 'severe' AND status = 'open'`)).rows[0]!.n;
    if (severe > 0) {
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(/severe finding/);
    }
    const closed = await cli(['period', 'close', '--out', out, '--override', 'checked on paper', '--actor', 'deputy']);
    expect(closed.stderr).not.toMatch(/error/i);
    expect(closed.code).toBe(0);
    const summary = JSON.parse(closed.stdout) as { period: string; status: string; seal: string; waitingFor: string[] };
    expect(summary).toMatchObject({ period: '1 четверть', status: 'sealed' });
    expect(summary.waitingFor).not.toContain('backup');
    expect(summary.waitingFor).not.toContain('print');
    const files = (await readdir(out)).sort();
    const classes = (await db.pool.query<{ n: number }>(`SELECT count(DISTINCT class_group_id)::int AS n FROM seal_page`)).rows[0]!.n;
    expect(files.filter((f) => /^journal-.*\.pdf$/.test(f))).toHaveLength(classes);
    expect(files.filter((f) => /^summary-.*\.pdf$/.test(f))).toHaveLength(classes);
    expect(files.filter((f) => /^summary-.*\.xlsx$/.test(f))).toHaveLength(classes);
    expect((await readdir(path.join(dataDir, 'a'))).length).toBeGreaterThan(0);
    expect((await readdir(path.join(dataDir, 'b'))).length).toBeGreaterThan(0);

    const journal = files.find((f) => f.startsWith('journal-'))!;
    const text = (await pdfPages(await readFile(path.join(out, journal)))).join('\n');
    const code = /JB-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}/.exec(text)![0];
    const verified = await cli(['seal', 'verify', code]);
    expect(verified.code).toBe(0);
    expect(JSON.parse(verified.stdout)).toMatchObject({ status: 'matches' });
    const archive = await cli(['archive', 'verify']);
    expect(archive.code).toBe(0);
    expect(JSON.parse(archive.stdout)).toMatchObject({ ok: true });
    // Again: the close is done; the command prints it again without sealing twice.
    const again = await cli(['period', 'status', '--period', (await db.pool.query<{ id: string }>('SELECT period_id::text AS id FROM period_close')).rows[0]!.id]);
    expect(JSON.parse(again.stdout)).toMatchObject({ status: 'sealed', seal: { code: summary.seal } });
  });
});
