import type * as cheerio from 'cheerio';
import type { AnyNode } from 'domhandler';
import type {
  AttendanceRecord, MarkRecord, PeriodMarkRecord, PersonRecord, StaffRoleRecord, TeachingAssignmentRecord,
} from '../../src/ports/records.js';
import { credentialKey } from '../../src/ports/session.js';
import { mapAttendanceCode, mapMarkValue, normalizeCode, type MarkKind, type Vocabulary } from '../../src/ports/values.js';

/**
 * edu.tatar.ru's values → source records. Pure. Names, codes and values as the staff pages show them
 * (README.md, evidence table); what no public client shows is marked there as inferred.
 */

/** edu.tatar.ru shows «з» for зачёт in term columns (and «н» only in attendance cells). */
export const VOCABULARY: Vocabulary = { marks: { з: 'pass' } };

/** A cell's or element's text with every run of whitespace (non-breaking spaces included) made one space. */
export function textOf(node: cheerio.Cheerio<AnyNode>): string {
  return node.text().replace(/\s+/g, ' ').trim();
}

/** How two spellings of one name are compared: lower case, ё → е, every run of spaces (nbsp too) one space. */
export function nameKey(name: string): string {
  return name.toLowerCase().replace(/ё/g, 'е').replace(/\s+/g, ' ').trim();
}

/** «Иванов Иван Иванович» → last, first, middle («Алиев Рамиль Эльдар оглы»: the middle name is the rest); one word is both. */
export function splitName(fullName: string): { lastName: string; firstName: string; middleName?: string } {
  const [lastName = fullName, firstName, ...rest] = fullName.replace(/\s+/g, ' ').trim().split(' ');
  return { lastName, firstName: firstName ?? lastName, ...(rest.length > 0 ? { middleName: rest.join(' ') } : {}) };
}

export function pupilRecord(id: string, fullName: string, classId: string): PersonRecord {
  return { type: 'person', externalId: id, role: 'pupil', ...splitName(fullName), classExternalId: classId };
}

/**
 * Staff appear on the pages by full name only (the classes' «Руководитель», the journal's «Учитель:»),
 * never with an id: the id is a digest of the name (the ports' credentialKey, 16 hex digits of its
 * sha256), so the same name is the same person everywhere and no name is spelled out in an id.
 */
export function staffId(fullName: string): string {
  return `staff:${credentialKey(nameKey(fullName))}`;
}

export function staffRecord(fullName: string): PersonRecord {
  return { type: 'person', externalId: staffId(fullName), role: 'staff', ...splitName(fullName) };
}

export function classTeacherRecord(fullName: string, classId: string): StaffRoleRecord {
  return { type: 'staff_role', externalId: `class_teacher@${classId}`, personExternalId: staffId(fullName), role: 'class_teacher', classExternalId: classId };
}

export function teachingRecord(fullName: string, groupId: string, subjectId: string): TeachingAssignmentRecord {
  const teacher = staffId(fullName);
  return { type: 'teaching_assignment', externalId: `${teacher}@${groupId}/${subjectId}`, teacherExternalId: teacher, classExternalId: groupId, subjectExternalId: subjectId };
}

// ---------------------------------------------------------------------------------------------------
// Work types: the code a lesson's header shows. The codes are in the evidence (one school tool's checks);
// their titles come from a teacher client's own table, the weights are the adapter's convention.

type WorkCategory = NonNullable<MarkRecord['workCategory']>;

export interface WorkType {
  category: WorkCategory;
  /** edu.tatar.ru shows no weights; the adapter weighs control work like the usual school regulation [I]. */
  weight: number;
  title?: string;
}

/** A lesson without a code — and the codes Р and П, which the evidence checks like ordinary lessons — is an ordinary lesson. */
const ORDINARY: WorkType = { category: 'oral', weight: 1 };

export const WORK_TYPES: Readonly<Record<string, WorkType>> = {
  КР: { category: 'control', weight: 2, title: 'Контрольная работа' },
  Д: { category: 'control', weight: 2, title: 'Диктант' },
  З: { category: 'control', weight: 2, title: 'Зачёт' },
  С: { category: 'essay', weight: 2, title: 'Сочинение' },
  И: { category: 'essay', weight: 2, title: 'Изложение' },
  ЛР: { category: 'lab', weight: 1.5, title: 'Лабораторная работа' },
  СР: { category: 'written', weight: 1.5, title: 'Самостоятельная работа' },
  СД: { category: 'written', weight: 1.5, title: 'Словарный диктант' },
  Т: { category: 'test', weight: 1.5, title: 'Тест' },
  ПР: { category: 'practical', weight: 1, title: 'Практическая работа' },
  /** «Работа над ошибками»: must follow КР or Д (the school tool's check says so). */
  РО: { category: 'other', weight: 1, title: 'Работа над ошибками' },
  Р: ORDINARY,
  П: ORDINARY,
};

/** The work type of a lesson's code; an unknown code is `other`, titled by the code itself. */
export function workTypeOf(code: string): WorkType {
  const key = code.trim().toUpperCase();
  if (!key) return ORDINARY;
  return WORK_TYPES[key] ?? { category: 'other', weight: 1, title: code.trim() };
}

// ---------------------------------------------------------------------------------------------------
// Facts of a journal cell.

/** Attendance codes written into a mark cell, lower-case: «н» has evidence (pupil pages), the others are [I]. */
const ABSENCE_CODES = new Set(['н', 'б', 'у', 'уп', 'оп']);

export function isAbsenceCode(token: string): boolean {
  return ABSENCE_CODES.has(normalizeCode(token));
}

/** A mark value's kind, and its scale when it is a points mark (edu.tatar.ru marks 1–5: values.ts's default scale). */
function valueFields(value: string): { kind: MarkKind; scale?: number } {
  const { kind, scale } = mapMarkValue(value, VOCABULARY);
  return { kind, ...(scale !== null ? { scale } : {}) };
}

export function markRecord(pupilId: string, lessonId: string, index: number, value: string, work: WorkType): MarkRecord {
  return {
    type: 'mark', externalId: `${pupilId}@${lessonId}#${index}`, pupilExternalId: pupilId, lessonExternalId: lessonId,
    value: value.trim(), ...valueFields(value),
    weight: work.weight, workCategory: work.category, ...(work.title ? { workTitle: work.title } : {}),
  };
}

export function attendanceRecord(pupilId: string, lessonId: string, code: string): AttendanceRecord {
  return { type: 'attendance', externalId: `${pupilId}@${lessonId}`, pupilExternalId: pupilId, lessonExternalId: lessonId, code, kind: mapAttendanceCode(code, VOCABULARY) };
}

export function periodMarkRecord(pupilId: string, subjectId: string, periodId: string, value: string, average?: number): PeriodMarkRecord {
  return {
    type: 'period_mark', externalId: `${pupilId}/${periodId}/${subjectId}`, pupilExternalId: pupilId, subjectExternalId: subjectId,
    periodExternalId: periodId, value, ...valueFields(value),
    ...(average !== undefined ? { average } : {}),
  };
}

/** «4,67» (the journal's average, decimal comma) → 4.67; undefined for anything that is not a number. */
export function averageOf(text: string | undefined): number | undefined {
  if (!text) return undefined;
  const n = Number(text.replace(',', '.'));
  return Number.isFinite(n) ? n : undefined;
}
