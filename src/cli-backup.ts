import type { Command } from 'commander';
import type { WithDatabase } from './cli-sync.js';
import { systemClock } from './lib/clock.js';

/**
 * `backup run | list | verify | restore-drill`: the backups of issue 14 (src/archive/backup*.ts). Each
 * command checks the targets against the schools' regions first, as the service's start does.
 */
export function registerBackupCommands(program: Command, withDatabase: WithDatabase): void {
  const backup = program.command('backup').description('backups on the configured targets (BACKUP_TARGETS), their verification and the restore drill');
  backup
    .command('run')
    .description('back up the database to every target now (exit 2 when partial, 1 when failed)')
    .option('--reason <reason>', 'manual | nightly | period_close', 'manual')
    .action((o: { reason: string }) =>
      withDatabase(async (db, config, logger) => {
        const [{ runBackup }, { backupDepsOf }] = await Promise.all([import('./archive/backup.js'), import('./archive/backup-config.js')]);
        const reason = (['manual', 'nightly', 'period_close'] as const).find((r) => r === o.reason);
        if (!reason) throw new Error('--reason must be manual, nightly or period_close');
        const result = await runBackup(backupDepsOf(config, db, systemClock, logger), { reason });
        process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
        return result.status === 'succeeded' ? 0 : result.status === 'partial' ? 2 : 1;
      }),
    );
  backup
    .command('list')
    .description('the recorded backup runs and what each target holds')
    .option('--limit <n>', 'runs to show', '20')
    .action((o: { limit: string }) =>
      withDatabase(async (db, config) => {
        const [{ checkBackupTargets }, { backupSettingsOf }, { readBackupStatus }] = await Promise.all([
          import('./archive/backup-jurisdiction.js'), import('./archive/backup-config.js'), import('./archive/backup-status.js')]);
        const targets = await checkBackupTargets(backupSettingsOf(config), db.pool);
        const status = await readBackupStatus(db.pool, targets, { limit: Number(o.limit) || 20, nightly: config.BACKUP_NIGHTLY_AT !== 'off', now: systemClock.now() });
        process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
      }),
    );
  backup
    .command('verify')
    .description('read back each target\'s newest backup (or --backup, or --all) and check it against its manifest (exit 1 on any problem)')
    .option('--backup <name>', 'one backup by name')
    .option('--all', 'every backup on every target')
    .action((o: { backup?: string; all?: boolean }) =>
      withDatabase(async (db, config, logger) => {
        const [{ checkBackupTargets }, { backupSettingsOf }, { verifyTargets, recordedDigests }] = await Promise.all([
          import('./archive/backup-jurisdiction.js'), import('./archive/backup-config.js'), import('./archive/backup-verify.js')]);
        const targets = await checkBackupTargets(backupSettingsOf(config), db.pool, logger);
        const reports = await verifyTargets(targets, { backup: o.backup, all: o.all, recorded: await recordedDigests(db.pool) });
        for (const r of reports) {
          process.stdout.write(`${r.ok ? 'ok     ' : 'FAILED '} ${r.target}: ${r.backup || '-'}\n`);
          for (const p of r.problems) process.stdout.write(`        ${p}\n`);
        }
        return reports.every((r) => r.ok) ? 0 : 1;
      }),
    );
  backup
    .command('restore-drill')
    .description('restore the newest backup that verifies into a fresh database and compare it with the backup\'s source (exit 1 on any mismatch)')
    .option('--target <name>', 'take the backup from this target only')
    .option('--keep', 'keep the restored database')
    .action((o: { target?: string; keep?: boolean }) =>
      withDatabase(async (db, config, logger) => {
        const [{ backupSettingsOf }, { newDrill, runRecordedDrill, formatDrillReport }] = await Promise.all([import('./archive/backup-config.js'), import('./archive/backup-drill.js')]);
        // On record like the drills the dashboard and the API queue (backup_drill).
        const id = await newDrill(db.pool, systemClock, 'cli', o.target);
        const { report, error } = await runRecordedDrill({
          pool: db.pool, clock: systemClock, logger, settings: backupSettingsOf(config), adminUrl: config.BACKUP_ADMIN_URL ?? db.adminUrl, pgRestorePath: config.PG_RESTORE_PATH,
        }, id, { keep: o.keep });
        if (!report) throw new Error(error ?? 'the restore drill did not run');
        process.stdout.write(formatDrillReport(report));
        return report.ok ? 0 : 1;
      }),
    );
  backup
    .command('prune')
    .description('delete old backups per BACKUP_KEEP_NIGHTLY / BACKUP_KEEP_MANUAL (period-close and unrecorded backups stay) and print per target what went, as JSON (exit 1 on any error)')
    .option('--dry-run', 'print what would be deleted, delete nothing')
    .action((o: { dryRun?: boolean }) =>
      withDatabase(async (db, config, logger) => {
        const [{ checkBackupTargets }, { backupSettingsOf }, { pruneBackups }] = await Promise.all([
          import('./archive/backup-jurisdiction.js'), import('./archive/backup-config.js'), import('./archive/backup-retention.js')]);
        const settings = backupSettingsOf(config);
        const targets = await checkBackupTargets(settings, db.pool, logger);
        const results = await pruneBackups({ pool: db.pool, logger, settings }, targets, { dryRun: o.dryRun });
        process.stdout.write(`${JSON.stringify({ dryRun: o.dryRun ?? false, targets: results }, null, 2)}\n`);
        return results.every((r) => r.errors.length === 0) ? 0 : 1;
      }),
    );
}
