import type { SourceRecord } from '../../src/ports/records.js';
import { localDateTime, localInstant } from '../../src/ports/time.js';
import { mapAttendanceCode, type Vocabulary } from '../../src/ports/values.js';

/**
 * Pure mapping: Дневник.ру API v2 JSON → source records. Ids are always read from the `*_str` twins
 * (the numbers exceed 2^53). A field that is missing or malformed is passed on as it is, so that
 * applyBatch rejects that one record with a reason instead of the batch failing.
 */

export interface EduGroup { id_str: string; type: string; name: string; parallel: number; studyyear: number; parentIds_str?: string[] }
export interface Person { id_str: string; firstName: string; lastName: string; middleName?: string | null; sex?: string }
export interface Subject { idStr: string; name: string; knowledgeArea?: string }
export interface Teacher { IdStr: string; FirstName: string; LastName: string; MiddleName?: string | null; Sex?: string; HouseMaster?: string[]; NameTeacherPosition?: string }
export interface ReportingPeriod { id_str: string; start: string; finish: string; number: number; type: string; name: string; year: number }
export interface TimetableItem { Start: string; Finish: string; LessonNumber: number }
export interface Work { id_str: string; type: string; text?: string | null }
export interface Lesson { id_str: string; title?: string | null; date: string; number: number; subject: { idStr: string }; group_str?: string; works?: Work[]; teachersStr?: string[]; status?: string }
export interface WorkType { id: number; kind: string; weight: number }
export interface Mark { id_str: string; value: string; person_str: string; lesson_str: string; date?: string; workType?: number }
export interface LogEntry { person_str: string; lesson_str: string; status: string; comment?: string | null }
export interface PersonFinalMark { person_str: string; reportingPeriod_str?: string | null; 'per-subject-final-marks': Array<{ subject_str: string; 'final-mark': Mark }> }

/** Lesson log entry statuses (English enum names) [I]. */
export const VOCABULARY: Vocabulary = { attendance: { absent: 'unexcused', ill: 'ill', late: 'late', pass: 'valid', attend: 'unknown' } };

export function classRecord(g: EduGroup): SourceRecord {
  const letter = /^\d+\s*([А-ЯЁA-Z])/i.exec(g.name)?.[1];
  return {
    type: 'class', externalId: g.id_str, year: g.studyyear, name: g.name, grade: g.parallel, letter,
    parentExternalId: g.type === 'Subgroup' ? g.parentIds_str?.[0] : undefined,
  };
}

export function subjectRecord(s: Subject): SourceRecord {
  return { type: 'subject', externalId: s.idStr, name: s.name };
}

const SEX: Record<string, 'm' | 'f'> = { Male: 'm', Female: 'f' };

/** A pupil of a class (classExternalId lets the journal match the same pupil from another platform). */
export function pupilRecord(p: Person, classId: string): SourceRecord {
  return {
    type: 'person', externalId: p.id_str, role: 'pupil', lastName: p.lastName, firstName: p.firstName,
    middleName: p.middleName || undefined, sex: p.sex ? SEX[p.sex] : undefined, classExternalId: classId,
  };
}

export function enrollmentRecord(personId: string, groupId: string): SourceRecord {
  return { type: 'enrollment', externalId: `${personId}@${groupId}`, pupilExternalId: personId, classExternalId: groupId };
}

/** Staff and their roles: class teachers from HouseMaster, director and deputies from the position [I]. */
export function teacherRecords(t: Teacher): SourceRecord[] {
  const records: SourceRecord[] = [
    { type: 'person', externalId: t.IdStr, role: 'staff', lastName: t.LastName, firstName: t.FirstName, middleName: t.MiddleName || undefined, sex: t.Sex ? SEX[t.Sex] : undefined },
  ];
  const position = t.NameTeacherPosition ?? '';
  const role = /^Директор/i.test(position) ? 'director' : /^Заместитель/i.test(position) ? 'deputy' : 'teacher';
  records.push({ type: 'staff_role', externalId: `${t.IdStr}:${role}`, personExternalId: t.IdStr, role });
  for (const groupId of t.HouseMaster ?? []) {
    records.push({ type: 'staff_role', externalId: `${t.IdStr}:class_teacher@${groupId}`, personExternalId: t.IdStr, role: 'class_teacher', classExternalId: groupId });
  }
  return records;
}

