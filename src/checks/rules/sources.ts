import type { CheckSource, RuleContext } from '../types.js';

/**
 * Which sources the rules compare and inspect. Paper: the `paper` connection, and the demo's generated
 * source (platform `demo`), which is the demo school's paper journal.
 */
export const PAPER_PLATFORMS = ['paper', 'demo'] as const;

export const isPaper = (source: Pick<CheckSource, 'platform'>) => (PAPER_PLATFORMS as readonly string[]).includes(source.platform);

/**
 * The school's primary source — its legal record, which the journal page shows and every other source
 * is compared with: the one the school named, else its paper journal, else its first connection.
 */
export function primarySourceOf(sources: readonly CheckSource[], named: string | null): CheckSource | undefined {
  return sources.find((s) => s.id === named) ?? sources.find(isPaper) ?? sources.find((s) => s.enabled) ?? sources[0];
}

const ready = (s: CheckSource) => s.ready !== false;

/**
 * The primary source and every other one, for the cross-source rules (none when there is only one, or
 * while the primary is not read whole yet); only sources that are ready (CheckSource.ready).
 */
export function comparedSources(ctx: RuleContext): { primary: string | null; others: string[]; paper: string[] } {
  const primary = primarySourceOf(ctx.sources, ctx.primarySourceId);
  const compared = primary && ready(primary) ? primary : undefined;
  return {
    primary: compared?.id ?? null,
    others: compared ? ctx.sources.filter((s) => s.id !== compared.id && ready(s)).map((s) => s.id) : [],
    paper: ctx.sources.filter(isPaper).map((s) => s.id),
  };
}

/**
 * The cross-source rules' parameters after the engine's five: $6 the primary, $7 the others, $8 the paper
 * sources; null when there is nothing to compare.
 */
export function pairValues(ctx: RuleContext): [string, string[], string[]] | null {
  const { primary, others, paper } = comparedSources(ctx);
  return primary && others.length > 0 ? [primary, others, paper] : null;
}

/** The electronic sources (every connection but paper) that are ready: the regulation rules inspect their facts. */
export function electronicSources(ctx: RuleContext): string[] {
  return ctx.sources.filter((s) => !isPaper(s) && ready(s)).map((s) => s.id);
}

/** A mark's value for comparison: kind and points with the teacher's +/−, or the raw text where there are no points; spelling alone is no difference. */
export const MARK_TOKEN = `(CASE WHEN m.numeric IS NOT NULL THEN m.kind || ':' || trim_scale(m.numeric)::text || COALESCE(substring(m.raw FROM '[+-]$'), '')
  WHEN m.kind IN ('mark', 'other') THEN m.kind || ':' || lower(regexp_replace(m.raw, '\\s+', '', 'g')) ELSE m.kind END)`;

/** The paper sources (the `paper` connection, the demo's own source): the school's record as written. */
export function paperSources(ctx: RuleContext): string[] {
  return ctx.sources.filter(isPaper).map((s) => s.id);
}
