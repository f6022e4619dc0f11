import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { adapters } from '../../adapters/index.js';
import { dnevnikru } from '../../adapters/dnevnikru/index.js';
import { generateSchool, type DemoSchool } from '../../src/demo/generator.js';
import { fixedClock } from '../../src/lib/clock.js';
import { createLogger } from '../../src/lib/logger.js';
import type { SimulatorHandle } from '../../src/ports/simulator.js';
import { recordCapture, replayCapture } from '../../src/sync/probe.js';
import type { SyncService } from '../../src/sync/service.js';
import { startSimulator } from '../support/adapter-harness.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { createSchool } from '../support/fixtures.js';
import { tempDataDir } from '../support/processes.js';
import { keyOf, startTestEngine } from '../support/sync-engine.js';

/**
 * `connections record` and `connections try --replay`, for every registered adapter against its
 * simulator: the capture holds no secret, login, name, phone or e-mail of the school, replays through
 * the adapter to exactly the records the live pass mapped (pseudonyms aside: as many, of the same
 * kinds), and asks the replay for nothing it does not hold — replayed by the CLI, as a real process with no
 * database (one replay per adapter: the command line's replay is replayCapture's, and it says what it missed).
 */
const RANGE = { from: '2025-10-06', to: '2025-10-10' };
const NOW = new Date('2025-10-10T16:00:00+03:00');
const run = promisify(execFile);
const logger = createLogger('silent');

let truth: DemoSchool;
const dirs: string[] = [];

beforeAll(() => {
  truth = generateSchool({ seed: 3, pupils: 24, year: 2025, until: RANGE.to });
});
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

/** Every text of a capture: the manifest, the bodies and records.jsonl. */
async function captureText(dir: string): Promise<string> {
  const bodies = await readdir(path.join(dir, 'bodies'));
  const texts = await Promise.all([
    readFile(path.join(dir, 'capture.json'), 'utf8'), readFile(path.join(dir, 'records.jsonl'), 'utf8'),
    ...bodies.map((b) => readFile(path.join(dir, 'bodies', b), 'utf8')),
  ]);
  return texts.join('\n');
}

for (const adapter of adapters.values()) {
  describe(`${adapter.title}: a capture`, () => {
    let sim: SimulatorHandle;
    let dir: string;
    beforeAll(async () => {
      sim = await startSimulator(adapter, truth);
      dir = await mkdtemp(path.join(os.tmpdir(), `jb-capture-${adapter.id}-`));
      dirs.push(dir);
    });
    afterAll(async () => {
      await sim.close();
    });

    it('is written with personal data replaced and maps back to what the platform gave', async () => {
      const result = await recordCapture({
        adapter, config: sim.connectionConfig(), range: RANGE, timeZone: 'Europe/Moscow', clock: fixedClock(NOW), logger,
      }, dir);
      expect(result.liveRecords).toBeGreaterThan(50);
      expect(result.replayedRecords).toBe(result.liveRecords);
      expect(result.manifest.exchanges.length).toBeGreaterThan(3);
      const text = await captureText(dir);
      for (const secret of sim.secrets()) expect(text).not.toContain(secret);
      const config = sim.connectionConfig() as { login?: string; accounts?: Array<{ username: string }> };
      for (const login of [config.login, ...(config.accounts ?? []).map((a) => a.username)].filter(Boolean)) expect(text).not.toContain(login);
      const people = [...truth.pupils, ...truth.parents, ...truth.staff];
      const leaked = people.filter((p) => new RegExp(`(?<!\\p{L})${p.lastName}(?!\\p{L})`, 'u').test(text)).map((p) => p.id);
      expect(leaked).toEqual([]);
      const contacts = [...truth.parents, ...truth.staff].flatMap((p) => [p.phone, p.email]);
      expect(contacts.filter((c) => text.includes(c))).toEqual([]);
    });

    // One replay, through the command line (src/cli-capture.ts calls replayCapture and prints its records and
    // every request it had no answer for): the replay the in-process case and this one each ran, once.
    it('replays without the platform (or a database) to the records it wrote beside it, through the command line', async () => {
      const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'connections', 'try', '--replay', dir], {
        env: { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'warn' }, maxBuffer: 64 * 1024 * 1024,
      });
      expect(stdout.trim().split('\n')).toEqual((await readFile(path.join(dir, 'records.jsonl'), 'utf8')).trim().split('\n'));
      expect(stderr).toMatch(/platform requests/);
      // Nothing asked of the replay that the capture does not hold (replayCapture's `unmatched`).
      expect(stderr.split('\n').filter((line) => line.startsWith('not in the capture:'))).toEqual([]);
    }, 120_000);
  });
}

describe('connections record', () => {
  let db: TestDatabase;
  let engine: SyncService;
  let sim: SimulatorHandle;
  beforeAll(async () => {
    db = await createTestDatabase();
    engine = await startTestEngine(db, fixedClock(NOW), { ROLES: 'api' });
    sim = await startSimulator(dnevnikru, truth);
  });
  afterAll(async () => {
    await sim.close();
    await engine.stop();
    await db.drop();
  });

  it('captures a configured connection from the command line, its secrets never written', async () => {
    const schoolId = await createSchool(db.pool);
    const connection = await engine.connections.create({ schoolId, platform: 'dnevnikru', config: sim.connectionConfig() }, { check: false });
    const out = await mkdtemp(path.join(os.tmpdir(), 'jb-record-'));
    dirs.push(out);
    const { stderr } = await run(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'connections', 'record', connection.id, '--out', out, '--from', RANGE.from, '--to', RANGE.to], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: db.url, CONNECTION_SECRETS_KEY: keyOf(db), DATA_DIR: await tempDataDir() },
    });
    expect(stderr).toMatch(/capture written to .*: \d+ answers/);
    const text = await captureText(out);
    for (const secret of sim.secrets()) expect(text).not.toContain(secret);
    expect((await replayCapture(dnevnikru, out, logger)).streams.flatMap((s) => s.records).length).toBeGreaterThan(50);
  }, 120_000);
});

describe('connections try', () => {
  it('refuses a configuration that does not fit the adapter, naming the key, and exits non-zero', async () => {
    const failure = await run(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'connections', 'try', '--platform', 'dnevnikru', '--config', '{"baseUrl":"not a url"}'], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
    }).catch((e: unknown) => e as { code: number; stderr: string });
    expect(failure).toMatchObject({ code: 1, stderr: expect.stringContaining('baseUrl') });
  }, 120_000);
});
