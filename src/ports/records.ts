import { z } from 'zod';

/**
 * Source records: what an adapter yields and `journal.applyBatch` takes. Each carries the platform's own
 * id (`externalId`) and refers to other records by *their* platform ids; the journal resolves those to
 * canonical rows. Optional fields left out mean "this source does not say" and never erase what another
 * source said; `null` is not accepted — leave the field out instead.
 */

export const MAX_EXTERNAL_ID = 200;

/** A platform id: a non-empty string without surrounding spaces (ids above 2^53 must arrive as strings). */
export const ExternalIdSchema = z
  .string()
  .min(1)
  .max(MAX_EXTERNAL_ID)
  .refine((id) => id.trim() === id, 'no surrounding spaces');

/** A calendar day, ISO 8601 (`2025-09-01`), checked to exist. */
export const IsoDateSchema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date YYYY-MM-DD')
  .refine(isRealDate, 'not a calendar date');

/** An instant with an explicit offset or Z (`2025-09-01T10:15:00+03:00`). */
export const InstantSchema = z.iso.datetime({ offset: true, message: 'expected an ISO date-time with offset' });

const text = (max: number) => z.string().trim().max(max);
const name = z.string().trim().min(1).max(100);

function isRealDate(value: string): boolean {
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(value);
}

/** `module`: Дневник.ру's «модуль», the five or six terms of the schools that teach in modules. */
export const PeriodKindSchema = z.enum(['quarter', 'half_year', 'trimester', 'module', 'year']);
export const WorkCategorySchema = z.enum([
  'oral', 'written', 'control', 'essay', 'lab', 'practical', 'homework', 'test', 'other',
]);
export const MarkKindSchema = z.enum([
  'mark', 'pass', 'fail', 'debt', 'absence', 'late', 'exempt', 'not_assessed', 'other',
]);
export const AttendanceKindSchema = z.enum(['ill', 'valid', 'unexcused', 'late', 'unknown']);
export const StaffRoleSchema = z.enum(['teacher', 'class_teacher', 'deputy', 'director', 'other']);

export const PeriodRecordSchema = z.object({
  type: z.literal('period'),
  externalId: ExternalIdSchema,
  /** Start year of the academic year: 2025 for 2025/2026. */
  year: z.number().int().min(2000).max(2100),
  kind: PeriodKindSchema,
  number: z.number().int().min(1).max(12),
  title: text(100).min(1),
  startDate: IsoDateSchema,
  endDate: IsoDateSchema,
});

export const ClassRecordSchema = z.object({
  type: z.literal('class'),
  externalId: ExternalIdSchema,
  year: z.number().int().min(2000).max(2100),
  /** As the platform shows it: «5А», «5 а», «10-Б», «5А англ. гр. 1». */
  name: text(100).min(1),
  grade: z.number().int().min(0).max(12),
  letter: text(10).optional(),
  /** Subgroups name the class they split. */
  parentExternalId: ExternalIdSchema.optional(),
});

export const SubjectRecordSchema = z.object({
  type: z.literal('subject'),
  externalId: ExternalIdSchema,
  name: text(200).min(1),
  shortName: text(50).optional(),
  /** The name in the platform's other languages, by ISO 639-1 code: Kundoluk's Kyrgyz `{ ky: 'Тарых' }` beside the Russian `name`. */
  altNames: z.record(z.string().regex(/^[a-z]{2}$/, 'expected an ISO 639-1 language code'), text(200).min(1)).optional(),
});

export const PersonRecordSchema = z.object({
  type: z.literal('person'),
  externalId: ExternalIdSchema,
  /** Decides where an existing person is looked for: a pupil in the class, a guardian among the pupils' guardians, staff among staff. */
  role: z.enum(['pupil', 'guardian', 'staff']),
  lastName: name,
  firstName: name,
  middleName: text(100).optional(),
  birthDate: IsoDateSchema.optional(),
  sex: z.enum(['m', 'f']).optional(),
  phone: text(40).optional(),
  email: text(200).optional(),
  telegram: text(100).optional(),
  /** Pupils: the class they are in (used to match the same pupil across sources). */
  classExternalId: ExternalIdSchema.optional(),
  /** Guardians: their children (used to match the same parent across sources). */
  pupilExternalIds: z.array(ExternalIdSchema).max(20).optional(),
});

