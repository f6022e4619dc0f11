import { createHash } from 'node:crypto';
import { AdapterError } from '../../src/ports/adapter.js';
import type { ClassRecord, EnrollmentRecord, LessonRecord, PersonRecord, SubjectRecord } from '../../src/ports/records.js';
import { dayIn, localInstant } from '../../src/ports/time.js';
import { hasOffset, isEmptyDate } from './calendar.js';
import type { Account, Lesson } from './endpoints.js';

/** Kundoluk answers → source records (accounts, classes, subjects, teachers, lessons): pure functions, no I/O. */

/** A pupil as the adapter knows it: from the login answer of its account. */
export interface Pupil {
  /** The account's position in the config. */
  index: number;
  id: string;
  classId: string;
  grade: number;
  letter?: string;
  lastName: string;
  firstName: string;
  middleName?: string;
  birthDate?: string;
}

/** The first of the values that says something (blank strings say nothing), as kundoluk-plus' `pickStr`. */
export function pick(...values: Array<string | number | undefined | null>): string | undefined {
  for (const value of values) {
    const text = typeof value === 'number' ? String(value) : value?.trim();
    if (text) return text;
  }
  return undefined;
}

/** The all-zero UUID stands for "none" in Kundoluk's answers (the Python client's docstrings). */
const ZERO_UUID = /^0{8}-0{4}-0{4}-0{4}-0{12}$/;
const realId = (value: string | undefined) => (value && !ZERO_UUID.test(value) ? value : undefined);

export function classIdOf(grade: number, letter: string | undefined): string {
  return `${grade}${letter ?? ''}`;
}

function gradeOf(value: number | undefined): number | undefined {
  return value !== undefined && Number.isInteger(value) && value >= 0 && value <= 12 ? value : undefined;
}

/** The account's role, as kundoluk-plus reads it (`type`, else `role`; lower case). */
export function roleOf(a: Account): string | undefined {
  return pick(a.type, a.role)?.toLowerCase();
}

/** Roles of a pupil's account (kundoluk-plus `UserRole.fromApiValue`); no role at all is taken as a pupil's (it is the pupil login). */
export const PUPIL_ROLES = new Set(['student', 'pupil', 'ученик']);

/** The pupil of a login answer, in any of its spellings; an account without a pupil id, class or name cannot be placed. */
export function pupilOf(index: number, a: Account): Pupil {
  const id = realId(a.studentId) ?? realId(a.student_id) ?? realId(a.userId) ?? realId(a.user_id);
  const grade = gradeOf(a.grade);
  const lastName = pick(a.last_name, a.lastName, a.lastNameRu);
  const firstName = pick(a.first_name, a.firstName);
  if (!id || grade === undefined || !lastName || !firstName) {
    throw new AdapterError('permanent', `Kundoluk: account #${index + 1} is not a pupil's (no pupil id, class or name in its login answer)`);
  }
  const letter = pick(a.letter)?.toUpperCase();
  const middleName = pick(a.mid_name, a.midName, a.middleName);
  const born = pick(a.birthdate, a.birthDate);
  const birthDate = born && !isEmptyDate(born) ? /^\d{4}-\d{2}-\d{2}/.exec(born)?.[0] : undefined;
  return { index, id, classId: classIdOf(grade, letter), grade, lastName, firstName, ...(letter ? { letter } : {}), ...(middleName ? { middleName } : {}), ...(birthDate ? { birthDate } : {}) };
}

export function classRecord(grade: number, letter: string | undefined, year: number): ClassRecord {
  const id = classIdOf(grade, letter);
  return { type: 'class', externalId: id, year, name: id, grade, ...(letter ? { letter } : {}) };
}

/** A pupil as the roster writes it: of an account (Pupil), or of the web journal only (no birth date there). */
type RosterPupil = Pick<Pupil, 'id' | 'classId' | 'lastName' | 'firstName' | 'middleName' | 'birthDate'>;

export function pupilRecord(p: RosterPupil): PersonRecord {
  return {
    type: 'person', externalId: p.id, role: 'pupil', lastName: p.lastName, firstName: p.firstName, classExternalId: p.classId,
    ...(p.middleName ? { middleName: p.middleName } : {}), ...(p.birthDate ? { birthDate: p.birthDate } : {}),
  };
}

export function enrollmentRecord(p: Pick<Pupil, 'id' | 'classId'>): EnrollmentRecord {
  return { type: 'enrollment', externalId: `${p.id}@${p.classId}`, pupilExternalId: p.id, classExternalId: p.classId };
}

