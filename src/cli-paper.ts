import { readFile, stat, writeFile } from 'node:fs/promises';
import { extname } from 'node:path';
import type { Command } from 'commander';
import type { WithDatabase } from './cli-sync.js';
import { systemClock } from './lib/clock.js';

/**
 * `paper template` and `paper import`: the paper journal's template and its import, as the API does them.
 * The paper modules (exceljs with them) are loaded by these commands only: every other command starts
 * without them.
 */
export function registerPaperCommands(program: Command, withDatabase: WithDatabase): void {
  const paper = program.command('paper').description('the paper journal: its template and its import');
  paper
    .command('template')
    .description('write the template of a class and subject (XLSX, or CSV when --out ends in .csv)')
    .requiredOption('--class <id>', 'class id')
    .requiredOption('--subject <id>', 'subject id')
    .option('--from <date>', 'first day')
    .option('--to <date>', 'last day')
    .option('--prefill <connection>', 'fill the cells with this source\'s values')
    .requiredOption('--out <file>', 'where to write it')
    .action((o: { class: string; subject: string; from?: string; to?: string; prefill?: string; out: string }) =>
      withDatabase(async (db) => {
        const [{ readPaperPage }, { writeCsv }, { writeXlsx }] = await Promise.all([import('./paper/page.js'), import('./paper/csv.js'), import('./paper/xlsx.js')]);
        const page = await readPaperPage(db.pool, { classId: o.class, subjectId: o.subject, from: o.from, to: o.to, prefill: o.prefill });
        await writeFile(o.out, extname(o.out).toLowerCase() === '.csv' ? writeCsv(page) : await writeXlsx(page));
        process.stdout.write(`${o.out}: ${page.pupils.length} pupils × ${page.lessons.length} lessons\n`);
      }),
    );
  paper
    .command('import <file>')
    .description('import a filled template (XLSX or CSV, by its extension) as the school\'s paper source')
    .requiredOption('--class <id>', 'class id')
    .requiredOption('--subject <id>', 'subject id')
    .option('--actor <name>', 'who is importing (recorded in the history)', 'cli')
    .action((file: string, o: { class: string; subject: string; actor: string }) =>
      withDatabase(async (db) => {
        const [{ importPaper, MAX_PAPER_BYTES }, { PaperFileError }] = await Promise.all([import('./paper/import.js'), import('./paper/layout.js')]);
        if ((await stat(file)).size > MAX_PAPER_BYTES) throw new PaperFileError(`${file} is over ${MAX_PAPER_BYTES} bytes`, 413, 'file_too_large');
        const format = extname(file).toLowerCase() === '.csv' ? 'csv' : 'xlsx';
        const result = await importPaper({ pool: db.pool, clock: systemClock }, { classId: o.class, subjectId: o.subject, format, body: await readFile(file), actor: o.actor });
        process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
        return result.rejections.length > 0 ? 2 : 0;
      }),
    );
}
