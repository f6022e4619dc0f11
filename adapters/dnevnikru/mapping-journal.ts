import type { SourceRecord, SourceRecordOf } from '../../src/ports/records.js';
import { localDateTime, localInstant } from '../../src/ports/time.js';
import { mapAttendanceCode } from '../../src/ports/values.js';
import { VOCABULARY, idOf } from './mapping.js';
import { pickId, type DnevnikFile, type Lesson, type LogEntry, type Mark, type PersonFinalMark, type Work, type WorkType } from './schemas.js';

/**
 * Pure mapping of lessons, marks, log entries, final marks and homework (see mapping.ts for the rules).
 */

/** A lesson's bell: local start and end ("HH:MM" in the school's zone, see school.ts). */
export interface Bell {
  start: string;
  end: string;
}

/** The bell of a lesson number on a day, from the group's timetable. */
export type BellOf = (lessonNumber: number, date: string) => Bell | undefined;

const ISO_DAY = /^\d{4}-\d{2}-\d{2}/;

/** The day of a date-time («2025-09-08T00:00:00» → «2025-09-08»), or undefined when it is none. */
const dayOf = (value: string | null | undefined): string | undefined => (value && ISO_DAY.test(value) ? value.slice(0, 10) : undefined);

/** Lesson `status` values: no client lists them [I]; an unknown one is left to the journal's default. */
const LESSON_STATUS: Record<string, 'held' | 'cancelled' | 'planned'> = { Conducted: 'held', Cancelled: 'cancelled', NotConducted: 'planned', Planned: 'planned' };

/** Ids as sortable keys: shorter is smaller, then by digits (ids are decimal integers). */
const byId = (a: Work, b: Work) => {
  const x = idOf(a.id_str, a.id);
  const y = idOf(b.id_str, b.id);
  return x.length - y.length || (x < y ? -1 : x > y ? 1 : 0);
};

/** A lesson's homework works, in id order (the same text however an answer orders them). */
function homeworkWorks(works: readonly Work[] | null | undefined): Work[] {
  return (works ?? []).filter((w) => w.type === 'Homework' && w.text).sort(byId);
}

/** The homework text of a lesson and when it is due (the earliest target date of its homework works). */
export function homeworkOf(works: readonly Work[]): { text?: string; dueDate?: string } {
  const dueDates = works.map((w) => dayOf(w.targetDate)).filter((d): d is string => d !== undefined).sort();
  return { text: works.map((w) => w.text).join('\n') || undefined, dueDate: dueDates[0] };
}

/** A lesson with its bell times in the school's zone, topic, homework and teacher (`teachers_str[0]`). */
export function lessonRecord(l: Lesson, classId: string, bellOf: BellOf, timeZone: string): SourceRecord {
  const date = l.date.slice(0, 10);
  const bell = l.number == null ? undefined : bellOf(l.number, date);
  const homework = homeworkOf(homeworkWorks(l.works));
  return {
    type: 'lesson', externalId: idOf(l.id_str, l.id), classExternalId: classId, subjectExternalId: idOf(l.subject.id_str, l.subject.id), date, slot: l.number!,
    startsAt: bell ? localInstant(date, bell.start, timeZone) : undefined, endsAt: bell ? localInstant(date, bell.end, timeZone) : undefined,
    teacherExternalId: l.teachers_str?.[0] ?? pickId(undefined, l.teachers?.[0]), topic: l.title || undefined,
    homework: homework.text, homeworkDueDate: homework.dueDate, status: LESSON_STATUS[l.status ?? ''],
  };
}

/** The target dates of a lesson answer's works, by work id (what a mark's `work_str` is looked up in). */
export function workDueDates(lessons: readonly Lesson[]): Map<string, string> {
  const dates = new Map<string, string>();
  for (const l of lessons) {
    for (const w of l.works ?? []) {
      const day = dayOf(w.targetDate);
      if (day) dates.set(idOf(w.id_str, w.id), day);
    }
  }
  return dates;
}

type Category = NonNullable<SourceRecordOf<'mark'>['workCategory']>;

/** Work kinds (opendiary `WorkType.kt`, MySchool `Work.kt`, sirop-fmt) → categories; the generic kinds ask the title [I]. */
const KIND_CATEGORY: Record<string, Category | undefined> = {
  Homework: 'homework', LessonTestWork: 'control', LessonExamination: 'control', LessonComposition: 'essay', LessonByHeart: 'oral',
  LaboratoryWork: 'lab', PeriodMark: 'other', DefaultNewLessonWork: undefined, CommonWork: undefined, CreativeWork: undefined,
};

/** The school's own work type titles → categories, for the generic kinds [I]. */
const TITLE_CATEGORY: ReadonlyArray<readonly [RegExp, Category]> = [
  [/контрольн/i, 'control'], [/сочинени|изложени/i, 'essay'], [/лаборатор/i, 'lab'], [/практич/i, 'practical'],
  [/самостоятельн|письменн|диктант|проверочн/i, 'written'], [/тест/i, 'test'], [/домашн/i, 'homework'], [/устн|ответ/i, 'oral'],
];