export const EnrollmentRecordSchema = z.object({
  type: z.literal('enrollment'),
  externalId: ExternalIdSchema,
  pupilExternalId: ExternalIdSchema,
  classExternalId: ExternalIdSchema,
  startDate: IsoDateSchema.optional(),
  endDate: IsoDateSchema.optional(),
});

export const GuardianshipRecordSchema = z.object({
  type: z.literal('guardianship'),
  externalId: ExternalIdSchema,
  guardianExternalId: ExternalIdSchema,
  pupilExternalId: ExternalIdSchema,
  relation: text(50).optional(),
});

export const StaffRoleRecordSchema = z.object({
  type: z.literal('staff_role'),
  externalId: ExternalIdSchema,
  personExternalId: ExternalIdSchema,
  role: StaffRoleSchema,
  classExternalId: ExternalIdSchema.optional(),
});

export const TeachingAssignmentRecordSchema = z.object({
  type: z.literal('teaching_assignment'),
  externalId: ExternalIdSchema,
  teacherExternalId: ExternalIdSchema,
  classExternalId: ExternalIdSchema,
  subjectExternalId: ExternalIdSchema,
});

/** A file attached to homework: its name, and where the platform serves it (an id, a download URL, or both). */
export const AttachmentSchema = z.object({
  name: text(300).min(1),
  url: z.url({ protocol: /^https?$/ }).max(2000).optional(),
  externalId: ExternalIdSchema.optional(),
});

export const LessonRecordSchema = z.object({
  type: z.literal('lesson'),
  externalId: ExternalIdSchema,
  classExternalId: ExternalIdSchema,
  subjectExternalId: ExternalIdSchema,
  date: IsoDateSchema,
  /** Lesson number in the day, 1 = first bell (0 for a lesson before the first bell). */
  slot: z.number().int().min(0).max(20),
  startsAt: InstantSchema.optional(),
  endsAt: InstantSchema.optional(),
  teacherExternalId: ExternalIdSchema.optional(),
  substituteExternalId: ExternalIdSchema.optional(),
  topic: text(2000).optional(),
  homework: text(4000).optional(),
  /** Files of the homework. */
  homeworkFiles: z.array(AttachmentSchema).max(50).optional(),
  /** When the homework is due, if not by the next lesson (a work's target date). */
  homeworkDueDate: IsoDateSchema.optional(),
  status: z.enum(['planned', 'held', 'cancelled']).optional(),
});

/** Homework published separately from the lesson (some platforms have a homework endpoint). */
export const HomeworkRecordSchema = z.object({
  type: z.literal('homework'),
  externalId: ExternalIdSchema,
  lessonExternalId: ExternalIdSchema,
  text: text(4000),
  files: z.array(AttachmentSchema).max(50).optional(),
  dueDate: IsoDateSchema.optional(),
});

export const MarkRecordSchema = z
  .object({
    type: z.literal('mark'),
    externalId: ExternalIdSchema,
    pupilExternalId: ExternalIdSchema,
    lessonExternalId: ExternalIdSchema.optional(),
    /** Required when there is no lesson; otherwise the lesson's subject. */
    subjectExternalId: ExternalIdSchema.optional(),
    /** Required when there is no lesson; otherwise the lesson's date. */
    date: IsoDateSchema.optional(),
    /** Exactly as the platform wrote it: «5», «5-», «зч», «н», «2/5». */
    value: z.string().trim().min(1, 'empty mark value').max(20),
    /** Set when the platform says more than the value (e.g. NetSchool's dutyMark → debt). */
    kind: MarkKindSchema.optional(),
    /** Points scale of the value (5 by default; 10 for Kundelik, for instance). */
    scale: z.number().int().min(2).max(100).optional(),
    weight: z.number().min(0).max(100).optional(),
    workCategory: WorkCategorySchema.optional(),
    workTitle: text(500).optional(),
    /** The work's target date: when a written work or homework was due (Дневник.ру `targetDate`, NetSchool `dueDate`). */
    dueDate: IsoDateSchema.optional(),
    /** The teacher's comment on the mark. */
    comment: text(2000).optional(),
    enteredAt: InstantSchema.optional(),
    modifiedAt: InstantSchema.optional(),
  })
  .refine((r) => r.lessonExternalId !== undefined || (r.subjectExternalId !== undefined && r.date !== undefined), {
    message: 'a mark needs a lesson, or a subject and a date',
  });

