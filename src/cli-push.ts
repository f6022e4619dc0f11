import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { WithDatabase } from './cli-sync.js';
import { systemClock } from './lib/clock.js';
import { NotFoundError, ValidationError } from './lib/errors.js';

/**
 * `push send`: what POST /v1/connections/{id}/records does, from a file — `{ "records": [...], "gone": [...] }`
 * or a bare array of records. The key is the file's digest unless given, so sending one file twice
 * applies it once.
 */
export function registerPushCommands(program: Command, withDatabase: WithDatabase): void {
  const push = program.command('push').description('push connections: records sent by other school systems');
  push
    .command('send')
    .description('apply a file of source records as a push connection\'s batch (prints the answer; exit 2 when records were rejected)')
    .requiredOption('--connection <id>', 'the push connection')
    .requiredOption('--file <file>', 'JSON: {"records": [...], "gone": [...]} or an array of records')
    .option('--key <key>', 'the Idempotency-Key (default: the sha256 of the file)')
    .action((o: { connection: string; file: string; key?: string }) =>
      withDatabase(async (db) => {
        const [{ PushBodySchema }, { findPushConnection }, { pushRecords }] = await Promise.all([
          import('./push/body.js'), import('./push/connection.js'), import('./push/service.js'),
        ]);
        const text = await readFile(o.file, 'utf8');
        const json: unknown = JSON.parse(text);
        const parsed = PushBodySchema.safeParse(Array.isArray(json) ? { records: json } : json);
        if (!parsed.success) throw new ValidationError(`${o.file}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
        const connection = await findPushConnection(db.pool, o.connection);
        if (!connection) throw new NotFoundError(`push connection ${o.connection}`);
        const key = o.key ?? createHash('sha256').update(text).digest('hex');
        const outcome = await pushRecords({ pool: db.pool, clock: systemClock }, { connection, key, body: parsed.data, actor: 'cli' });
        process.stdout.write(`${outcome.replayed ? '(the stored answer of this key)\n' : ''}${JSON.stringify(JSON.parse(outcome.json), null, 2)}\n`);
        return (JSON.parse(outcome.json) as { rejected: unknown[] }).rejected.length > 0 ? 2 : 0;
      }),
    );
}
