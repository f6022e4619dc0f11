import type { AttendanceRecord, MarkRecord, PeriodMarkRecord, SubjectRecord } from '../../src/ports/records.js';
import { localDateTime } from '../../src/ports/time.js';
import { mapAttendanceCode, mapMarkValue, type Vocabulary } from '../../src/ports/values.js';
import { hasOffset, isEmptyDate } from './calendar.js';
import type { Mark, QuarterMark } from './endpoints.js';
import { pick, subjectId, subjectRecord } from './mapping.js';

/** Kundoluk's mark entries and quarter marks → source records: pure functions, no I/O. */

/**
 * `absent_type` takes `absent`, `late` or `present` (and ""): the Python client's enum, which warns on
 * anything else. None of them says whether an absence was excused (the reason is free text in
 * `absent_reason`), so an absence is of `unknown` kind, whether typed `absent` or shown as the app's «Н».
 */
export const VOCABULARY: Vocabulary = { attendance: { absent: 'unknown', н: 'unknown', late: 'late' } };

/** `mark_type` → work category and the caption the app shows (kundoluk-plus `MarkUi.typeTitle`; any other type is «Оценка» there). */
export const MARK_TYPES: Record<string, { category: NonNullable<MarkRecord['workCategory']>; title: string }> = {
  general: { category: 'other', title: 'Оценка' },
  control: { category: 'control', title: 'Контрольная работа' },
  homework: { category: 'homework', title: 'Домашняя работа' },
  test: { category: 'test', title: 'Тест' },
  laboratory: { category: 'lab', title: 'Лабораторная работа' },
  write: { category: 'written', title: 'Письменная работа' },
  practice: { category: 'practical', title: 'Практическая работа' },
};

/**
 * `mark_type: 'quarter'` («Четвертная оценка», react-kundoluk) marks a quarter mark among a lesson's
 * entries: not a lesson mark. Which lesson it sits on is unknown, so it is not read at all; quarter
 * marks come from `qmarks/all`.
 */
export const isQuarterEntry = (m: Mark): boolean => pick(m.mark_type)?.toLowerCase() === 'quarter';

function markTypeOf(type: string | undefined): { category: NonNullable<MarkRecord['workCategory']>; title?: string } {
  const t = pick(type);
  if (!t) return { category: 'other' };
  return MARK_TYPES[t] ?? { category: 'other', title: 'Оценка' };
}

/** The app's display rule for the value: a numeric `mark` above 0, else a non-blank `custom_mark`. */
function markValueOf(m: Mark): string | undefined {
  const points = typeof m.mark === 'number' ? m.mark : Number(m.mark?.trim() || NaN);
  if (Number.isFinite(points) && points > 0) return String(points);
  return pick(m.custom_mark);
}

const lateOf = (m: Mark) => (m.late_minutes !== undefined && m.late_minutes > 0 ? Math.round(m.late_minutes) : undefined);

/**
 * The attendance part of an entry: `absent_type` as written (`absent`, `late`), else the app's «Н»
 * (absent) or «ОП» (late minutes). `present` is never an absence.
 */
function attendanceCodeOf(m: Mark): string | undefined {
  const type = pick(m.absent_type);
  const kind = type?.toLowerCase();
  if (kind === 'present') return undefined;
  if (m.absent !== true && lateOf(m) === undefined && kind !== 'absent' && kind !== 'late') return undefined;
  return type ?? (m.absent === true ? 'Н' : 'ОП');
}

/** "2025-09-01T10:15:30" (school-local) or an instant with an offset → an instant; .NET's empty date is none. */
function instantOf(value: string | undefined, timeZone: string): string | undefined {
  if (!value || isEmptyDate(value)) return undefined;
  if (hasOffset(value)) {
    const time = Date.parse(value);
    return Number.isNaN(time) ? undefined : new Date(time).toISOString();
  }
  return localDateTime(value, timeZone);
}

/** Where an entry belongs and how its values read: the school's zone, and the lesson's scale (12 for `isTwelve`). */
interface EntryContext {
  timeZone: string;
  scale: number;
}

/**
 * The records of one entry of a lesson's `marks[]`: a mark when it has a value, an attendance note when
 * the pupil was absent or late — one entry can be both. An entry of a mark type with neither is a broken
 * mark: it goes on with an empty value so that the journal rejects it with the reason. Quarter entries
 * yield nothing (isQuarterEntry).
 */
