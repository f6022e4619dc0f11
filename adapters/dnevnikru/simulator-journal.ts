import { createHash } from 'node:crypto';
import { generateLessonFacts, generateLessons, generatePeriodMarks, type DemoSchool } from '../../src/demo/generator.js';
import type { DemoLesson, DemoMark, DemoPeriodMark, DemoWorkCategory } from '../../src/demo/types.js';
import { addDays } from '../../src/ports/ranges.js';
import { DnevnikRoster, bigIdOf, smallIdOf, twin, type BigId, type PlatformEdits } from './simulator-data.js';

/**
 * The generated school's lessons, marks, log entries, final marks and homework in Дневник.ру's shapes:
 * lessons with `subject.id_str`, `teachers_str` and their works (each with its kind and target date),
 * bells as date-times with `DaysOfWeek` names, the platform's work kinds with integer weights, marks
 * with a mood, final marks with hyphenated keys (the year's without a reporting period).
 */

/** The school's work types: a work kind of the platform and the school's own title per generated category. */
export const WORK_TYPES: Record<DemoWorkCategory, { kind: string; title: string; abbr: string }> = {
  oral: { kind: 'DefaultNewLessonWork', title: 'Ответ на уроке', abbr: 'О' },
  homework: { kind: 'Homework', title: 'Домашнее задание', abbr: 'ДЗ' },
  written: { kind: 'CommonWork', title: 'Самостоятельная работа', abbr: 'СР' },
  test: { kind: 'CommonWork', title: 'Тест', abbr: 'Т' },
  practical: { kind: 'CommonWork', title: 'Практическая работа', abbr: 'ПР' },
  lab: { kind: 'LaboratoryWork', title: 'Лабораторная работа', abbr: 'ЛР' },
  control: { kind: 'LessonTestWork', title: 'Контрольная работа', abbr: 'КР' },
  essay: { kind: 'LessonComposition', title: 'Сочинение', abbr: 'Соч' },
  other: { kind: 'DefaultNewLessonWork', title: 'Работа на уроке', abbr: 'Р' },
};

/** Weights are integers (dnevnik-partners-api `Long`, SchoolMosregRuAPI `int`): the generator's 1.5 is shown as 2. */
const WEIGHT: Record<DemoWorkCategory, number> = { oral: 1, homework: 1, written: 2, test: 2, practical: 1, lab: 2, control: 2, essay: 2, other: 1 };

/** Absence codes of the generator → lesson log entry statuses (the Swagger's example list). */
export const LOG_STATUS: Record<string, string> = { Н: 'Absent', Б: 'Ill', УП: 'Pass', ОП: 'Late' };

const PERIOD_TYPE: Record<string, string> = { quarter: 'Quarter', half_year: 'Semester' };
const DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