export const AttendanceRecordSchema = z.object({
  type: z.literal('attendance'),
  externalId: ExternalIdSchema,
  pupilExternalId: ExternalIdSchema,
  lessonExternalId: ExternalIdSchema,
  /** The platform's code as written: «Н», «Б», «УП», «ОП», `absent_type` values … */
  code: z.string().trim().min(1, 'empty attendance code').max(40),
  kind: AttendanceKindSchema.optional(),
  lateMinutes: z.number().int().min(0).max(600).optional(),
  reason: text(500).optional(),
});

export const PeriodMarkRecordSchema = z.object({
  type: z.literal('period_mark'),
  externalId: ExternalIdSchema,
  pupilExternalId: ExternalIdSchema,
  subjectExternalId: ExternalIdSchema,
  periodExternalId: ExternalIdSchema,
  value: z.string().trim().min(1, 'empty mark value').max(20),
  kind: MarkKindSchema.optional(),
  scale: z.number().int().min(2).max(100).optional(),
  average: z.number().min(0).max(100).optional(),
  setAt: InstantSchema.optional(),
});

export const SourceRecordSchemas = {
  period: PeriodRecordSchema,
  class: ClassRecordSchema,
  subject: SubjectRecordSchema,
  person: PersonRecordSchema,
  enrollment: EnrollmentRecordSchema,
  guardianship: GuardianshipRecordSchema,
  staff_role: StaffRoleRecordSchema,
  teaching_assignment: TeachingAssignmentRecordSchema,
  lesson: LessonRecordSchema,
  homework: HomeworkRecordSchema,
  mark: MarkRecordSchema,
  attendance: AttendanceRecordSchema,
  period_mark: PeriodMarkRecordSchema,
} as const;

export type RecordType = keyof typeof SourceRecordSchemas;
export const RECORD_TYPES = Object.keys(SourceRecordSchemas) as RecordType[];

export type PeriodRecord = z.infer<typeof PeriodRecordSchema>;
export type ClassRecord = z.infer<typeof ClassRecordSchema>;
export type SubjectRecord = z.infer<typeof SubjectRecordSchema>;
export type PersonRecord = z.infer<typeof PersonRecordSchema>;
export type EnrollmentRecord = z.infer<typeof EnrollmentRecordSchema>;
export type GuardianshipRecord = z.infer<typeof GuardianshipRecordSchema>;
export type StaffRoleRecord = z.infer<typeof StaffRoleRecordSchema>;
export type TeachingAssignmentRecord = z.infer<typeof TeachingAssignmentRecordSchema>;
export type LessonRecord = z.infer<typeof LessonRecordSchema>;
export type HomeworkRecord = z.infer<typeof HomeworkRecordSchema>;
export type MarkRecord = z.infer<typeof MarkRecordSchema>;
export type AttendanceRecord = z.infer<typeof AttendanceRecordSchema>;
export type PeriodMarkRecord = z.infer<typeof PeriodMarkRecordSchema>;

/** Any source record, discriminated by `type`. */
export type SourceRecord = { [K in RecordType]: z.infer<(typeof SourceRecordSchemas)[K]> }[RecordType];
export type SourceRecordOf<T extends RecordType> = Extract<SourceRecord, { type: T }>;

/** A platform id that is gone from the source (deleted there, or no longer listed). */
export interface GoneId {
  type: RecordType;
  externalId: string;
}
