import { createHash } from 'node:crypto';
import { generateLessonFacts, generateLessons, generatePeriodMarks, type DemoSchool } from '../../src/demo/generator.js';
import type { DemoAbsence, DemoAbsenceCode, DemoGroup, DemoLesson, DemoLessonFacts, DemoMark, DemoPeriod, DemoPupil, DemoWorkCategory } from '../../src/demo/types.js';

/**
 * The generated school in Kundoluk's shapes (platforms.md §4.1): one account per pupil, lessons
 * (camelCase, bilingual subject names) with the pupil's own marks (snake_case), quarter marks with the
 * duplicates the real answer is known for. Answers are built per request from per-class caches.
 */

/** Kyrgyz names of the demo curriculum's subjects (the Russian name is `nameRu`). */
export const KYRGYZ_NAMES: Record<string, string> = {
  'Русский язык': 'Орус тили', 'Кыргызский язык': 'Кыргыз тили', 'Литературное чтение': 'Адабий окуу', 'Литература': 'Адабият',
  'Английский язык': 'Англис тили', 'Математика': 'Математика', 'Алгебра': 'Алгебра', 'Геометрия': 'Геометрия',
  'Вероятность и статистика': 'Ыктымалдуулук жана статистика', 'Окружающий мир': 'Мекен таануу', 'Информатика': 'Информатика',
  'История': 'Тарых', 'Обществознание': 'Коом таануу', 'География': 'География', 'Биология': 'Биология', 'Физика': 'Физика',
  'Химия': 'Химия', 'Музыка': 'Музыка', 'Изобразительное искусство': 'Сүрөт искусствосу', 'Труд (технология)': 'Эмгек (технология)',
  'Основы религиозных культур и светской этики': 'Диний маданияттардын негиздери', 'Основы безопасности и защиты Родины': 'Коопсуздук жана Мекенди коргоо',
  'Физическая культура': 'Дене тарбия',
};

/** Work categories of the generator → `mark_type` (Kundoluk has no essay or oral type [I]). */
const MARK_TYPE: Record<DemoWorkCategory, string> = {
  oral: 'general', written: 'write', control: 'control', essay: 'write', lab: 'laboratory', practical: 'practice', homework: 'homework', test: 'test', other: 'general',
};

/** Absence codes → `absent`, `absent_type`, `absent_reason` [I]; lateness is `late_minutes` on a present pupil. */
const ABSENCE: Record<DemoAbsenceCode, { absent: boolean; type: string | null; reason: string | null }> = {
  Н: { absent: true, type: 'noreason', reason: null },
  Б: { absent: true, type: 'sick', reason: 'Болезнь' },
  УП: { absent: true, type: 'reason', reason: 'Семейные обстоятельства' },
  ОП: { absent: false, type: null, reason: null },
};

const OKPO = '20481736';
const hex = (kind: string, key: string) => createHash('sha1').update(`${kind}/${key}`).digest('hex');

/** A stable uuid-shaped id. */
export function uuidOf(kind: string, key: string): string {
  const h = hex(kind, key);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** A 14-digit personal number (ПИН). */
const pinOf = (key: string) => `2${String(parseInt(hex('pin', key).slice(0, 12), 16)).padStart(13, '0').slice(-13)}`;

/** Marks are integers in Kundoluk: «5-» arrives as 5 [I]; words and «2/5» as `custom_mark`. */
export function kundolukMark(value: string): { mark: number; custom_mark: string | null } {
  const digit = /^(\d)[+-]?$/.exec(value);
  return digit ? { mark: Number(digit[1]), custom_mark: null } : { mark: 0, custom_mark: value };
}

/** "2025-09-01T10:15:00+03:00" → "2025-09-01T10:15:00": the server writes school-local times [I]. */
const local = (instant: string) => instant.slice(0, 19);

export interface Credential {
  username: string;
  password: string;
}

/** The deputy head's login to the legacy web journal (sees every class journal). */
export interface TeacherCredential {
  login: string;
  password: string;
}

/** Remembers the last few answers' building blocks (a class's lessons of a range, their facts). */
class Recent<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly size: number) {}
  get(key: string, make: () => V): V {
    let value = this.map.get(key);
    if (value === undefined) {
      value = make();
      this.map.set(key, value);
      if (this.map.size > this.size) this.map.delete(this.map.keys().next().value!);
    }
    return value;
  }
}