/** A work type's category: its kind's, else its title's, else `other`. */
export function workCategory(type: { kind?: string | null; title?: string | null }): Category {
  const byKind = KIND_CATEGORY[type.kind ?? ''];
  if (byKind) return byKind;
  const title = type.title ?? '';
  return TITLE_CATEGORY.find(([pattern]) => pattern.test(title))?.[1] ?? 'other';
}

/**
 * A school's work types, found by a mark's `workType` as it arrives: a string (lossless parse) or a safe
 * integer by its digits; a number above 2^53 by its rounded value, which JSON.parse and Number() round
 * alike — unless two of the school's ids round to the same value (`ambiguous`: read marks losslessly).
 */
export class WorkTypeIndex {
  private readonly exact: ReadonlyMap<string, WorkType>;
  private readonly rounded = new Map<number, WorkType | null>();
  readonly ambiguous: boolean;

  constructor(types: Iterable<readonly [string, WorkType]>) {
    this.exact = new Map(types);
    for (const [id, type] of this.exact) {
      const value = Number(id);
      this.rounded.set(value, this.rounded.has(value) ? null : type);
    }
    this.ambiguous = [...this.rounded.values()].includes(null);
  }

  find(workType: string | number | null | undefined): WorkType | undefined {
    if (typeof workType === 'string') return this.exact.get(workType);
    if (typeof workType !== 'number') return undefined;
    return Number.isSafeInteger(workType) ? this.exact.get(String(workType)) : (this.rounded.get(workType) ?? undefined);
  }
}

export function markRecord(m: Mark, workTypes: WorkTypeIndex, dueDates: ReadonlyMap<string, string>, timeZone: string, scale: number): SourceRecord {
  const workType = workTypes.find(m.workType);
  const work = pickId(m.work_str, m.work);
  return {
    type: 'mark', externalId: idOf(m.id_str, m.id), pupilExternalId: idOf(m.person_str, m.person), lessonExternalId: idOf(m.lesson_str, m.lesson),
    value: String(m.value), scale, weight: workType?.weight ?? undefined, workCategory: workType ? workCategory(workType) : undefined, workTitle: workType?.title || undefined,
    dueDate: work === undefined ? undefined : dueDates.get(work), enteredAt: localDateTime(m.date, timeZone),
  };
}

/** A lesson log entry; `Attend` (present) is no attendance record, the other statuses (Absent, Ill, Late, Pass …) are kept raw. */
export function attendanceRecord(e: LogEntry): SourceRecord | undefined {
  if (e.status === 'Attend') return undefined;
  const pupil = idOf(e.person_str, e.person);
  const lesson = idOf(e.lesson_str, e.lesson);
  return { type: 'attendance', externalId: `${lesson}:${pupil}`, pupilExternalId: pupil, lessonExternalId: lesson, code: e.status, kind: mapAttendanceCode(e.status, VOCABULARY), reason: e.comment || undefined };
}

/** A pupil's final marks of one period; without a reporting period they are the year's (`yearPeriod`, mapping.ts) [I]. */
export function periodMarkRecords(f: PersonFinalMark, yearPeriod: string, timeZone: string, scale: number): SourceRecord[] {
  const period = pickId(f.reportingPeriod_str, f.reportingPeriod) ?? yearPeriod;
  const pupil = idOf(f.person_str, f.person);
  return f['per-subject-final-marks'].map((s) => ({
    type: 'period_mark', externalId: idOf(s['final-mark'].id_str, s['final-mark'].id), pupilExternalId: pupil, subjectExternalId: idOf(s.subject_str, s.subject),
    periodExternalId: period, value: String(s['final-mark'].value), scale, setAt: localDateTime(s['final-mark'].date, timeZone),
  }));
}

/** The files of a lesson's homework works (names and download links from the answer's `files[]`); a file without a name is left out. */
export function homeworkFiles(works: readonly Work[], files: ReadonlyMap<string, DnevnikFile>): NonNullable<SourceRecordOf<'homework'>['files']> {
  const ids = works.flatMap((w) => (w.files ?? []).map((f) => pickId(undefined, f))).filter((id): id is string => id !== undefined);
  return [...new Set(ids)].flatMap((id) => {
    const file = files.get(id);
    const url = file?.downloadUrl || file?.pageUrl;
    return file?.name ? [{ name: file.name, externalId: id, ...(url && /^https?:\/\//.test(url) ? { url } : {}) }] : [];
  }).slice(0, 50);
}

/**
 * The homework of one lesson (its works of type Homework) with its files; text and due date are those
 * its lesson record says, so that the two never undo each other.
 */
export function homeworkRecord(lessonId: string, works: readonly Work[], files: ReadonlyMap<string, DnevnikFile>): SourceRecord | undefined {
  const attached = homeworkFiles(works, files);
  if (attached.length === 0) return undefined;
  const { text, dueDate } = homeworkOf(homeworkWorks(works));
  return { type: 'homework', externalId: lessonId, lessonExternalId: lessonId, text: text ?? '', files: attached, dueDate };
}
