import { createHash } from 'node:crypto';
import { generateLessonFacts, generateLessons, type DemoSchool } from '../../src/demo/generator.js';
import type { DemoGroup, DemoLesson, DemoMark, DemoPeriod, DemoPupil, DemoWorkCategory } from '../../src/demo/types.js';

/**
 * The generated school in NetSchool's shapes as the evidence shows them (README.md "Evidence"): the
 * staff lists (`classes?expand=chiefs`, `grade/studentList`, `terms`) and each pupil's weekly diary —
 * marks without an id or with `id: 0`, lessons without an `assignments` key, placeholder names, an
 * extra-curricular lesson listed first, integer weights.
 */

/** A stable positive int for a key: 44 bits of a hash, so that a year's ~10⁶ marks do not collide (and below 2^53). */
export function intId(kind: string, key: string): number {
  return parseInt(createHash('sha1').update(`${kind}/${key}`).digest('hex').slice(0, 11), 16) + 1;
}

/** Assignment types: the vendor's ids where its code names them (3, 4, 10, 14, 2), ids seen in diaries for the rest. */
export const ASSIGNMENT_TYPES: Array<{ id: number; category: DemoWorkCategory; name: string; abbr: string }> = [
  { id: 10, category: 'oral', name: 'Ответ на уроке', abbr: 'О' },
  { id: 3, category: 'homework', name: 'Домашнее задание', abbr: 'ДЗ' },
  { id: 18, category: 'written', name: 'Самостоятельная работа', abbr: 'С' },
  { id: 14, category: 'test', name: 'Тестирование', abbr: 'Т' },
  { id: 20, category: 'practical', name: 'Практическая работа', abbr: 'П' },
  { id: 40, category: 'lab', name: 'Лабораторная работа', abbr: 'Л' },
  { id: 4, category: 'control', name: 'Контрольная работа', abbr: 'К' },
  { id: 68, category: 'essay', name: 'Сочинение', abbr: 'Сч' },
  { id: 2, category: 'other', name: 'Тематическая работа', abbr: 'Т' },
];

const TYPE_OF = new Map(ASSIGNMENT_TYPES.map((t) => [t.category, t.id]));
const PLACEHOLDERS = ['-', 'не задано', '---'];

/** NetSchool stores marks as ints; «5-»/«4+» have no place there and arrive as the digit. */
export function netschoolMark(value: string): number | string {
  const digit = /^(\d)[+-]?$/.exec(value);
  return digit ? Number(digit[1]) : value;
}

export interface NetSchoolEdits {
  markValues: Map<string, string>;
  deletedMarks: Set<string>;
}

/** A day as NetSchool writes dates: `2025-09-01T00:00:00`. */
export const stamp = (date: string) => `${date}T00:00:00`;

export class NetSchoolData {
  readonly edits: NetSchoolEdits = { markValues: new Map(), deletedMarks: new Set() };
  readonly yearId: number;
  private readonly pupilsById = new Map<number, DemoPupil>();
  private readonly classByInt = new Map<number, DemoGroup>();
  /** Homework assignments the diaries have shown (get-attachments answers for those). */
  private readonly homework = new Set<number>();

  constructor(readonly school: DemoSchool) {
    this.yearId = intId('year', String(school.year.startYear));
    for (const p of school.pupils) this.pupilsById.set(intId('student', p.id), p);
    for (const g of school.groups.filter((x) => x.kind === 'class')) this.classByInt.set(intId('class', g.id), g);
  }

  pupil(studentId: number): DemoPupil | undefined {
    return this.pupilsById.get(studentId);
  }

  classOf(classId: number): DemoGroup | undefined {
    return this.classByInt.get(classId);
  }

  yearCurrent() {
    const y = this.school.year;
    return { id: this.yearId, name: `${y.startYear}/${y.startYear + 1}`, startDate: stamp(y.startDate), endDate: stamp(y.endDate), schoolId: 1, globalYear: { id: y.startYear, name: `${y.startYear}/${y.startYear + 1}` } };
  }

