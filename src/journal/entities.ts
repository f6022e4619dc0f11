import type {
  ClassRecord, EnrollmentRecord, GuardianshipRecord, HomeworkRecord, LessonRecord, PeriodRecord,
  PersonRecord, StaffRoleRecord, SubjectRecord, TeachingAssignmentRecord,
} from '../ports/records.js';
import type { Column, ColumnKind } from './columns.js';
import type { BatchContext } from './context.js';
import { locatePersons } from './identity.js';
import { classNameKey, personNameKey, subjectNameKey } from './normalize.js';
import { RejectRecord } from './resolver.js';
import { rematchSubgroups } from './subgroups.js';
import type { SharedSpec } from './shared.js';

/** The shared entities: one canonical row that every source knowing it links to through its refs. */

const cols = (...spec: Array<[string, ColumnKind]>): Column[] => spec.map(([name, kind]) => ({ name, kind }));

export const periodSpec: SharedSpec<PeriodRecord> = {
  type: 'period',
  entity: 'period',
  table: 'period',
  columns: cols(['academic_year_id', 'uuid'], ['kind', 'text'], ['number', 'int'], ['title', 'text'],
    ['start_date', 'date'], ['end_date', 'date'], ['deleted_at', 'instant']),
  key: ['academic_year_id', 'kind', 'number'],
  required: ['academic_year_id', 'kind', 'number', 'title', 'start_date', 'end_date'],
  references: () => [],
  toRow: (r, _resolve, ctx) => {
    if (r.startDate > r.endDate) throw new RejectRecord('period ends before it starts');
    return { academic_year_id: academicYearOf(ctx, r.year), kind: r.kind, number: r.number, title: r.title, start_date: r.startDate, end_date: r.endDate };
  },
};

export const classSpec: SharedSpec<ClassRecord> = {
  type: 'class',
  entity: 'class',
  table: 'class_group',
  columns: cols(['academic_year_id', 'uuid'], ['parent_id', 'uuid'], ['kind', 'text'], ['grade', 'int'], ['letter', 'text'],
    ['name', 'text'], ['name_key', 'text'], ['deleted_at', 'instant']),
  key: ['academic_year_id', 'name_key'],
  required: ['academic_year_id', 'kind', 'grade', 'name', 'name_key'],
  references: (r) => [['class', r.parentExternalId]],
  toRow: (r, resolve, ctx) => ({
    academic_year_id: academicYearOf(ctx, r.year),
    parent_id: resolve.optional('class', r.parentExternalId),
    kind: r.parentExternalId ? 'subgroup' : 'class',
    grade: r.grade,
    letter: r.letter,
    name: r.name,
    name_key: classNameKey(r.name),
  }),
  rematch: rematchSubgroups,
};

/** Alternative names as stored: JSON with sorted keys, so equal names always compare equal. */
function altNamesText(names: Record<string, string> | undefined): string | undefined {
  if (!names || Object.keys(names).length === 0) return undefined;
  return JSON.stringify(Object.fromEntries(Object.entries(names).sort(([a], [b]) => a.localeCompare(b))));
}

export const subjectSpec: SharedSpec<SubjectRecord> = {
  type: 'subject',
  entity: 'subject',
  table: 'subject',
  columns: cols(['name', 'text'], ['short_name', 'text'], ['alt_names', 'text'], ['name_key', 'text'], ['deleted_at', 'instant']),
  key: ['name_key'],
  required: ['name', 'name_key'],
  references: () => [],
  toRow: (r) => ({ name: r.name, short_name: r.shortName, alt_names: altNamesText(r.altNames), name_key: subjectNameKey(r.name) }),
};

export const personSpec: SharedSpec<PersonRecord> = {
  type: 'person',
  entity: 'person',
  table: 'person',
  columns: cols(['last_name', 'text'], ['first_name', 'text'], ['middle_name', 'text'], ['name_key', 'text'],
    ['birth_date', 'date'], ['sex', 'text'], ['phone', 'text'], ['email', 'text'], ['telegram', 'text'], ['deleted_at', 'instant']),
  key: [],
  required: ['last_name', 'first_name', 'name_key'],
  references: (r) => [['class', r.classExternalId], ...(r.pupilExternalIds ?? []).map((id): [string, string] => ['person', id])],
  toRow: (r) => ({
    last_name: r.lastName, first_name: r.firstName, middle_name: r.middleName, name_key: personNameKey(r.lastName, r.firstName),
    birth_date: r.birthDate, sex: r.sex, phone: r.phone, email: r.email, telegram: r.telegram,
  }),
  locate: locatePersons,
};

export const enrollmentSpec: SharedSpec<EnrollmentRecord> = {
  type: 'enrollment',
  entity: 'enrollment',
  table: 'enrollment',
  columns: cols(['person_id', 'uuid'], ['class_group_id', 'uuid'], ['start_date', 'date'], ['end_date', 'date']),
  key: ['person_id', 'class_group_id'],
  required: ['person_id', 'class_group_id'],
  references: (r) => [['person', r.pupilExternalId], ['class', r.classExternalId]],
  toRow: (r, resolve) => {
    if (r.startDate && r.endDate && r.startDate > r.endDate) throw new RejectRecord('enrollment ends before it starts');
    return {
      person_id: resolve.required('person', r.pupilExternalId, 'pupil'),
      class_group_id: resolve.required('class', r.classExternalId, 'class'),
      start_date: r.startDate,
      // A pupil listed again without an end date is back in the class.
      end_date: r.endDate ?? null,
    };
  },
};

