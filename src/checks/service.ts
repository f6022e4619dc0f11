import { withTransaction, type Pool, type PoolClient } from '../db/pool.js';
import type { Clock } from '../lib/clock.js';
import { todayIn } from '../lib/dates.js';
import { NotFoundError } from '../lib/errors.js';
import type { FeedEvent } from '../journal/feed.js';
import { evaluateRules, type EvaluationResult } from './engine.js';
import { resolveProfile } from './profiles.js';
import { RULES } from './rules/index.js';
import type { CheckSource, Rule, RuleContext } from './types.js';

/**
 * Running the checks of one school: `full` over a window (by default its academic year so far), every
 * rule; `incremental` over the days a batch of events touched, the incremental rules only (the
 * consumer, consumer.ts); scheduled runs are `full` over the last days (deadline rules fire on the
 * absence of an event, so they must run when nothing arrives).
 */
export interface ChecksRequest {
  schoolId: string;
  from?: string;
  to?: string;
  /** Only these rules (ids); all by default. */
  rules?: readonly string[];
  incremental?: boolean;
}

export interface ChecksRun extends EvaluationResult {
  schoolId: string;
  from: string;
  to: string;
  headSeq: number;
}

export async function runChecks(pool: Pool, clock: Clock, request: ChecksRequest, rules: readonly Rule[] = RULES): Promise<ChecksRun> {
  return withTransaction(pool, (client) => runChecksIn(client, clock, request, rules));
}

/** As runChecks, inside the caller's transaction (the consumer's, which advances its cursor with it). */
export async function runChecksIn(client: PoolClient, clock: Clock, request: ChecksRequest, rules: readonly Rule[] = RULES): Promise<ChecksRun> {
  const ctx = await ruleContext(client, clock, request);
  const chosen = rules.filter((r) => (request.rules ? request.rules.includes(r.id) : true)
    && (!request.incremental || r.incremental)
    && (r.enabled ? r.enabled(ctx.profile) : ctx.profile.rules[r.id]?.enabled !== false));
  const head = await client.query<{ seq: string }>('SELECT seq::text FROM journal_head WHERE school_id = $1', [request.schoolId]);
  const headSeq = Number(head.rows[0]?.seq ?? 0);
  const result = await evaluateRules(ctx, chosen, headSeq);
  return { ...result, schoolId: request.schoolId, from: ctx.from, to: ctx.to, headSeq };
}

interface SchoolRow {
  time_zone: string;
  regulation_profile: string;
  regulation_settings: unknown;
  primary_source_id: string | null;
  year_start: string | null;
}

export async function ruleContext(client: PoolClient, clock: Clock, request: ChecksRequest): Promise<RuleContext> {
  const now = clock.now();
  const { rows } = await client.query<SchoolRow>(
    `SELECT s.time_zone, s.regulation_profile, s.regulation_settings, s.primary_source_id::text,
            (SELECT y.start_date::text FROM academic_year y WHERE y.school_id = s.id
                AND y.start_date <= ($2::timestamptz AT TIME ZONE s.time_zone)::date ORDER BY y.start_date DESC LIMIT 1) AS year_start
       FROM school s WHERE s.id = $1`,
    [request.schoolId, now],
  );
  const school = rows[0];
  if (!school) throw new NotFoundError(`school ${request.schoolId}`);
  const sources = await readSources(client, request.schoolId);
  const today = todayIn(school.time_zone, now);
  return {
    client, schoolId: request.schoolId, timeZone: school.time_zone, now,
    from: request.from ?? school.year_start ?? today, to: request.to ?? today,
    profile: resolveProfile(school.regulation_profile, school.regulation_settings),
    sources, primarySourceId: school.primary_source_id,
  };
}

/** A school's sources in the checks' order (created first, first), each with whether it is ready (CheckSource.ready). */
export async function readSources(db: Pool | PoolClient, schoolId: string): Promise<CheckSource[]> {
  const { rows } = await db.query<CheckSource>(
    `SELECT c.id::text, c.platform, c.title, c.enabled,
            EXISTS (SELECT 1 FROM sync_run r WHERE r.connection_id = c.id AND r.status IN ('succeeded', 'partial'))
              OR NOT EXISTS (SELECT 1 FROM sync_run r WHERE r.connection_id = c.id) AS ready
       FROM connection c WHERE c.school_id = $1 ORDER BY c.created_at, c.id`,
    [schoolId],
  );
  return rows;
}

/** The lesson days a batch of events touched (marks, absences and lessons carry their day), or null. */
export function daysTouched(events: readonly FeedEvent[]): { from: string; to: string } | null {
  let from: string | undefined;
  let to: string | undefined;
  for (const event of events) {
    for (const payload of [event.before, event.after]) {
      const day = payload && typeof payload.date === 'string' ? payload.date : undefined;
      if (!day) continue;
      if (!from || day < from) from = day;
      if (!to || day > to) to = day;
    }
  }
  return from && to ? { from, to } : null;
}
