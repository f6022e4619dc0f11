import { withTransaction, type Pool } from '../db/pool.js';
import { readSources, runChecks } from '../checks/service.js';
import type { Clock } from '../lib/clock.js';
import { ConflictError, NotFoundError, ValidationError } from '../lib/errors.js';
import { readPeriod, type PeriodInfo } from './content.js';
import { lockChainHead } from '../journal/history.js';
import { createSeal, NIL_UUID, readSealManifest, signManifest } from './seal.js';
import { fileInArchive, jsonBytes, type ArchiveItemView } from './store.js';
import type { SecretBox } from '../lib/secret-box.js';

/**
 * The guided close of a reporting period, as the five-day procedure of 001 Инструкция §4 has it:
 *   day 1 — the checks for the period run and their open findings are listed; teachers check and confirm
 *           their subjects' final marks (`confirm finals`);
 *   day 2 — the deputy locks the period (open severe findings need an override with a reason), seals it,
 *           prints per class and makes the backup copies (`lock`, `seal`, `print`, `backup`);
 *   day 3 — teachers check the printouts against the journal and sign their subjects' pages (`confirm pages`);
 *   day 4 — class teachers certify the title page (`confirm class`);
 *   day 5 — the director signs off (`sign-off`): the close is recorded as closed.
 * Each step is a row of period_close_step with who did it and when. After the lock every change from any
 * platform to the period's facts is still written (the platforms are the source of truth) and each becomes
 * a `post_close_change` finding for the deputy (post-close.ts, checks/rules/period-close.ts).
 */

export type CloseStatus = 'open' | 'locked' | 'sealed' | 'closed';
export type ConfirmStep = 'finals' | 'pages' | 'class';
const STEP_OF: Record<ConfirmStep, string> = { finals: 'confirm_finals', pages: 'sign_pages', class: 'certify_class' };
/** The procedure's order of steps: steps recorded at the same instant are listed in it. */
const STEP_ORDER = ['checks', 'confirm_finals', 'lock', 'seal', 'print', 'backup', 'sign_pages', 'certify_class', 'sign_off'];

export interface CloseDeps {
  pool: Pool;
  clock: Clock;
  box: SecretBox;
  /** Step 4's printouts: the sealed PDFs and summary sheets, filed in the archive (printouts.ts). */
  print?: (close: CloseView, classIds?: readonly string[]) => Promise<ArchiveItemView[]>;
  /** Step 4's backup to every target (src/archive/backup.ts). */
  backup?: (reason: 'period_close') => Promise<{ id: string; status: string }>;
}

export interface CloseStepView {
  step: string;
  classId: string | null;
  subjectId: string | null;
  actor: string;
  at: string;
  detail: Record<string, unknown> | null;
}

export interface FindingsSummary {
  /** Open and acknowledged findings about the period's days or the period itself (post-close changes apart). */
  unresolved: number;
  severe: number;
  byRule: Array<{ rule: string; severity: string; count: number }>;
}

export interface CloseView {
  id: string;
  schoolId: string;
  period: { id: string; title: string; from: string; to: string; academicYearId: string };
  status: CloseStatus;
  startedBy: string;
  startedAt: string;
  lockedBy: string | null;
  lockedAt: string | null;
  lockSeq: string | null;
  openSevere: number | null;
  overrideReason: string | null;
  seal: { id: string; code: string; digest: string; chainSeq: string; pages: number; createdAt: string } | null;
  closedBy: string | null;
  closedAt: string | null;
  findings: FindingsSummary;
  postCloseChanges: number;
  steps: CloseStepView[];
  /** What the procedure still waits for: confirmations per class and subject, the printouts, the backup. */
  waitingFor: string[];
}

const ts = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

interface CloseRow {
  id: string; school_id: string; period_id: string; status: CloseStatus; started_by: string; started_at: string; locked_by: string | null; locked_at: string | null;
  lock_seq: string | null; open_severe: number | null; override_reason: string | null; seal_id: string | null; closed_by: string | null; closed_at: string | null;
}

async function readCloseRow(pool: Pool, schoolId: string, periodId: string): Promise<CloseRow | undefined> {
  const { rows } = await pool.query<CloseRow>(
    `SELECT id::text, school_id::text, period_id::text, status, started_by, ${ts('started_at')} AS started_at, locked_by, ${ts('locked_at')} AS locked_at,
            lock_seq::text, open_severe, override_reason, seal_id::text, closed_by, ${ts('closed_at')} AS closed_at
       FROM period_close WHERE school_id = $1 AND period_id = $2`,
    [schoolId, periodId],
  );
  return rows[0];
}

