import type { PoolClient } from '../db/pool.js';

/**
 * The checks' contract. A rule is one set-based SQL query over a window of one school (no per-row
 * loops); the engine (engine.ts) stages what every rule finds, merges it into `discrepancy` by its
 * deterministic key, resolves what a rule no longer finds in the window it covered, and routes each
 * finding to its assignee.
 */

export type DiscrepancyKind = 'paper' | 'cross_source' | 'regulation' | 'roster';
export type Severity = 'info' | 'warning' | 'severe';
export type DiscrepancyStatus = 'open' | 'acknowledged' | 'resolved' | 'dismissed';
/** Who must fix it: the engine turns this into a person from teaching assignments and staff roles. */
export type AssigneeRole = 'subject_teacher' | 'class_teacher' | 'deputy';

/** A source of the school (a connection, paper included), as rules see it. */
export interface CheckSource {
  id: string;
  platform: string;
  title: string;
  enabled: boolean;
  /**
   * Whether it has been read whole: a platform connection once one of its sync runs has ended succeeded
   * or partial (a first sync in progress is half a journal, and comparing it would report the other half
   * missing); a source no sync writes (paper, the demo's, pushed records) always. Rules read only sources
   * that are ready.
   */
  ready?: boolean;
}

/** What a rule's query is run with. */
export interface RuleContext {
  client: PoolClient;
  schoolId: string;
  timeZone: string;
  /** Lesson days covered, inclusive (ISO dates, school-local calendar). */
  from: string;
  to: string;
  /** The evaluation's instant (the clock's now). */
  now: Date;
  /** The school's profile, with its own settings applied (profiles.ts). */
  profile: Profile;
  /** Every source of the school, and the one that is its legal record (null: none named). */
  sources: CheckSource[];
  primarySourceId: string | null;
}

/**
 * One rule. Its query is a SELECT whose columns are exactly FINDING_COLUMNS (below), in any order
 * by name: `key` unique per finding within the rule (the engine prefixes the rule's id), `severity`,
 * the ids it is about (null where not), `day` (the calendar day it concerns — lesson day, period end —
 * NOT NULL for `window` rules), `source_ids` uuid[], `expected` / `found` jsonb (raw values as the
 * sources wrote them), `evidence` bigint[] (history seqs), `assignee` (an AssigneeRole).
 */
export interface Rule {
  /** snake_case, stable: it is part of every key and of the API (`?rule=`). */
  id: string;
  kind: DiscrepancyKind;
  /** The query returns a `kind` column too (a cross-source rule is `paper` when one side is paper). */
  dynamicKind?: boolean;
  /** Short Russian title, shown to teachers. */
  title: string;
  /** Clauses of the seed regulations it enforces ("000 §3.6", "001 Инструкция 5.2 ж"). */
  clauses: string[];
  /**
   * `window`: evaluated over the lesson days [from, to] and resolving only findings whose day is in it;
   * `school`: evaluated over the whole school each time (rosters, period-level rules), resolving all of its own.
   */
  scope: 'window' | 'school';
  /** Evaluated after each batch of new events (false: only by full and scheduled runs — accumulation). */
  incremental: boolean;
  /** Whether the school's profile turns it on. */
  enabled?(profile: Profile): boolean;
  /** Tables it reads that the engine builds once per evaluation for every rule that names them. */
  inputs?: readonly RuleInput[];
  /**
   * The SELECT, with its parameters ($1 = school id, $2 = from, $3 = to, $4 = now; further ones after);
   * null when there is nothing to evaluate (a cross-source rule in a school of one source): the rule finds
   * nothing, and what it found before is resolved.
   */
  query(ctx: RuleContext): RuleQuery | null;
}

export interface RuleQuery {
  text: string;
  values?: unknown[];
}

/**
 * A table several rules read (the marks of each cell per source, the cells of two sources side by side):
 * the engine creates it once per evaluation, before the rules that name it, as a temporary table dropped
 * at commit, and ANALYZEs it. Its SELECT has the rules' parameters ($1 … $5, its own from $6). Inputs are
 * built in the order the rules list them, so one may read another listed before it. `null`: nothing to
 * build (the rules that read it find nothing either).
 */
export interface RuleInput {
  /** The temporary table's name: `check_…`, snake_case. */
  name: string;
  build(ctx: RuleContext): RuleQuery | null;
}

export const FINDING_COLUMNS = [
  'key', 'severity', 'class_group_id', 'subject_id', 'pupil_id', 'lesson_id', 'period_id', 'day',
  'source_ids', 'expected', 'found', 'evidence', 'assignee',
] as const;

/** A school's regulation profile (profiles.ts validates and documents it). */
export interface Profile {
  id: string;
  title: string;
  /** Per rule id: whether it is on, and its parameters. Absent rule = on with its defaults. */
  rules: Record<string, RuleSettings | undefined>;
}

export interface RuleSettings {
  enabled?: boolean;
  severity?: Severity;
  /** Rule-specific parameters (documented by each rule). */
  [parameter: string]: unknown;
}
