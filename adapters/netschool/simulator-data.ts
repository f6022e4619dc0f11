import { createHash } from 'node:crypto';
import { generateLessonFacts, generateLessons, generatePeriodMarks, type DemoSchool } from '../../src/demo/generator.js';
import type { DemoLesson, DemoMark, DemoPeriodMark, DemoPupil, DemoWorkCategory } from '../../src/demo/types.js';
import type { FilterSource } from './mapping.js';

/**
 * The generated school in NetSchool's shapes (platforms.md §2.3–2.5): numeric ids, the weekly diary
 * per pupil (classmeetingId / classMeetingId spellings, assignments with typeId and integer weight,
 * marks as int or string), the report filters and the «studenttotal» HTML report.
 */

/** A stable positive int for a key: 44 bits of a hash, so that a year's ~10⁶ marks do not collide (and below 2^53). */
export function intId(kind: string, key: string): number {
  return parseInt(createHash('sha1').update(`${kind}/${key}`).digest('hex').slice(0, 11), 16) + 1;
}

/** Assignment types of the school (grade/assignment/types): category → id, name, abbr. */
export const ASSIGNMENT_TYPES: Array<{ id: number; category: DemoWorkCategory | 'homework-text'; name: string; abbr: string }> = [
  { id: 1, category: 'oral', name: 'Ответ на уроке', abbr: 'О' },
  { id: 3, category: 'homework', name: 'Домашнее задание', abbr: 'Д' },
  { id: 4, category: 'written', name: 'Самостоятельная работа', abbr: 'С' },
  { id: 5, category: 'test', name: 'Тест', abbr: 'Т' },
  { id: 6, category: 'practical', name: 'Практическая работа', abbr: 'П' },
  { id: 7, category: 'lab', name: 'Лабораторная работа', abbr: 'Л' },
  { id: 8, category: 'control', name: 'Контрольная работа', abbr: 'К' },
  { id: 9, category: 'essay', name: 'Сочинение', abbr: 'Сч' },
  { id: 10, category: 'other', name: 'Другое', abbr: 'Др' },
];

const TYPE_OF = new Map(ASSIGNMENT_TYPES.map((t) => [t.category, t.id]));
const MONTHS = ['Январь', 'Февраль', 'Март', 'Апрель', 'Май', 'Июнь', 'Июль', 'Август', 'Сентябрь', 'Октябрь', 'Ноябрь', 'Декабрь'];

/** NetSchool stores marks as ints; «5-»/«4+» have no place there and arrive as the digit [I]. */
export function netschoolMark(value: string): number | string {
  const digit = /^(\d)[+-]?$/.exec(value);
  return digit ? Number(digit[1]) : value;
}

export interface NetSchoolEdits {
  markValues: Map<string, string>;
  deletedMarks: Set<string>;
}

export class NetSchoolData {
  readonly edits: NetSchoolEdits = { markValues: new Map(), deletedMarks: new Set() };
  readonly yearId: number;
  private readonly pupilsById = new Map<number, DemoPupil>();
  private readonly classIds = new Map<string, number>();
  private readonly classByInt = new Map<number, string>();
  private periodMarks?: DemoPeriodMark[];

  constructor(readonly school: DemoSchool) {
    this.yearId = school.year.startYear * 10 + 1;
    for (const p of school.pupils) this.pupilsById.set(intId('student', p.id), p);
    for (const g of school.groups.filter((x) => x.kind === 'class')) {
      this.classIds.set(g.id, intId('class', g.id));
      this.classByInt.set(intId('class', g.id), g.id);
    }
  }

  pupil(studentId: number): DemoPupil | undefined {
    return this.pupilsById.get(studentId);
  }

  classOf(classId: number): string | undefined {
    return this.classByInt.get(classId);
  }

  diaryInit() {
    const students = this.school.pupils.map((p) => ({ studentId: intId('student', p.id), nickName: `${p.lastName} ${p.firstName} ${p.middleName}`, classId: this.classIds.get(p.classId)!, iupGrade: 0 }));
    return { students, currentStudentId: 0, weekStart: `${this.school.year.startDate}T00:00:00`, yaClass: false, yaClassAuthUrl: null, newDiskToken: '', newDiskWasRequest: false, ttsuRl: '', externalUrl: '', weight: true, maxMark: 5, withLaAssigns: true };
  }

  yearCurrent() {
    const y = this.school.year;
    return { id: this.yearId, name: `${y.startYear}/${y.startYear + 1}`, startDate: `${y.startDate}T00:00:00`, endDate: `${y.startYear + 1}-08-31T00:00:00`, schoolId: 1, globalYear: { id: y.startYear, name: `${y.startYear}/${y.startYear + 1}` } };
  }

