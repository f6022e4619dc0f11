import { createHash } from 'node:crypto';
import { AdapterError } from '../../src/ports/adapter.js';
import type {
  AttendanceRecord, ClassRecord, LessonRecord, MarkRecord, PeriodMarkRecord, PersonRecord, SubjectRecord,
} from '../../src/ports/records.js';
import { localDateTime, localInstant } from '../../src/ports/time.js';
import { mapAttendanceCode, mapMarkValue, type Vocabulary } from '../../src/ports/values.js';
import type { KundolukAccount, KundolukLesson, KundolukMark, KundolukQuarterMark, KundolukSubject, KundolukTeacher, Pupil } from './types.js';

/** Kundoluk answers → source records: pure functions, no I/O. */

const text = (value: unknown): string | undefined => {
  const trimmed = typeof value === 'string' ? value.trim() : typeof value === 'number' ? String(value) : undefined;
  return trimmed ? trimmed : undefined;
};

/** «5» + «а» → «5А»: the class is known by grade and letter only, so that is its id. */
/** Kundoluk's `absent_type` values as the app's strings show them [I]. */
export const VOCABULARY: Vocabulary = { attendance: { sick: 'ill', reason: 'valid', noreason: 'unexcused', late: 'late' } };

export function classIdOf(grade: number, letter: string | undefined): string {
  return `${grade}${letter ?? ''}`;
}

function gradeOf(value: unknown): number | undefined {
  const grade = Number(value);
  return Number.isInteger(grade) && grade >= 0 && grade <= 12 ? grade : undefined;
}

/** The pupil of a login answer; an account without a pupil id or class cannot be placed. */
export function pupilOf(index: number, a: KundolukAccount): Pupil {
  const id = text(a.studentId ?? a.student_id ?? a.userId ?? a.user_id);
  const grade = gradeOf(a.grade);
  const lastName = text(a.last_name ?? a.lastName);
  const firstName = text(a.first_name ?? a.firstName);
  if (!id || grade === undefined || !lastName || !firstName) {
    throw new AdapterError('permanent', `Kundoluk: account #${index + 1} is not a pupil's (no pupil id, class or name in its login answer)`);
  }
  const letter = text(a.letter)?.toUpperCase();
  const middleName = text(a.mid_name ?? a.midName);
  const birthDate = /^\d{4}-\d{2}-\d{2}/.exec(a.birthdate ?? '')?.[0];
  return { index, id, classId: classIdOf(grade, letter), grade, lastName, firstName, ...(letter ? { letter } : {}), ...(middleName ? { middleName } : {}), ...(birthDate ? { birthDate } : {}) };
}

export function classRecord(grade: number, letter: string | undefined, year: number): ClassRecord {
  const id = classIdOf(grade, letter);
  return { type: 'class', externalId: id, year, name: id, grade, ...(letter ? { letter } : {}) };
}

export function pupilRecord(p: Pupil): PersonRecord {
  return {
    type: 'person', externalId: p.id, role: 'pupil', lastName: p.lastName, firstName: p.firstName, classExternalId: p.classId,
    ...(p.middleName ? { middleName: p.middleName } : {}), ...(p.birthDate ? { birthDate: p.birthDate } : {}),
  };
}

/**
 * Subjects are known by name (quarter marks carry names only): the Russian name, else the default or
 * Kyrgyz one; the Kyrgyz name (`nameKg`) goes beside it as `altNames.ky` when the subject has both.
 */
export function subjectRecord(s: KundolukSubject | null | undefined): SubjectRecord | undefined {
  const kyrgyz = text(s?.nameKg);
  const russian = text(s?.nameRu) ?? text(s?.name);
  const name = russian ?? kyrgyz;
  if (!name) return undefined;
  const shortName = text(s?.shortRu) ?? text(s?.short);
  return {
    type: 'subject', externalId: subjectId(name), name, ...(shortName ? { shortName } : {}),
    ...(russian && kyrgyz ? { altNames: { ky: kyrgyz } } : {}),
  };
}

export function subjectId(name: string): string {
  return name.trim().replace(/\s+/g, ' ');
}

/** Teachers are known by their personal number (ПИН) only; it is hashed, not kept. */
export function teacherRecord(t: KundolukTeacher | null | undefined): PersonRecord | undefined {
  const pin = text(t?.pinAsString) ?? text(t?.pin);
  const lastName = text(t?.lastName);
  const firstName = text(t?.firstName);
  if (!pin || !lastName || !firstName) return undefined;
  const middleName = text(t?.midName);
  return { type: 'person', externalId: `t-${createHash('sha256').update(pin).digest('hex').slice(0, 20)}`, role: 'staff', lastName, firstName, ...(middleName ? { middleName } : {}) };
}

