import { generateLessonFacts, generateLessons, type DemoSchool } from '../../src/demo/generator.js';
import type { DemoAbsence, DemoGroup, DemoLesson, DemoLessonFacts, DemoMark, DemoPeriod, DemoPupil } from '../../src/demo/types.js';
import { buildQuarterMarks, quarterEntries, type QuarterMarkJson } from './simulator-qmarks.js';
import { ABSENCE, durationOf, entryJson, hex, KYRGYZ_NAMES, kundolukMark, local, MARK_TYPE, OKPO, pinOf, Recent, uuidOf, ZERO_UUID, type Json } from './simulator-shapes.js';
import { webClasses, type WebClass } from './simulator-web.js';

/**
 * The generated school in Kundoluk's shapes, as the public clients' models show them (README.md,
 * "Evidence"): one account per pupil (login answers in both spellings the clients read), lessons
 * (camelCase, bilingual subject names, `group` 0 and the zero UUID when the class is not split) with the
 * pupil's own entries (snake_case; absences as `absent_type` `absent` / `late`; quarter marks among
 * them as `mark_type: 'quarter'`), `qmarks` groups with the duplicates the real answer is known for and
 * the year mark as quarter 5. Answers are built per request from per-class caches.
 */

export interface Credential {
  username: string;
  password: string;
}

/** The deputy head's login to the legacy web journal (sees every class journal), and the class journals to read. */
export interface TeacherCredential {
  login: string;
  password: string;
  classes: Array<{ id: string; name: string }>;
}

export class KundolukData {
  readonly credentials: Credential[];
  readonly teacher: TeacherCredential;
  /** The web journal's class journals. */
  readonly webClasses: WebClass[];
  private readonly byLogin = new Map<string, { pupil: DemoPupil; password: string }>();
  private readonly position = new Map<string, number>();
  private readonly lessons = new Recent<Array<{ lesson: DemoLesson; json: Json }>>(64);
  private readonly facts = new Recent<Map<string, DemoLessonFacts>>(24);
  private readonly groups: Map<string, DemoGroup>;
  private readonly subjects: Map<string, Json>;
  private readonly teachers: Map<string, Json>;
  private quarterMarks?: Map<string, QuarterMarkJson[]>;

  constructor(readonly school: DemoSchool) {
    this.credentials = school.pupils.map((p) => ({ username: `u${p.id.replace(/\D/g, '')}`, password: `Kd-${hex('password', `${school.options.seed}/${p.id}`).slice(0, 10)}!` }));
    school.pupils.forEach((p, i) => {
      const { username, password } = this.credentials[i]!;
      this.byLogin.set(username, { pupil: p, password });
      this.position.set(p.id, i);
    });
    this.webClasses = webClasses(school);
    const classes = this.webClasses.map((c) => ({ id: c.webId, name: c.caption }));
    this.teacher = { login: 'zavuch', password: `Kw-${hex('teacher', String(school.options.seed)).slice(0, 12)}#`, classes };
    this.groups = new Map(school.groups.map((g) => [g.id, g]));
    this.subjects = new Map(school.subjects.map((s) => [s.id, {
      code: uuidOf('subject', s.id), name: KYRGYZ_NAMES[s.name] ?? s.name, nameKg: KYRGYZ_NAMES[s.name] ?? s.name, nameRu: s.name,
      short: s.shortName, shortKg: null, shortRu: s.shortName, grade: null,
    }]));
    this.teachers = new Map(school.staff.map((t) => [t.id, { pin: Number(pinOf(t.id)), pinAsString: pinOf(t.id), firstName: t.firstName, lastName: t.lastName, midName: t.middleName }]));
  }

  login(credential: Credential): DemoPupil | undefined {
    const known = this.byLogin.get(credential.username);
    return known?.password === credential.password ? known.pupil : undefined;
  }

  /**
   * The login answer's account fields (the token is added by the server), every other pupil in the
   * other spelling: snake_case as kundoluk-plus and the Python client read it, camelCase with
   * `middleName` / `birthDate` as react-kundoluk's `LoginModel`.
   */
  account(p: DemoPupil): Json {
    const cls = this.groups.get(p.classId)!;
    const common = {
      userId: uuidOf('user', p.id), studentId: uuidOf('student', p.id), okpo: OKPO, pin: Number(pinOf(p.id)), grade: cls.grade, letter: cls.letter,
      email: null, phone: null, locale: 'ky', changePassword: false, type: 'student',
    };
    if ((this.position.get(p.id) ?? 0) % 2 === 1) {
      return {
        ...common, lastName: p.lastName, firstName: p.firstName, middleName: p.middleName, birthDate: `${p.birthDate}T00:00:00`,
        isClassManager: false, userTypename: 'Окуучу', isUserAgreementSigned: true, schools: [], channels: [],
        school: { schoolId: uuidOf('school', OKPO), okpo: OKPO, name: this.school.school.name, nameRu: this.school.school.name, short: this.school.school.shortName, isStaffActive: true },
      };
    }
    return {
      ...common, pinAsString: pinOf(p.id), last_name: p.lastName, first_name: p.firstName, mid_name: p.middleName, isAgreementSigned: true, birthdate: `${p.birthDate}T00:00:00`,
      school: { schoolId: ZERO_UUID, institutionId: null, okpo: OKPO, nameRu: this.school.school.name, short: this.school.school.shortName, isStaffActive: true },
    };
  }

  /** `gradebook/list`: the pupil's lessons of the days, without marks. */
  schedule(p: DemoPupil, from: string, to: string): Json[] {
    return this.lessonsOf(p, from, to).map(({ json }) => ({ ...json, marks: [] }));
  }

