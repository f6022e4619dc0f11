import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import type { WithDatabase } from './cli-sync.js';
import { onlySchool } from './cli-checks.js';
import { anchorDirOf } from './config.js';
import { systemClock } from './lib/clock.js';
import { todayIn } from './lib/dates.js';
import { loadSecretBox } from './lib/secret-box.js';
import type { CloseView } from './archive/close.js';

/**
 * `period …` (the close of a reporting period, step by step or whole), `seal verify` and `archive …`, as
 * the API does them; the actor recorded for each step is `--actor` (default `cli`). The archive modules
 * (and the PDF renderer with them) are loaded by these commands only.
 */
export function registerArchiveCommands(program: Command, withDatabase: WithDatabase): void {
  const period = program.command('period').description('the close of a reporting period (001 Инструкция §4): checks, lock, seal, printouts, backup, sign-off');
  const target = (c: Command) => c
    .option('--school <id>', 'school id (default: the only school)')
    .option('--period <id>', 'period id (default: the school\'s earliest period not closed)')
    .option('--actor <name>', 'who does it (recorded with the step)', 'cli');
  interface Target { school?: string; period?: string; actor: string }

  const resolve = async (pool: Parameters<typeof onlySchool>[0], o: Target) => {
    const schoolId = o.school ?? (await onlySchool(pool));
    const { earliestOpenPeriod } = await import('./archive/close.js');
    const tz = (await pool.query<{ time_zone: string }>('SELECT time_zone FROM school WHERE id = $1', [schoolId])).rows[0]?.time_zone ?? 'UTC';
    const periodId = o.period ?? (await earliestOpenPeriod(pool, schoolId, todayIn(tz)));
    return { schoolId, periodId, actor: o.actor };
  };
  const depsOf = async (db: Parameters<Parameters<WithDatabase>[0]>[0], config: Parameters<Parameters<WithDatabase>[0]>[1], logger: Parameters<Parameters<WithDatabase>[0]>[2]) => {
    const [{ closeDepsOf }, box] = await Promise.all([
      import('./archive/service.js'),
      loadSecretBox(config.CONNECTION_SECRETS_KEY, config.DATA_DIR, { external: config.DATABASE_URL !== undefined }),
    ]);
    return closeDepsOf(db, config, systemClock, box, logger);
  };

  target(period.command('close').description('the whole close for a script: checks, lock, seal, printouts and backup; writes the sealed PDFs and summary sheets into --out'))
    .requiredOption('--out <dir>', 'where to write the printouts')
    .option('--override <reason>', 'lock although severe findings are open (the reason is recorded)')
    .option('--sign-off', 'and sign the close off (as the director; what is still missing needs --override)')
    .action((o: Target & { out: string; override?: string; signOff?: boolean }) => withDatabase(async (db, config, logger) => {
      const close = await import('./archive/close.js');
      const deps = await depsOf(db, config, logger);
      const request = await resolve(db.pool, o);
      let view = await close.startClose(deps, request);
      report(`checks: ${view.findings.unresolved} unresolved finding(s), ${view.findings.severe} severe`);
      view = await close.lockClose(deps, { ...request, override: o.override });
      report(`locked at history position ${view.lockSeq}`);
      view = await close.sealClose(deps, request);
      report(`sealed: ${view.seal!.code}, ${view.seal!.pages} pages`);
      const printed = await close.printClose(deps, request);
      const { readArchiveItem } = await import('./archive/store.js');
      await mkdir(o.out, { recursive: true });
      for (const item of printed.items) {
        const file = path.join(o.out, item.filename);
        await writeFile(file, (await readArchiveItem(db.pool, item.id, 'content')).content);
        report(`${file}  sha256 ${item.sha256}`);
      }
      view = await close.backupClose(deps, request);
      if (o.signOff) view = await close.signOffClose(deps, { ...request, override: o.override });
      process.stdout.write(`${JSON.stringify(summary(view), null, 2)}\n`);
    }));
  target(period.command('status').description('the close of a period as it stands')).action((o: Target) => withDatabase(async (db) => {
    const { readClose } = await import('./archive/close.js');
    const request = await resolve(db.pool, o);
    process.stdout.write(`${JSON.stringify(await readClose(db.pool, request.schoolId, request.periodId), null, 2)}\n`);
  }));
  for (const [name, description] of [
    ['start', 'step 1: begin the close; the checks run over the period and the findings are listed'],
    ['lock', 'step 2: lock the period (later changes become post-close findings)'],
    ['seal', 'step 2: seal the locked period'],
    ['print', 'step 2: the sealed printouts and summary sheets, filed in the archive'],
    ['backup', 'step 2: the backup copies'],
    ['sign-off', 'day 5: the director signs the close off'],
  ] as const) {
    const command = target(period.command(name).description(description));
    if (name === 'lock' || name === 'sign-off') command.option('--override <reason>', 'go ahead although the procedure is not complete (the reason is recorded)');
    command.action((o: Target & { override?: string }) => withDatabase(async (db, config, logger) => {
      const close = await import('./archive/close.js');
      const deps = await depsOf(db, config, logger);
      const request = await resolve(db.pool, o);
      const view = name === 'start' ? await close.startClose(deps, request)
        : name === 'lock' ? await close.lockClose(deps, { ...request, override: o.override })
          : name === 'seal' ? await close.sealClose(deps, request)
            : name === 'print' ? (await close.printClose(deps, request)).close
              : name === 'backup' ? await close.backupClose(deps, request)
                : await close.signOffClose(deps, { ...request, override: o.override });
      process.stdout.write(`${JSON.stringify(summary(view), null, 2)}\n`);
    }));
  }
  target(period.command('confirm').description('days 1, 3, 4: a teacher confirms a subject\'s final marks or signs its pages; a class teacher certifies the class'))
    .requiredOption('--step <step>', 'finals | pages | class')
    .requiredOption('--class <id>', 'class id')
    .option('--subject <id>', 'subject id (finals, pages)')
    .action((o: Target & { step: 'finals' | 'pages' | 'class'; class: string; subject?: string }) => withDatabase(async (db, config, logger) => {
      const close = await import('./archive/close.js');
      const request = await resolve(db.pool, o);
      const view = await close.confirmClose(await depsOf(db, config, logger), { ...request, step: o.step, classId: o.class, subjectId: o.subject });
      process.stdout.write(`${JSON.stringify(summary(view), null, 2)}\n`);
    }));

  program.command('seal').description('printouts\' seals').command('verify <code>')
    .description('does a printout still match the journal? its page code (JB-XXXX-XXXX), as printed')
    .option('--digest <hex>', 'the digest the printout carries (from its QR code)')
    .action((code: string, o: { digest?: string }) => withDatabase(async (db) => {
      const { verifyPageCode } = await import('./archive/verify.js');
      const verdict = await verifyPageCode(db.pool, code, o.digest);
      process.stdout.write(`${JSON.stringify(verdict, null, 2)}\n`);
      return verdict.status === 'matches' ? 0 : 2;
    }));

  const archive = program.command('archive').description('the archive: seal manifests, printouts, summary sheets, reports');
  archive.command('list').option('--school <id>', 'school id (default: the only school)').option('--kind <kind>', 'one kind').option('--limit <n>', 'how many', '50')
    .action((o: { school?: string; kind?: string; limit: string }) => withDatabase(async (db) => {
      const { listArchive } = await import('./archive/store.js');
      const schoolId = o.school ?? (await onlySchool(db.pool));
      const items = await listArchive(db.pool, { schoolIds: [schoolId], kind: o.kind as never, limit: Number(o.limit) });
      for (const i of items) process.stdout.write(`${i.id}  ${i.createdAt}  ${i.kind.padEnd(13)} ${i.sha256.slice(0, 16)}  ${i.filename}\n`);
    }));
  archive.command('get <id>').requiredOption('--out <file>', 'where to write it').action((id: string, o: { out: string }) => withDatabase(async (db) => {
    const { readArchiveItem } = await import('./archive/store.js');
    const item = await readArchiveItem(db.pool, id, 'content');
    await writeFile(o.out, item.content);
    process.stdout.write(`${o.out}: ${item.size} bytes, sha256 ${item.sha256}\n`);
  }));
  archive.command('verify').description('recompute every archive item\'s digest, the history chain, and each seal\'s position, pages and root')
    .option('--school <id>', 'school id (default: the only school)')
    .action((o: { school?: string }) => withDatabase(async (db, config) => {
      const [{ verifyArchive }, { readAnchors }] = await Promise.all([import('./archive/check.js'), import('./journal/anchors.js')]);
      const schoolId = o.school ?? (await onlySchool(db.pool));
      const result = await verifyArchive(db.pool, schoolId, await readAnchors(anchorDirOf(config), schoolId));
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      return result.ok ? 0 : 2;
    }));
}

const report = (line: string) => process.stderr.write(`${line}\n`);

function summary(view: CloseView) {
  return {
    period: view.period.title, status: view.status, seal: view.seal?.code ?? null, lockSeq: view.lockSeq, findings: view.findings,
    postCloseChanges: view.postCloseChanges, steps: view.steps.map((s) => `${s.at} ${s.step}${s.classId ? ` ${s.classId}` : ''}${s.subjectId ? `/${s.subjectId}` : ''} by ${s.actor}`),
    waitingFor: view.waitingFor,
  };
}
