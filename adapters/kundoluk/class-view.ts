import type { DateRange } from '../../src/ports/adapter.js';
import type { ClassRecord, LessonRecord, PersonRecord, SourceRecord, SubjectRecord } from '../../src/ports/records.js';
import type { Lesson } from './endpoints.js';
import { lessonDateOf, lessonIdOf, lessonRecord, placeLesson, scaleOf, subjectRecord, teacherRecord, type Pupil } from './mapping.js';
import { entryRecords, isQuarterEntry } from './marks.js';

/**
 * The class view assembled from what each pupil sees: every pupil's diary shows the lessons of the class
 * and of the pupil's subgroups, so a lesson arrives once per pupil and is kept once; a subgroup is named by
 * the lesson's `groupId` / `subjectGroupName`.
 */

export interface ViewOptions {
  range: DateRange;
  year: number;
  timeZone: string;
  /** Classes' subjects whose lessons are flagged `isTwelve` (`<class>|<subject>`), as this run has seen them. */
  twelve: Set<string>;
}

/** A pupil's lessons within the range, with their id and date; club lessons (`isKrujok`) are not the class's. */
export function* lessonsInRange(lessons: Lesson[], range: DateRange, timeZone: string): Generator<{ lesson: Lesson; id: string; date: string }> {
  for (const lesson of lessons) {
    const date = lessonDateOf(lesson, timeZone);
    if (!date || date < range.from || date > range.to || lesson.isKrujok) continue;
    const id = lessonIdOf(lesson, date);
    if (id) yield { lesson, id, date };
  }
}

/** Remembers that a class's subject is marked on 12 points (its quarter marks are, then, too). */
function noteScale(o: ViewOptions, pupil: Pupil, lesson: Lesson): void {
  if (!lesson.isTwelve) return;
  const subject = subjectRecord(lesson.subject);
  if (subject) o.twelve.add(`${pupil.classId}|${subject.externalId}`);
}

/**
 * Subjects, subgroups, teachers and lessons of the pupils' answers, each once, taken in answer by answer
 * (so that no answer is kept); and per pupil the groups (class or subgroups) whose lessons it was shown,
 * so that pupils who see the same lessons are known.
 */
export class LessonAssembler {
  private readonly subjects = new Map<string, SubjectRecord>();
  private readonly subgroups = new Map<string, ClassRecord>();
  private readonly teachers = new Map<string, PersonRecord>();
  private readonly lessons = new Map<string, LessonRecord>();
  readonly groupsOf = new Map<number, string[]>();

  constructor(private readonly o: ViewOptions) {}

  add(pupil: Pupil, answer: Lesson[]): void {
    const groups = new Set<string>();
    for (const { lesson, id, date } of lessonsInRange(answer, this.o.range, this.o.timeZone)) {
      const place = placeLesson(lesson, pupil, this.o.year);
      groups.add(place.classId);
      noteScale(this.o, pupil, lesson);
      if (this.lessons.has(id)) continue;
      const subject = subjectRecord(lesson.subject);
      if (!subject) continue;
      const teacher = teacherRecord(lesson.teacher);
      this.lessons.set(id, lessonRecord(lesson, id, place.classId, date, this.o.timeZone, subject, teacher));
      keep(this.subjects, subject);
      keep(this.subgroups, place.subgroup);
      keep(this.teachers, teacher);
    }
    this.groupsOf.set(pupil.index, [...groups].sort());
  }

  records(): SourceRecord[] {
    return [...this.subjects.values(), ...this.subgroups.values(), ...this.teachers.values(), ...this.lessons.values()];
  }
}

function keep<T extends { externalId: string }>(map: Map<string, T>, record: T | undefined): void {
  if (record && !map.has(record.externalId)) map.set(record.externalId, record);
}

/** A pupil's marks or attendance notes of a term answer within the range, each once; and how many quarter entries were passed over. */
export function entriesOf(pupil: Pupil, answer: Lesson[], o: ViewOptions, type: 'mark' | 'attendance'): { records: SourceRecord[]; quarterEntries: number } {
  const records = new Map<string, SourceRecord>();
  let quarterEntries = 0;
  for (const { lesson, id } of lessonsInRange(answer, o.range, o.timeZone)) {
    noteScale(o, pupil, lesson);
    const context = { timeZone: o.timeZone, scale: scaleOf(lesson) };
    for (const entry of lesson.marks ?? []) {
      if (isQuarterEntry(entry)) quarterEntries += 1;
      for (const record of entryRecords(pupil.id, id, entry, context)) {
        if (record.type === type && !records.has(record.externalId)) records.set(record.externalId, record);
      }
    }
  }
  return { records: [...records.values()], quarterEntries };
}
