import { z } from 'zod';

/**
 * The shapes of Дневник.ру API v2 objects as public clients parse them (README.md, "Evidence"): loose
 * objects (unknown keys pass), every variant the clients show accepted. Ids: the `*_str` twin when
 * there is one; the bare number only when JSON carries it exactly (below 2^53, or a string after the
 * lossless parse of lossless.ts) — a rounded id without its twin fails naming the field. Optional
 * fields are `nullish` without a transform (a transform per field doubled the parse time of a final
 * marks answer): the mapping turns null into "not said". A schema names the fields the mapping reads
 * (others pass unchecked), so the large answers cost no more to validate than they must.
 */

export const Str = z.string().nullish();
const Flag = z.boolean().nullish();
const Int = z.number().int().nullish();

/** A bare id as it may arrive: a number (exact or rounded) or, after a lossless parse, a string. */
const BareId = z.union([z.string(), z.number()]).nullish();

/** The exact id of an object: its twin, or its bare id when that is a string or a safe integer. */
export function pickId(twin: string | null | undefined, bare: string | number | null | undefined): string | undefined {
  if (twin) return twin;
  if (typeof bare === 'string') return bare || undefined;
  if (typeof bare === 'number' && Number.isSafeInteger(bare)) return String(bare);
  return undefined;
}

type IdCheck = z.core.$RefinementCtx<Record<string, unknown>>;

/** A refinement: the object must name itself exactly by `twin` or `bare` («neither id nor id_str»). */
function requireId(twin: string, bare: string) {
  return (value: Record<string, unknown>, ctx: IdCheck): void => {
    if (pickId(value[twin] as string | undefined, value[bare] as string | number | undefined) !== undefined) return;
    const missing = value[twin] == null && value[bare] == null;
    ctx.addIssue({
      code: 'custom', input: value,
      message: missing ? `neither ${bare} nor ${twin}` : `${bare} above 2^53 without ${twin} (rounded by JSON)`,
    });
  };
}

/** The same for several twin / bare pairs in one refinement. */
function requireIds(...pairs: ReadonlyArray<readonly [string, string]>) {
  const checks = pairs.map(([twin, bare]) => requireId(twin, bare));
  return (value: Record<string, unknown>, ctx: IdCheck): void => {
    for (const check of checks) check(value, ctx);
  };
}

