import { randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { loadDemoSchool } from '../../src/demo/load.js';
import { fixedClock } from '../../src/lib/clock.js';
import { createLogger } from '../../src/lib/logger.js';
import { produceReport } from '../../src/reports/produce.js';
import { readSummarySheet } from '../../src/reports/summary.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { runCli, tempDataDir } from '../support/processes.js';

/** `summary-sheet` and `reports` write what the modules (and so the API) give, in processes of their own; an unknown kind exits non-zero with the kinds named. */
const clock = fixedClock(new Date('2025-10-31T12:00:00Z'));
let db: TestDatabase;
let dir: string;
let schoolId: string;
let classId: string;
let year: string;
let q1: string;

beforeAll(async () => {
  db = await createTestDatabase();
  dir = await tempDataDir();
  ({ schoolId } = await loadDemoSchool({ pool: db.pool, clock, logger: createLogger('silent') }, { seed: 43, pupils: 20, year: 2025, until: '2025-10-31' }));
  ({ id: classId, year } = (await db.pool.query<{ id: string; year: string }>(
    `SELECT c.id::text, c.academic_year_id::text AS year FROM class_group c WHERE c.school_id = $1 AND c.parent_id IS NULL AND c.grade > 1 ORDER BY c.grade, c.name LIMIT 1`, [schoolId])).rows[0]!);
  q1 = (await db.pool.query<{ id: string }>(`SELECT id::text FROM period WHERE school_id = $1 AND kind = 'quarter' AND number = 1`, [schoolId])).rows[0]!.id;
}, 300_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  await db?.drop();
});

describe('the command line', () => {
  it('writes the summary sheet and a report, and refuses an unknown kind', async () => {
    const env = { DATA_DIR: dir, DATABASE_URL: db.url, CONNECTION_SECRETS_KEY: randomBytes(32).toString('base64') };
    const [sheet, progress, bad] = await Promise.all([
      runCli(['summary-sheet', '--class', classId, '--out', path.join(dir, 'sheet.json')], env),
      runCli(['reports', 'progress', '--period', q1, '--format', 'json', '--out', path.join(dir, 'progress.json')], env),
      runCli(['reports', 'grades', '--out', path.join(dir, 'x.pdf')], env),
    ]);
    expect([sheet.code, progress.code]).toEqual([0, 0]);
    expect(JSON.parse(await readFile(path.join(dir, 'sheet.json'), 'utf8'))).toEqual(await readSummarySheet(db.pool, { schoolId, classId, academicYearId: year }));
    // The same numbers for the only school; the window's «today» is the process's own.
    const written = JSON.parse(await readFile(path.join(dir, 'progress.json'), 'utf8')) as { data: unknown; window: { today: string } };
    const report = JSON.parse(JSON.stringify((await produceReport(db.pool, { kind: 'progress', schoolId, periodId: q1 }, 'json', clock.now())).data)) as typeof written;
    expect((written.data as { rows: unknown[] }).rows.length).toBeGreaterThan(0);
    expect(written.data).toEqual(report.data);
    expect({ ...written.window, today: null }).toEqual({ ...report.window, today: null });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('unknown report «grades»');
  });
});
