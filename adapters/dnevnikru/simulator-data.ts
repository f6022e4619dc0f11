import { createHash } from 'node:crypto';
import { generateLessonFacts, generateLessons, generatePeriodMarks, type DemoSchool } from '../../src/demo/generator.js';
import type { DemoLesson, DemoWorkCategory } from '../../src/demo/types.js';

/**
 * The generated school in Дневник.ру's shapes (platforms.md §1.4): 64-bit ids (most above 2^53) with
 * `*_str` twins, PascalCase teachers and timetables, string mark values with a mood, work types that
 * carry the weight, lesson log entries, final marks with hyphenated keys. Everything dated is derived
 * from the generator per request.
 */

/** A 64-bit id, emitted as raw digits in the JSON text (see `toJson`). */
export class BigId {
  constructor(readonly digits: string) {}
}

const KIND_BASE: Record<string, bigint> = { school: 1n, group: 2n, person: 3n, subject: 4n, lesson: 5n, work: 6n, mark: 7n, period: 8n, user: 9n };

/** Stable ids: a kind prefix and 15 hash digits, so 1.0e18…9.9e18 — far above 2^53. */
export function bigIdOf(kind: keyof typeof KIND_BASE, key: string): BigId {
  const cacheKey = `${kind}/${key}`;
  let id = ids.get(cacheKey);
  if (!id) {
    const hash = BigInt(`0x${createHash('sha1').update(cacheKey).digest('hex').slice(0, 15)}`) % 10n ** 17n;
    id = new BigId(String(KIND_BASE[kind]! * 10n ** 17n + hash));
    if (ids.size > 200_000) ids.clear();
    ids.set(cacheKey, id);
  }
  return id;
}

const ids = new Map<string, BigId>();

const BIG = '#bigid#';
const BIG_PATTERN = /"#bigid#(\d+)"/g;

/** JSON.stringify that writes BigId values as bare numbers. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (v instanceof BigId ? `${BIG}${v.digits}` : v)).replace(BIG_PATTERN, '$1');
}

const id = (kind: keyof typeof KIND_BASE, key: string) => {
  const big = bigIdOf(kind, key);
  return { id: big, id_str: big.digits };
};

/** The work types of the school: kind → category and weight (the weight lives on the work type). */
export const WORK_TYPES: Array<{ kind: string; category: DemoWorkCategory; title: string; abbr: string; weight: number }> = [
  { kind: 'Oral', category: 'oral', title: 'Ответ на уроке', abbr: 'О', weight: 1 },
  { kind: 'Homework', category: 'homework', title: 'Домашнее задание', abbr: 'ДЗ', weight: 1 },
  { kind: 'Written', category: 'written', title: 'Самостоятельная работа', abbr: 'СР', weight: 1.5 },
  { kind: 'Test', category: 'test', title: 'Тест', abbr: 'Т', weight: 1.5 },
  { kind: 'Practical', category: 'practical', title: 'Практическая работа', abbr: 'ПР', weight: 1 },
  { kind: 'Lab', category: 'lab', title: 'Лабораторная работа', abbr: 'ЛР', weight: 1.5 },
  { kind: 'Control', category: 'control', title: 'Контрольная работа', abbr: 'КР', weight: 2 },
  { kind: 'Essay', category: 'essay', title: 'Сочинение', abbr: 'Соч', weight: 2 },
  { kind: 'Other', category: 'other', title: 'Работа на уроке', abbr: 'Р', weight: 1 },
];

/** Absence codes of the generator → lesson log entry statuses [I]. */
export const LOG_STATUS: Record<string, string> = { Н: 'Absent', Б: 'Ill', УП: 'Pass', ОП: 'Late' };

const PERIOD_TYPE: Record<string, string> = { quarter: 'Quarter', half_year: 'HalfYear', year: 'Year' };

/** Changes a test makes to what the platform says, on top of the generated school. */
export interface PlatformEdits {
  markValues: Map<string, string>;
  deletedMarks: Set<string>;
  extraLessons: DemoLesson[];
}

export class DnevnikData {
  readonly schoolId = bigIdOf('school', 'school');
  readonly edits: PlatformEdits = { markValues: new Map(), deletedMarks: new Set(), extraLessons: [] };
  private readonly groupsByDigits = new Map<string, string>();

  constructor(readonly school: DemoSchool) {
    for (const g of school.groups) this.groupsByDigits.set(bigIdOf('group', g.id).digits, g.id);
  }

  /** The generator's group id behind a Dnevnik group id, if any. */
  groupOf(digits: string): string | undefined {
    return this.groupsByDigits.get(digits);
  }