  assignmentTypes() {
    return ASSIGNMENT_TYPES.map(({ id, name, abbr }, order) => ({ abbr, order, id, name }));
  }

  /** `GET classes?expand=chiefs` as the teacher/admin client's docstring shows a row. */
  classes() {
    return this.school.groups.filter((g) => g.kind === 'class').map((g) => {
      const chiefs = this.school.staff.filter((s) => s.roles.some((r) => r.role === 'class_teacher' && r.groupId === g.id))
        .map((s) => ({ id: intId('staff', s.id), name: `${s.lastName} ${s.firstName} ${s.middleName}` }));
      return {
        step: { id: 1, name: g.grade <= 4 ? ' 1- 4 кл.' : g.grade <= 9 ? ' 5- 9 кл.' : '10-11 кл.' }, iup: false, grade: { id: g.grade, name: String(g.grade) },
        letter: g.letter.toLowerCase(), funcType: 'School', profileId: 1305, classType: { id: 1, name: 'Общеобразовательный' }, chiefs,
        plannedOccupancy: null, hasClassNotWorkingTeacher: null, id: intId('class', g.id), name: g.name,
      };
    });
  }

  /** `GET grade/studentList?classId=`: `{id, fullName}` (those who left included — see README.md). */
  studentList(cls: DemoGroup) {
    return this.school.pupils.filter((p) => p.classId === cls.id).map((p) => ({ id: intId('student', p.id), fullName: `${p.lastName} ${p.firstName} ${p.middleName}` }));
  }

  /** `GET terms`: every term of the year, of every term system. */
  terms() {
    const types = { quarter: 1, half_year: 2, year: 3 } as const;
    return this.school.periods.map((p) => ({
      id: intId('term', p.id), termName: p.title, termTypeId: types[p.kind], startDate: stamp(p.startDate), endDate: stamp(p.endDate), schoolYearId: this.yearId,
    }));
  }

  /** A class's terms (its term system; the year is not a term of the diary or the report filter). */
  termsOf(cls: DemoGroup): DemoPeriod[] {
    return this.school.periods.filter((p) => p.kind !== 'year' && p.grades.includes(cls.grade));
  }

  lessonsOfPupil(pupil: DemoPupil, from: string, to: string): DemoLesson[] {
    return [...generateLessons(this.school, { groupIds: [pupil.classId, ...pupil.subgroupIds], from, to })]
      .filter((l) => l.date >= pupil.enrolledFrom && (!pupil.leftOn || l.date < pupil.leftOn));
  }

  /** The lesson's marks as the platform has them now (the tests' edits applied). */
  marksOf(lesson: DemoLesson): DemoMark[] {
    return generateLessonFacts(this.school, lesson).marks.filter((m) => !this.edits.deletedMarks.has(m.id))
      .map((m) => ({ ...m, value: this.edits.markValues.get(m.id) ?? m.value }));
  }

  /** The homework assignment of a lesson: `typeId` 3, its text or a placeholder (captured «-», «не задано», «---»). */
  homeworkOf(l: DemoLesson) {
    const id = intId('assignment', `${l.id}/hw`);
    if (l.homework) this.homework.add(id);
    const name = l.homework || PLACEHOLDERS[id % PLACEHOLDERS.length]!;
    return { id, typeId: 3, assignmentName: name, weight: 10, dueDate: stamp(l.date), classMeetingId: intId('meeting', l.id) };
  }

  diary(pupil: DemoPupil, weekStart: string, weekEnd: string, malformed: { pending: boolean }) {
    const studentId = intId('student', pupil.id);
    const days = new Map<string, unknown[]>();
    for (const l of this.lessonsOfPupil(pupil, weekStart, weekEnd)) {
      const day = days.get(l.date) ?? (new Date(`${l.date}T00:00:00Z`).getUTCDay() === 1 ? [this.extraCurricular(pupil, l.date)] : []);
      day.push(this.lessonOf(l, studentId, pupil, malformed));
      days.set(l.date, day);
    }
    const group = this.school.groups.find((g) => g.id === pupil.classId)!;
    const term = this.termsOf(group).find((p) => p.startDate <= weekEnd && p.endDate >= weekStart);
    return {
      weekStart: stamp(weekStart), weekEnd: stamp(weekEnd), laAssigns: [], termName: term?.title ?? '', className: group.name,
      weekDays: [...days].map(([date, lessons]) => ({ date: stamp(date), lessons })),
    };
  }

