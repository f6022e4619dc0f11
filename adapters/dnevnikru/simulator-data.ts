import { createHash } from 'node:crypto';
import type { DemoParent, DemoPersonBase, DemoPupil, DemoSchool } from '../../src/demo/generator.js';
import type { DemoLesson } from '../../src/demo/types.js';

/**
 * The generated school's roster in Дневник.ру's shapes, as the public clients and captures show them
 * (README.md "Evidence"): 13-digit school, person and user ids (exact JSON numbers, no twins in the
 * context); 19-digit group, subject, lesson, work, mark and period ids written as bare numbers with
 * `*_str` twins; PascalCase teachers with boolean flags; relatives and user profiles with contacts.
 */

/** A 64-bit id, emitted as raw digits in the JSON text (see `toJson`). */
export class BigId {
  constructor(readonly digits: string) {}
}

const KIND_BASE: Record<string, bigint> = { group: 2n, subject: 4n, lesson: 5n, work: 6n, mark: 7n, period: 8n, worktype: 1n, timetable: 3n, file: 9n };

const ids = new Map<string, BigId>();

/** Stable 19-digit ids: a kind prefix and 17 hash digits, so 1.0e18…9.9e18 — far above 2^53. */
export function bigIdOf(kind: keyof typeof KIND_BASE, key: string): BigId {
  const cacheKey = `${kind}/${key}`;
  let id = ids.get(cacheKey);
  if (!id) {
    const hash = BigInt(`0x${createHash('sha1').update(cacheKey).digest('hex').slice(0, 15)}`) % 10n ** 17n;
    id = new BigId(String(KIND_BASE[kind]! * 10n ** 18n + hash));
    if (ids.size > 200_000) ids.clear();
    ids.set(cacheKey, id);
  }
  return id;
}

const SMALL_BASE: Record<string, number> = { school: 1, person: 3, user: 5 };

/** 13-digit ids (school, person, user: `1000004956244` captured) — exact as JSON numbers. */
export function smallIdOf(kind: keyof typeof SMALL_BASE, key: string): number {
  const hash = Number.parseInt(createHash('sha1').update(`${kind}/${key}`).digest('hex').slice(0, 10), 16) % 10 ** 11;
  return 1_000_000_000_000 + SMALL_BASE[kind]! * 10 ** 11 + hash;
}

const BIG = '#bigid#';
const BIG_PATTERN = /"#bigid#(\d+)"/g;

/** JSON.stringify that writes BigId values as bare numbers. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (v instanceof BigId ? `${BIG}${v.digits}` : v)).replace(BIG_PATTERN, '$1');
}

/** `{id, id_str}` of a 19-digit id. */
export const twin = (kind: keyof typeof KIND_BASE, key: string) => {
  const big = bigIdOf(kind, key);
  return { id: big, id_str: big.digits };
};

const SEX = (p: DemoPersonBase) => (p.sex === 'f' ? 'Female' : 'Male');

/** Changes a test makes to what the platform says, on top of the generated school. */
export interface PlatformEdits {
  markValues: Map<string, string>;
  deletedMarks: Set<string>;
  extraLessons: DemoLesson[];
}

/** Who a user id belongs to. */
type UserOf = { pupil: DemoPupil } | { parent: DemoParent };

export class DnevnikRoster {
  readonly schoolId: number;
  private readonly groupsByDigits = new Map<string, string>();
  private readonly users = new Map<number, UserOf>();
  private readonly parentsOf = new Map<string, DemoParent[]>();

  constructor(readonly school: DemoSchool) {
    this.schoolId = smallIdOf('school', 'school');
    for (const g of school.groups) this.groupsByDigits.set(bigIdOf('group', g.id).digits, g.id);
    for (const pupil of school.pupils) this.users.set(smallIdOf('user', pupil.id), { pupil });
    for (const parent of school.parents) {
      this.users.set(smallIdOf('user', parent.id), { parent });
      for (const pupilId of parent.pupilIds) this.parentsOf.set(pupilId, [...(this.parentsOf.get(pupilId) ?? []), parent]);
    }
  }

  /** The generator's group id behind a Дневник.ру group id, if any. */
  groupOf(digits: string): string | undefined {
    return this.groupsByDigits.get(digits);
  }

  /** The administrator's context (mosreg strict model: `schools[]` without `id_str`, `schoolIds[]`). */
  context() {
    return {
      userId: smallIdOf('user', 'admin'), roles: ['EduStaff', 'EduSchoolAdministrator'], children: [],
      schools: [{ id: this.schoolId, name: this.school.school.shortName, type: 'School', groupIds: [] }],
      eduGroups: [], splitId: null, personId: smallIdOf('person', 'admin'), shortName: 'Администратор', schoolIds: [this.schoolId], groupIds: [],
    };
  }

  /** The school's groups, and a class of last year that is archived (its answers are never asked for). */
  groups() {
    const archived = { ...this.group(this.school.groups[0]!.id), ...twin('group', 'archived'), name: `${this.school.groups[0]!.grade - 1}-А`, status: 'Archive', studyyear: this.school.year.startYear - 1 };
    return [...this.school.groups.map((g) => this.group(g.id)), archived];
  }