/** The close of a period as it stands (404 when it was never started). */
export async function readClose(pool: Pool, schoolId: string, periodId: string): Promise<CloseView> {
  const period = await readPeriod(pool, schoolId, periodId);
  const row = await readCloseRow(pool, schoolId, periodId);
  if (!row) throw new NotFoundError(`the close of period ${periodId}`);
  return viewOf(pool, period, row);
}

async function viewOf(pool: Pool, period: PeriodInfo, row: CloseRow): Promise<CloseView> {
  const [steps, seal, findings, changes, expected] = await Promise.all([
    pool.query<CloseStepView & { class_id: string; subject_id: string }>(
      `SELECT step, class_group_id::text AS class_id, subject_id::text AS subject_id, actor, ${ts('at')} AS at, detail
         FROM period_close_step WHERE school_id = $1 AND close_id = $2 ORDER BY at, array_position($3::text[], step), class_group_id, subject_id`,
      [row.school_id, row.id, STEP_ORDER]),
    row.seal_id
      ? pool.query<NonNullable<CloseView['seal']>>(
        `SELECT id::text, code, digest, chain_seq::text AS "chainSeq", pages, ${ts('created_at')} AS "createdAt" FROM seal WHERE school_id = $1 AND id = $2`,
        [row.school_id, row.seal_id])
      : Promise.resolve({ rows: [] }),
    readFindings(pool, period),
    pool.query<{ n: number }>('SELECT count(*)::int AS n FROM post_close_change WHERE school_id = $1 AND close_id = $2', [row.school_id, row.id]),
    expectedConfirmations(pool, period),
  ]);
  const stepViews = steps.rows.map(({ class_id, subject_id, ...s }) => ({
    ...s, classId: class_id === NIL_UUID ? null : class_id, subjectId: subject_id === NIL_UUID ? null : subject_id,
  }));
  const done = new Set(stepViews.map((s) => `${s.step}|${s.classId ?? ''}|${s.subjectId ?? ''}`));
  const waitingFor: string[] = [];
  if (row.status !== 'closed') {
    const missing = (step: string, list: Array<{ classId: string; subjectId?: string; label: string }>) => {
      const left = list.filter((x) => !done.has(`${step}|${x.classId}|${x.subjectId ?? ''}`));
      if (left.length > 0) waitingFor.push(`${step}: ${left.length} of ${list.length} (${left.slice(0, 3).map((x) => x.label).join(', ')}${left.length > 3 ? ', …' : ''})`);
    };
    missing('confirm_finals', expected.pages);
    if (row.status === 'open') waitingFor.push('lock');
    if (row.status === 'open' || row.status === 'locked') waitingFor.push('seal');
    if (!done.has('print||')) waitingFor.push('print');
    // A backup that reached only some targets (partial) is not the two copies the regulation asks for.
    if (!stepViews.some((x) => x.step === 'backup' && x.detail?.status === 'succeeded')) waitingFor.push('backup');
    missing('sign_pages', expected.pages);
    missing('certify_class', expected.classes);
    waitingFor.push('sign_off');
  }
  return {
    id: row.id, schoolId: row.school_id,
    period: { id: period.id, title: period.title, from: period.startDate, to: period.endDate, academicYearId: period.academicYearId },
    status: row.status, startedBy: row.started_by, startedAt: row.started_at, lockedBy: row.locked_by, lockedAt: row.locked_at, lockSeq: row.lock_seq,
    openSevere: row.open_severe, overrideReason: row.override_reason, seal: seal.rows[0] ?? null, closedBy: row.closed_by, closedAt: row.closed_at,
    findings, postCloseChanges: changes.rows[0]!.n, steps: stepViews, waitingFor,
  };
}

/** The pages (class × subject) and classes of the period, whose teachers and class teachers confirm them. */
async function expectedConfirmations(pool: Pool, period: PeriodInfo): Promise<{ pages: Array<{ classId: string; subjectId: string; label: string }>; classes: Array<{ classId: string; label: string }> }> {
  const { rows } = await pool.query<{ class_id: string; class_name: string; subject_id: string; subject_name: string }>(
    `SELECT DISTINCT c.id::text AS class_id, c.name AS class_name, s.id::text AS subject_id, s.name AS subject_name, c.grade
       FROM lesson l JOIN class_group g ON g.id = l.class_group_id JOIN class_group c ON c.id = COALESCE(g.parent_id, g.id) JOIN subject s ON s.id = l.subject_id
      WHERE l.school_id = $1 AND l.date BETWEEN $2 AND $3 AND l.deleted_at IS NULL AND c.academic_year_id = $4 AND c.kind = 'class' AND c.deleted_at IS NULL
      ORDER BY c.grade, c.name, s.name`,
    [period.schoolId, period.startDate, period.endDate, period.academicYearId],
  );
  const classes = new Map<string, string>();
  for (const r of rows) classes.set(r.class_id, r.class_name);
  return {
    pages: rows.map((r) => ({ classId: r.class_id, subjectId: r.subject_id, label: `${r.class_name} ${r.subject_name}` })),
    classes: [...classes].map(([classId, label]) => ({ classId, label })),
  };
}