  context(userKey: string) {
    const user = bigIdOf('user', userKey);
    return {
      userId: user, userId_str: user.digits, roles: ['EduStaff', 'EduSchoolAdministrator'],
      schools: [{ ...id('school', 'school'), name: this.school.school.shortName, type: 'School' }],
      schoolIds: [this.schoolId], eduGroups: this.school.groups.map((g) => this.group(g.id)),
    };
  }

  schoolInfo() {
    const s = this.school.school;
    return { ...id('school', 'school'), name: s.shortName, fullName: s.name, city: 'Москва', timeZone: 3, uses_weighted_avg: true, markType: 'Mark5' };
  }

  group(groupId: string) {
    const g = this.school.groups.find((x) => x.id === groupId)!;
    const parent = g.parentId ? bigIdOf('group', g.parentId) : undefined;
    return {
      ...id('group', g.id), type: g.kind === 'class' ? 'Group' : 'Subgroup', name: g.name, fullName: g.name, parallel: g.grade,
      studyyear: this.school.year.startYear, parentIds: parent ? [parent] : [], parentIds_str: parent ? [parent.digits] : [], status: 'Active',
    };
  }

  persons(groupId: string) {
    return this.school.pupils
      .filter((p) => p.classId === groupId || p.subgroupIds.includes(groupId))
      .map((p) => ({
        ...id('person', p.id), userId: bigIdOf('user', p.id), userId_str: bigIdOf('user', p.id).digits,
        firstName: p.firstName, lastName: p.lastName, middleName: p.middleName, shortName: `${p.lastName} ${p.firstName[0]}.`,
        sex: p.sex === 'f' ? 'Female' : 'Male',
      }));
  }

  subjects() {
    return this.school.subjects.map((s) => ({ id: bigIdOf('subject', s.id), idStr: bigIdOf('subject', s.id).digits, name: s.name, knowledgeArea: s.shortName }));
  }

  teachers() {
    return this.school.staff.map((t) => ({
      Id: bigIdOf('person', t.id), IdStr: bigIdOf('person', t.id).digits, FirstName: t.firstName, LastName: t.lastName, MiddleName: t.middleName,
      ShortName: `${t.lastName} ${t.firstName[0]}.`, Sex: t.sex === 'f' ? 'Female' : 'Male', DateBirth: `${t.birthDate}T00:00:00`,
      HouseMaster: t.roles.filter((r) => r.role === 'class_teacher').map((r) => bigIdOf('group', r.groupId!).digits),
      NameTeacherPosition: t.roles.some((r) => r.role === 'director') ? 'Директор' : t.roles.some((r) => r.role === 'deputy') ? 'Заместитель директора' : 'Учитель',
    }));
  }

  reportingPeriods(groupId: string) {
    const grade = this.school.groups.find((g) => g.id === groupId)?.grade ?? 0;
    return this.school.periods.filter((p) => p.grades.includes(grade)).map((p) => ({
      ...id('period', p.id), start: `${p.startDate}T00:00:00`, finish: `${p.endDate}T23:59:59`, number: p.number - 1,
      type: PERIOD_TYPE[p.kind], name: p.title, year: this.school.year.startYear,
    }));
  }

  timetables() {
    return [{ Name: 'Основное расписание', Start: `${this.school.year.startDate}T00:00:00`, FirstLessonNumber: 1,
      Items: this.school.bells.map((b) => ({ Id: b.slot, Start: b.start, Finish: b.end, Name: `${b.slot} урок`, Type: 'Lesson', DaysOfWeek: [1, 2, 3, 4, 5], LessonNumber: b.slot })) }];
  }

  workTypes() {
    return WORK_TYPES.map((w, i) => ({ id: i + 1, schoolId: this.schoolId, kindId: i + 1, kind: w.kind, title: w.title, abbr: w.abbr, weight: w.weight }));
  }

  lessonsOf(groupId: string, from: string, to: string): DemoLesson[] {
    const extra = this.edits.extraLessons.filter((l) => l.groupId === groupId && l.date >= from && l.date <= to);
    return [...generateLessons(this.school, { groupIds: [groupId], from, to }), ...extra];
  }