  /**
   * `gradebook/term/{n}`: the term's lessons where the pupil has marks (`absent` false, with the quarter
   * mark as a `mark_type: 'quarter'` entry on the subject's last lesson) or attendance notes (true).
   */
  term(p: DemoPupil, number: number, absent: boolean, malformed: boolean): Json[] | undefined {
    const term = this.termOf(number);
    if (!term) return undefined;
    const facts = this.facts.get(`${p.classId}|${term.id}`, () => this.factsOf(p, term));
    const lessons = this.lessonsOf(p, term.startDate, term.endDate);
    const quarter = absent ? new Map<string, Json[]>() : quarterEntries(this.periodMarksOf(p).filter((m) => m.period === term), lessons, this.personOf(p));
    const answer: Json[] = [];
    let broken = !malformed || absent;
    for (const { lesson, json } of lessons) {
      const own = facts.get(lesson.id)!;
      const entries = absent
        ? own.absences.filter((a) => a.pupilId === p.id).map((a) => this.absenceJson(p, a))
        : own.marks.filter((m) => m.pupilId === p.id).map((m) => this.markJson(p, m));
      if (!broken && entries.length > 0) {
        entries[0] = { ...entries[0], mark: 0, custom_mark: ' ' };
        broken = true;
      }
      entries.push(...quarter.get(lesson.id) ?? []);
      if (entries.length > 0) answer.push({ ...json, marks: entries });
    }
    return answer;
  }

  /** `homework/list?term_no=`: the term's lessons that set homework. */
  homework(p: DemoPupil, number: number): Json[] | undefined {
    const term = this.termOf(number);
    if (!term) return undefined;
    return this.lessonsOf(p, term.startDate, term.endDate).filter(({ lesson }) => lesson.homework).map(({ json }) => ({ ...json, marks: [] }));
  }

  /** `qmarks/all`: groups `{teacher, quarterMarks}` (the Python client's `QuarterMarksResult`; teacher «часто null»), one per subject, some marks twice. */
  quarterMarksOf(p: DemoPupil): Json[] {
    const bySubject = new Map<string, Json[]>();
    for (const { subjectId, json } of this.periodMarksOf(p)) bySubject.set(subjectId, [...bySubject.get(subjectId) ?? [], json]);
    return [...bySubject.values()].map((quarterMarks) => ({ teacher: null, quarterMarks }));
  }

  private periodMarksOf(p: DemoPupil): QuarterMarkJson[] {
    this.quarterMarks ??= buildQuarterMarks(this.school);
    return this.quarterMarks.get(p.id) ?? [];
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

  /** A lesson as the three clients' models have it: `scheduleItemId` the lesson's own id («часто совпадает с uid»), `dayOfWeek` 0 = Sunday. */
  private lessonJson(l: DemoLesson): Json {
    const group = this.groups.get(l.groupId)!;
    const cls = group.parentId ? this.groups.get(group.parentId)! : group;
    const bell = this.school.bells[l.slot - 1]!;
    const [year, month, day] = l.date.split('-').map(Number);
    const number = Number(/(\d+)$/.exec(group.name)?.[1] ?? 1);
    const split = group.kind === 'subgroup'
      ? { group: number, groupId: uuidOf('group', group.id), subjectGroupName: `${number} группа` }
      : { group: 0, groupId: ZERO_UUID, subjectGroupName: null };
    const uid = uuidOf('lesson', l.id);
    return {
      uid, scheduleItemId: uid,
      teacher: this.teachers.get(l.substituteId ?? l.teacherId) ?? null, subject: this.subjects.get(l.subjectId),
      roomData: { id: uuidOf('room', String(100 + l.slot)), roomName: String(100 + l.slot), floor: 1, block: null },
      startTime: bell.start, endTime: bell.end, lessonTime: durationOf(bell.start, bell.end), lessonDay: `${l.date}T00:00:00`, year, month, day, lesson: l.slot,
      topic: { code: null, name: l.topic, short: null, lessonDay: `${l.date}T00:00:00` },
      task: l.homework ? { code: null, name: l.homework, note: null, lessonDay: `${l.date}T00:00:00` } : null,
      lastTask: null, okpo: OKPO, gradeId: uuidOf('grade', cls.id), grade: cls.grade, letter: cls.letter, isKrujok: false, ...split,
      shift: 1, dayOfWeek: new Date(`${l.date}T00:00:00Z`).getUTCDay(), school: uuidOf('school', OKPO), schoolNameKg: this.school.school.name, schoolNameRu: this.school.school.name,
      isContentSubject: true, isTwelve: false, orderIndex: l.slot,
    };
  }

  /** The pupil on an entry; `first_name` holds the full name («Полное ФИО ученика», the Python client). */
  private personOf(p: DemoPupil): Json {
    return {
      idStudent: uuidOf('student', p.id), student_pin: Number(pinOf(p.id)), student_pin_as_string: pinOf(p.id),
      first_name: `${p.lastName} ${p.firstName} ${p.middleName}`, last_name: p.lastName, mid_name: p.middleName,
    };
  }

  private markJson(p: DemoPupil, m: DemoMark): Json {
    return entryJson('mark', m.id, m.lessonId, this.personOf(p), {
      ...kundolukMark(m.value), mark_type: MARK_TYPE[m.workCategory], created_at: local(m.enteredAt), updated_at: local(m.enteredAt),
    });
  }

  private absenceJson(p: DemoPupil, a: DemoAbsence): Json {
    const { absent, type, reason } = ABSENCE[a.code];
    return entryJson('absence', a.id, a.lessonId, this.personOf(p), {
      absent, absent_type: type, absent_reason: reason, late_minutes: a.lateMinutes ?? 0, created_at: `${a.date}T08:00:00`, updated_at: `${a.date}T08:00:00`,
    });
  }
}