type Json = Record<string, unknown>;

export class KundolukData {
  readonly credentials: Credential[];
  readonly teacher: TeacherCredential;
  private readonly byLogin = new Map<string, DemoPupil>();
  private readonly lessons = new Recent<Array<{ lesson: DemoLesson; json: Json }>>(64);
  private readonly facts = new Recent<Map<string, DemoLessonFacts>>(24);
  private readonly groups: Map<string, DemoGroup>;
  private readonly subjects: Map<string, Json>;
  private readonly teachers: Map<string, Json>;
  private quarterMarks?: Map<string, Json[]>;

  constructor(readonly school: DemoSchool) {
    this.credentials = school.pupils.map((p) => ({ username: `u${p.id.replace(/\D/g, '')}`, password: `Kd-${hex('password', `${school.options.seed}/${p.id}`).slice(0, 10)}!` }));
    school.pupils.forEach((p, i) => this.byLogin.set(this.credentials[i]!.username, p));
    this.teacher = { login: 'zavuch', password: `Kw-${hex('teacher', String(school.options.seed)).slice(0, 12)}#` };
    this.groups = new Map(school.groups.map((g) => [g.id, g]));
    this.subjects = new Map(school.subjects.map((s) => [s.id, {
      code: uuidOf('subject', s.id), name: KYRGYZ_NAMES[s.name] ?? s.name, nameKg: KYRGYZ_NAMES[s.name] ?? s.name, nameRu: s.name,
      short: s.shortName, shortKg: null, shortRu: s.shortName, grade: null,
    }]));
    this.teachers = new Map(school.staff.map((t) => [t.id, { pin: Number(pinOf(t.id)), pinAsString: pinOf(t.id), firstName: t.firstName, lastName: t.lastName, midName: t.middleName }]));
  }

  login(credential: Credential): DemoPupil | undefined {
    const pupil = this.byLogin.get(credential.username);
    const expected = this.credentials.find((c) => c.username === credential.username);
    return pupil && expected?.password === credential.password ? pupil : undefined;
  }

  /** The web journal's class journals: its own numeric ids [I], and the class as the page captions it («7-А»). */
  webClasses(): Array<{ webId: string; caption: string; group: DemoGroup }> {
    return this.school.groups.filter((g) => g.kind === 'class').map((g, i) => ({ webId: String(1001 + i), caption: `${g.grade}-${g.letter}`, group: g }));
  }

  /** The pupils of a class journal, each with the web journal's own numeric id [I]; pupils who left are listed too. */
  webPupils(classId: string): Array<{ webId: string; pupil: DemoPupil }> {
    return this.school.pupils.filter((p) => p.classId === classId).map((pupil) => ({ webId: String(parseInt(hex('web-student', pupil.id).slice(0, 7), 16)), pupil }));
  }

  /** The login answer's account fields (the token is added by the server). */
  account(p: DemoPupil): Json {
    const cls = this.groups.get(p.classId)!;
    return {
      userId: uuidOf('user', p.id), studentId: uuidOf('student', p.id), okpo: OKPO, pin: Number(pinOf(p.id)), pinAsString: pinOf(p.id),
      grade: cls.grade, letter: cls.letter, last_name: p.lastName, first_name: p.firstName, mid_name: p.middleName, email: null, phone: null,
      isAgreementSigned: true, locale: 'ky', changePassword: false, type: 'student', birthdate: `${p.birthDate}T00:00:00`,
      school: { schoolId: uuidOf('school', OKPO), institutionId: null, okpo: OKPO, nameRu: this.school.school.name, shortName: this.school.school.shortName, isStaffActive: true },
    };
  }

  /** `gradebook/list`: the pupil's lessons of the days, without marks. */
  schedule(p: DemoPupil, from: string, to: string): Json[] {
    return this.lessonsOf(p, from, to).map(({ json }) => ({ ...json, marks: [] }));
  }