  assignmentTypes() {
    return ASSIGNMENT_TYPES.map(({ id, name, abbr }, order) => ({ id, name, abbr, order }));
  }

  studentGrades() {
    const classes = this.school.groups.filter((g) => g.kind === 'class').map((g) => ({ title: g.name, value: String(this.classIds.get(g.id)) }));
    return {
      report: 'studentGrades',
      filterSources: [
        { filterId: 'PCLID', items: classes, defaultValue: classes[0]?.value ?? null, range: null },
        { filterId: 'SID', items: [], defaultValue: null, range: null },
      ],
    };
  }

  /** Filters once a class (and maybe a term) is chosen: its pupils, its terms, the term's dates. */
  initFilters(classId: number, termId: string | undefined) {
    const groupId = this.classOf(classId);
    const grade = this.school.groups.find((g) => g.id === groupId)?.grade ?? -1;
    const terms = this.school.periods.filter((p) => p.grades.includes(grade));
    const pupils = this.school.pupils.filter((p) => p.classId === groupId).map((p) => ({ title: `${p.lastName} ${p.firstName}`, value: String(intId('student', p.id)) }));
    const term = terms.find((t) => String(intId('term', t.id)) === termId);
    const sources: FilterSource[] = [
      { filterId: 'SID', items: pupils, defaultValue: pupils[0]?.value ?? null, range: null },
      { filterId: 'TERMID', items: terms.map((t) => ({ title: t.title, value: String(intId('term', t.id)) })), defaultValue: null, range: null },
    ];
    if (term) sources.push({ filterId: 'period', items: null, defaultValue: null, range: { start: `${term.startDate}T00:00:00`, end: `${term.endDate}T00:00:00` } });
    return { filterSources: sources };
  }

  termOf(termId: string) {
    return this.school.periods.find((p) => String(intId('term', p.id)) === termId);
  }

  private lessonsOfPupil(pupil: DemoPupil, from: string, to: string): DemoLesson[] {
    return [...generateLessons(this.school, { groupIds: [pupil.classId, ...pupil.subgroupIds], from, to })]
      .filter((l) => l.date >= pupil.enrolledFrom && (!pupil.leftOn || l.date < pupil.leftOn));
  }

  /** The lesson's marks as the platform has them now (the tests' edits applied). */
  private marksOf(lesson: DemoLesson, facts = generateLessonFacts(this.school, lesson)): DemoMark[] {
    return facts.marks.filter((m) => !this.edits.deletedMarks.has(m.id))
      .map((m) => ({ ...m, value: this.edits.markValues.get(m.id) ?? m.value }));
  }

  diary(pupil: DemoPupil, weekStart: string, weekEnd: string, malformed: boolean) {
    const lessons = this.lessonsOfPupil(pupil, weekStart, weekEnd);
    const studentId = intId('student', pupil.id);
    const days = new Map<string, unknown[]>();
    let broken = !malformed;
    for (const l of lessons) {
      const bell = this.school.bells[l.slot - 1]!;
      const meeting = intId('meeting', l.id);
      const assignments: unknown[] = [];
      // One assignment per work of the lesson (a category, k-th mark of a pupil in it); the pupil sees his own mark.
      const byWork = new Map<string, DemoMark[]>();
      const seen = new Map<string, number>();
      for (const m of this.marksOf(l)) {
        const n = (seen.get(`${m.pupilId}|${m.workCategory}`) ?? 0) + 1;
        seen.set(`${m.pupilId}|${m.workCategory}`, n);
        const key = `${m.workCategory}#${n}`;
        byWork.set(key, [...(byWork.get(key) ?? []), m]);
      }
      for (const [key, marks] of byWork) {
        const first = marks[0]!;
        const id = intId('assignment', `${l.id}/${key}`);
        const own = marks.find((m) => m.pupilId === pupil.id);
        let mark: unknown = own ? { id: intId('mark', own.id), studentId, mark: netschoolMark(own.value), resultScore: null, dutyMark: false, assignmentId: id } : null;
        if (own && !broken) {
          mark = { ...(mark as object), mark: '' };
          broken = true;
        }
        assignments.push({
          id, typeId: TYPE_OF.get(first.workCategory) ?? 10, assignmentName: first.workTitle, weight: Math.round(first.weight * 10), dueDate: `${l.date}T00:00:00`,
          classAssignment: true, classMeetingId: meeting, ...(mark ? { mark } : {}), markComment: null, attachments: [],
        });
      }
      if (l.homework) {
        assignments.push({ id: intId('assignment', `${l.id}/hw`), typeId: 3, assignmentName: l.homework, weight: 0, dueDate: `${l.date}T00:00:00`, classAssignment: true, classMeetingId: meeting, attachments: [] });
      }
      const subject = this.school.subjects.find((s) => s.id === l.subjectId)!;
      const lesson = {
        classmeetingId: meeting, day: `${l.date}T00:00:00`, number: l.slot, relay: 1, room: `${100 + l.slot}`, startTime: bell.start, endTime: bell.end,
        subjectName: subject.name, isEaLesson: false, assignments,
      };
      days.set(l.date, [...(days.get(l.date) ?? []), lesson]);
    }
    const group = this.school.groups.find((g) => g.id === pupil.classId)!;
    return {
      weekStart: `${weekStart}T00:00:00`, weekEnd: `${weekEnd}T00:00:00`, termName: '', className: group.name, laAssigns: [], pastMandatory: [],
      weekDays: [...days].map(([date, ls]) => ({ date: `${date}T00:00:00`, lessons: ls })),
    };
  }

