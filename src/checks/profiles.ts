import { z } from 'zod';
import type { Profile } from './types.js';

/**
 * Regulation profiles: which rules a school is inspected on and their parameters. Profiles are data
 * (profiles/*.json), validated here; a school names one (school.regulation_profile) and may change its
 * settings (school.regulation_settings, merged over the preset rule by rule).
 */
export const RuleSettingsSchema = z.looseObject({
  enabled: z.boolean().optional(),
  severity: z.enum(['info', 'warning', 'severe']).optional(),
});

export const ProfileSchema = z.object({
  id: z.string().regex(/^[a-z0-9_-]+$/),
  title: z.string().min(1),
  rules: z.record(z.string().regex(/^[a-z][a-z0-9_]*$/), RuleSettingsSchema),
});

/** A school's own changes: per rule, settings merged over its preset's. */
export const ProfileSettingsSchema = z.record(z.string().regex(/^[a-z][a-z0-9_]*$/), RuleSettingsSchema);

const DEFAULT_PROFILE: Profile = { id: 'default', title: 'По умолчанию', rules: {} };

/** The shipped presets by id. */
export function presets(): ReadonlyMap<string, Profile> {
  return new Map([[DEFAULT_PROFILE.id, DEFAULT_PROFILE]]);
}

/** The profile a school works under: its preset (default when unknown) with its own settings merged in. */
export function resolveProfile(presetId: string, settings: unknown): Profile {
  const preset = presets().get(presetId) ?? DEFAULT_PROFILE;
  const own = ProfileSettingsSchema.parse(settings ?? {});
  const rules: Profile['rules'] = { ...preset.rules };
  for (const [rule, value] of Object.entries(own)) rules[rule] = { ...rules[rule], ...value };
  return { ...preset, rules };
}