export const guardianshipSpec: SharedSpec<GuardianshipRecord> = {
  type: 'guardianship',
  entity: 'guardianship',
  table: 'guardianship',
  columns: cols(['guardian_id', 'uuid'], ['pupil_id', 'uuid'], ['relation', 'text'], ['deleted_at', 'instant']),
  key: ['guardian_id', 'pupil_id'],
  required: ['guardian_id', 'pupil_id'],
  references: (r) => [['person', r.guardianExternalId], ['person', r.pupilExternalId]],
  toRow: (r, resolve) => ({
    guardian_id: resolve.required('person', r.guardianExternalId, 'guardian'),
    pupil_id: resolve.required('person', r.pupilExternalId, 'pupil'),
    relation: r.relation,
  }),
};

export const staffRoleSpec: SharedSpec<StaffRoleRecord> = {
  type: 'staff_role',
  entity: 'staff_role',
  table: 'staff_role',
  columns: cols(['person_id', 'uuid'], ['role', 'text'], ['class_group_id', 'uuid'], ['deleted_at', 'instant']),
  key: ['person_id', 'role', 'class_group_id'],
  required: ['person_id', 'role'],
  references: (r) => [['person', r.personExternalId], ['class', r.classExternalId]],
  toRow: (r, resolve) => ({
    person_id: resolve.required('person', r.personExternalId, 'staff member'),
    role: r.role,
    class_group_id: r.classExternalId === undefined ? null : resolve.required('class', r.classExternalId, 'class'),
  }),
};

export const teachingAssignmentSpec: SharedSpec<TeachingAssignmentRecord> = {
  type: 'teaching_assignment',
  entity: 'teaching_assignment',
  table: 'teaching_assignment',
  columns: cols(['teacher_id', 'uuid'], ['class_group_id', 'uuid'], ['subject_id', 'uuid'], ['deleted_at', 'instant']),
  key: ['teacher_id', 'class_group_id', 'subject_id'],
  required: ['teacher_id', 'class_group_id', 'subject_id'],
  references: (r) => [['person', r.teacherExternalId], ['class', r.classExternalId], ['subject', r.subjectExternalId]],
  toRow: (r, resolve) => ({
    teacher_id: resolve.required('person', r.teacherExternalId, 'teacher'),
    class_group_id: resolve.required('class', r.classExternalId, 'class'),
    subject_id: resolve.required('subject', r.subjectExternalId, 'subject'),
  }),
};

export const lessonSpec: SharedSpec<LessonRecord> = {
  type: 'lesson',
  entity: 'lesson',
  table: 'lesson',
  columns: cols(['class_group_id', 'uuid'], ['subject_id', 'uuid'], ['date', 'date'], ['slot', 'int'], ['starts_at', 'instant'],
    ['ends_at', 'instant'], ['teacher_id', 'uuid'], ['substitute_id', 'uuid'], ['topic', 'text'], ['homework', 'text'],
    ['homework_files', 'text'], ['homework_due_date', 'date'], ['status', 'text'], ['deleted_at', 'instant']),
  key: ['class_group_id', 'date', 'slot'],
  required: ['class_group_id', 'subject_id', 'date', 'slot', 'status'],
  defaults: { status: 'planned' },
  references: (r) => [['class', r.classExternalId], ['subject', r.subjectExternalId], ['person', r.teacherExternalId], ['person', r.substituteExternalId]],
  toRow: (r, resolve) => ({
    class_group_id: resolve.required('class', r.classExternalId, 'class'),
    subject_id: resolve.required('subject', r.subjectExternalId, 'subject'),
    date: r.date,
    slot: r.slot,
    starts_at: r.startsAt,
    ends_at: r.endsAt,
    teacher_id: resolve.optional('person', r.teacherExternalId),
    substitute_id: resolve.optional('person', r.substituteExternalId),
    topic: r.topic,
    homework: r.homework,
    homework_files: filesText(r.homeworkFiles),
    homework_due_date: r.homeworkDueDate,
    status: r.status,
  }),
};

/** Homework published apart from its lesson amends the lesson; it never creates one. */
export const homeworkSpec: SharedSpec<HomeworkRecord> = {
  type: 'homework',
  entity: 'lesson',
  table: 'lesson',
  columns: cols(['homework', 'text'], ['homework_files', 'text'], ['homework_due_date', 'date']),
  key: [],
  required: [],
  creates: false,
  references: (r) => [['lesson', r.lessonExternalId]],
  toRow: (r, resolve) => ({
    id: resolve.required('lesson', r.lessonExternalId, 'lesson'), homework: r.text, homework_files: filesText(r.files), homework_due_date: r.dueDate,
  }),
};

/** Homework files as stored: JSON of `{name, url?, externalId?}` in the platform's order (what the digest and history see). */
function filesText(files: LessonRecord['homeworkFiles']): string | undefined {
  return files && files.length > 0 ? JSON.stringify(files.map((f) => ({ name: f.name, ...(f.url ? { url: f.url } : {}), ...(f.externalId ? { externalId: f.externalId } : {}) }))) : undefined;
}

function academicYearOf(ctx: BatchContext, year: number): string {
  const id = ctx.academicYears.get(year);
  if (!id) throw new Error(`academic year ${year} was not prepared`);
  return id;
}
