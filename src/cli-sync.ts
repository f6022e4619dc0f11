import { Option, type Command } from 'commander';
import cliProgress from 'cli-progress';
import { adapters } from '../adapters/index.js';
import type { Config } from './config.js';
import type { Database } from './db/database.js';
import type { Logger } from './lib/logger.js';
import { systemClock } from './lib/clock.js';
import { executeRun } from './sync/executor.js';
import { listAlerts, readSyncHealth } from './sync/alerts.js';
import { insertRun, listRuns, RangeSchema, type RunView } from './sync/runs.js';
import { startSync, type SyncService } from './sync/service.js';
import { registerCaptureCommands } from './cli-capture.js';

/** The CLI's way to run a command against the configured database (cli.ts). */
export type WithDatabase = (work: (db: Database, config: Config, logger: Logger) => Promise<number | void>) => Promise<void>;

/** `connections …` and `sync …`: the sync engine from the command line (no worker, no scheduler). */
export function registerSyncCommands(program: Command, withDatabase: WithDatabase): void {
  const withSync = (work: (sync: SyncService, db: Database) => Promise<number | void>) =>
    withDatabase(async (db, config, logger) => {
      const sync = await startSync(config, { pool: db.pool, clock: systemClock, logger, adapters }, []);
      try {
        return await work(sync, db);
      } finally {
        await sync.stop();
      }
    });
  const print = (value: unknown): void => {
    process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  };
  const connections = program.command('connections').description('connections of schools to platforms');
  connections.command('list').option('--school <id>').action((o: { school?: string }) => withSync(async (s) => print(await s.connections.list({ schoolId: o.school }))));
  connections
    .command('add')
    .requiredOption('--school <id>', 'school id')
    .addOption(new Option('--platform <id>', 'platform').choices([...adapters.keys()]).makeOptionMandatory())
    .requiredOption('--config <json>', 'settings and secrets as JSON, e.g. \'{"baseUrl":"…","login":"…","password":"…"}\'')
    .option('--title <title>')
    .option('--schedule <cron>', "cron expression in the school's time zone, e.g. '0 */2 * * *'")
    .option('--no-check', 'do not log in to the platform first')
    .action((o: { school: string; platform: string; config: string; title?: string; schedule?: string; check: boolean }) =>
      withSync(async (s) => print(await s.connections.create({ schoolId: o.school, platform: o.platform, title: o.title, config: JSON.parse(o.config) as Record<string, unknown>, schedule: o.schedule }, { check: o.check }))));
  connections
    .command('update <id>')
    .option('--config <json>', 'settings and secrets to change')
    .option('--title <title>')
    .option('--schedule <cron>', "cron expression, or 'none'")
    .action((id: string, o: { config?: string; title?: string; schedule?: string }) =>
      withSync(async (s) => print(await s.connections.update(id, {
        title: o.title, config: o.config ? (JSON.parse(o.config) as Record<string, unknown>) : undefined,
        schedule: o.schedule === undefined ? undefined : o.schedule === 'none' ? null : o.schedule,
      }))));
  for (const [name, enabled] of [['enable', true], ['disable', false]] as const) {
    connections.command(`${name} <id>`).action((id: string) => withSync(async (s) => print(await s.connections.update(id, { enabled }))));
  }
  connections.command('delete <id>').action((id: string) => withSync(async (s) => s.connections.delete(id)));
  registerCaptureCommands(connections, withSync);

  const sync = program.command('sync').description('sync runs');
  sync
    .command('run <connection>')
    .description('sync a connection now, in this process, with a progress bar per stream')
    .option('--full', 'read the whole school year, not only the window since the last run')
    .option('--from <date>', 'read these days only (with --to): a past year, a month to read again')
    .option('--to <date>', 'the last day of --from')
    .option('--queue', 'hand the run to the workers instead of running it here')
    .option('--force', 'sync a disabled connection all the same (this one run)')
    .action((connectionId: string, o: { full?: boolean; queue?: boolean; from?: string; to?: string; force?: boolean }) =>
      withSync(async (s, db) => {
        const range = runRange(o);
        await s.connections.assertSyncable(connectionId, { force: o.force });
        const mode = range ? 'range' : o.full ? 'full' : 'incremental';
        if (o.queue) {
          print((await s.queue.enqueue(connectionId, 'manual', mode, { range })).run);
          return 0;
        }
        const runId = (await insertRun(db.pool, connectionId, 'manual', mode, { range }))!;
        const result = await runWithBars(s, runId);
        if (result) printSummary(result);
        // No result: the connection was busy (or the run was taken over) — the run did not happen here.
        return !result || result.status === 'failed' ? 1 : 0;
      }));
  sync
    .command('runs')
    .option('--connection <id>')
    .option('--status <status>')
    .action((o: { connection?: string; status?: RunView['status'] }) => withSync(async (_s, db) => print(await listRuns(db.pool, { connectionId: o.connection, status: o.status }))));
  sync
    .command('alerts')
    .description('open alerts (credentials refused, dead-lettered syncs) and the dead letters waiting for redrive')
    .option('--connection <id>')
    .option('--all', 'closed alerts too')
    .action((o: { connection?: string; all?: boolean }) => withSync(async (s, db) => print({
      alerts: await listAlerts(db.pool, { connectionId: o.connection, open: !o.all }),
      ...(await readSyncHealth(db.pool, s.queue)),
    })));
  sync.command('redrive').description('send the dead-lettered syncs back to the queue').action(() =>
    withSync(async (s) => {
      const runs = await s.queue.redrive();
      process.stdout.write(`${runs.length} dead-lettered sync(s) queued again\n`);
    }));
}