/** The period's unresolved findings: about its days, or about the period itself; post-close changes are reported apart. */
export async function readFindings(pool: Pool, period: PeriodInfo): Promise<FindingsSummary> {
  const { rows } = await pool.query<{ rule: string; severity: string; count: number }>(
    `SELECT rule, severity, count(*)::int AS count FROM discrepancy
      WHERE school_id = $1 AND status IN ('open', 'acknowledged') AND rule <> 'post_close_change'
        AND (period_id = $2 OR day BETWEEN $3 AND $4)
      GROUP BY rule, severity ORDER BY (severity = 'severe') DESC, count(*) DESC, rule`,
    [period.schoolId, period.id, period.startDate, period.endDate],
  );
  return {
    unresolved: rows.reduce((n, r) => n + r.count, 0),
    severe: rows.filter((r) => r.severity === 'severe').reduce((n, r) => n + r.count, 0),
    byRule: rows,
  };
}

async function recordStep(pool: Pool, clock: Clock, close: { schoolId: string; id: string }, step: string, actor: string, detail: Record<string, unknown> | null, place: { classId?: string; subjectId?: string } = {}): Promise<void> {
  await pool.query(
    `INSERT INTO period_close_step (school_id, close_id, step, class_group_id, subject_id, actor, at, detail)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (school_id, close_id, step, class_group_id, subject_id) DO UPDATE SET actor = EXCLUDED.actor, at = EXCLUDED.at, detail = EXCLUDED.detail`,
    [close.schoolId, close.id, step, place.classId ?? NIL_UUID, place.subjectId ?? NIL_UUID, actor, clock.now(), detail === null ? null : JSON.stringify(detail)],
  );
}

export interface CloseRequest {
  schoolId: string;
  periodId: string;
  actor: string;
}

/**
 * Step 1: the close begins (or, while it is open, begins again): the checks for the period run over its
 * days, and the findings they leave are listed.
 */
export async function startClose(deps: CloseDeps, request: CloseRequest): Promise<CloseView> {
  const period = await readPeriod(deps.pool, request.schoolId, request.periodId);
  const now = deps.clock.now();
  await deps.pool.query(
    `INSERT INTO period_close (school_id, period_id, started_by, started_at) VALUES ($1, $2, $3, $4) ON CONFLICT (school_id, period_id) DO NOTHING`,
    [request.schoolId, request.periodId, request.actor, now],
  );
  const row = (await readCloseRow(deps.pool, request.schoolId, request.periodId))!;
  if (row.status === 'open') {
    const run = await runChecks(deps.pool, deps.clock, { schoolId: request.schoolId, from: period.startDate, to: period.endDate });
    const findings = await readFindings(deps.pool, period);
    await recordStep(deps.pool, deps.clock, { schoolId: request.schoolId, id: row.id }, 'checks', request.actor, {
      found: run.found, opened: run.opened, resolved: run.resolved, unresolved: findings.unresolved, severe: findings.severe,
    });
  }
  return viewOf(deps.pool, period, row);
}

async function mustHave(deps: CloseDeps, request: CloseRequest): Promise<{ period: PeriodInfo; row: CloseRow }> {
  const period = await readPeriod(deps.pool, request.schoolId, request.periodId);
  const row = await readCloseRow(deps.pool, request.schoolId, request.periodId);
  if (!row) throw new ConflictError(`the close of ${period.title} has not been started`);
  return { period, row };
}

/**
 * Step 2: the lock. The school's history position is taken under its head's row lock (which every writer
 * of the school takes), so each event after it is a post-close change and none before it is.
 */
