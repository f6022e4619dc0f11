import type { PeriodRecord, SourceRecord, SourceRecordOf } from '../../src/ports/records.js';
import type { Vocabulary } from '../../src/ports/values.js';
import { pickId, type EduGroup, type Person, type ReportingPeriod, type Subject, type Teacher, type User } from './schemas.js';

/**
 * Pure mapping of the roster: Дневник.ру API v2 objects (parsed by their endpoint's schema) → source
 * records. Ids are the `*_str` twins, or the bare id where JSON carried it exactly (schemas.ts). A value
 * that is missing or malformed is passed on as it is, so that applyBatch rejects that one record with a
 * reason instead of the batch failing.
 */

/** Lesson log entry statuses: `Attend` is presence (not a record); the others are absences (the Swagger's example list). */
export const VOCABULARY: Vocabulary = { attendance: { absent: 'unexcused', ill: 'ill', late: 'late', pass: 'valid' } };

/** The id of a parsed object (its schema made sure there is one). */
export const idOf = (twin: string | null | undefined, bare: string | number | null | undefined): string => pickId(twin, bare)!;

export const groupIdOf = (g: EduGroup): string => idOf(g.id_str, g.id);
export const personIdOf = (p: Person): string => idOf(p.id_str, p.id);

/** The class a subgroup splits: `parentIds_str` (null or [] for a class), or an exact bare `parentIds`. */
export function parentIdOf(g: EduGroup): string | undefined {
  return g.parentIds_str?.[0] ?? pickId(undefined, g.parentIds?.[0]);
}

/** «5А», «5 А», «11-H», «10-Б» → the letter; subgroup names («Алг1 Ж.А», «5А англ. гр. 1») keep theirs when they start with a class. */
const CLASS_LETTER = /^\d{1,2}\s*[-–]?\s*([А-ЯЁA-Z])/i;

export function classRecord(g: EduGroup): SourceRecord {
  return {
    type: 'class', externalId: groupIdOf(g), year: g.studyyear!, name: g.name, grade: g.parallel!, letter: CLASS_LETTER.exec(g.name)?.[1],
    parentExternalId: g.type === 'Subgroup' ? parentIdOf(g) : undefined,
  };
}

export function subjectRecord(s: Subject): SourceRecord {
  return { type: 'subject', externalId: idOf(s.id_str, s.id), name: s.name! };
}

const SEX: Record<string, 'm' | 'f'> = { Male: 'm', Female: 'f' };

interface Names { lastName?: string | null; firstName?: string | null; middleName?: string | null }

/** The person's own names, or (when the group answer had only `shortName`) the names of their user profile. */
function namesOf(p: Names, user?: User): Names {
  if (p.lastName && p.firstName) return p;
  return { lastName: user?.lastName ?? p.lastName, firstName: user?.firstName ?? p.firstName, middleName: user?.middleName ?? p.middleName };
}

/** A pupil of a class (classExternalId lets the journal match the same pupil from another platform). */
export function pupilRecord(p: Person, classId: string, user?: User): SourceRecord {
  const names = namesOf(p, user);
  return {
    type: 'person', externalId: personIdOf(p), role: 'pupil', lastName: names.lastName!, firstName: names.firstName!,
    middleName: names.middleName || undefined, sex: SEX[p.sex ?? user?.sex ?? ''], classExternalId: classId,
  };
}

export function enrollmentRecord(personId: string, groupId: string): SourceRecord {
  return { type: 'enrollment', externalId: `${personId}@${groupId}`, pupilExternalId: personId, classExternalId: groupId };
}

/** Director or deputy from the management position (`NameManagingPosition`; older answers put it in `NameTeacherPosition`) [I: the texts]. */
function managingRole(t: Teacher): 'director' | 'deputy' | 'other' | undefined {
  const position = t.NameManagingPosition ?? (/директор/i.test(t.NameTeacherPosition ?? '') ? t.NameTeacherPosition : undefined);
  if (position && /^\s*(заместитель|зам\.)/i.test(position)) return 'deputy';
  if (position && /директор/i.test(position)) return 'director';
  return t.ManagingEmployee ? 'other' : undefined;
}

/**
 * A member of staff and their roles: management from `ManagingEmployee` / the position, teacher from
 * `TeachingStaff` (or everyone not in management when the flag is absent), class teacher of the classes
 * whose `edu-groups/{g}/classteacher` named them.
 */