export function entryRecords(pupilId: string, lessonId: string, m: Mark, o: EntryContext): Array<MarkRecord | AttendanceRecord> {
  if (isQuarterEntry(m)) return [];
  const records: Array<MarkRecord | AttendanceRecord> = [];
  const code = attendanceCodeOf(m);
  const value = markValueOf(m);
  const present = pick(m.absent_type)?.toLowerCase() === 'present';
  if (value !== undefined || (code === undefined && !present && pick(m.mark_type))) records.push(markRecord(pupilId, lessonId, m, value ?? '', o));
  if (code !== undefined) {
    const late = lateOf(m);
    const reason = pick(m.absent_reason);
    records.push({
      type: 'attendance', externalId: `${pupilId}@${lessonId}`, pupilExternalId: pupilId, lessonExternalId: lessonId, code,
      kind: mapAttendanceCode(code, VOCABULARY, late), ...(late ? { lateMinutes: late } : {}), ...(reason ? { reason } : {}),
    });
  }
  return records;
}

/** Kundoluk has no weights (the apps average plainly), so every mark weighs 1; `note` is the teacher's comment. */
function markRecord(pupilId: string, lessonId: string, m: Mark, value: string, o: EntryContext): MarkRecord {
  const mapped = mapMarkValue(value, VOCABULARY, o.scale);
  const type = markTypeOf(m.mark_type);
  const enteredAt = instantOf(m.created_at, o.timeZone);
  const modifiedAt = instantOf(m.updated_at, o.timeZone);
  const comment = pick(m.note);
  return {
    type: 'mark', externalId: m.uid ?? m.mark_id ?? `${pupilId}@${lessonId}/${m.created_at ?? ''}`,
    pupilExternalId: pupilId, lessonExternalId: lessonId, value, kind: mapped.kind, ...(mapped.scale !== null ? { scale: mapped.scale } : {}),
    weight: 1, workCategory: type.category, ...(type.title ? { workTitle: type.title } : {}), ...(comment ? { comment } : {}),
    ...(enteredAt ? { enteredAt } : {}), ...(modifiedAt && modifiedAt !== enteredAt ? { modifiedAt } : {}),
  };
}

/** A quarter mark's value as the app shows it (kundoluk-plus `QuarterUi`): a non-blank `customMark` first, else `quarterMark` above 0. */
export function quarterValueOf(q: QuarterMark): string | undefined {
  return pick(q.customMark) ?? (q.quarterMark !== undefined && q.quarterMark > 0 ? String(q.quarterMark) : undefined);
}

/** How quarter marks are placed: the period of a `quarter` number, and the scale of a subject's marks. */
interface QuarterContext {
  periodOf(quarter: number): string | undefined;
  scaleOf(subject: string): number;
  timeZone: string;
}

/**
 * Quarter and year marks of a pupil, one per subject and period: the answer repeats entries (same or
 * another `objectId`), so the latest `quarterDate` wins (the later entry on a tie, as kundoluk-plus'
 * dedup keeps the last). Entries without a value (not set yet) or of an unknown period are skipped.
 */
export function quarterMarkRecords(pupilId: string, marks: QuarterMark[], o: QuarterContext): PeriodMarkRecord[] {
  const latest = new Map<string, { q: QuarterMark; subject: string; period: string; value: string }>();
  for (const q of marks) {
    const name = pick(q.subjectNameRu, q.subjectNameKg);
    const period = o.periodOf(q.quarter ?? 0);
    const value = quarterValueOf(q);
    if (!name || !period || !value) continue;
    const subject = subjectId(name);
    const key = `${subject}|${period}`;
    const seen = latest.get(key);
    if (!seen || (q.quarterDate ?? '') >= (seen.q.quarterDate ?? '')) latest.set(key, { q, subject, period, value });
  }
  return [...latest.values()].map(({ q, subject, period, value }) => {
    const mapped = mapMarkValue(value, VOCABULARY, o.scaleOf(subject));
    const setAt = instantOf(q.quarterDate, o.timeZone);
    return {
      type: 'period_mark', externalId: `${pupilId}/${period}/${subject}`, pupilExternalId: pupilId, subjectExternalId: subject, periodExternalId: period,
      value, kind: mapped.kind, ...(mapped.scale !== null ? { scale: mapped.scale } : {}),
      ...(q.quarterAvg !== undefined && q.quarterAvg > 0 ? { average: q.quarterAvg } : {}), ...(setAt ? { setAt } : {}),
    };
  });
}

/** The subjects quarter marks name (they may be marks of subjects no lesson of the range showed). */
export function quarterMarkSubjects(marks: QuarterMark[]): SubjectRecord[] {
  const subjects = new Map<string, SubjectRecord>();
  for (const q of marks) {
    const subject = subjectRecord({ nameRu: q.subjectNameRu, nameKg: q.subjectNameKg });
    if (subject) subjects.set(subject.externalId, subject);
  }
  return [...subjects.values()];
}
