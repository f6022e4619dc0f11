import { z } from 'zod';
import { TIME_OF_DAY } from '../lib/dates.js';

/**
 * A school's notification policy (`notify_settings.policy`), with the defaults a school gets until it
 * says otherwise. Parents' own choices (`notify_preference`) narrow it: their channel order, marks instantly
 * or as a daily digest, their language.
 */
const time = z.string().regex(TIME_OF_DAY, 'must be HH:MM');
export const CHANNELS = ['telegram', 'email', 'sms'] as const;
export type Channel = (typeof CHANNELS)[number];
export const PURPOSES = ['marks', 'attendance', 'reports', 'announcements'] as const;
/** `discrepancies`: staff work messages (no consent needed); `sign_in`: a one-time sign-in code (to a contact point its owner consented to, for any purpose). */
export type Purpose = (typeof PURPOSES)[number] | 'discrepancies' | 'sign_in';

export const NotifyPolicySchema = z.object({
  /** Nothing is sent to parents while false (teachers' alerts follow `teachers.enabled`). */
  enabled: z.boolean().default(true),
  language: z.enum(['ru', 'ky']).default('ru'),
  /** The order channels are tried in for a parent who has not chosen one. */
  channels: z.array(z.enum(CHANNELS)).min(1).default(['telegram', 'email', 'sms']),
  /** New marks: at once, in a daily digest at `digestAt`, or not at all (a parent may choose otherwise). */
  marks: z.enum(['instant', 'digest', 'off']).default('instant'),
  digestAt: time.default('19:00'),
  /** A 2 or «н/а» goes at once even to parents on the digest. */
  lowMarks: z.boolean().default(true),
  absences: z.boolean().default(true),
  periodMarks: z.boolean().default(true),
  /** A mark whose lesson day is older than this many days is not news (a first sync's backlog, a back-filled journal). */
  maxAgeDays: z.number().int().min(0).max(30).default(2),
  /** The fortnightly progress and attendance report (seed 001 Инструкция 5.2 в, seed 004 §3.2). */
  report: z.object({
    enabled: z.boolean().default(true),
    /** ISO weekday it goes on (5 = Friday), every `everyDays` days from the school year's first Monday. */
    weekday: z.number().int().min(1).max(7).default(5),
    at: time.default('17:00'),
    everyDays: z.number().int().min(7).max(31).default(14),
  }).prefault({}),
  teachers: z.object({
    enabled: z.boolean().default(true),
    /** The daily digest of a teacher's open discrepancies. */
    digestAt: time.default('07:30'),
    /** An instant alert for the severe rules (a back-dated mark, a silent correction, a change after close). */
    alerts: z.boolean().default(true),
    channels: z.array(z.enum(CHANNELS)).min(1).default(['email', 'telegram']),
  }).prefault({}),
  /** School-local; nothing non-urgent goes inside (the default 21:00–08:00). */
  quietHours: z.object({ from: time.default('21:00'), to: time.default('08:00') }).prefault({}),
  sms: z.object({
    /** A hard cap on parts per message: longer texts are cut to fit. */
    maxParts: z.number().int().min(1).max(8).default(2),
    /** Parts per school-local day; past it, SMS waits for the next channel (or tomorrow's budget). */
    dailyBudget: z.number().int().min(0).default(2000),
  }).prefault({}),
});

export type NotifyPolicy = z.infer<typeof NotifyPolicySchema>;

/** A stored policy over the defaults; an invalid stored policy is an error the caller reports (never silently the defaults). */
export function parsePolicy(stored: unknown): NotifyPolicy {
  return NotifyPolicySchema.parse(stored ?? {});
}

/** Rules whose findings alert the teacher at once (the others wait for the daily digest). */
export const SEVERE_RULES = ['mark_backdated', 'mark_silent_correction', 'post_close_change'] as const;