  private lessonOf(l: DemoLesson, studentId: number, pupil: DemoPupil, malformed: { pending: boolean }) {
    const bell = this.school.bells[l.slot - 1]!;
    const meeting = intId('meeting', l.id);
    const homework = this.homeworkOf(l);
    const assignments: unknown[] = l.homework || homework.id % 2 === 0 ? [homework] : [];
    // One assignment per work of the lesson (a category, k-th mark of a pupil in it); the pupil sees his own mark.
    const byWork = new Map<string, DemoMark[]>();
    const seen = new Map<string, number>();
    for (const m of this.marksOf(l)) {
      const n = (seen.get(`${m.pupilId}|${m.workCategory}`) ?? 0) + 1;
      seen.set(`${m.pupilId}|${m.workCategory}`, n);
      byWork.set(`${m.workCategory}#${n}`, [...(byWork.get(`${m.workCategory}#${n}`) ?? []), m]);
    }
    for (const [key, marks] of byWork) {
      const own = marks.find((m) => m.pupilId === pupil.id);
      if (!own) continue;
      const id = intId('assignment', `${l.id}/${key}`);
      let value = netschoolMark(own.value);
      if (malformed.pending) [value, malformed.pending] = ['', false];
      // 2022 marks have no id, later ones `id: 0`; neither is the mark's identity.
      const mark = id % 2 === 0 ? { assignmentId: id, studentId, mark: value, resultScore: null, dutyMark: false } : { id: 0, studentId, mark: value, resultScore: null, dutyMark: false, assignmentId: id };
      assignments.push({
        id, typeId: TYPE_OF.get(own.workCategory) ?? 2, assignmentName: own.workCategory === 'homework' ? '---Не указана---' : own.workTitle, weight: Math.round(own.weight * 10),
        dueDate: stamp(l.date), classAssignment: true, classMeetingId: meeting, mark,
        ...(id % 7 === 0 ? { markComment: { id: id % 100_000, name: 'Работа выполнена аккуратно', teacher: 'Учитель', wasRead: false, editTime: `${l.date}T15:00:00` } } : {}),
      });
    }
    const subject = this.school.subjects.find((s) => s.id === l.subjectId)!;
    return {
      classmeetingId: meeting, day: stamp(l.date), number: l.slot, relay: 1, room: l.slot % 3 === 0 ? null : `${200 + l.slot}/кабинет`, startTime: bell.start, endTime: bell.end,
      subjectName: subject.name, ...(assignments.length > 0 ? { assignments } : {}), isEaLesson: false,
    };
  }

  /** `POST student/diary/get-attachments`: files of some homework (lentryd's `AttachmentRaw`). */
  attachments(assignIds: number[]) {
    return assignIds.filter((id) => this.homework.has(id)).map((id) => ({
      assignmentId: id,
      attachments: id % 5 === 0 ? [{ id: intId('file', String(id)), name: null, originalFileName: `Задание ${id % 1000}.pdf`, description: null }] : [],
      answerFiles: [],
    }));
  }

  /** «Разговоры о важном» on Mondays: `relay: 2`, `isEaLesson: true`, after the bells, listed first (as captured). */
  private extraCurricular(pupil: DemoPupil, date: string) {
    return {
      classmeetingId: intId('ea', `${pupil.classId}/${date}`), day: stamp(date), number: 8, relay: 2, room: null, startTime: '18:30', endTime: '19:10',
      subjectName: 'Разговоры о важном', isEaLesson: true,
    };
  }
}