export function lessonDateOf(l: KundolukLesson): string | undefined {
  const day = /^\d{4}-\d{2}-\d{2}/.exec(l.lessonDay ?? '')?.[0];
  if (day) return day;
  if (!l.year || !l.month || !l.day) return undefined;
  return `${l.year}-${String(l.month).padStart(2, '0')}-${String(l.day).padStart(2, '0')}`;
}

/** One lesson of the class however many pupils show it: its timetable slot and day, else its uid. */
export function lessonIdOf(l: KundolukLesson, date: string): string | undefined {
  const item = text(l.scheduleItemId);
  return item ? `${item}@${date}` : text(l.uid);
}

/** The class (grade + letter, the pupil's when the lesson lacks them) or the subgroup (`groupId`) of a lesson. */
export function placeLesson(l: KundolukLesson, pupil: Pupil, year: number): { classId: string; subgroup?: ClassRecord } {
  const grade = gradeOf(l.grade) ?? pupil.grade;
  const letter = text(l.letter)?.toUpperCase() ?? pupil.letter;
  const classId = classIdOf(grade, letter);
  const groupId = text(l.groupId);
  if (!groupId) return { classId };
  const label = text(l.subjectGroupName) ?? `${subjectRecord(l.subject)?.name ?? ''} гр. ${l.group ?? groupId}`.trim();
  const subgroup: ClassRecord = {
    ...classRecord(grade, letter, year), externalId: `${classId}/${groupId}`, name: `${classId} ${label}`, parentExternalId: classId,
  };
  return { classId: subgroup.externalId, subgroup };
}

const hhmm = (t: string | null | undefined) => (t && /^\d{1,2}:\d{2}/.test(t) ? t.padStart(5, '0') : undefined);

export function lessonRecord(l: KundolukLesson, id: string, groupId: string, date: string, timeZone: string): LessonRecord | undefined {
  const subject = subjectRecord(l.subject);
  if (!subject) return undefined;
  const [start, end] = [hhmm(l.startTime), hhmm(l.endTime)];
  const teacher = teacherRecord(l.teacher);
  const topic = text(l.topic?.name);
  return {
    type: 'lesson', externalId: id, classExternalId: groupId, subjectExternalId: subject.externalId, date, slot: Math.max(0, l.lesson ?? 0),
    ...(start ? { startsAt: localInstant(date, start, timeZone) } : {}), ...(end ? { endsAt: localInstant(date, end, timeZone) } : {}),
    ...(teacher ? { teacherExternalId: teacher.externalId } : {}), ...(topic ? { topic } : {}),
  };
}

/** The homework of a lesson: the task's name, then its note. */
export function homeworkText(l: KundolukLesson): string | undefined {
  const parts = [text(l.task?.name), text(l.task?.note)].filter((p): p is string => Boolean(p));
  return parts.length > 0 ? parts.join('\n') : undefined;
}

/** `mark_type` → work category and the title the app shows («Тип: …» for types it does not know). */
export const MARK_TYPES: Record<string, { category: NonNullable<MarkRecord['workCategory']>; title: string }> = {
  general: { category: 'other', title: 'Оценка' },
  control: { category: 'control', title: 'Контрольная' },
  homework: { category: 'homework', title: 'Домашняя работа' },
  test: { category: 'test', title: 'Тест' },
  laboratory: { category: 'lab', title: 'Лабораторная' },
  write: { category: 'written', title: 'Письменная' },
  practice: { category: 'practical', title: 'Практическая' },
};

export function markTypeOf(type: string | null | undefined): { category: NonNullable<MarkRecord['workCategory']>; title?: string } {
  const t = text(type);
  if (!t) return { category: 'other' };
  return MARK_TYPES[t] ?? { category: 'other', title: `Тип: ${t}` };
}

/** The app's display rule for the value: a numeric `mark` above 0, else `custom_mark`. */
export function markValueOf(m: KundolukMark): string | undefined {
  if (typeof m.mark === 'number' && m.mark > 0) return String(m.mark);
  return text(m.custom_mark);
}

const lateOf = (m: KundolukMark) => (typeof m.late_minutes === 'number' && m.late_minutes > 0 ? m.late_minutes : undefined);

/** The attendance part of an entry: `absent_type` as written, else the app's «Н» (absent) or «ОП» (late). */
export function attendanceCodeOf(m: KundolukMark): string | undefined {
  if (m.absent !== true && lateOf(m) === undefined) return undefined;
  return text(m.absent_type) ?? (m.absent === true ? 'Н' : 'ОП');
}