export async function lockClose(deps: CloseDeps, request: CloseRequest & { override?: string }): Promise<CloseView> {
  const { period, row } = await mustHave(deps, request);
  if (row.status !== 'open') return viewOf(deps.pool, period, row);
  const findings = await readFindings(deps.pool, period);
  const reason = request.override?.trim();
  if (findings.severe > 0 && !reason) {
    throw new ConflictError(`${period.title} has ${findings.severe} open severe finding(s): resolve them, or lock with an override and its reason`, {
      severe: findings.severe, byRule: findings.byRule.filter((r) => r.severity === 'severe'),
    });
  }
  // A platform whose first sync has not ended has not been read whole: locking now would make a
  // post-close change of every record it has still to write.
  const unread = (await readSources(deps.pool, request.schoolId)).filter((s) => s.enabled && s.ready === false).map((s) => s.title);
  if (unread.length > 0 && !reason) {
    throw new ConflictError(`${unread.join(', ')} ${unread.length > 1 ? 'have' : 'has'} not been read whole yet (no sync has ended): lock after the first syncs, or with an override and its reason`, { unread });
  }
  await withTransaction(deps.pool, async (client) => {
    // The head's row lock, which every writer of the school takes (journal/history.ts).
    const head = await lockChainHead(client, request.schoolId);
    await client.query(
      `UPDATE period_close SET status = 'locked', locked_by = $3, locked_at = $4, lock_seq = $5, open_severe = $6, override_reason = $7
        WHERE school_id = $1 AND id = $2 AND status = 'open'`,
      [request.schoolId, row.id, request.actor, deps.clock.now(), head.seq, findings.severe, reason || null],
    );
  });
  await recordStep(deps.pool, deps.clock, { schoolId: request.schoolId, id: row.id }, 'lock', request.actor, { severe: findings.severe, unresolved: findings.unresolved, unread, override: reason || null });
  return readClose(deps.pool, request.schoolId, request.periodId);
}

/** Step 2: the seal (seal.ts), its signed manifest filed in the archive. */
export async function sealClose(deps: CloseDeps, request: CloseRequest): Promise<CloseView> {
  const { period, row } = await mustHave(deps, request);
  if (row.status === 'open') throw new ConflictError(`${period.title} is not locked yet: lock it before sealing`);
  if (row.seal_id) return viewOf(deps.pool, period, row);
  const { seal } = await createSeal(deps.pool, deps.clock, { schoolId: request.schoolId, closeId: row.id, periodId: request.periodId, actor: request.actor });
  await deps.pool.query(`UPDATE period_close SET status = 'sealed', seal_id = $3 WHERE school_id = $1 AND id = $2 AND seal_id IS NULL`, [request.schoolId, row.id, seal.id]);
  const manifest = await readSealManifest(deps.pool, request.schoolId, seal.id);
  const signature = signManifest(deps.box, manifest);
  await fileInArchive(deps.pool, deps.clock, {
    schoolId: request.schoolId, kind: 'seal_manifest', title: `Печать: ${period.title} (${seal.code})`, filename: `seal-${seal.code}.json`,
    mediaType: 'application/json', bytes: jsonBytes({ manifest, signature }), periodId: period.id, sealId: seal.id, actor: request.actor,
  });
  await recordStep(deps.pool, deps.clock, { schoolId: request.schoolId, id: row.id }, 'seal', request.actor, { sealId: seal.id, code: seal.code, pages: seal.pages, chainSeq: seal.chainSeq, manifestSha256: signature.sha256 });
  return readClose(deps.pool, request.schoolId, request.periodId);
}

/**
 * Step 2: the printouts of the sealed period, filed in the archive — every class, or (a damaged printout
 * printed again) some: a class's reprint is its own step row, the procedure's print is the whole school's.
 */
export async function printClose(deps: CloseDeps, request: CloseRequest & { classIds?: readonly string[] }): Promise<{ close: CloseView; items: ArchiveItemView[] }> {
  const close = await readClose(deps.pool, request.schoolId, request.periodId);
  if (!close.seal) throw new ConflictError(`${close.period.title} is not sealed yet: seal it before printing`);
  if (!deps.print) throw new ConflictError('printing is not available in this process');
  const classIds = request.classIds && request.classIds.length > 0 ? request.classIds : undefined;
  const items = await deps.print(close, classIds);
  if (classIds && items.length === 0) throw new NotFoundError(`classes ${classIds.join(', ')} in the seal`);
  const detail = (ofClass?: string) => ({ items: items.filter((i) => !ofClass || i.classGroupId === ofClass).map((i) => ({ id: i.id, kind: i.kind, sha256: i.sha256 })) });
  if (!classIds) await recordStep(deps.pool, deps.clock, close, 'print', request.actor, detail());
  else for (const classId of new Set(items.map((i) => i.classGroupId!))) await recordStep(deps.pool, deps.clock, close, 'print', request.actor, detail(classId), { classId });
  return { close: await readClose(deps.pool, request.schoolId, request.periodId), items };
}

