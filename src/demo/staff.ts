import { hoursOf, isSplit, subjectsOfGrade, type SubjectPlan } from './curriculum.js';
import { pad, personName, type NameSource } from './people.js';
import type { Random } from './prng.js';
import type { DemoAssignment, DemoGroup, DemoStaff } from './types.js';

/**
 * Teachers and who teaches what: a primary teacher per class of grades 1–4 (who is its class teacher
 * and teaches it most subjects), subject teachers with at most ~24 lessons a week, the two subgroups of
 * a split subject always with different teachers (they meet in the same slot), a class teacher for every
 * class, a director and two deputies.
 */

const MAX_LOAD = 24;

export interface Staffing {
  staff: DemoStaff[];
  assignments: DemoAssignment[];
}

export function generateStaff(faker: NameSource, rng: Random, classes: DemoGroup[], subgroups: DemoGroup[]): Staffing {
  const staff: DemoStaff[] = [];
  const load = new Map<string, number>();
  const bySubject = new Map<string, DemoStaff[]>();
  const hire = (subject?: string): DemoStaff => {
    const n = staff.length + 1;
    const person = personName(faker, rng.chance(0.8) ? 'f' : 'm');
    const member: DemoStaff = {
      id: `t-${pad(n, 3)}`, ...person, birthDate: `${rng.int(1960, 1998)}-${pad(rng.int(1, 12), 2)}-${pad(rng.int(1, 28), 2)}`,
      phone: `+7998${pad(n, 7)}`, email: `teacher.${n}@school.example.org`, roles: [{ role: 'teacher' }],
    };
    staff.push(member);
    load.set(member.id, 0);
    if (subject) bySubject.set(subject, [...(bySubject.get(subject) ?? []), member]);
    return member;
  };
  const assignments: DemoAssignment[] = [];
  const assign = (teacher: DemoStaff, groupId: string, subjectId: string, hours: number) => {
    assignments.push({ teacherId: teacher.id, groupId, subjectId });
    load.set(teacher.id, (load.get(teacher.id) ?? 0) + hours);
  };
  for (const cls of classes) {
    const primary = cls.grade <= 4 ? hire() : undefined;
    if (primary) primary.roles.push({ role: 'class_teacher', groupId: cls.id });
    for (const subject of subjectsOfGrade(cls.grade)) {
      const hours = hoursOf(subject, cls.grade);
      if (primary && subject.primaryTeacher) {
        assign(primary, cls.id, subject.id, hours);
        continue;
      }
      const groups = isSplit(subject, cls.grade) ? subgroups.filter((g) => g.parentId === cls.id && g.subjectId === subject.id) : [cls];
      const taken = new Set<string>();
      for (const group of groups) {
        const teacher = leastLoaded(bySubject.get(subject.id) ?? [], load, taken, hours) ?? hire(subject.id);
        taken.add(teacher.id);
        assign(teacher, group.id, subject.id, hours);
      }
    }
  }
  appointClassTeachers(classes, staff, assignments);
  for (const [role, count] of [['director', 1], ['deputy', 2]] as const) {
    for (let i = 0; i < count; i++) hire().roles = [{ role }];
  }
  return { staff, assignments };
}

function leastLoaded(candidates: DemoStaff[], load: Map<string, number>, taken: Set<string>, hours: number): DemoStaff | undefined {
  let best: DemoStaff | undefined;
  for (const teacher of candidates) {
    const current = load.get(teacher.id) ?? 0;
    if (taken.has(teacher.id) || current + hours > MAX_LOAD) continue;
    if (!best || current < (load.get(best.id) ?? 0)) best = teacher;
  }
  return best;
}

/** Grades 5–11: a teacher of the class who is nobody's class teacher yet. */
function appointClassTeachers(classes: DemoGroup[], staff: DemoStaff[], assignments: DemoAssignment[]): void {
  const isClassTeacher = (t: DemoStaff) => t.roles.some((r) => r.role === 'class_teacher');
  for (const cls of classes.filter((c) => c.grade >= 5)) {
    const teachers = assignments.filter((a) => a.groupId === cls.id).map((a) => staff.find((t) => t.id === a.teacherId)!);
    const teacher = teachers.find((t) => !isClassTeacher(t)) ?? staff.find((t) => !isClassTeacher(t) && t.roles.length === 1);
    teacher?.roles.push({ role: 'class_teacher', groupId: cls.id });
  }
}

/** The subject plan lookups the timetable needs. */
export function unitsOf(cls: DemoGroup, subgroups: DemoGroup[], assignments: DemoAssignment[]): Array<{ subject: SubjectPlan; lessons: Array<{ groupId: string; teacherId: string }>; hours: number }> {
  return subjectsOfGrade(cls.grade).map((subject) => {
    const groups = isSplit(subject, cls.grade) ? subgroups.filter((g) => g.parentId === cls.id && g.subjectId === subject.id) : [cls];
    const lessons = groups.map((g) => ({ groupId: g.id, teacherId: assignments.find((a) => a.groupId === g.id && a.subjectId === subject.id)!.teacherId }));
    return { subject, lessons, hours: hoursOf(subject, cls.grade) };
  });
}