/** A bell time: an ISO date-time (the clients' models), with or without an offset, or a bare "HH:MM"; groups: date, "HH:MM", offset. */
export const BELL_TIME = /^(?:(\d{4}-\d{2}-\d{2})T)?(\d{2}:\d{2})(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/;

const BellTimeSchema = z.string().regex(BELL_TIME, 'expected a date-time or HH:MM');

/** An object the mapping reads only the id of (a context's school, a lesson's subject). */
export const IdentifiedSchema = z.looseObject({ id: BareId, id_str: Str }).superRefine(requireId('id_str', 'id'));

export const SubjectSchema = z.looseObject({ id: BareId, id_str: Str, name: Str }).superRefine(requireId('id_str', 'id'));

/** EduGroup (captured: `parentIds_str` may be null, `status` "Active" / "Archive", `journaltype` lower-case t). */
export const EduGroupSchema = z.looseObject({
  id: BareId, id_str: Str, type: z.string(), name: z.string(), parallel: Int, studyyear: Int, status: Str,
  parentIds: z.array(z.union([z.string(), z.number()])).nullish(), parentIds_str: z.array(z.string()).nullish(), timetable: BareId, timetable_str: Str,
}).superRefine(requireId('id_str', 'id'));

/** Person (camelCase): names may be missing (only `shortName`), `userId` may be null. */
export const PersonSchema = z.looseObject({
  id: BareId, id_str: Str, userId: BareId, userId_str: Str, firstName: Str, lastName: Str, middleName: Str, sex: Str,
}).superRefine(requireId('id_str', 'id'));

/** A school's staff member (PascalCase; `HouseMaster` and the other flags are booleans). */
export const TeacherSchema = z.looseObject({
  Id: BareId, IdStr: Str, FirstName: Str, LastName: Str, MiddleName: Str, Sex: Str, HouseMaster: Flag, ManagingEmployee: Flag,
  NameManagingPosition: Str, TeachingStaff: Flag, NameTeacherPosition: Str,
}).superRefine(requireId('IdStr', 'Id'));

/** A user profile (`users/{id}`, `users/many`): contacts may be missing or "" (captured). */
export const UserSchema = z.looseObject({
  id: BareId, id_str: Str, firstName: Str, lastName: Str, middleName: Str, sex: Str, email: Str, phone: Str,
}).superRefine(requireId('id_str', 'id'));

export const ReportingPeriodSchema = z.looseObject({
  id: BareId, id_str: Str, start: z.string(), finish: z.string(), number: Int, type: z.string(), name: Str, year: Int,
}).superRefine(requireId('id_str', 'id'));

const TimetableItemSchema = z.looseObject({
  Start: BellTimeSchema, Finish: BellTimeSchema, DaysOfWeek: z.array(z.union([z.string(), z.number()])).nullish(), LessonNumber: z.number().int(),
});

export const TimetableSchema = z.looseObject({ Items: z.array(TimetableItemSchema).nullish() });

/** File ids of a work: numbers without twins (exact only after the lossless parse). */
const FileIds = z.array(z.union([z.string(), z.number()])).nullish();

/** A work of a lesson (`type`: Homework, DefaultNewLessonWork, CommonWork …) with its target date. */
const WorkSchema = z.looseObject({
  id: BareId, id_str: Str, type: Str, lesson: BareId, lesson_str: Str, text: Str, targetDate: Str, files: FileIds,
}).superRefine(requireId('id_str', 'id'));

export const LessonSchema = z.looseObject({
  id: BareId, id_str: Str, title: Str, date: z.string(), number: Int, subject: IdentifiedSchema, status: Str,
  works: z.array(WorkSchema).nullish(), teachers: z.array(z.union([z.string(), z.number()])).nullish(), teachers_str: z.array(z.string()).nullish(),
}).superRefine(requireId('id_str', 'id'));

/** A work type of the school: `kind` is one of the platform's work kinds, `title` the school's own name. */
export const WorkTypeSchema = z.looseObject({
  id: BareId, id_str: Str, kind: Str, title: Str, weight: z.number().min(0).nullish(),
}).superRefine(requireId('id_str', 'id'));

/** Mark values are strings; a number is taken as written (the mapping writes it as a string). */
const MarkValue = z.union([z.string(), z.number()]);

export const MarkSchema = z.looseObject({
  id: BareId, id_str: Str, value: MarkValue, person: BareId, person_str: Str, work: BareId, work_str: Str, lesson: BareId, lesson_str: Str, date: Str, workType: BareId,
}).superRefine(requireIds(['id_str', 'id'], ['person_str', 'person'], ['lesson_str', 'lesson']));

export const LogEntrySchema = z.looseObject({
  person: BareId, person_str: Str, lesson: BareId, lesson_str: Str, status: z.string(), comment: Str,
}).superRefine(requireIds(['person_str', 'person'], ['lesson_str', 'lesson']));

const FinalMarkSchema = z.looseObject({ id: BareId, id_str: Str, value: MarkValue, date: Str }).superRefine(requireId('id_str', 'id'));

const SubjectFinalMarkSchema = z.looseObject({ subject: BareId, subject_str: Str, 'final-mark': FinalMarkSchema })
  .superRefine(requireId('subject_str', 'subject'));

/** A pupil's final marks of one reporting period (`reportingPeriod` null: not tied to a period, the year's). */
export const PersonFinalMarkSchema = z.looseObject({
  person: BareId, person_str: Str, reportingPeriod: BareId, reportingPeriod_str: Str,
  'per-subject-final-marks': z.array(SubjectFinalMarkSchema),
}).superRefine(requireId('person_str', 'person'));

export const RelativeSchema = z.looseObject({ type: Str, person: PersonSchema });

/** A homework's file (`users/me/school/{s}/homeworks` → `files[]`). */
const FileSchema = z.looseObject({ id: BareId, id_str: Str, name: Str, downloadUrl: Str, pageUrl: Str }).superRefine(requireId('id_str', 'id'));

export const HomeworksSchema = z.looseObject({ works: z.array(WorkSchema).nullish(), files: z.array(FileSchema).nullish() });

export type EduGroup = z.output<typeof EduGroupSchema>;
export type Subject = z.output<typeof SubjectSchema>;
export type Person = z.output<typeof PersonSchema>;
export type Teacher = z.output<typeof TeacherSchema>;
export type User = z.output<typeof UserSchema>;
export type ReportingPeriod = z.output<typeof ReportingPeriodSchema>;
export type Timetable = z.output<typeof TimetableSchema>;
export type Work = z.output<typeof WorkSchema>;
export type Lesson = z.output<typeof LessonSchema>;
export type WorkType = z.output<typeof WorkTypeSchema>;
export type Mark = z.output<typeof MarkSchema>;
export type LogEntry = z.output<typeof LogEntrySchema>;
export type PersonFinalMark = z.output<typeof PersonFinalMarkSchema>;
export type Relative = z.output<typeof RelativeSchema>;
export type DnevnikFile = z.output<typeof FileSchema>;

