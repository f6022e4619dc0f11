import { createHash } from 'node:crypto';
import { generateLessonFacts, generateLessons, generatePeriodMarks, type DemoSchool } from '../../src/demo/generator.js';
import type { DemoGroup, DemoLesson, DemoPeriod, DemoPeriodMark, DemoPupil, DemoStaff, DemoSubject } from '../../src/demo/types.js';

/**
 * The generated school as edu.tatar.ru's staff pages hold it: numeric ids, the class's courses (a
 * subject for the whole class or for one of its groups), the terms of the class's grade (by number,
 * dated only inside the simulator), the class journal of a course and term paginated by columns, and
 * the class's weekly timetable.
 */

/** A stable positive int for a key (44 bits of a hash: below 2^53, no collisions in a school). */
export function numericId(kind: string, key: string): number {
  return parseInt(createHash('sha1').update(`${kind}/${key}`).digest('hex').slice(0, 11), 16) + 1;
}

export interface SimClass {
  id: number;
  group: DemoGroup;
}

export interface SimCourse {
  criteria: number;
  group: DemoGroup;
  subject: DemoSubject;
}

export interface SimTerm {
  value: number;
  period: DemoPeriod;
}

export interface JournalColumn {
  lesson: DemoLesson;
  code: string;
}

export interface JournalRow {
  pupil: DemoPupil;
  /** Per column, the cell's tokens: the absence code first, then the marks. */
  cells: string[][];
  average: string;
  term: string;
}

export interface JournalView {
  cls: SimClass;
  course: SimCourse;
  term: SimTerm;
  courses: SimCourse[];
  terms: SimTerm[];
  teacher?: DemoStaff;
  page: number;
  pages: number;
  columns: JournalColumn[];
  rows: JournalRow[];
}

/** Work-type code of a lesson by the work its marks are for; ordinary lessons have none (or Р, as the evidence's checks allow). */
function codeOf(lesson: DemoLesson, categories: Set<string>): string {
  if (categories.has('control')) return lesson.subjectId === 'subj-rus' ? 'Д' : 'КР';
  if (categories.has('lab')) return 'ЛР';
  if (categories.has('essay')) return 'С';
  return lesson.slot === 7 ? 'Р' : '';
}

const collator = new Intl.Collator('ru');
const byName = (a: DemoPupil, b: DemoPupil) => collator.compare(`${a.lastName} ${a.firstName} ${a.middleName}`, `${b.lastName} ${b.firstName} ${b.middleName}`);

export const fullName = (p: { lastName: string; firstName: string; middleName: string }): string => `${p.lastName} ${p.firstName} ${p.middleName}`.trim();

export class EduTatarData {
  readonly classes: SimClass[];
  private readonly courseCache = new Map<number, SimCourse[]>();
  private lessonsByGroup?: Map<string, DemoLesson[]>;
  private periodMarks?: Map<string, DemoPeriodMark>;

  constructor(readonly school: DemoSchool, private readonly columnsPerPage: number) {
    this.classes = school.groups.filter((g) => g.kind === 'class').map((group) => ({ id: numericId('class', group.id), group }));
  }

  /** What the simulator takes for today: the last day the school was generated for. */
  get today(): string {
    return this.school.options.until;
  }

  classOf(id: number): SimClass | undefined {
    return this.classes.find((c) => c.id === id);
  }

  staff(id: string | undefined): DemoStaff | undefined {
    return this.school.staff.find((s) => s.id === id);
  }

  /** Everyone who was in the class this year (the page shows no dates of leaving). */
  pupilsOf(cls: SimClass): DemoPupil[] {
    return this.school.pupils.filter((p) => p.classId === cls.group.id && p.enrolledFrom <= this.today).sort(byName);
  }

  courses(cls: SimClass): SimCourse[] {
    let courses = this.courseCache.get(cls.id);
    if (!courses) {
      const groups = this.school.groups.filter((g) => g.id === cls.group.id || g.parentId === cls.group.id);
      const taught = new Set(this.school.timetable.map((e) => `${e.groupId}|${e.subjectId}`));
      courses = this.school.subjects.flatMap((subject) => groups.filter((g) => taught.has(`${g.id}|${subject.id}`))
        .map((group) => ({ criteria: numericId('criteria', `${group.id}|${subject.id}`), group, subject })));
      this.courseCache.set(cls.id, courses);
    }
    return courses;
  }

