import type {
  AttendanceRecord, ClassRecord, MarkRecord, PeriodMarkRecord, PeriodRecord, PersonRecord, SourceRecord,
} from '../../src/ports/records.js';
import { localInstant } from '../../src/ports/time.js';
import { mapAttendanceCode, mapMarkValue, type Vocabulary } from '../../src/ports/values.js';
import type { Assignment, AssignmentType, DiaryLesson, DiaryMark, NetSchoolClass } from './endpoints.js';

/**
 * NetSchool answers → source records (pure). Shapes: endpoints.ts; evidence: README.md.
 */

/**
 * The attendance codes of the studenttotal report's legend (captured, 5.56): УП «Пропуск по
 * уважительной причине», Б «Пропустил по болезни», НП «Пропуск по неуважительной причине», ОТ
 * «Отсутствовал», ОП «Опоздал», ОСВ «Освобожден от посещения». ОТ is the vendor's plain «missed»
 * (`attendanceReasons.missed`): absent, the reason not (yet) given — neither excused nor unexcused.
 */
export const VOCABULARY: Vocabulary = {
  attendance: { уп: 'valid', б: 'ill', нп: 'unexcused', от: 'unknown', оп: 'late', осв: 'valid' },
};

/** Names teachers leave as placeholders: «---Не указана---», «Не задано», «-», «---», «не указано». */
const PLACEHOLDER = /^(?:[-–—\s.]*|-*\s*не\s+указан[оа]?\s*-*|не\s+задано)$/i;

export function realName(name: string | undefined): string | undefined {
  const trimmed = name?.trim();
  return trimmed && !PLACEHOLDER.test(trimmed) ? trimmed : undefined;
}

/** Assignment types by name → work category. */
const CATEGORY_BY_NAME: Array<[RegExp, NonNullable<MarkRecord['workCategory']>]> = [
  [/контрольн|диктант|зач[её]т/i, 'control'],
  [/самостоят|письменн|проверочн/i, 'written'],
  [/лаборатор/i, 'lab'],
  [/практическ/i, 'practical'],
  [/сочинен|изложен|эссе/i, 'essay'],
  [/тест/i, 'test'],
  [/домашн/i, 'homework'],
  [/ответ на уроке|устн|работа на уроке/i, 'oral'],
];

/** The vendor's own type constants (journal-constants.js), for types the type list does not name. */
const CATEGORY_BY_TYPE_ID: Record<number, NonNullable<MarkRecord['workCategory']>> = { 3: 'homework', 4: 'control', 8: 'control', 10: 'oral', 14: 'test', 16: 'control' };
const HOMEWORK_TYPE_ID = 3;

export function workCategoryOf(typeId: number, type: AssignmentType | undefined): NonNullable<MarkRecord['workCategory']> {
  if (!type) return CATEGORY_BY_TYPE_ID[typeId] ?? 'other';
  return CATEGORY_BY_NAME.find(([pattern]) => pattern.test(type.name))?.[1] ?? 'other';
}

export function isHomework(typeId: number, type: AssignmentType | undefined): boolean {
  return type ? /домашн/i.test(type.name) : typeId === HOMEWORK_TYPE_ID;
}

/** «Фамилия Имя [Отчество]» (diary/init, reports and staff lists put the surname first) → parts; one word is both. */
export function splitName(fullName: string): { lastName: string; firstName: string; middleName?: string } {
  const [lastName = fullName.trim(), firstName, ...rest] = fullName.trim().split(/\s+/);
  return { lastName, firstName: firstName ?? lastName, ...(rest.length > 0 ? { middleName: rest.join(' ') } : {}) };
}

/** A class of `GET classes`: its grade and letter as the platform gives them, else read from the name («5А», «10 Б»). */
export function classRecord(cls: Pick<NetSchoolClass, 'id' | 'name' | 'grade' | 'letter'>, year: number): ClassRecord {
  const match = /^\s*(\d{1,2})\s*[-–]?\s*(.*?)\s*$/.exec(cls.name);
  const grade = Number(cls.grade?.name ?? match?.[1] ?? 0);
  const letter = (cls.letter ?? match?.[2] ?? '').trim().toUpperCase();
  return { type: 'class', externalId: cls.id, year, name: cls.name.trim(), grade: Number.isInteger(grade) && grade <= 12 ? grade : 0, ...(letter ? { letter } : {}) };
}

export function personRecord(id: string, fullName: string, role: PersonRecord['role'], classId?: string): PersonRecord {
  return { type: 'person', externalId: id, role, ...splitName(fullName), ...(classId ? { classExternalId: classId } : {}) };
}

/** The class teachers (`chiefs`) of a class: staff people and their role. */
export function chiefRecords(cls: NetSchoolClass): SourceRecord[] {
  return (cls.chiefs ?? []).flatMap((chief): SourceRecord[] => [
    personRecord(chief.id, chief.name, 'staff'),
    { type: 'staff_role', externalId: `${chief.id}/class_teacher/${cls.id}`, personExternalId: chief.id, role: 'class_teacher', classExternalId: cls.id },
  ]);
}