const PERIOD_KIND: Record<string, 'quarter' | 'half_year' | 'trimester' | 'year'> = { Quarter: 'quarter', HalfYear: 'half_year', Semester: 'half_year', Trimester: 'trimester', Year: 'year' };

export function periodRecord(p: ReportingPeriod): SourceRecord {
  return {
    type: 'period', externalId: p.id_str, year: p.year, kind: PERIOD_KIND[p.type] ?? (p.type as 'quarter'),
    number: p.number + 1, title: p.name, startDate: p.start.slice(0, 10), endDate: p.finish.slice(0, 10),
  };
}

const LESSON_STATUS: Record<string, 'held' | 'cancelled' | 'planned'> = { Conducted: 'held', Cancelled: 'cancelled', NotConducted: 'planned', Planned: 'planned' };

/** A lesson with its bells (times are local, the school's zone gives the offset) and its homework works. */
export function lessonRecord(l: Lesson, classId: string, bells: Map<number, TimetableItem>, timeZone: string): SourceRecord {
  const date = l.date.slice(0, 10);
  const bell = bells.get(l.number);
  const homework = (l.works ?? []).filter((w) => w.type === 'Homework' && w.text).map((w) => w.text).join('\n');
  return {
    type: 'lesson', externalId: l.id_str, classExternalId: classId, subjectExternalId: l.subject.idStr, date, slot: l.number,
    startsAt: bell ? localInstant(date, bell.Start, timeZone) : undefined, endsAt: bell ? localInstant(date, bell.Finish, timeZone) : undefined,
    teacherExternalId: l.teachersStr?.[0], substituteExternalId: l.teachersStr?.[1], topic: l.title ?? undefined,
    homework: homework || undefined, status: LESSON_STATUS[l.status ?? ''] ?? 'held',
  };
}

/** Work type kinds → work categories [I]: the kinds are the school's own; unknown ones are `other`. */
export const WORK_CATEGORY: Record<string, 'oral' | 'written' | 'control' | 'essay' | 'lab' | 'practical' | 'homework' | 'test' | 'other'> = {
  Oral: 'oral', Homework: 'homework', Written: 'written', Test: 'test', Practical: 'practical', Lab: 'lab', Control: 'control', Essay: 'essay',
};

export function markRecord(m: Mark, workTypes: Map<number, WorkType>, timeZone: string, scale: number): SourceRecord {
  const workType = m.workType === undefined ? undefined : workTypes.get(m.workType);
  return {
    type: 'mark', externalId: m.id_str, pupilExternalId: m.person_str, lessonExternalId: m.lesson_str, value: m.value, scale,
    weight: workType?.weight, workCategory: workType ? (WORK_CATEGORY[workType.kind] ?? 'other') : undefined,
    enteredAt: localDateTime(m.date, timeZone),
  };
}

/** A lesson log entry; its status (Absent, Ill, Late, Pass …) is the raw code. */
export function attendanceRecord(e: LogEntry): SourceRecord {
  return { type: 'attendance', externalId: `${e.lesson_str}:${e.person_str}`, pupilExternalId: e.person_str, lessonExternalId: e.lesson_str, code: e.status, kind: mapAttendanceCode(e.status ?? '', VOCABULARY), reason: e.comment || undefined };
}

export function periodMarkRecords(f: PersonFinalMark, timeZone: string, scale: number): SourceRecord[] {
  if (!f.reportingPeriod_str) return [];
  return f['per-subject-final-marks'].map((s) => ({
    type: 'period_mark', externalId: s['final-mark'].id_str, pupilExternalId: f.person_str, subjectExternalId: s.subject_str,
    periodExternalId: f.reportingPeriod_str!, value: s['final-mark'].value, scale, setAt: localDateTime(s['final-mark'].date, timeZone),
  }));
}