function moodOf(value: string): string {
  if (/^[45]|^зч/.test(value)) return 'Good';
  if (/^3/.test(value)) return 'Average';
  if (/^2|^нз|^н\//.test(value)) return 'Bad';
  return 'NotSet';
}

/** Some homework has a file (about one in ten, by the lesson id). */
const hasFile = (lessonId: string) => createHash('sha1').update(lessonId).digest()[0]! < 26;

export class DnevnikJournal extends DnevnikRoster {
  readonly edits: PlatformEdits = { markValues: new Map(), deletedMarks: new Set(), extraLessons: [] };
  private periodMarks?: DemoPeriodMark[];

  constructor(school: DemoSchool) {
    super(school);
  }

  reportingPeriods(groupId: string) {
    const grade = this.school.groups.find((g) => g.id === groupId)?.grade ?? 0;
    return this.school.periods.filter((p) => p.kind !== 'year' && p.grades.includes(grade)).map((p) => ({
      ...twin('period', p.id), start: `${p.startDate}T00:00:00`, finish: `${p.endDate}T23:59:59`, number: p.number - 1,
      type: PERIOD_TYPE[p.kind], name: p.title, year: this.school.year.startYear,
    }));
  }

  /** One timetable (dnevnik-partners-api `Timetable`): bells as date-times on the year's first day. */
  timetables() {
    const day = this.school.year.startDate;
    return [{
      Name: 'Основное расписание', Start: `${day}T00:00:00`, FirstLessonNumber: 1,
      Items: this.school.bells.map((b) => ({
        Id: bigIdOf('timetable', `bell-${b.slot}`), Start: `${day}T${b.start}:00`, Finish: `${day}T${b.end}:00`, Name: `${b.slot} урок`, Type: 'Lesson', DaysOfWeek: DAYS, LessonNumber: b.slot,
      })),
    }];
  }

  workTypes() {
    return Object.entries(WORK_TYPES).map(([category, w]) => ({
      ...twin('worktype', category), schoolId: this.schoolId, kindId: Object.keys(WORK_TYPES).indexOf(category) + 1, kind: w.kind, title: w.title, abbr: w.abbr,
      weight: WEIGHT[category as DemoWorkCategory],
    }));
  }

  lessonsOf(groupId: string | undefined, from: string, to: string): DemoLesson[] {
    const extra = this.edits.extraLessons.filter((l) => (!groupId || l.groupId === groupId) && l.date >= from && l.date <= to);
    return [...generateLessons(this.school, { groupIds: groupId ? [groupId] : undefined, from, to }), ...extra];
  }

  private work(l: DemoLesson, category: DemoWorkCategory | 'task') {
    const group = bigIdOf('group', l.groupId);
    const homework = category === 'task';
    const file = homework && hasFile(l.id) ? [bigIdOf('file', l.id)] : [];
    return {
      ...twin('work', `${l.id}/${category}`), type: homework ? 'Homework' : WORK_TYPES[category].kind, workType: bigIdOf('worktype', homework ? 'homework' : category),
      markType: homework ? 'LogEntry' : 'Mark', markCount: 0, lesson: bigIdOf('lesson', l.id), lesson_str: bigIdOf('lesson', l.id).digits, displayInJournal: !homework,
      status: 'Sent', eduGroup: group, eduGroup_str: group.digits, tasks: [], text: homework ? l.homework : null, periodNumber: 0, periodType: 'Quarter',
      subjectId: bigIdOf('subject', l.subjectId), isImportant: false, targetDate: `${homework ? addDays(l.date, 7) : l.date}T00:00:00`, sentDate: null,
      createdBy: smallIdOf('person', l.teacherId), files: file, oneDriveLinks: [],
    };
  }

  /** A lesson (SchoolMosregRuAPI `LESSON`, alexcupertme `TLesson`) with the works its marks and homework belong to. */
  lesson(l: DemoLesson) {
    const teachers = [l.teacherId, ...(l.substituteId ? [l.substituteId] : [])].map((t) => smallIdOf('person', t));
    const categories = new Set(generateLessonFacts(this.school, l).marks.map((m) => m.workCategory));
    const works = [...[...categories].map((c) => this.work(l, c)), ...(l.homework ? [this.work(l, 'task')] : [])];
    const subject = this.school.subjects.find((s) => s.id === l.subjectId)!;
    return {
      ...twin('lesson', l.id), title: l.topic, date: `${l.date}T00:00:00`, number: l.slot,
      subject: { ...twin('subject', subject.id), name: subject.name, knowledgeArea: subject.shortName, fgosSubjectId: null },
      group: bigIdOf('group', l.groupId), status: l.status === 'cancelled' ? 'Cancelled' : l.status === 'planned' ? 'Planned' : 'Conducted',
      resultPlaceId: null, works, teachers, teachers_str: teachers.map(String),
    };
  }

  private mark(l: DemoLesson, m: DemoMark) {
    const value = this.edits.markValues.get(m.id) ?? m.value;
    const person = smallIdOf('person', m.pupilId);
    const work = bigIdOf('work', `${l.id}/${m.workCategory}`);
    return {
      ...twin('mark', m.id), type: 'Mark', value, textValue: value, person, person_str: String(person), work, work_str: work.digits,
      lesson: bigIdOf('lesson', l.id), lesson_str: bigIdOf('lesson', l.id).digits, number: 0, date: `${m.enteredAt.slice(0, 19)}.477`,
      workType: bigIdOf('worktype', m.workCategory), mood: moodOf(value), use_avg_calc: true,
    };
  }

  marksOf(lessons: DemoLesson[], malformed: boolean) {
    const marks = lessons.flatMap((l) => generateLessonFacts(this.school, l).marks.filter((m) => !this.edits.deletedMarks.has(m.id)).map((m) => this.mark(l, m)));
    if (malformed && marks[0]) marks[0] = { ...marks[0], value: '', textValue: '' };
    return marks;
  }

  /** Log entries of the lessons of one subject (`subject` is the subject's id). */
  logEntriesOf(lessons: DemoLesson[], subject: string) {
    return lessons.filter((l) => bigIdOf('subject', l.subjectId).digits === subject).flatMap((l) => generateLessonFacts(this.school, l).absences.map((a) => {
      const person = smallIdOf('person', a.pupilId);
      return {
        person, person_str: String(person), lesson: bigIdOf('lesson', l.id), lesson_str: bigIdOf('lesson', l.id).digits,
        comment: a.lateMinutes ? `опоздание ${a.lateMinutes} мин` : null, status: LOG_STATUS[a.code], createdDate: `${l.date}T${this.school.bells[l.slot - 1]!.end}:00.103`,
      };
    }));
  }

  /** The account's homework of the school in a range (SchoolMosregRuAPI `HomeWork`): works, slim lessons, subjects, files. */
  homeworks(from: string, to: string) {
    const lessons = this.lessonsOf(undefined, from, to).filter((l) => l.homework);
    const works = lessons.map((l) => this.work(l, 'task'));
    const files = lessons.filter((l) => hasFile(l.id)).map((l) => ({
      ...twin('file', l.id), name: 'Задание.pdf', typeGroup: 'Document', type: 'Pdf', pageUrl: `https://static.dnevnik.example/file/${bigIdOf('file', l.id).digits}`,
      downloadUrl: `https://static.dnevnik.example/file/${bigIdOf('file', l.id).digits}/download`, user: null, size: 20480, vote: 0, uploadedDate: `${l.date}T16:00:00`, storageType: 'Default',
    }));
    const slim = lessons.map((l) => ({
      id: bigIdOf('lesson', l.id), title: l.topic, date: `${l.date}T00:00:00`, number: l.slot, subjectId: bigIdOf('subject', l.subjectId), status: 'Conducted',
      resultPlaceId: null, building: null, place: null, floor: null, hours: `${this.school.bells[l.slot - 1]!.start} - ${this.school.bells[l.slot - 1]!.end}`,
      works: [bigIdOf('work', `${l.id}/task`)], teachers: [smallIdOf('person', l.teacherId)],
    }));
    const subjects = this.school.subjects.map((s) => ({ id: bigIdOf('subject', s.id), name: s.name, knowledgeAreaId: 1 }));
    return { works, subjects, lessons: slim, files, teachers: [] };
  }

  /** Final marks of a class per pupil and period (dnevnik-partners-api `PersonFinalMark`); the year's carry no reporting period. */
  finalMarks(groupId: string) {
    const pupils = new Set(this.school.pupils.filter((p) => p.classId === groupId).map((p) => p.id));
    const years = new Set(this.school.periods.filter((p) => p.kind === 'year').map((p) => p.id));
    // Period marks need the whole year's marks; computed once per simulator.
    this.periodMarks ??= [...generatePeriodMarks(this.school)];
    const byPupilPeriod = new Map<string, DemoPeriodMark[]>();
    for (const pm of this.periodMarks) {
      if (!pupils.has(pm.pupilId)) continue;
      const key = `${pm.pupilId}|${pm.periodId}`;
      byPupilPeriod.set(key, [...(byPupilPeriod.get(key) ?? []), pm]);
    }
    return [...byPupilPeriod].map(([key, marks]) => {
      const [pupilId, periodId] = key.split('|') as [string, string];
      const period: BigId | null = years.has(periodId) ? null : bigIdOf('period', periodId);
      const person = smallIdOf('person', pupilId);
      return {
        person, person_str: String(person), group: bigIdOf('group', groupId), group_str: bigIdOf('group', groupId).digits,
        reportingPeriod: period, reportingPeriod_str: period?.digits ?? null, 'per-subject-final-marks': marks.map((pm) => this.finalMark(pm)),
      };
    });
  }

  private finalMark(pm: DemoPeriodMark) {
    const person = smallIdOf('person', pm.pupilId);
    return {
      subject: bigIdOf('subject', pm.subjectId), subject_str: bigIdOf('subject', pm.subjectId).digits,
      'final-mark': { ...twin('mark', pm.id), type: 'FinalMark', value: pm.value, textValue: pm.value, person, person_str: String(person), date: pm.setAt.slice(0, 19), mood: moodOf(pm.value) },
    };
  }
}
