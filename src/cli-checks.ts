import type { Command } from 'commander';
import type { WithDatabase } from './cli-sync.js';
import type { Pool } from './db/pool.js';
import { KINDS, STATUSES, listDiscrepancies, type DiscrepancyView } from './checks/discrepancies.js';
import { runChecks } from './checks/service.js';
import { systemClock } from './lib/clock.js';
import { ValidationError } from './lib/errors.js';

/** `checks run` and `checks list`: the discrepancy checks from the command line. */
export function registerChecksCommands(program: Command, withDatabase: WithDatabase): void {
  const checks = program.command('checks').description('discrepancy checks: paper, cross-source and the regulation');
  checks
    .command('run')
    .description("evaluate every rule now (default: the school's academic year so far) and print what was found")
    .option('--school <id>', 'school id (default: the only school)')
    .option('--from <date>', 'first lesson day')
    .option('--to <date>', 'last lesson day')
    .option('--rules <ids>', 'only these rules, comma-separated')
    .action((o: { school?: string; from?: string; to?: string; rules?: string }) =>
      withDatabase(async (db) => {
        const schoolId = o.school ?? (await onlySchool(db.pool));
        const result = await runChecks(db.pool, systemClock, { schoolId, from: o.from, to: o.to, rules: o.rules?.split(',') });
        for (const rule of result.rules) process.stdout.write(`${rule.rule.padEnd(32)} ${String(rule.found).padStart(6)} found  ${rule.ms} ms\n`);
        process.stdout.write(`${result.found} found (${result.opened} new or reopened, ${result.resolved} resolved) over ${result.from} … ${result.to}\n`);
      }),
    );
  checks
    .command('list')
    .description('the discrepancies, newest lesson day first (JSON lines with --json)')
    .option('--school <id>')
    .option('--class <id>')
    .option('--subject <id>')
    .option('--assignee <id>')
    .option('--rule <id>')
    .option('--kind <kind>', KINDS.join(' | '))
    .option('--status <list>', `comma-separated: ${STATUSES.join(', ')}`, 'open,acknowledged')
    .option('--limit <n>', 'at most this many', '200')
    .option('--json', 'one JSON object per line')
    .action((o: { school?: string; class?: string; subject?: string; assignee?: string; rule?: string; kind?: string; status: string; limit: string; json?: boolean }) =>
      withDatabase(async (db) => {
        const status = o.status.split(',').map((s) => s.trim());
        const bad = status.filter((s) => !(STATUSES as readonly string[]).includes(s));
        if (bad.length > 0) throw new ValidationError(`--status: unknown ${bad.join(', ')}`);
        if (o.kind && !(KINDS as readonly string[]).includes(o.kind)) throw new ValidationError(`--kind: one of ${KINDS.join(', ')}`);
        const limit = Number(o.limit);
        if (!Number.isInteger(limit) || limit < 1) throw new ValidationError('--limit: a positive integer');
        let cursor: string | undefined;
        let printed = 0;
        do {
          const page = await listDiscrepancies(db.pool, {
            schoolId: o.school, classId: o.class, subjectId: o.subject, assigneeId: o.assignee, rule: o.rule,
            kind: o.kind as DiscrepancyView['kind'] | undefined, status: status as DiscrepancyView['status'][], cursor, limit: Math.min(200, limit - printed),
          });
          for (const item of page.items) process.stdout.write(`${o.json ? JSON.stringify(item) : line(item)}\n`);
          printed += page.items.length;
          cursor = page.nextCursor ?? undefined;
        } while (cursor && printed < limit);
        if (!o.json) process.stdout.write(`${printed} shown\n`);
      }),
    );
}

function line(d: DiscrepancyView): string {
  const what = [d.day, d.className, d.subjectName].filter(Boolean).join(' ');
  return `${d.id}  ${d.status.padEnd(12)} ${d.severity.padEnd(7)} ${d.rule.padEnd(28)} ${what}  → ${d.assignee?.name ?? '—'}`;
}

export async function onlySchool(pool: Pool): Promise<string> {
  const { rows } = await pool.query<{ id: string }>('SELECT id::text FROM school ORDER BY created_at LIMIT 2');
  if (rows.length !== 1) throw new ValidationError(rows.length === 0 ? 'there is no school yet' : 'several schools: name one with --school');
  return rows[0]!.id;
}
