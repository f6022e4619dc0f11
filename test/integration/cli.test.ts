import { randomBytes, randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { applyBatch } from '../../src/journal/apply-batch.js';
import { fixedClock } from '../../src/lib/clock.js';
import { mapLimit } from '../../src/ports/concurrency.js';
import { asSuperuser, createTestDatabase, type TestDatabase } from '../support/db.js';
import { createConnection, createSchool } from '../support/fixtures.js';
import { runCli, tempDataDir, type CliOutcome } from '../support/processes.js';

/**
 * Every command of the command line exits non-zero when it fails (a cron job or a monitor must notice),
 * and zero when it succeeds: one real process per command, against a real database.
 */

let db: TestDatabase;
let broken: TestDatabase;
let dataDir: string;
let schoolId: string;
const KEY = randomBytes(32).toString('base64');

function cli(args: string[], env: Record<string, string> = {}): Promise<CliOutcome> {
  return runCli(args, { DATA_DIR: dataDir, DATABASE_URL: db.url, CONNECTION_SECRETS_KEY: KEY, ...env });
}

/** A URL no Postgres answers at: a closed port on loopback. */
const NOWHERE = 'postgresql://nobody:x@127.0.0.1:1/none';

beforeAll(async () => {
  dataDir = await tempDataDir();
  db = await createTestDatabase();
  schoolId = await createSchool(db.pool);
  await createConnection(db.pool, schoolId);
  broken = await createTestDatabase();
  const brokenSchool = await createSchool(broken.pool);
  const brokenConnection = await createConnection(broken.pool, brokenSchool);
  await applyBatch(broken.pool, fixedClock(new Date('2025-09-02T10:00:00Z')), {
    connectionId: brokenConnection, stream: 'roster',
    records: [{ type: 'class', externalId: 'c', year: 2025, name: '7А', grade: 7 }, { type: 'subject', externalId: 's', name: 'Физика' }],
  });
  await asSuperuser(broken.pool, [[`UPDATE journal_event SET actor = 'someone' WHERE seq = 1`]]);
});

afterAll(async () => {
  await db.drop();
  await broken.drop();
  await rm(dataDir, { recursive: true, force: true });
});

describe('exit codes of the command line', () => {
  const failures: Array<{ name: string; args: string[]; env?: () => Record<string, string>; says: RegExp }> = [
    { name: 'start with a bad configuration', args: ['start'], env: () => ({ PORT: 'eighty' }), says: /PORT/ },
    { name: 'migrate without a reachable database', args: ['migrate'], env: () => ({ DATABASE_URL: NOWHERE }), says: /ECONNREFUSED/ },
    { name: 'demo with a bad option', args: ['demo', '--pupils', 'many'], says: /not an integer/ },
    { name: 'journal verify of a broken chain', args: ['journal', 'verify'], env: () => ({ DATABASE_URL: broken.url }), says: /BROKEN at event 1/ },
    { name: 'journal verify of an unknown school', args: ['journal', 'verify', '--school', randomUUID()], says: /no such school/ },
    { name: 'journal anchor without a reachable database', args: ['journal', 'anchor'], env: () => ({ DATABASE_URL: NOWHERE }), says: /ECONNREFUSED/ },
    { name: 'connections list of a malformed school id', args: ['connections', 'list', '--school', 'nope'], says: /uuid/ },
    { name: 'connections add with malformed JSON', args: ['connections', 'add', '--school', randomUUID(), '--platform', 'netschool', '--config', '{'], says: /JSON/ },
    { name: 'connections update of an unknown connection', args: ['connections', 'update', randomUUID(), '--title', 'x'], says: /not found|does not exist/i },
    { name: 'connections enable of an unknown connection', args: ['connections', 'enable', randomUUID()], says: /not found|does not exist/i },
    { name: 'connections disable of an unknown connection', args: ['connections', 'disable', randomUUID()], says: /not found|does not exist/i },
    { name: 'connections delete of an unknown connection', args: ['connections', 'delete', randomUUID()], says: /not found|does not exist/i },
    { name: 'connections try without a platform', args: ['connections', 'try'], says: /platform/ },
    { name: 'connections record of an unknown connection', args: ['connections', 'record', randomUUID(), '--out', '/tmp/jb-nowhere'], says: /not found|does not exist/i },
    { name: 'sync run of an unknown connection', args: ['sync', 'run', randomUUID()], says: /not found|does not exist|violates/i },
    { name: 'sync runs of a malformed connection id', args: ['sync', 'runs', '--connection', 'nope'], says: /uuid/ },
    { name: 'sync alerts without a reachable database', args: ['sync', 'alerts'], env: () => ({ DATABASE_URL: NOWHERE }), says: /ECONNREFUSED/ },
    { name: 'sync redrive without a reachable database', args: ['sync', 'redrive'], env: () => ({ DATABASE_URL: NOWHERE }), says: /ECONNREFUSED/ },
    { name: 'an unknown command', args: ['frobnicate'], says: /too many arguments/ },
  ];

  it('every failing command exits non-zero and says why', async () => {
    const outcomes = await mapLimit(failures, 2, async (f) => ({ f, outcome: await cli(f.args, f.env?.()) }));
    for (const { f, outcome } of outcomes) {
      expect({ command: f.name, failed: outcome.code !== 0 && outcome.code !== null }).toEqual({ command: f.name, failed: true });
      expect({ command: f.name, says: f.says.test(outcome.stdout + outcome.stderr) }).toEqual({ command: f.name, says: true });
    }
  }, 300_000);

  it('succeeding commands exit 0', async () => {
    const successes = [
      ['migrate'], ['journal', 'verify', '--school', schoolId], ['journal', 'anchor'], ['connections', 'list'], ['sync', 'alerts'],
    ];
    const outcomes = await mapLimit(successes, 2, async (args) => ({ args, outcome: await cli(args) }));
    for (const { args, outcome } of outcomes) {
      expect({ command: args.join(' '), code: outcome.code, stderr: outcome.stderr }).toEqual({ command: args.join(' '), code: 0, stderr: '' });
    }
  }, 300_000);
});