/** The items by key, in their order (Map.groupBy is Node 21+). */
export function groupBy<T>(items: Iterable<T>, key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

export function subjectId(name: string): string {
  return name.trim().replace(/\s+/g, ' ');
}

/**
 * Subjects are known by name (quarter marks carry names, and whether their `subjectId` is the lessons'
 * `subject.code` is unknown): the Russian name, else the default or Kyrgyz one; the Kyrgyz name
 * (`nameKg`) goes beside it as `altNames.ky` when the subject has both.
 */
export function subjectRecord(s: { name?: string; nameKg?: string; nameRu?: string; short?: string; shortRu?: string } | undefined): SubjectRecord | undefined {
  const kyrgyz = pick(s?.nameKg);
  const russian = pick(s?.nameRu, s?.name);
  const name = russian ?? kyrgyz;
  if (!name) return undefined;
  const shortName = pick(s?.shortRu, s?.short);
  return {
    type: 'subject', externalId: subjectId(name), name, ...(shortName ? { shortName } : {}),
    ...(russian && kyrgyz ? { altNames: { ky: kyrgyz } } : {}),
  };
}

/** Teachers are known by their personal number (ПИН) only; it is hashed, not kept. */
export function teacherRecord(t: Lesson['teacher']): PersonRecord | undefined {
  const pin = pick(t?.pinAsString, t?.pin_as_string, t?.pin);
  const lastName = pick(t?.lastName, t?.last_name);
  const firstName = pick(t?.firstName, t?.first_name);
  if (!pin || !lastName || !firstName) return undefined;
  const middleName = pick(t?.midName, t?.mid_name);
  return { type: 'person', externalId: `t-${createHash('sha256').update(pin).digest('hex').slice(0, 20)}`, role: 'staff', lastName, firstName, ...(middleName ? { middleName } : {}) };
}

const pad = (n: number) => String(n).padStart(2, '0');

/**
 * The lesson's day: `year` / `month` / `day` (every client has them; react-kundoluk dates lessons by
 * them alone), else `lessonDay` — converted to the school's time zone when it carries an offset
 * (kundoluk-plus takes `.toLocal()` of it), else the day as written.
 */
export function lessonDateOf(l: Lesson, timeZone: string): string | undefined {
  const { year, month, day } = l;
  if (year && month && day && year > 1) return `${year}-${pad(month)}-${pad(day)}`;
  const text = l.lessonDay?.trim();
  if (!text || isEmptyDate(text)) return undefined;
  if (hasOffset(text)) {
    const instant = Date.parse(text);
    return Number.isNaN(instant) ? undefined : dayIn(instant, timeZone);
  }
  return /^\d{4}-\d{2}-\d{2}/.exec(text)?.[0];
}

/** One lesson of the class however many pupils show it: its schedule item and day, else its uid. */
export function lessonIdOf(l: Lesson, date: string): string | undefined {
  return l.scheduleItemId ? `${l.scheduleItemId}@${date}` : l.uid;
}

/**
 * The class (grade + letter, the pupil's when the lesson lacks them) or the subgroup of a lesson. A
 * lesson is a subgroup's only when `group` > 0 («0 если нет деления», the Python client) and `groupId`
 * is a real id (not empty, not the zero UUID); the subgroup is named with the subject, since
 * `subjectGroupName` says only «1 группа».
 */
export function placeLesson(l: Lesson, pupil: Pupil, year: number): { classId: string; subgroup?: ClassRecord } {
  const grade = gradeOf(l.grade) ?? pupil.grade;
  const letter = pick(l.letter)?.toUpperCase() ?? pupil.letter;
  const classId = classIdOf(grade, letter);
  const groupId = realId(l.groupId);
  if (!groupId || !l.group || l.group <= 0) return { classId };
  const label = [subjectRecord(l.subject)?.name, pick(l.subjectGroupName) ?? `${l.group} группа`].filter(Boolean).join(' ');
  const subgroup: ClassRecord = {
    ...classRecord(grade, letter, year), externalId: `${classId}/${groupId}`, name: `${classId} ${label}`, parentExternalId: classId,
  };
  return { classId: subgroup.externalId, subgroup };
}

const hhmm = (t: string | undefined) => (t && /^\d{1,2}:\d{2}/.test(t) ? t.padStart(5, '0') : undefined);

/** The lesson of the class or subgroup `groupId`, with the subject and teacher records its own fields make (subjectRecord, teacherRecord). */
export function lessonRecord(
  l: Lesson, id: string, groupId: string, date: string, timeZone: string, subject: SubjectRecord, teacher: PersonRecord | undefined,
): LessonRecord {
  const [start, end] = [hhmm(l.startTime), hhmm(l.endTime)];
  const topic = pick(l.topic?.name);
  return {
    type: 'lesson', externalId: id, classExternalId: groupId, subjectExternalId: subject.externalId, date, slot: Math.max(0, l.lesson ?? 0),
    ...(start ? { startsAt: localInstant(date, start, timeZone) } : {}), ...(end ? { endsAt: localInstant(date, end, timeZone) } : {}),
    ...(teacher ? { teacherExternalId: teacher.externalId } : {}), ...(topic ? { topic } : {}),
  };
}

/** The homework of a lesson: the task's name, then its note. */
export function homeworkText(l: Lesson): string | undefined {
  const parts = [pick(l.task?.name), pick(l.task?.note)].filter((p): p is string => Boolean(p));
  return parts.length > 0 ? parts.join('\n') : undefined;
}

/** Marks of lessons flagged `isTwelve` («Используется ли 12-балльная система оценок», the Python client) are on a 12-point scale. */
export const scaleOf = (l: Pick<Lesson, 'isTwelve'>): number => (l.isTwelve ? 12 : 5);
