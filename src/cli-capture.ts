import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { pino } from 'pino';
import { adapters } from '../adapters/index.js';
import { systemClock } from './lib/clock.js';
import { shiftDays, todayIn } from './lib/dates.js';
import { createLogger, type Logger } from './lib/logger.js';
import { STREAM_ORDER, type DateRange, type StreamName } from './ports/adapter.js';
import type { SourceRecord } from './ports/records.js';
import { readCapture } from './sync/capture.js';
import { probe, recordCapture, replayCapture, streamsOf, type ProbeResult } from './sync/probe.js';
import { RangeSchema } from './sync/runs.js';
import type { SyncService } from './sync/service.js';

type WithSync = (work: (sync: SyncService) => Promise<number | void>) => Promise<void>;

/**
 * `connections try` (no database: an adapter against a base URL and credentials, or against a capture)
 * and `connections record` (a read-only pass of a configured connection, captured with personal data
 * replaced) — how a school shows maintainers its platform, and how such a capture becomes a fixture.
 */
export function registerCaptureCommands(connections: Command, withSync: WithSync): void {
  connections
    .command('try')
    .description('read one or more streams of an adapter (no database) and print the source records it maps, as JSON lines')
    .addOption(new Option('--platform <id>', 'adapter').choices([...adapters.keys()]))
    .option('--config <json>', 'settings and secrets as JSON, or @file.json')
    .addOption(new Option('--stream <name...>', 'streams to read (default: all)').choices([...STREAM_ORDER]))
    .option('--from <date>', 'first day to read (default: 13 days before --to)')
    .option('--to <date>', 'last day to read (default: today in the time zone)')
    .option('--time-zone <zone>', "the school's IANA time zone", 'Europe/Moscow')
    .option('--replay <dir>', 'read a capture written by `connections record` instead of the platform')
    .option('--record <dir>', 'also write the answers into a capture, personal data replaced')
    .action(async (o: TryOptions) => {
      process.exitCode = await tryAdapter(o);
    });
  connections
    .command('record <connection>')
    .description("a read-only pass of a connection, every answer written into <dir> with names, logins, phones, e-mails and tokens replaced")
    .requiredOption('--out <dir>', 'where to write the capture')
    .addOption(new Option('--stream <name...>', 'streams to read (default: all)').choices([...STREAM_ORDER]))
    .option('--from <date>', 'first day to read (default: 13 days before --to)')
    .option('--to <date>', 'last day to read (default: today)')
    .action((connectionId: string, o: { out: string; stream?: StreamName[]; from?: string; to?: string }) =>
      withSync(async (sync) => {
        const { adapter, config, timeZone } = await sync.connections.resolveConfig(connectionId);
        const result = await recordCapture({
          adapter, config, timeZone, range: rangeOf(o, timeZone), streams: o.stream, clock: systemClock, logger: stderrLogger(),
        }, o.out);
        reportRecording(o.out, result);
        return result.liveRecords === result.replayedRecords ? 0 : 1;
      }));
}

interface TryOptions {
  platform?: string;
  config?: string;
  stream?: StreamName[];
  from?: string;
  to?: string;
  timeZone: string;
  replay?: string;
  record?: string;
}

async function tryAdapter(o: TryOptions): Promise<number> {
  const logger = stderrLogger();
  if (o.replay) {
    const platform = o.platform ?? (await readCapture(o.replay)).manifest.platform;
    const adapter = adapters.get(platform);
    if (!adapter) throw new Error(`no adapter ${platform}`);
    const result = await replayCapture(adapter, o.replay, logger, o.stream ? streamsOf(adapter, o.stream) : undefined);
    printRecords(result);
    summarize(result);
    for (const miss of result.unmatched) process.stderr.write(`not in the capture: ${miss}\n`);
    return 0;
  }
  if (!o.platform || !o.config) throw new Error('give --platform and --config (or --replay <dir>)');
  const adapter = adapters.get(o.platform)!;
  const config = JSON.parse(o.config.startsWith('@') ? readFileSync(o.config.slice(1), 'utf8') : o.config) as unknown;
  const parsed = adapter.configSchema.safeParse(config);
  if (!parsed.success) throw new Error(`the configuration does not fit ${adapter.id}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(config)'}: ${i.message}`).join('; ')}`);
  const options = { adapter, config, timeZone: o.timeZone, range: rangeOf(o, o.timeZone), streams: o.stream, clock: systemClock, logger };
  if (o.record) {
    const result = await recordCapture(options, o.record);
    reportRecording(o.record, result);
    return result.liveRecords === result.replayedRecords ? 0 : 1;
  }
  summarize(await probe(options, (stream, records) => printRecords({ streams: [{ stream, records }] })));
  return 0;
}

/** The window to read: `--from`/`--to`, by default the two weeks up to today in the school's zone. */
function rangeOf(o: { from?: string; to?: string }, timeZone: string): DateRange {
  const to = o.to ?? todayIn(timeZone);
  const range = RangeSchema.safeParse({ from: o.from ?? shiftDays(to, -13), to });
  if (!range.success) throw new Error(`--from and --to must be dates YYYY-MM-DD, --from not after --to (${range.error.issues[0]?.message ?? ''})`);
  return range.data;
}

function printRecords(result: Pick<ProbeResult, 'streams'>): void {
  for (const { stream, records } of result.streams) {
    process.stdout.write(records.map((r: SourceRecord) => `${JSON.stringify({ stream, ...r })}\n`).join(''));
  }
}

function summarize(result: ProbeResult): void {
  for (const { stream, records } of result.streams) {
    const byType = new Map<string, number>();
    for (const r of records) byType.set(r.type, (byType.get(r.type) ?? 0) + 1);
    process.stderr.write(`${stream.padEnd(12)} ${records.length} records${byType.size ? `: ${[...byType].map(([t, n]) => `${n} ${t}`).join(', ')}` : ''}\n`);
  }
  process.stderr.write(`${result.requests} platform requests\n`);
}

function reportRecording(dir: string, result: Awaited<ReturnType<typeof recordCapture>>): void {
  const { manifest, replaced } = result;
  process.stderr.write(`capture written to ${dir}: ${manifest.exchanges.length} answers, ${manifest.sockets.length} sockets; `
    + `${replaced.words} name words and ${replaced.values} logins, tokens, phones, e-mails and dates replaced\n`);
  process.stderr.write(`records: ${result.liveRecords} read from the platform, ${result.replayedRecords} mapped from the capture (records.jsonl)\n`);
  if (result.liveRecords !== result.replayedRecords) process.stderr.write('the capture does not map to what the platform gave: look at the replaced values before you share it\n');
  process.stderr.write('Review the files before you share them: text the adapter does not map (free-text comments) may still name people.\n');
}

function stderrLogger(): Logger {
  return createLogger('warn', pino.destination(2));
}