  terms(cls: SimClass): SimTerm[] {
    return this.school.periods.filter((p) => p.kind !== 'year' && p.grades.includes(cls.group.grade))
      .sort((a, b) => a.startDate.localeCompare(b.startDate)).map((period) => ({ value: period.number, period }));
  }

  /** The class's weekly timetable: per weekday and slot, the subject and the teachers (two when its groups split). */
  timetable(cls: SimClass): Map<number, Map<number, { subject: string; teachers: string[] }>> {
    const groups = new Set(this.school.groups.filter((g) => g.id === cls.group.id || g.parentId === cls.group.id).map((g) => g.id));
    const days = new Map<number, Map<number, { subject: string; teachers: string[] }>>();
    for (const e of this.school.timetable.filter((t) => groups.has(t.groupId))) {
      const day = days.get(e.weekday) ?? days.set(e.weekday, new Map()).get(e.weekday)!;
      const subject = this.school.subjects.find((s) => s.id === e.subjectId)!.name;
      const row = day.get(e.slot) ?? day.set(e.slot, { subject, teachers: [] }).get(e.slot)!;
      const teacher = this.staff(e.teacherId);
      if (teacher) row.teachers.push(fullName(teacher));
    }
    return days;
  }

  private lessonsOf(course: SimCourse, term: DemoPeriod): DemoLesson[] {
    if (!this.lessonsByGroup) {
      this.lessonsByGroup = new Map();
      for (const lesson of generateLessons(this.school)) {
        const list = this.lessonsByGroup.get(lesson.groupId);
        if (list) list.push(lesson);
        else this.lessonsByGroup.set(lesson.groupId, [lesson]);
      }
    }
    return (this.lessonsByGroup.get(course.group.id) ?? [])
      .filter((l) => l.subjectId === course.subject.id && l.date >= term.startDate && l.date <= term.endDate);
  }

  private periodMark(pupil: DemoPupil, subjectId: string, periodId: string): DemoPeriodMark | undefined {
    if (!this.periodMarks) {
      this.periodMarks = new Map();
      for (const pm of generatePeriodMarks(this.school)) this.periodMarks.set(`${pm.pupilId}|${pm.subjectId}|${pm.periodId}`, pm);
    }
    return this.periodMarks.get(`${pupil.id}|${subjectId}|${periodId}`);
  }

  /** One page of a course's journal for a term; `showMoved` keeps the rows of pupils who have left. */
  journal(cls: SimClass, course: SimCourse, term: SimTerm, page: number, options: { showMoved: boolean; malformed: boolean }): JournalView {
    const lessons = this.lessonsOf(course, term.period);
    const pages = Math.max(1, Math.ceil(lessons.length / this.columnsPerPage));
    const shown = lessons.slice((page - 1) * this.columnsPerPage, page * this.columnsPerPage);
    const facts = new Map(shown.map((l) => [l.id, generateLessonFacts(this.school, l)]));
    const columns = shown.map((lesson) => ({ lesson, code: codeOf(lesson, new Set(facts.get(lesson.id)!.marks.map((m) => m.workCategory))) }));
    const { period } = term;
    const pupils = this.school.pupils.filter((p) => (p.classId === course.group.id || p.subgroupIds.includes(course.group.id))
      && p.enrolledFrom <= period.endDate && (!p.leftOn || p.leftOn > period.startDate)
      && (options.showMoved || !p.leftOn || p.leftOn > this.today)).sort(byName);
    let malformed = options.malformed;
    const rows = pupils.map((pupil): JournalRow => {
      const cells = shown.map((lesson) => {
        const { marks, absences } = facts.get(lesson.id)!;
        const absence = absences.find((a) => a.pupilId === pupil.id)?.code.toLowerCase();
        // «н» as a mark is the absence the cell already shows.
        const values = marks.filter((m) => m.pupilId === pupil.id && m.value !== 'н').map((m) => m.value);
        if (malformed && values.length > 0) {
          values[0] = '';
          malformed = false;
        }
        return [...(absence ? [absence] : []), ...values];
      });
      const final = this.periodMark(pupil, course.subject.id, period.id);
      const average = final && final.average !== null ? final.average.toFixed(2).replace('.', ',') : '';
      return { pupil, cells, average, term: final?.value ?? '' };
    });
    const assignment = this.school.assignments.find((a) => a.groupId === course.group.id && a.subjectId === course.subject.id);
    const teacher = this.staff(assignment?.teacherId);
    return { cls, course, term, courses: this.courses(cls), terms: this.terms(cls), ...(teacher ? { teacher } : {}), page, pages, columns, rows };
  }
}