  lesson(l: DemoLesson) {
    const teachers = [l.teacherId, ...(l.substituteId ? [l.substituteId] : [])].map((t) => bigIdOf('person', t));
    const works = l.homework ? [{ ...id('work', `${l.id}/homework`), type: 'Homework', workType: 2, markType: 'LogEntry', lesson: bigIdOf('lesson', l.id), lesson_str: bigIdOf('lesson', l.id).digits, text: l.homework, eduGroup: bigIdOf('group', l.groupId), eduGroup_str: bigIdOf('group', l.groupId).digits }] : [];
    const subject = this.school.subjects.find((s) => s.id === l.subjectId)!;
    return {
      ...id('lesson', l.id), title: l.topic, date: `${l.date}T${this.school.bells[l.slot - 1]!.start}:00`, number: l.slot,
      subject: { id: bigIdOf('subject', subject.id), idStr: bigIdOf('subject', subject.id).digits, name: subject.name },
      group: bigIdOf('group', l.groupId), group_str: bigIdOf('group', l.groupId).digits, works, teachers, teachersStr: teachers.map((t) => t.digits),
      status: l.status === 'cancelled' ? 'Cancelled' : 'Conducted',
    };
  }

  marksOf(lessons: DemoLesson[], malformed: boolean) {
    const marks = lessons.flatMap((l) => generateLessonFacts(this.school, l).marks.filter((m) => !this.edits.deletedMarks.has(m.id)).map((m) => {
      const type = WORK_TYPES.findIndex((w) => w.category === m.workCategory);
      return {
        ...id('mark', m.id), type: 'Mark', value: this.edits.markValues.get(m.id) ?? m.value, textValue: this.edits.markValues.get(m.id) ?? m.value, person: bigIdOf('person', m.pupilId), person_str: bigIdOf('person', m.pupilId).digits,
        work: bigIdOf('work', `${l.id}/${m.workCategory}`), work_str: bigIdOf('work', `${l.id}/${m.workCategory}`).digits,
        lesson: bigIdOf('lesson', l.id), lesson_str: bigIdOf('lesson', l.id).digits, number: 0, date: m.enteredAt.slice(0, 19),
        workType: type + 1, mood: moodOf(m.value), use_avg_calc: true,
      };
    }));
    if (malformed && marks[0]) marks[0] = { ...marks[0], value: '', textValue: '' };
    return marks;
  }

  logEntriesOf(lessons: DemoLesson[]) {
    return lessons.flatMap((l) => generateLessonFacts(this.school, l).absences.map((a) => ({
      person: bigIdOf('person', a.pupilId), person_str: bigIdOf('person', a.pupilId).digits, lesson: bigIdOf('lesson', l.id), lesson_str: bigIdOf('lesson', l.id).digits,
      comment: a.lateMinutes ? `опоздание ${a.lateMinutes} мин` : null, status: LOG_STATUS[a.code], createdDate: `${l.date}T${this.school.bells[l.slot - 1]!.end}:00`,
    })));
  }

  private periodMarks?: Array<ReturnType<typeof generatePeriodMarks> extends Generator<infer T> ? T : never>;

  finalMarks(groupId: string) {
    const pupils = new Set(this.school.pupils.filter((p) => p.classId === groupId).map((p) => p.id));
    const byPupilPeriod = new Map<string, ReturnType<DnevnikData['finalMark']>[]>();
    // Period marks need the whole year's marks; computed once per simulator.
    this.periodMarks ??= [...generatePeriodMarks(this.school)];
    for (const pm of this.periodMarks) {
      if (!pupils.has(pm.pupilId)) continue;
      const key = `${pm.pupilId}|${pm.periodId}`;
      byPupilPeriod.set(key, [...(byPupilPeriod.get(key) ?? []), this.finalMark(pm)]);
    }
    return [...byPupilPeriod].map(([key, subjects]) => {
      const [pupilId, periodId] = key.split('|') as [string, string];
      const period = bigIdOf('period', periodId);
      return { person: bigIdOf('person', pupilId), person_str: bigIdOf('person', pupilId).digits, group: bigIdOf('group', groupId), group_str: bigIdOf('group', groupId).digits,
        reportingPeriod: period, reportingPeriod_str: period.digits, 'per-subject-final-marks': subjects };
    });
  }

  private finalMark(pm: { id: string; pupilId: string; subjectId: string; value: string; setAt: string }) {
    return {
      subject: bigIdOf('subject', pm.subjectId), subject_str: bigIdOf('subject', pm.subjectId).digits,
      'final-mark': { ...id('mark', pm.id), type: 'FinalMark', value: pm.value, textValue: pm.value, person: bigIdOf('person', pm.pupilId), person_str: bigIdOf('person', pm.pupilId).digits, date: pm.setAt.slice(0, 19), mood: moodOf(pm.value) },
    };
  }
}

function moodOf(value: string): string {
  if (/^5|^зч/.test(value)) return 'Good';
  if (/^4/.test(value)) return 'Good';
  if (/^3/.test(value)) return 'Average';
  if (/^2|^нз|^н\//.test(value)) return 'Bad';
  return 'NotSet';
}
