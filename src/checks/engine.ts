import type { PoolClient } from '../db/pool.js';
import { FINDING_COLUMNS, type Rule, type RuleContext, type RuleInput } from './types.js';
import { emitDiscrepancyEvents } from '../webhooks/emitters.js';

/**
 * The engine: every rule's SELECT goes into one staging table, then one statement merges the stage
 * into `discrepancy` by (school, key) and one resolves what the evaluated rules no longer find in the
 * window they covered. All inside the caller's transaction, under a per-school lock, so the consumer,
 * the schedule and `checks run` never evaluate one school at the same time.
 *
 * Lifecycle of a discrepancy: open → acknowledged → resolved | dismissed. Found again after it was
 * resolved: open again. A dismissed one stays dismissed while its expected and found values (its
 * fingerprint) are the same, and opens again when they change. A person's reassignment is kept.
 */

export interface RuleOutcome {
  rule: string;
  found: number;
  ms: number;
}

export interface EvaluationResult {
  rules: RuleOutcome[];
  /** The time (ms) of merging the stage into the inbox and of resolving what is gone. */
  mergeMs: number;
  resolveMs: number;
  /** The inputs built for them, with their time (ms). */
  inputs: Array<{ name: string; ms: number }>;
  found: number;
  /** New rows, and rows that went back to open (resolved or dismissed before). */
  opened: number;
  resolved: number;
}

/** Serializes evaluations of one school (held until the transaction ends). */
export async function lockChecks(client: PoolClient, schoolId: string): Promise<void> {
  await client.query(`SELECT pg_advisory_xact_lock(hashtext('checks:' || $1))`, [schoolId]);
}

/**
 * Memory for the sorts and hashes of one evaluation (the transaction's own): a term of a large school's
 * cells, ordered per cell, spills to disk at Postgres's default of 4 MB and takes several times as long.
 */
const WORK_MEM = '64MB';

export async function evaluateRules(ctx: RuleContext, rules: readonly Rule[], headSeq: number): Promise<EvaluationResult> {
  const { client } = ctx;
  await lockChecks(client, ctx.schoolId);
  await client.query(`SELECT set_config('work_mem', $1, true)`, [WORK_MEM]);
  const inputs = [...new Map(rules.flatMap((r) => r.inputs ?? []).map((i) => [i.name, i])).values()];
  const built: EvaluationResult['inputs'] = [];
  for (const input of inputs) {
    const started = performance.now();
    await buildInput(ctx, input);
    built.push({ name: input.name, ms: Math.round(performance.now() - started) });
  }
  await client.query(`CREATE TEMP TABLE IF NOT EXISTS check_finding (
      rule text NOT NULL, kind text NOT NULL, key text NOT NULL, severity text NOT NULL,
      class_group_id uuid, subject_id uuid, pupil_id uuid, lesson_id uuid, period_id uuid, day date,
      source_ids uuid[], expected jsonb, found jsonb, evidence bigint[], assignee text NOT NULL
    ) ON COMMIT DROP`);
  await client.query('TRUNCATE check_finding');
  const outcomes: RuleOutcome[] = [];
  for (const rule of rules) outcomes.push(await stageRule(ctx, rule));
  const merging = performance.now();
  await client.query('ANALYZE check_finding');
  const opened = await mergeFindings(client, ctx.schoolId);
  const resolving = performance.now();
  const resolved = await resolveMissing(ctx, rules, headSeq);
  await emitDiscrepancyEvents(client, ctx.schoolId, headSeq, ctx.now);
  const mergeMs = Math.round(resolving - merging);
  const resolveMs = Math.round(performance.now() - resolving);
  return { rules: outcomes, inputs: built, mergeMs, resolveMs, found: outcomes.reduce((n, o) => n + o.found, 0), opened, resolved };
}

/** The rules' parameters, typed whichever of them a query uses (a CTE in front of it). */
const PARAMS = 'WITH params AS (SELECT $1::uuid, $2::date, $3::date, $4::timestamptz, $5::text)';

