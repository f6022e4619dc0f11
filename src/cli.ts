#!/usr/bin/env node
import { Command, InvalidArgumentError } from 'commander';
import { pino } from 'pino';
import { anchorDirOf, loadConfig, type Config } from './config.js';
import { openDatabase, type Database } from './db/database.js';
import { loadDemoSchool } from './demo/load.js';
import { ChainAnchors, readAnchors } from './journal/anchors.js';
import { formatChainReport, verifyChains } from './journal/verify.js';
import { systemClock } from './lib/clock.js';
import { describeError } from './lib/errors.js';
import { createLogger, type Logger } from './lib/logger.js';
import { startService } from './main.js';
import { registerSyncCommands } from './cli-sync.js';
import { registerChecksCommands } from './cli-checks.js';
import { registerPaperCommands } from './cli-paper.js';
import { registerNotifyCommands } from './cli-notify.js';
import { registerAuthCommands } from './cli-auth.js';
import { registerPushCommands } from './cli-push.js';
import { registerArchiveCommands } from './cli-archive.js';
import { registerReportCommands } from './cli-reports.js';
import { registerBackupCommands } from './cli-backup.js';

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

/**
 * `start`: the service, and its one shutdown path. SIGTERM, SIGINT (Ctrl-C reaches the whole foreground
 * process group: npm, its shell and us, never the embedded Postgres, which runs in a group of its own)
 * and SIGHUP all stop it the same way (main.ts closeService), and so does the death of the parent
 * process: `npm start` does not pass a SIGTERM on to its script, it exits and would leave us running.
 * A second signal cuts the syncs' grace short; the database is still stopped properly. Exit code 0
 * after a clean stop, 1 when the start or the stop failed.
 */
async function start(): Promise<void> {
  serving = true;
  const config = loadConfig();
  const logger = createLogger(config.LOG_LEVEL);
  const starting = startService(config, logger);
  let stopping: Promise<void> | undefined;
  const stop = (reason: string, code = 0) => {
    if (stopping) {
      logger.warn({ reason }, 'already stopping: running syncs are aborted now');
      void starting.then((service) => service.sync.halt(), () => undefined);
      return;
    }
    logger.info({ reason }, 'shutting down');
    const watchdog = setTimeout(() => {
      logger.error('the shutdown did not finish in time: exiting without it');
      process.exit(1);
    }, (config.SHUTDOWN_GRACE_SECONDS + 90) * 1000);
    watchdog.unref();
    stopping = starting
      .then((service) => service.close())
      .then(
        () => {
          logger.info('stopped');
          process.exitCode = code;
        },
        (error: unknown) => {
          logger.error({ error: describeError(error) }, 'the service did not stop cleanly');
          process.exitCode = 1;
        },
      )
      .then(() => exitAfterFlush());
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => stop(signal));
  process.on('unhandledRejection', (error) => {
    logger.error({ error: describeError(error) }, 'unhandled failure: stopping');
    stop('failure', 1);
  });
  const parent = process.ppid;
  const orphaned = setInterval(() => {
    if (process.ppid !== parent) stop('the parent process exited');
  }, 1000);
  orphaned.unref();
  try {
    await starting;
  } catch (error) {
    // startService has stopped what it had started (the embedded Postgres included).
    logger.error({ error: describeError(error) }, 'the service did not start');
    clearInterval(orphaned);
    process.exitCode = 1;
    exitAfterFlush();
  }
}

/** Exits with process.exitCode once what was written to stdout and stderr has gone out (pipes are asynchronous). */
function exitAfterFlush(): void {
  process.stdout.write('', () => process.stderr.write('', () => process.exit(Number(process.exitCode ?? 0))));
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
  .description("recompute each school's history hash chain and check it against the anchors outside the database; print the first broken link, or OK with the count checked; exit code 1 when broken")
  .option('--school <id>', 'only this school')
  .action((options: { school?: string }) =>
    withDatabase(async (db, config) => {
      const anchors = await readAnchors(anchorDirOf(config), options.school);
      for (const problem of anchors.problems) process.stdout.write(`BROKEN: ${problem}\n`);
      const reports = await verifyChains(db.pool, options.school ? [options.school] : undefined, anchors);
      for (const report of reports) process.stdout.write(`${formatChainReport(report)}\n`);
      if (reports.length === 0) process.stdout.write('no schools\n');
      return reports.every((r) => r.ok) && anchors.problems.length === 0 ? 0 : 1;
    }),
  );
journal
  .command('anchor')
  .description('anchor every school\'s chain head now (the service does so after each sync and periodically)')
  .action(() =>
    withDatabase(async (db, config) => {
      const written = await (await ChainAnchors.open(anchorDirOf(config))).write(db.pool);
      process.stdout.write(`${written} chain heads anchored in ${anchorDirOf(config)}\n`);
    }),
  );

registerSyncCommands(program, withDatabase);
registerChecksCommands(program, withDatabase);
registerPaperCommands(program, withDatabase);
registerPushCommands(program, withDatabase);
registerArchiveCommands(program, withDatabase);
registerNotifyCommands(program, withDatabase);
registerAuthCommands(program, withDatabase);
registerReportCommands(program, withDatabase);
registerBackupCommands(program, withDatabase);

program.parseAsync(process.argv).then(
  // A one-shot command ends with its own exit code, once its output has gone out, whatever timers or
  // sockets a library left open.
  () => {
    if (!serving) exitAfterFlush();
  },
  (error: unknown) => {
    process.stderr.write(`${describeError(error)}\n`);
    process.exit(1);
  },
);