  /** `gradebook/term/{n}`: the term's lessons where the pupil has marks (`absent` false) or attendance notes (true). */
  term(p: DemoPupil, number: number, absent: boolean, malformed: boolean): Json[] | undefined {
    const term = this.termOf(number);
    if (!term) return undefined;
    const facts = this.facts.get(`${p.classId}|${term.id}`, () => this.factsOf(p, term));
    const answer: Json[] = [];
    let broken = !malformed || absent;
    for (const { lesson, json } of this.lessonsOf(p, term.startDate, term.endDate)) {
      const own = facts.get(lesson.id)!;
      const entries = absent
        ? own.absences.filter((a) => a.pupilId === p.id).map((a) => this.absenceJson(p, a))
        : own.marks.filter((m) => m.pupilId === p.id).map((m) => this.markJson(p, m));
      if (entries.length === 0) continue;
      if (!broken) {
        entries[0] = { ...entries[0], mark: 0, custom_mark: ' ' };
        broken = true;
      }
      answer.push({ ...json, marks: entries });
    }
    return answer;
  }

  /** `homework/list?term_no=`: the term's lessons that set homework. */
  homework(p: DemoPupil, number: number): Json[] | undefined {
    const term = this.termOf(number);
    if (!term) return undefined;
    return this.lessonsOf(p, term.startDate, term.endDate).filter(({ lesson }) => lesson.homework).map(({ json }) => ({ ...json, marks: [] }));
  }

  /** `qmarks/all`: per subject, the pupil's quarter marks, some twice (same or another objectId). */
  quarterMarksOf(p: DemoPupil): Json[] {
    this.quarterMarks ??= this.buildQuarterMarks();
    const bySubject = new Map<string, Json[]>();
    for (const q of this.quarterMarks.get(p.id) ?? []) {
      let list = bySubject.get(String(q.subjectNameRu));
      if (!list) bySubject.set(String(q.subjectNameRu), (list = []));
      list.push(q);
    }
    return [...bySubject].map(([nameRu, quarterMarks]) => ({ subjectNameRu: nameRu, subjectNameKg: KYRGYZ_NAMES[nameRu] ?? nameRu, quarterMarks }));
  }

  private termOf(number: number): DemoPeriod | undefined {
    return this.school.periods.find((p) => p.kind === 'quarter' && p.number === number);
  }

  private lessonsOf(p: DemoPupil, from: string, to: string): Array<{ lesson: DemoLesson; json: Json }> {
    const groups = new Set([p.classId, ...p.subgroupIds]);
    return this.lessons.get(`${p.classId}|${from}|${to}`, () => this.classLessons(p.classId, from, to))
      .filter(({ lesson }) => groups.has(lesson.groupId) && lesson.date >= p.enrolledFrom && (!p.leftOn || lesson.date < p.leftOn));
  }

  private classLessons(classId: string, from: string, to: string): Array<{ lesson: DemoLesson; json: Json }> {
    const groupIds = this.school.groups.filter((g) => g.id === classId || g.parentId === classId).map((g) => g.id);
    return [...generateLessons(this.school, { groupIds, from, to })].map((lesson) => ({ lesson, json: this.lessonJson(lesson) }));
  }

  private factsOf(p: DemoPupil, term: DemoPeriod): Map<string, DemoLessonFacts> {
    const all = this.lessons.get(`${p.classId}|${term.startDate}|${term.endDate}`, () => this.classLessons(p.classId, term.startDate, term.endDate));
    return new Map(all.map(({ lesson }) => [lesson.id, generateLessonFacts(this.school, lesson)]));
  }