/** Step 2: the backup copies (every configured target). */
export async function backupClose(deps: CloseDeps, request: CloseRequest): Promise<CloseView> {
  const close = await readClose(deps.pool, request.schoolId, request.periodId);
  if (close.status === 'open') throw new ConflictError(`${close.period.title} is not locked yet: lock it before the backup`);
  if (!deps.backup) throw new ConflictError('backups are not available in this process');
  const backup = await deps.backup('period_close');
  await recordStep(deps.pool, deps.clock, close, 'backup', request.actor, { backupId: backup.id, status: backup.status });
  return readClose(deps.pool, request.schoolId, request.periodId);
}

/** Days 1, 3 and 4: a teacher confirms a subject's final marks or signs its pages; a class teacher certifies the class. */
export async function confirmClose(deps: CloseDeps, request: CloseRequest & { step: ConfirmStep; classId: string; subjectId?: string; note?: string }): Promise<CloseView> {
  const { period, row } = await mustHave(deps, request);
  if (row.status === 'closed') throw new ConflictError(`${period.title} is closed`);
  if (request.step !== 'class' && !request.subjectId) throw new ValidationError(`"subjectId" is required to confirm ${request.step}`);
  if (request.step !== 'finals' && !row.seal_id) throw new ConflictError(`${period.title} is not sealed yet: the printouts are signed after the seal`);
  await recordStep(deps.pool, deps.clock, { schoolId: request.schoolId, id: row.id }, STEP_OF[request.step], request.actor, request.note ? { note: request.note } : null,
    { classId: request.classId, subjectId: request.step === 'class' ? undefined : request.subjectId });
  return viewOf(deps.pool, period, row);
}

/**
 * Day 5: the director signs off and the close is recorded as closed. Everything the procedure waits for
 * must be done — the seal, the printouts, the backup, every confirmation — or the sign-off names an
 * override and its reason (recorded with it).
 */
export async function signOffClose(deps: CloseDeps, request: CloseRequest & { override?: string }): Promise<CloseView> {
  const close = await readClose(deps.pool, request.schoolId, request.periodId);
  if (close.status === 'closed') return close;
  if (!close.seal) throw new ConflictError(`${close.period.title} is not sealed yet`);
  const waiting = close.waitingFor.filter((w) => w !== 'sign_off');
  const reason = request.override?.trim();
  if (waiting.length > 0 && !reason) {
    throw new ConflictError(`the close of ${close.period.title} still waits for: ${waiting.join('; ')} — finish them, or sign off with an override and its reason`, { waitingFor: waiting });
  }
  await deps.pool.query(`UPDATE period_close SET status = 'closed', closed_by = $3, closed_at = $4 WHERE school_id = $1 AND id = $2 AND status <> 'closed'`,
    [close.schoolId, close.id, request.actor, deps.clock.now()]);
  await recordStep(deps.pool, deps.clock, close, 'sign_off', request.actor, { waitingFor: waiting, override: waiting.length > 0 ? reason : null });
  return readClose(deps.pool, request.schoolId, request.periodId);
}

/** The school's closes, newest period first. */
export async function listCloses(pool: Pool, schoolId: string): Promise<Array<{ id: string; periodId: string; status: CloseStatus; startedAt: string; closedAt: string | null }>> {
  const { rows } = await pool.query<{ id: string; periodId: string; status: CloseStatus; startedAt: string; closedAt: string | null }>(
    `SELECT pc.id::text, pc.period_id::text AS "periodId", pc.status, ${ts('pc.started_at')} AS "startedAt", ${ts('pc.closed_at')} AS "closedAt"
       FROM period_close pc JOIN period p ON p.id = pc.period_id WHERE pc.school_id = $1 ORDER BY p.start_date DESC, p.kind`,
    [schoolId],
  );
  return rows;
}

/** The school's earliest period of `kind` (quarters first) that is not closed and has ended by `today` (or any, when none has). */
export async function earliestOpenPeriod(pool: Pool, schoolId: string, today: string): Promise<string> {
  const { rows } = await pool.query<{ id: string }>(
    `SELECT p.id::text FROM period p LEFT JOIN period_close pc ON pc.school_id = p.school_id AND pc.period_id = p.id
      WHERE p.school_id = $1 AND p.deleted_at IS NULL AND p.kind <> 'year' AND (pc.status IS NULL OR pc.status <> 'closed')
      ORDER BY (p.end_date < $2::date) DESC, p.start_date, p.number LIMIT 1`,
    [schoolId, today],
  );
  if (!rows[0]) throw new NotFoundError('an open reporting period');
  return rows[0].id;
}
