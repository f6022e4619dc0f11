import { writeFile } from 'node:fs/promises';
import { extname } from 'node:path';
import type { Command } from 'commander';
import type { WithDatabase } from './cli-sync.js';
import { ValidationError } from './lib/errors.js';

/**
 * `summary-sheet` and `reports <kind>`: the printed documents as the API gives them. The report modules
 * (pdfmake, exceljs) are loaded by these commands only.
 */
export function registerReportCommands(program: Command, withDatabase: WithDatabase): void {
  program
    .command('summary-sheet')
    .description('write a class\'s summary sheet «Сводная ведомость» (PDF, or XLSX / JSON by the --out extension)')
    .requiredOption('--class <id>', 'class id')
    .option('--year <id>', 'academic year id (default: the class\'s own)')
    .requiredOption('--out <file>', 'where to write it (.pdf, .xlsx or .json)')
    .action((o: { class: string; year?: string; out: string }) =>
      withDatabase(async (db) => {
        const { readSummarySheet, renderSummaryPdf, renderSummaryXlsx } = await import('./reports/summary.js');
        const { rows } = await db.pool.query<{ school_id: string; year: string }>('SELECT school_id::text, academic_year_id::text AS year FROM class_group WHERE id = $1', [o.class]);
        if (!rows[0]) throw new ValidationError(`no class ${o.class}`);
        const sheet = await readSummarySheet(db.pool, { schoolId: rows[0].school_id, classId: o.class, academicYearId: o.year ?? rows[0].year });
        const ext = extname(o.out).toLowerCase();
        const now = new Date().toISOString();
        await writeFile(o.out, ext === '.json' ? `${JSON.stringify(sheet, null, 2)}\n` : ext === '.xlsx' ? await renderSummaryXlsx(sheet, now) : await renderSummaryPdf(sheet, now));
        process.stdout.write(`${o.out}: ${sheet.pupils.length} pupils × ${sheet.subjects.length} subjects × ${sheet.columns.length} columns\n`);
      }),
    );
  program
    .command('reports <kind>')
    .description('write a report: progress | attendance | class_teacher_period | missing_final_marks | journal_fill | user_activity')
    .option('--school <id>', 'school id (default: the only school)')
    .option('--class <id>', 'one class')
    .option('--subject <id>', 'one subject')
    .option('--period <id>', 'period id (default: the period of today)')
    .option('--from <date>', 'first day')
    .option('--to <date>', 'last day')
    .option('--format <format>', 'pdf | xlsx | json', 'pdf')
    .requiredOption('--out <file>', 'where to write it')
    .action((kind: string, o: { school?: string; class?: string; subject?: string; period?: string; from?: string; to?: string; format: string; out: string }) =>
      withDatabase(async (db) => {
        const { produceReport, REPORT_KINDS, REPORT_FORMATS } = await import('./reports/produce.js');
        if (!(REPORT_KINDS as readonly string[]).includes(kind)) throw new ValidationError(`unknown report «${kind}»: one of ${REPORT_KINDS.join(', ')}`);
        if (!(REPORT_FORMATS as readonly string[]).includes(o.format)) throw new ValidationError(`unknown format «${o.format}»: one of ${REPORT_FORMATS.join(', ')}`);
        let school = o.school;
        if (!school) {
          const { rows } = await db.pool.query<{ id: string }>('SELECT id::text FROM school ORDER BY created_at LIMIT 2');
          if (rows.length !== 1) throw new ValidationError(rows.length === 0 ? 'there is no school' : 'there are several schools: give --school');
          school = rows[0]!.id;
        }
        const report = await produceReport(db.pool, {
          kind: kind as (typeof REPORT_KINDS)[number], schoolId: school, classId: o.class, subjectId: o.subject, periodId: o.period, from: o.from, to: o.to,
        }, o.format as (typeof REPORT_FORMATS)[number]);
        await writeFile(o.out, report.bytes);
        process.stdout.write(`${o.out}: ${report.filename}, ${report.bytes.length} bytes\n`);
      }),
    );
}