  private lessonJson(l: DemoLesson): Json {
    const group = this.groups.get(l.groupId)!;
    const cls = group.parentId ? this.groups.get(group.parentId)! : group;
    const bell = this.school.bells[l.slot - 1]!;
    const [year, month, day] = l.date.split('-').map(Number);
    const weekday = new Date(`${l.date}T00:00:00Z`).getUTCDay() || 7;
    const split = group.kind === 'subgroup'
      ? { group: Number(/(\d+)$/.exec(group.name)?.[1] ?? 1), groupId: uuidOf('group', group.id), subjectGroupName: group.name.slice(cls.name.length).trim() }
      : { group: null, groupId: null, subjectGroupName: null };
    return {
      uid: uuidOf('lesson', l.id), scheduleItemId: uuidOf('schedule', `${l.groupId}|${weekday}|${l.slot}`),
      teacher: this.teachers.get(l.substituteId ?? l.teacherId) ?? null, subject: this.subjects.get(l.subjectId),
      roomData: { id: uuidOf('room', String(100 + l.slot)), roomName: String(100 + l.slot), floor: 1, block: null },
      startTime: bell.start, endTime: bell.end, lessonTime: `${bell.start}-${bell.end}`, lessonDay: `${l.date}T00:00:00`, year, month, day, lesson: l.slot,
      topic: { code: null, name: l.topic, short: null, lessonDay: l.date }, task: l.homework ? { code: null, name: l.homework, note: null, lessonDay: l.date } : null,
      lastTask: null, okpo: OKPO, gradeId: uuidOf('grade', cls.id), grade: cls.grade, letter: cls.letter, isKrujok: false, ...split,
      shift: 1, dayOfWeek: weekday, school: uuidOf('school', OKPO), schoolNameKg: this.school.school.name, schoolNameRu: this.school.school.name,
      isContentSubject: true, isTwelve: false, orderIndex: l.slot,
    };
  }

  private personOf(p: DemoPupil): Json {
    return { idStudent: uuidOf('student', p.id), student_pin: Number(pinOf(p.id)), student_pin_as_string: pinOf(p.id), first_name: p.firstName, last_name: p.lastName, mid_name: p.middleName };
  }

  private markJson(p: DemoPupil, m: DemoMark): Json {
    return {
      mark_id: parseInt(hex('mark', m.id).slice(0, 11), 16), ls_uid: uuidOf('lesson', m.lessonId), uid: uuidOf('mark', m.id), ...this.personOf(p),
      ...kundolukMark(m.value), mark_type: MARK_TYPE[m.workCategory], old_mark: null, absent: false, absent_type: null, absent_reason: null, late_minutes: 0,
      note: null, created_at: local(m.enteredAt), updated_at: local(m.enteredAt), success: true,
    };
  }

  private absenceJson(p: DemoPupil, a: DemoAbsence): Json {
    const { absent, type, reason } = ABSENCE[a.code];
    return {
      mark_id: parseInt(hex('absence', a.id).slice(0, 11), 16), ls_uid: uuidOf('lesson', a.lessonId), uid: uuidOf('absence', a.id), ...this.personOf(p),
      mark: 0, mark_type: null, old_mark: null, custom_mark: null, absent, absent_type: type, absent_reason: reason, late_minutes: a.lateMinutes ?? 0,
      note: null, created_at: `${a.date}T08:00:00`, updated_at: `${a.date}T08:00:00`, success: true,
    };
  }

  private buildQuarterMarks(): Map<string, Json[]> {
    const quarters = new Map(this.school.periods.filter((p) => p.kind === 'quarter').map((p) => [p.id, p]));
    const byPupil = new Map<string, Json[]>();
    for (const pm of generatePeriodMarks(this.school)) {
      const period = quarters.get(pm.periodId);
      if (!period) continue;
      const subject = this.school.subjects.find((s) => s.id === pm.subjectId)!;
      const { mark, custom_mark } = kundolukMark(pm.value);
      const json: Json = {
        objectId: uuidOf('qmark', pm.id), gradeId: null, studentId: uuidOf('student', pm.pupilId), subjectId: uuidOf('subject', pm.subjectId), quarter: period.number,
        quarterAvg: pm.average ?? 0, quarterMark: mark, customMark: custom_mark, isBonus: false, quarterDate: local(pm.setAt),
        subjectNameKg: KYRGYZ_NAMES[subject.name] ?? subject.name, subjectNameRu: subject.name, staffId: null,
      };
      const copies = [json];
      const roll = parseInt(hex('duplicate', pm.id).slice(0, 4), 16) % 10;
      if (roll < 2) copies.push({ ...json });
      else if (roll < 3) copies.push({ ...json, objectId: uuidOf('qmark-copy', pm.id) });
      let list = byPupil.get(pm.pupilId);
      if (!list) byPupil.set(pm.pupilId, (list = []));
      list.push(...copies);
    }
    return byPupil;
  }
}