export function teacherRecords(t: Teacher, classes: readonly string[] = []): SourceRecord[] {
  const id = idOf(t.IdStr, t.Id);
  const records: SourceRecord[] = [
    { type: 'person', externalId: id, role: 'staff', lastName: t.LastName!, firstName: t.FirstName!, middleName: t.MiddleName || undefined, sex: SEX[t.Sex ?? ''] },
  ];
  const managing = managingRole(t);
  if (managing) records.push({ type: 'staff_role', externalId: `${id}:${managing}`, personExternalId: id, role: managing });
  if (t.TeachingStaff ?? !managing) records.push({ type: 'staff_role', externalId: `${id}:teacher`, personExternalId: id, role: 'teacher' });
  for (const classId of classes) {
    records.push({ type: 'staff_role', externalId: `${id}:class_teacher@${classId}`, personExternalId: id, role: 'class_teacher', classExternalId: classId });
  }
  return records;
}

/** Period types; an unknown one reaches the journal as it is and is rejected with a reason. */
const PERIOD_KIND: Record<string, PeriodRecord['kind']> = {
  Quarter: 'quarter', HalfYear: 'half_year', Semester: 'half_year', Trimester: 'trimester', Module: 'module', Year: 'year',
};

/** A reporting period; `number` counts from 0 (sirop-fmt, MySchool). */
export function periodRecord(p: ReportingPeriod): SourceRecord {
  return {
    type: 'period', externalId: idOf(p.id_str, p.id), year: p.year!, kind: PERIOD_KIND[p.type] ?? (p.type.toLowerCase() as 'quarter'),
    number: (p.number ?? Number.NaN) + 1, title: p.name!, startDate: p.start.slice(0, 10), endDate: p.finish.slice(0, 10),
  };
}

/**
 * The period final marks without a reporting period belong to [I]: a reporting period of type `Year`
 * if the platform has one, else the school year the adapter adds (`yearPeriodRecord`).
 */
export function yearPeriodId(startYear: number, periods: readonly ReportingPeriod[] = []): string {
  const year = periods.find((p) => p.type === 'Year');
  return year ? idOf(year.id_str, year.id) : `year-${startYear}`;
}

/** The school year, spanning the classes' reporting periods, unless the platform has a `Year` period of its own [I]. */
export function yearPeriodRecord(startYear: number, periods: readonly ReportingPeriod[]): SourceRecord | undefined {
  if (periods.length === 0 || periods.some((p) => p.type === 'Year')) return undefined;
  const start = periods.reduce((a, p) => (p.start < a ? p.start : a), periods[0]!.start);
  const finish = periods.reduce((a, p) => (p.finish > a ? p.finish : a), periods[0]!.finish);
  return {
    type: 'period', externalId: yearPeriodId(startYear), year: startYear, kind: 'year', number: 1, title: `${startYear}/${startYear + 1} учебный год`,
    startDate: start.slice(0, 10), endDate: finish.slice(0, 10),
  };
}

/** Contacts as the profile gives them: "" (captured) and blanks mean none. */
const contact = (value: string | null | undefined): string | undefined => value?.trim() || undefined;

/**
 * A pupil's relative as a guardian, with the phone and e-mail of their user profile when it has them,
 * and the children they are a guardian of.
 */
export function guardianRecord(p: Person, children: readonly string[], user?: User): SourceRecordOf<'person'> {
  const names = namesOf(p, user);
  return {
    type: 'person', externalId: personIdOf(p), role: 'guardian', lastName: names.lastName!, firstName: names.firstName!,
    middleName: names.middleName || undefined, sex: SEX[p.sex ?? user?.sex ?? ''], phone: contact(user?.phone), email: contact(user?.email),
    pupilExternalIds: children.slice(0, 20),
  };
}

/** The link of a guardian to a pupil; `relation` is the relative's `type` as the platform wrote it (its values are not public). */
export function guardianshipRecord(guardianId: string, pupilId: string, relation?: string | null): SourceRecord {
  return { type: 'guardianship', externalId: `${guardianId}>${pupilId}`, guardianExternalId: guardianId, pupilExternalId: pupilId, relation: relation || undefined };
}
