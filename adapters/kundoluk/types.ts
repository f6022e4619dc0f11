/**
 * Kundoluk API shapes as far as the adapter reads them (platforms.md §4.1; field names of kundoluk-plus
 * `lib/domain/models`). Lessons are camelCase, marks snake_case; ids may come as numbers or strings.
 */

type Id = string | number;

export interface KundolukAccount {
  userId?: Id | null;
  user_id?: Id | null;
  studentId?: Id | null;
  student_id?: Id | null;
  okpo?: string | null;
  grade?: number | string | null;
  letter?: string | null;
  last_name?: string | null;
  lastName?: string | null;
  first_name?: string | null;
  firstName?: string | null;
  mid_name?: string | null;
  midName?: string | null;
  birthdate?: string | null;
  locale?: string | null;
}

export interface KundolukSubject {
  code?: Id | null;
  name?: string | null;
  nameKg?: string | null;
  nameRu?: string | null;
  short?: string | null;
  shortKg?: string | null;
  shortRu?: string | null;
}

export interface KundolukTeacher {
  pin?: Id | null;
  pinAsString?: string | null;
  firstName?: string | null;
  lastName?: string | null;
  midName?: string | null;
}

export interface KundolukMark {
  mark_id?: Id | null;
  ls_uid?: string | null;
  uid?: string | null;
  idStudent?: Id | null;
  mark?: number | null;
  mark_type?: string | null;
  old_mark?: number | null;
  custom_mark?: string | null;
  absent?: boolean | null;
  absent_type?: string | null;
  absent_reason?: string | null;
  late_minutes?: number | null;
  note?: string | null;
  created_at?: string | null;
  updated_at?: string | null;
}

export interface KundolukLesson {
  uid?: string | null;
  scheduleItemId?: Id | null;
  teacher?: KundolukTeacher | null;
  subject?: KundolukSubject | null;
  startTime?: string | null;
  endTime?: string | null;
  lessonDay?: string | null;
  year?: number | null;
  month?: number | null;
  day?: number | null;
  lesson?: number | null;
  marks?: KundolukMark[] | null;
  topic?: { code?: Id | null; name?: string | null } | null;
  task?: { code?: Id | null; name?: string | null; note?: string | null } | null;
  grade?: number | string | null;
  letter?: string | null;
  isKrujok?: boolean | null;
  group?: number | null;
  groupId?: Id | null;
  subjectGroupName?: string | null;
}

export interface KundolukQuarterMark {
  objectId?: Id | null;
  studentId?: Id | null;
  quarter?: number | null;
  quarterAvg?: number | null;
  quarterMark?: number | null;
  customMark?: string | null;
  isBonus?: boolean | null;
  quarterDate?: string | null;
  subjectNameKg?: string | null;
  subjectNameRu?: string | null;
}

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