  group(groupId: string) {
    const g = this.school.groups.find((x) => x.id === groupId)!;
    const parent = g.parentId ? bigIdOf('group', g.parentId) : undefined;
    const timetable = bigIdOf('timetable', 'main');
    return {
      ...twin('group', g.id), parentIds: parent ? [parent] : null, parentIds_str: parent ? [parent.digits] : null,
      type: g.kind === 'class' ? 'Group' : 'Subgroup', name: g.name, fullName: '', parallel: g.grade, timetable, timetable_str: timetable.digits,
      status: 'Active', studyyear: this.school.year.startYear, subjects: [], journaltype: 'Regular',
    };
  }

  persons(groupId: string) {
    return this.school.pupils.filter((p) => p.classId === groupId || p.subgroupIds.includes(groupId)).map((p) => this.person(p));
  }

  person(p: DemoPersonBase) {
    const id = smallIdOf('person', p.id);
    const userId = smallIdOf('user', p.id);
    return {
      id, id_str: String(id), userId, userId_str: String(userId), firstName: p.firstName, lastName: p.lastName, middleName: p.middleName,
      shortName: `${p.lastName} ${p.firstName[0]}.`, sex: SEX(p),
    };
  }

  subjects() {
    return this.school.subjects.map((s) => ({ ...twin('subject', s.id), name: s.name, knowledgeArea: s.shortName, fgosSubjectId: null, espSubjectName: null, halfYear: false }));
  }

  /** Staff (osandman strict `TeacherDto`): booleans for the class-teacher and management flags, management in NameManagingPosition. */
  teachers() {
    return this.school.staff.map((t) => {
      const roles = new Set(t.roles.map((r) => r.role));
      const managing = roles.has('director') ? 'Директор' : roles.has('deputy') ? 'Заместитель директора по УВР' : null;
      const id = smallIdOf('person', t.id);
      const userId = smallIdOf('user', t.id);
      return {
        Id: id, IdStr: String(id), UserId: userId, UserIdStr: String(userId), FirstName: t.firstName, LastName: t.lastName, MiddleName: t.middleName,
        ShortName: `${t.lastName} ${t.firstName[0]}. ${t.middleName[0]}.`, Sex: SEX(t), DateBirth: `${t.birthDate}T00:00:00`, Email: t.email,
        Subjects: '', HouseMaster: roles.has('class_teacher'), Education: 'Высшее', ScientificDegree: null, StartDate: `${this.school.year.startYear - 5}-09-01T00:00:00`,
        PedagogicalActivityDate: null, ManagingEmployee: managing !== null, NameManagingPosition: managing, TeachingStaff: roles.has('teacher') || roles.has('class_teacher'),
        NameTeacherPosition: roles.has('teacher') || roles.has('class_teacher') ? 'Учитель' : null, TrainingAndSupportStaff: false, ServicePersonnel: false,
        MedicalWorker: false, NameMedicalPosition: null, ExternalPartTime: false,
      };
    });
  }

  /** The class teacher of a class (a Person), or undefined when it has none. */
  classTeacher(groupId: string) {
    const teacher = this.school.staff.find((t) => t.roles.some((r) => r.role === 'class_teacher' && r.groupId === groupId));
    return teacher ? this.person(teacher) : undefined;
  }

  /** `users/{u}/relatives` of a pupil's user: `[{type, person}]` (dnevnik-partners-api `UserRelative`). */
  relatives(userId: number) {
    const owner = this.users.get(userId);
    if (!owner || !('pupil' in owner)) return owner ? [] : undefined;
    return (this.parentsOf.get(owner.pupil.id) ?? []).map((parent) => ({ type: RELATION[parent.relation], person: this.person(parent) }));
  }

  /** A user profile (dnevnik-partners-api `User`, SchoolMosregRuAPI `User`) with the contacts the account has. */
  user(userId: number) {
    const owner = this.users.get(userId);
    if (!owner) return undefined;
    const p = 'pupil' in owner ? owner.pupil : owner.parent;
    const contacts = 'parent' in owner ? { email: owner.parent.email, phone: owner.parent.phone } : { phone: '' };
    return {
      id: userId, id_str: String(userId), personId: smallIdOf('person', p.id), personId_str: String(smallIdOf('person', p.id)),
      name: `${p.firstName} ${p.lastName}`, login: `user-${userId}`, fullName: `${p.lastName} ${p.firstName} ${p.middleName}`,
      firstName: p.firstName, middleName: p.middleName, lastName: p.lastName, shortName: `${p.lastName} ${p.firstName[0]}.`,
      locale: 'ru-RU', timezone: '+3:00', sex: SEX(p), birthday: `${p.birthDate}T00:00:00`, roles: ['pupil' in owner ? 'EduStudent' : 'EduParent'], ...contacts,
    };
  }
}

/** Relative types: their values are not public [I]; the generator's relations, capitalised. */
const RELATION: Record<DemoParent['relation'], string> = { mother: 'Mother', father: 'Father', guardian: 'Guardian' };