  /** The «studenttotal» report of a pupil and term: subjects × days, then the average and the term mark. */
  studentTotal(pupil: DemoPupil, termId: string): string {
    const term = this.termOf(termId);
    if (!term) return '<html><body><p>Нет данных</p></body></html>';
    const lessons = this.lessonsOfPupil(pupil, term.startDate, term.endDate);
    const dates = [...new Set(lessons.map((l) => l.date))].sort();
    this.periodMarks ??= [...generatePeriodMarks(this.school)];
    const finals = this.periodMarks.filter((pm) => pm.pupilId === pupil.id && pm.periodId === term.id);
    const subjects = this.school.subjects.filter((s) => lessons.some((l) => l.subjectId === s.id) || finals.some((f) => f.subjectId === s.id));
    // A column per day and lesson of a subject that day: a double lesson has two columns under one day number.
    const cells = new Map<string, string[][]>();
    const width = new Map<string, number>();
    for (const l of lessons.sort((a, b) => a.date.localeCompare(b.date) || a.slot - b.slot)) {
      const facts = generateLessonFacts(this.school, l);
      const key = `${l.subjectId}|${l.date}`;
      const lessonCells = cells.get(key) ?? [];
      const tokens: string[] = [];
      for (const m of this.marksOf(l, facts)) if (m.pupilId === pupil.id) tokens.push(String(netschoolMark(m.value)));
      for (const a of facts.absences) if (a.pupilId === pupil.id) tokens.push(a.code);
      lessonCells.push(tokens);
      cells.set(key, lessonCells);
      width.set(l.date, Math.max(width.get(l.date) ?? 1, lessonCells.length));
    }
    const months: Array<{ month: number; columns: Array<{ date: string; lesson: number }> }> = [];
    for (const d of dates) {
      const month = Number(d.slice(5, 7));
      if (months[months.length - 1]?.month !== month) months.push({ month, columns: [] });
      for (let k = 0; k < (width.get(d) ?? 1); k++) months[months.length - 1]!.columns.push({ date: d, lesson: k });
    }
    const head1 = months.map((m) => `<th colspan="${m.columns.length}">${MONTHS[m.month - 1]}</th>`).join('');
    const head2 = months.flatMap((m) => m.columns.map((c) => `<th>${Number(c.date.slice(8, 10))}</th>`)).join('');
    const all = months.flatMap((m) => m.columns);
    const rows = subjects.map((s) => {
      const final = finals.find((f) => f.subjectId === s.id);
      const days = all.map((c) => `<td>${escape((cells.get(`${s.id}|${c.date}`)?.[c.lesson] ?? []).join(' '))}</td>`).join('');
      const average = final?.average !== null && final?.average !== undefined ? final.average.toFixed(2).replace('.', ',') : '';
      return `<tr><td class="cell-text">${escape(s.name)}</td>${days}<td>${average}</td><td>${escape(final?.value ?? '')}</td></tr>`;
    }).join('\n');
    return `<!DOCTYPE html><html><head><meta charset="utf-8"><title>Отчет об успеваемости и посещаемости ученика</title></head><body>
<h1>Отчет об успеваемости и посещаемости ученика</h1>
<div class="filter">Ученик: ${escape(`${pupil.lastName} ${pupil.firstName}`)}; Период: ${escape(term.title)}</div>
<table class="table-print" border="1">
<tr><th rowspan="2">Предмет</th>${head1}<th rowspan="2">Средняя оценка</th><th rowspan="2">Итоговая оценка</th></tr>
<tr>${head2}</tr>
${rows}
</table></body></html>`;
  }
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