/** `--from`/`--to`: both or neither, real days in order. */
function runRange(o: { from?: string; to?: string; full?: boolean }): { from: string; to: string } | undefined {
  if (o.from === undefined && o.to === undefined) return undefined;
  const range = RangeSchema.safeParse({ from: o.from, to: o.to });
  if (!range.success || o.full) throw new Error('give both --from and --to as dates YYYY-MM-DD, --from not after --to (and not with --full)');
  return range.data;
}

async function runWithBars(s: SyncService, runId: string): Promise<RunView | undefined> {
  const bars = new cliProgress.MultiBar({ format: ' {stream} | {records} records in {batches} batches {state}', hideCursor: true }, cliProgress.Presets.shades_classic);
  const lines = new Map<string, cliProgress.SingleBar>();
  const result = await executeRun(s.executor, runId, { jobId: null, number: 1, final: true }, ({ progress }) => {
    for (const [stream, p] of Object.entries(progress)) {
      if (!lines.has(stream)) lines.set(stream, bars.create(1, 0, { stream: stream.padEnd(12) }));
      lines.get(stream)!.update(p.done ? 1 : 0, { records: p.records, batches: p.batches, state: p.done ? '✓' : '…' });
    }
  });
  bars.stop();
  if (result.outcome === 'busy') process.stderr.write('another run is syncing this connection now; try later or use --queue\n');
  else if (result.outcome !== 'done') process.stderr.write(`the run did not complete here (${result.outcome})\n`);
  return result.outcome === 'done' ? result.run : undefined;
}

function printSummary(run: RunView): void {
  process.stdout.write(`run ${run.id}: ${run.status} in ${((run.durationMs ?? 0) / 1000).toFixed(1)} s, ${run.requests} platform requests\n`);
  for (const [stream, c] of Object.entries(run.counts)) {
    process.stdout.write(`  ${stream.padEnd(12)} created ${c.created}, updated ${c.updated}, unchanged ${c.unchanged}, deleted ${c.deleted}, rejected ${c.rejected}\n`);
  }
  for (const r of run.rejected.slice(0, 10)) process.stdout.write(`  rejected ${JSON.stringify(r)}\n`);
  if (run.error) process.stdout.write(`  error (${run.errorKind}): ${run.error}\n`);
}