async function buildInput(ctx: RuleContext, input: RuleInput): Promise<void> {
  if (!/^check_[a-z0-9_]+$/.test(input.name)) throw new Error(`rule input "${input.name}" is not named check_…`);
  await ctx.client.query(`DROP TABLE IF EXISTS pg_temp.${input.name}`);
  const built = input.build(ctx);
  if (!built) return;
  await ctx.client.query(`CREATE TEMP TABLE ${input.name} ON COMMIT DROP AS ${PARAMS} SELECT * FROM (${built.text}) AS q`, [ctx.schoolId, ctx.from, ctx.to, ctx.now, null, ...(built.values ?? [])]);
  await ctx.client.query(`ANALYZE ${input.name}`);
}

async function stageRule(ctx: RuleContext, rule: Rule): Promise<RuleOutcome> {
  if (!/^[a-z][a-z0-9_]*$/.test(rule.id)) throw new Error(`rule id "${rule.id}" is not snake_case`);
  const started = performance.now();
  const query = rule.query(ctx);
  if (!query) return { rule: rule.id, found: 0, ms: Math.round(performance.now() - started) };
  const { text, values = [] } = query;
  const severity = ctx.profile.rules[rule.id]?.severity;
  const columns = FINDING_COLUMNS.filter((c) => c !== 'key' && c !== 'severity');
  const result = await ctx.client.query(
    `${PARAMS}
     INSERT INTO check_finding (rule, kind, key, severity, ${columns.join(', ')})
     SELECT '${rule.id}', ${rule.dynamicKind ? 'q.kind' : `'${rule.kind}'`}, '${rule.id}:' || q.key, COALESCE($5::text, q.severity), ${columns.map((c) => `q.${c}`).join(', ')}
       FROM (${text}) AS q`,
    [ctx.schoolId, ctx.from, ctx.to, ctx.now, severity ?? null, ...values],
  );
  return { rule: rule.id, found: result.rowCount ?? 0, ms: Math.round(performance.now() - started) };
}

/**
 * Stage → discrepancy. The assignee: for a subject teacher the lesson's substitute or teacher, else the
 * class's (or its parent class's) teacher of the subject; for a class teacher the class's (or parent's);
 * the deputy (else the director) when nobody closer is known, and for deputy rules. Unchanged rows are
 * not rewritten (last_seen_at moves at most hourly). Returns how many rows were created or reopened.
 */