/** «1 четверть», «2 полугодие», «3 триместр», «Год» → a period. */
export function periodRecord(id: string, title: string, range: { start: string; end: string }, year: number): PeriodRecord {
  const kind = /полугод/i.test(title) ? 'half_year' : /триместр/i.test(title) ? 'trimester' : /четверт/i.test(title) ? 'quarter' : 'year';
  const number = Math.max(1, Math.min(Number(/^\s*(\d{1,2})(?!\d)/.exec(title)?.[1] ?? 1), 12));
  return { type: 'period', externalId: id, year, kind, number, title: title.trim(), startDate: range.start.slice(0, 10), endDate: range.end.slice(0, 10) };
}

export function lessonTimes(lesson: Pick<DiaryLesson, 'day' | 'startTime' | 'endTime'>, timeZone: string): { startsAt?: string; endsAt?: string } {
  const date = lesson.day.slice(0, 10);
  const at = (t: string | undefined) => (t !== undefined && /^\d{2}:\d{2}/.test(t) && /^\d{4}-\d{2}-\d{2}$/.test(date) ? localInstant(date, t, timeZone) : undefined);
  const startsAt = at(lesson.startTime);
  const endsAt = at(lesson.endTime);
  return { ...(startsAt ? { startsAt } : {}), ...(endsAt ? { endsAt } : {}) };
}

/** The date part of «2025-09-03T00:00:00», when it is one. */
export const dateOf = (value: string | undefined): string | undefined => (value && /^\d{4}-\d{2}-\d{2}/.test(value) ? value.slice(0, 10) : undefined);

/**
 * A mark of a diary assignment. Marks have no id of their own (absent, or 0): a mark is the pupil's
 * on the assignment, `<assignmentId>@<studentId>` — the pupil whose diary was asked for (the mark's own
 * `studentId` is the same in every capture). `dutyMark` is the «точка» (value «.», kind debt).
 * The weight is the assignment's in NetSchool's units (10 in 2025); 0 — every assignment of a school
 * that does not weigh marks (diary/init `weight: false`) — is no weight at all.
 */
export function markRecord(mark: DiaryMark, assignment: Assignment, lessonId: string, pupilId: string, type: AssignmentType | undefined, scale: number): MarkRecord {
  const value = mark.dutyMark && (mark.mark === null || mark.mark === undefined || mark.mark === '') ? '.' : String(mark.mark ?? '').trim();
  const mapped = mapMarkValue(value, VOCABULARY, scale);
  const title = realName(assignment.assignmentName) ?? type?.name;
  const dueDate = dateOf(assignment.dueDate);
  const note = assignment.markComment?.name?.trim();
  return {
    type: 'mark', externalId: `${assignment.id}@${pupilId}`, pupilExternalId: pupilId, lessonExternalId: lessonId,
    value, kind: mark.dutyMark ? 'debt' : mapped.kind, ...(mapped.kind === 'mark' ? { scale } : {}),
    ...(assignment.weight ? { weight: assignment.weight } : {}),
    workCategory: workCategoryOf(assignment.typeId, type), ...(title ? { workTitle: title } : {}),
    ...(dueDate ? { dueDate } : {}), ...(note ? { comment: note } : {}),
  };
}

export function attendanceRecord(pupilId: string, lessonId: string, code: string): AttendanceRecord {
  return { type: 'attendance', externalId: `${pupilId}@${lessonId}`, pupilExternalId: pupilId, lessonExternalId: lessonId, code, kind: mapAttendanceCode(code, VOCABULARY) };
}

export function periodMarkRecord(pupilId: string, subjectId: string, termId: string, totals: { average?: number; final?: string }, scale: number): PeriodMarkRecord | undefined {
  if (!totals.final) return undefined;
  const mapped = mapMarkValue(totals.final, VOCABULARY, scale);
  return {
    type: 'period_mark', externalId: `${pupilId}/${termId}/${subjectId}`, pupilExternalId: pupilId, subjectExternalId: subjectId, periodExternalId: termId,
    value: totals.final, kind: mapped.kind, ...(mapped.kind === 'mark' ? { scale } : {}), ...(totals.average !== undefined ? { average: totals.average } : {}),
  };
}

/** Subjects are known by name only: the name is the id (trimmed, inner spaces collapsed). */
export function subjectId(name: string): string {
  return name.trim().replace(/\s+/g, ' ');
}

const normal = (name: string) => subjectId(name).toLowerCase().replace(/ё/g, 'е');

/**
 * The diary's name of a report's subject: reports may prefix the subject's area («Ин.яз./Английский
 * язык»), so the part after the last «/» is compared too (case and ё aside). Unmatched: the report's name.
 */
export function matchSubject(reportName: string, known: Iterable<string>): string {
  const wanted = [normal(reportName), normal(reportName.split('/').pop() ?? reportName)];
  for (const candidate of wanted) {
    for (const name of known) if (normal(name) === candidate) return name;
  }
  return subjectId(reportName);
}

/** Attendance codes of a cell: the report legend's codes (any case), or upper-case words when it has no legend; marks are digits, «.» and lower-case words. */
export function attendanceCodes(tokens: readonly string[], legend: readonly string[]): string[] {
  if (legend.length === 0) return tokens.filter((t) => /^[А-ЯЁ]{1,4}$/.test(t));
  const codes = new Set(legend.map((c) => c.toUpperCase()));
  return tokens.filter((t) => codes.has(t.toUpperCase()));
}
