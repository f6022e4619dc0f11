import { readdirSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { TIME_OF_DAY } from '../lib/dates.js';
import type { Profile } from './types.js';

/**
 * Regulation profiles: which rules a school is inspected on and their parameters. Profiles are data
 * (profiles/*.json), validated here; a school names one (school.regulation_profile) and may change its
 * settings (school.regulation_settings, merged over the preset rule by rule).
 */
export const RuleSettingsSchema = z.looseObject({
  enabled: z.boolean().optional(),
  severity: z.enum(['info', 'warning', 'severe']).optional(),
  /** The clause of the school's regulation the setting comes from. */
  clause: z.string().max(500).optional(),
  /** mark_late: days allowed for written works, and per grade band ({"2-9": 5, "10-11": 7}); essays per band. */
  writtenDays: z.number().int().min(0).max(60).optional(),
  writtenDaysByGrade: z.record(z.string().regex(/^\d{1,2}(-\d{1,2})?$/), z.number().int().min(0).max(60)).optional(),
  essayDaysByGrade: z.record(z.string().regex(/^\d{1,2}(-\d{1,2})?$/), z.number().int().min(0).max(60)).optional(),
  /** mark_backdated: days after the lesson day a mark may still be entered. */
  graceDays: z.number().int().min(0).max(30).optional(),
  /** absence_reason_missing: days a reason may take. */
  days: z.number().int().min(0).max(60).optional(),
  /** period rules: grades exempt (no marks in grade 1). */
  exemptGrades: z.array(z.number().int().min(0).max(12)).optional(),
  /** mark_differs: compare weights too (only where every source's weights are on one scale). */
  compareWeights: z.boolean().optional(),
  /** final_mark_not_visible: days after a final mark is set within which a platform must show it. */
  visibleDays: z.number().int().min(0).max(30).optional(),
  /**
   * The `scheduled_checks` entry (not a rule: when the checks run on the clock, scheduler.ts): after the
   * day's lessons and nightly, HH:MM school-local, over the last `lookbackDays` days.
   */
  afterLessonsAt: z.string().regex(TIME_OF_DAY).optional(),
  nightlyAt: z.string().regex(TIME_OF_DAY).optional(),
  lookbackDays: z.number().int().min(0).max(120).optional(),
});

export const ProfileSchema = z.object({
  id: z.string().regex(/^[a-z0-9_-]+$/),
  title: z.string().min(1),
  rules: z.record(z.string().regex(/^[a-z][a-z0-9_]*$/), RuleSettingsSchema),
});

/** A school's own changes: per rule, settings merged over its preset's. */
export const ProfileSettingsSchema = z.record(z.string().regex(/^[a-z][a-z0-9_]*$/), RuleSettingsSchema);

const DIR = new URL('./profiles/', import.meta.url);

/** The shipped presets (profiles/*.json: one per seed school and a default), validated once. */
const PRESETS: ReadonlyMap<string, Profile> = new Map(
  readdirSync(DIR).filter((f) => f.endsWith('.json')).sort().map((file) => {
    const result = ProfileSchema.safeParse(JSON.parse(readFileSync(new URL(file, DIR), 'utf8')));
    if (!result.success) throw new Error(`src/checks/profiles/${file}: ${result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    return [result.data.id, result.data as Profile] as const;
  }),
);
const DEFAULT_PROFILE = PRESETS.get('default')!;

/** The shipped presets by id. */
export function presets(): ReadonlyMap<string, Profile> {
  return PRESETS;
}

/** The profile a school works under: its preset (default when unknown) with its own settings merged in. */
export function resolveProfile(presetId: string, settings: unknown): Profile {
  const preset = presets().get(presetId) ?? DEFAULT_PROFILE;
  const own = ProfileSettingsSchema.parse(settings ?? {});
  const rules: Profile['rules'] = { ...preset.rules };
  for (const [rule, value] of Object.entries(own)) rules[rule] = { ...rules[rule], ...value };
  return { ...preset, rules };
}