async function mergeFindings(client: PoolClient, schoolId: string): Promise<number> {
  const reopened = await client.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM discrepancy d JOIN check_finding f ON f.key = d.key
      WHERE d.school_id = $1 AND (d.status = 'resolved' OR (d.status = 'dismissed'
            AND d.fingerprint <> md5(COALESCE(f.expected::text, '') || '|' || COALESCE(f.found::text, ''))))`,
    [schoolId],
  );
  const { rows } = await client.query<{ opened: number }>(
    `WITH staged AS (
       SELECT DISTINCT ON (f.key) f.*, md5(COALESCE(f.expected::text, '') || '|' || COALESCE(f.found::text, '')) AS fingerprint
         FROM check_finding f ORDER BY f.key
     ), routed AS (
       SELECT s.*,
              COALESCE(
                CASE WHEN s.assignee = 'subject_teacher' THEN COALESCE(l.substitute_id, l.teacher_id, ta.teacher_id) END,
                CASE WHEN s.assignee IN ('subject_teacher', 'class_teacher') THEN ct.person_id END,
                head.person_id) AS assignee_id
         FROM staged s
         LEFT JOIN lesson l ON l.id = s.lesson_id
         LEFT JOIN class_group cg ON cg.id = COALESCE(s.class_group_id, l.class_group_id)
         LEFT JOIN LATERAL (
           SELECT t.teacher_id FROM teaching_assignment t
            WHERE t.school_id = $1 AND t.deleted_at IS NULL AND t.subject_id = COALESCE(s.subject_id, l.subject_id)
              AND t.class_group_id IN (cg.id, cg.parent_id)
            ORDER BY (t.class_group_id = cg.id) DESC, t.teacher_id LIMIT 1) ta ON true
         LEFT JOIN LATERAL (
           SELECT r.person_id FROM staff_role r
            WHERE r.school_id = $1 AND r.deleted_at IS NULL AND r.role = 'class_teacher' AND r.class_group_id IN (cg.id, cg.parent_id)
            ORDER BY (r.class_group_id = cg.id) DESC, r.person_id LIMIT 1) ct ON true
         LEFT JOIN LATERAL (
           SELECT r.person_id FROM staff_role r
            WHERE r.school_id = $1 AND r.deleted_at IS NULL AND r.role IN ('deputy', 'director')
            ORDER BY (r.role = 'deputy') DESC, r.person_id LIMIT 1) head ON true
     ), merged AS (
       INSERT INTO discrepancy AS d (school_id, key, rule, kind, severity, class_group_id, subject_id, pupil_id, lesson_id,
                                     period_id, day, source_ids, expected, found, evidence, fingerprint, assignee_id)
       SELECT $1, r.key, r.rule, r.kind, r.severity, COALESCE(r.class_group_id, l.class_group_id), COALESCE(r.subject_id, l.subject_id),
              r.pupil_id, r.lesson_id, r.period_id, r.day, r.source_ids, r.expected, r.found, r.evidence, r.fingerprint, r.assignee_id
         FROM routed r LEFT JOIN lesson l ON l.id = r.lesson_id
       ON CONFLICT (school_id, key) DO UPDATE SET
         severity = EXCLUDED.severity, source_ids = EXCLUDED.source_ids, expected = EXCLUDED.expected, found = EXCLUDED.found,
         evidence = EXCLUDED.evidence, fingerprint = EXCLUDED.fingerprint, last_seen_at = now(),
         assignee_id = CASE WHEN d.assigned_by IS NOT NULL THEN d.assignee_id ELSE EXCLUDED.assignee_id END,
         status = CASE WHEN d.status = 'resolved' OR (d.status = 'dismissed' AND d.fingerprint <> EXCLUDED.fingerprint)
                       THEN 'open' ELSE d.status END,
         status_reason = CASE WHEN d.status = 'resolved' OR (d.status = 'dismissed' AND d.fingerprint <> EXCLUDED.fingerprint)
                              THEN NULL ELSE d.status_reason END,
         resolved_at = CASE WHEN d.status = 'resolved' THEN NULL ELSE d.resolved_at END,
         resolved_seq = CASE WHEN d.status = 'resolved' THEN NULL ELSE d.resolved_seq END
       WHERE d.fingerprint IS DISTINCT FROM EXCLUDED.fingerprint OR d.status = 'resolved' OR d.severity <> EXCLUDED.severity
          OR d.evidence IS DISTINCT FROM EXCLUDED.evidence OR d.source_ids IS DISTINCT FROM EXCLUDED.source_ids
          OR (d.assigned_by IS NULL AND d.assignee_id IS DISTINCT FROM EXCLUDED.assignee_id)
          OR d.last_seen_at < now() - interval '1 hour'
       RETURNING (xmax = 0) AS created
     )
     SELECT count(*) FILTER (WHERE created)::int AS opened FROM merged`,
    [schoolId],
  );
  return (rows[0]?.opened ?? 0) + (reopened.rows[0]?.n ?? 0);
}

/** Open and acknowledged findings of the evaluated rules that were not found again in what they covered. */
async function resolveMissing(ctx: RuleContext, rules: readonly Rule[], headSeq: number): Promise<number> {
  const windowed = rules.filter((r) => r.scope === 'window').map((r) => r.id);
  const whole = rules.filter((r) => r.scope === 'school').map((r) => r.id);
  const result = await ctx.client.query(
    `UPDATE discrepancy d SET status = 'resolved', resolved_at = now(), resolved_seq = $6, status_at = now(), status_by = 'checks'
      WHERE d.school_id = $1 AND d.status IN ('open', 'acknowledged')
        AND ((d.rule = ANY($2::text[]) AND d.day BETWEEN $4::date AND $5::date) OR d.rule = ANY($3::text[]))
        AND NOT EXISTS (SELECT 1 FROM check_finding f WHERE f.key = d.key)`,
    [ctx.schoolId, windowed, whole, ctx.from, ctx.to, headSeq],
  );
  return result.rowCount ?? 0;
}