/** "2025-09-01T10:15:30" (school-local) or an instant with an offset → an instant. */
export function instantOf(value: string | null | undefined, timeZone: string): string | undefined {
  if (!value) return undefined;
  if (/(Z|[+-]\d{2}:?\d{2})$/i.test(value.trim())) {
    const time = Date.parse(value);
    return Number.isNaN(time) ? undefined : new Date(time).toISOString();
  }
  return localDateTime(value, timeZone);
}

/**
 * The records of one entry of a lesson's `marks[]`: a mark when it has a value, an attendance note when
 * the pupil was absent or late — one entry can be both. An entry of a mark type with neither is a broken
 * mark: it goes on with an empty value so that the journal rejects it with the reason.
 */
export function entryRecords(pupilId: string, lessonId: string, m: KundolukMark, timeZone: string): Array<MarkRecord | AttendanceRecord> {
  const records: Array<MarkRecord | AttendanceRecord> = [];
  const code = attendanceCodeOf(m);
  const value = markValueOf(m);
  if (value !== undefined || (code === undefined && text(m.mark_type))) records.push(markRecord(pupilId, lessonId, m, value ?? '', timeZone));
  if (code !== undefined) {
    const late = lateOf(m);
    const reason = text(m.absent_reason);
    records.push({
      type: 'attendance', externalId: `${pupilId}@${lessonId}`, pupilExternalId: pupilId, lessonExternalId: lessonId, code,
      kind: mapAttendanceCode(code, VOCABULARY, late), ...(late ? { lateMinutes: late } : {}), ...(reason ? { reason } : {}),
    });
  }
  return records;
}

/** Kundoluk has no weights (the app averages plainly), so every mark weighs 1. */
function markRecord(pupilId: string, lessonId: string, m: KundolukMark, value: string, timeZone: string): MarkRecord {
  const mapped = mapMarkValue(value, VOCABULARY);
  const type = markTypeOf(m.mark_type);
  const enteredAt = instantOf(m.created_at, timeZone);
  const modifiedAt = instantOf(m.updated_at, timeZone);
  return {
    type: 'mark', externalId: text(m.uid) ?? text(m.mark_id) ?? `${pupilId}@${lessonId}/${m.created_at ?? ''}`,
    pupilExternalId: pupilId, lessonExternalId: lessonId, value, kind: mapped.kind, ...(mapped.scale !== null ? { scale: mapped.scale } : {}),
    weight: 1, workCategory: type.category, ...(type.title ? { workTitle: type.title } : {}),
    ...(enteredAt ? { enteredAt } : {}), ...(modifiedAt && modifiedAt !== enteredAt ? { modifiedAt } : {}),
  };
}

/**
 * Quarter marks of a pupil, one per subject and quarter: the answer repeats entries (same or another
 * `objectId`), so the latest `quarterDate` wins. Entries without a value (not set yet) are skipped.
 */
export function quarterMarkRecords(pupilId: string, marks: KundolukQuarterMark[], periodOf: (quarter: number) => string | undefined, timeZone: string): PeriodMarkRecord[] {
  const latest = new Map<string, { q: KundolukQuarterMark; subject: string; period: string; value: string }>();
  for (const q of marks) {
    const name = text(q.subjectNameRu) ?? text(q.subjectNameKg);
    const period = periodOf(q.quarter ?? 0);
    const value = typeof q.quarterMark === 'number' && q.quarterMark > 0 ? String(q.quarterMark) : text(q.customMark);
    if (!name || !period || !value) continue;
    const subject = subjectId(name);
    const key = `${subject}|${period}`;
    const seen = latest.get(key);
    if (!seen || (q.quarterDate ?? '') > (seen.q.quarterDate ?? '')) latest.set(key, { q, subject, period, value });
  }
  return [...latest.values()].map(({ q, subject, period, value }) => {
    const mapped = mapMarkValue(value, VOCABULARY);
    const setAt = instantOf(q.quarterDate, timeZone);
    return {
      type: 'period_mark', externalId: `${pupilId}/${period}/${subject}`, pupilExternalId: pupilId, subjectExternalId: subject, periodExternalId: period,
      value, kind: mapped.kind, ...(mapped.scale !== null ? { scale: mapped.scale } : {}),
      ...(typeof q.quarterAvg === 'number' && q.quarterAvg > 0 ? { average: q.quarterAvg } : {}), ...(setAt ? { setAt } : {}),
    };
  });
}

/** The subjects quarter marks name (they may be marks of subjects no lesson of the range showed). */
export function quarterMarkSubjects(marks: KundolukQuarterMark[]): SubjectRecord[] {
  const subjects = new Map<string, SubjectRecord>();
  for (const q of marks) {
    const subject = subjectRecord({ nameRu: q.subjectNameRu, nameKg: q.subjectNameKg });
    if (subject) subjects.set(subject.externalId, subject);
  }
  return [...subjects.values()];
}
