import { beforeAll, describe, expect, it } from '@jest/globals';
import { isSchoolDay, schoolYear, weekday } from '../../src/demo/calendar.js';
import { generateLessonFacts, generateLessons, generatePeriodMarks, generateSchool, type DemoSchool } from '../../src/demo/generator.js';
import { mapAttendanceCode, mapMarkValue } from '../../src/ports/values.js';

const OPTIONS = { seed: 7, pupils: 120, year: 2025, until: '2025-10-31' };
let school: DemoSchool;

beforeAll(() => {
  school = generateSchool(OPTIONS);
});

const classOf = (groupId: string) => school.groups.find((g) => g.id === groupId)!;

describe('the demo school generator', () => {
  it('is a function of its options', () => {
    const again = generateSchool(OPTIONS);
    expect(JSON.stringify(again)).toBe(JSON.stringify(school));
    const lessons = [...generateLessons(again, { to: '2025-09-12' })];
    expect(lessons).toEqual([...generateLessons(school, { to: '2025-09-12' })]);
    expect(generateLessonFacts(again, lessons[40]!)).toEqual(generateLessonFacts(school, lessons[40]!));
    const other = generateSchool({ ...OPTIONS, seed: 8 });
    expect(other.pupils.map((p) => p.lastName)).not.toEqual(school.pupils.map((p) => p.lastName));
  });

  it('has grades 1–11 with letters, subgroups for English and informatics, a class teacher per class', () => {
    const classes = school.groups.filter((g) => g.kind === 'class');
    expect([...new Set(classes.map((c) => c.grade))]).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(classes.every((c) => /^\d{1,2}[А-Я]$/.test(c.name))).toBe(true);
    expect(school.groups.some((g) => g.kind === 'subgroup' && g.subjectId === 'subj-eng')).toBe(true);
    expect(school.groups.some((g) => g.kind === 'subgroup' && g.subjectId === 'subj-inf')).toBe(true);
    for (const cls of classes) {
      expect(school.staff.filter((s) => s.roles.some((r) => r.role === 'class_teacher' && r.groupId === cls.id))).toHaveLength(1);
    }
    expect(school.staff.filter((s) => s.roles.some((r) => r.role === 'director'))).toHaveLength(1);
    expect(school.pupils.length).toBeGreaterThan(100);
  });

  it('puts every pupil in exactly one subgroup of each split subject of the class', () => {
    for (const pupil of school.pupils) {
      const splits = school.groups.filter((g) => g.parentId === pupil.classId);
      for (const subjectId of new Set(splits.map((g) => g.subjectId))) {
        expect(pupil.subgroupIds.filter((id) => splits.find((g) => g.id === id)?.subjectId === subjectId)).toHaveLength(1);
      }
    }
  });

  it('has a timetable without clashes for classes and teachers', () => {
    const classSlots = new Map<string, string>();
    const teacherSlots = new Set<string>();
    for (const e of school.timetable) {
      const group = classOf(e.groupId);
      const key = `${group.parentId ?? group.id}/${e.weekday}/${e.slot}`;
      // The two subgroups of a split subject share a slot; nothing else may.
      expect([undefined, e.subjectId]).toContain(classSlots.get(key));
      classSlots.set(key, e.subjectId);
      expect(teacherSlots.has(`${e.teacherId}/${e.weekday}/${e.slot}`)).toBe(false);
      teacherSlots.add(`${e.teacherId}/${e.weekday}/${e.slot}`);
    }
  });

  it('has the identity edge cases: twins in one class, namesakes in two classes', () => {
    const twins = school.pupils.filter((a) => school.pupils.some((b) => b !== a && b.classId === a.classId && b.birthDate === a.birthDate && b.lastName.slice(0, 4) === a.lastName.slice(0, 4)));
    expect(twins.length).toBeGreaterThanOrEqual(2);
    const fullName = (p: DemoSchool['pupils'][number]) => `${p.lastName} ${p.firstName} ${p.middleName}`;
    const namesakes = school.pupils.filter((a) => school.pupils.some((b) => b !== a && b.classId !== a.classId && fullName(b) === fullName(a)));
    expect(namesakes.length).toBeGreaterThanOrEqual(2);
  });

  it('gives parents placeholder contacts only', () => {
    for (const parent of school.parents) {
      expect(parent.phone).toMatch(/^\+7999\d{7}$/);
      expect(parent.email).toMatch(/@example\.org$/);
      expect(parent.telegram).toMatch(/^@demo_parent_\d+$/);
    }
    expect(new Set(school.parents.flatMap((p) => p.pupilIds))).toEqual(new Set(school.pupils.map((p) => p.id)));
  });
});

describe('lessons and their facts', () => {
  const calendar = schoolYear(2025);
  let lessons: ReturnType<typeof generateLessons> extends Generator<infer L> ? L[] : never;
  beforeAll(() => {
    lessons = [...generateLessons(school)];
  });

  it('happen on school days up to `until` only, in date order, with topics', () => {
    expect(lessons.length).toBeGreaterThan(1000);
    for (const lesson of lessons) {
      expect(isSchoolDay(calendar, lesson.date)).toBe(true);
      expect(weekday(lesson.date)).toBeLessThanOrEqual(5);
      expect(lesson.date <= OPTIONS.until).toBe(true);
      expect(lesson.topic.length).toBeGreaterThan(3);
    }
    expect(lessons.map((l) => l.date)).toEqual([...lessons.map((l) => l.date)].sort());
    expect(lessons.some((l) => l.substituteId)).toBe(true);
    expect(lessons.some((l) => l.homework === '')).toBe(true);
  });

  it('give no marks in grade 1, marks only to members of the group, never entered before the lesson', () => {
    let marks = 0;
    for (const lesson of lessons) {
      const facts = generateLessonFacts(school, lesson);
      const members = new Set(school.pupils.filter((p) => p.classId === lesson.groupId || p.subgroupIds.includes(lesson.groupId)).map((p) => p.id));
      if (classOf(lesson.groupId).grade === 1) expect(facts.marks).toEqual([]);
      for (const mark of facts.marks) {
        expect(members.has(mark.pupilId)).toBe(true);
        expect(Date.parse(mark.enteredAt)).toBeGreaterThanOrEqual(Date.parse(lesson.startsAt));
      }
      for (const absence of facts.absences) expect(members.has(absence.pupilId)).toBe(true);
      marks += facts.marks.length;
    }
    // About 700 marks per pupil over a 160-day year; this is two months of it.
    expect(marks / school.pupils.length).toBeGreaterThan(100);
    expect(marks / school.pupils.length).toBeLessThan(250);
  });

  it('writes values and codes that all map to a known kind', () => {
    const values = new Set<string>();
    const codes = new Set<string>();
    for (const lesson of lessons.slice(0, 3000)) {
      const facts = generateLessonFacts(school, lesson);
      facts.marks.forEach((m) => values.add(m.value));
      facts.absences.forEach((a) => codes.add(a.code));
    }
    for (const value of values) expect(mapMarkValue(value).kind).not.toBe('other');
    for (const code of codes) expect(mapAttendanceCode(code)).not.toBe('unknown');
    for (const expected of ['5', '4', '3', '2', '5-', 'зч', 'н']) expect(values.has(expected)).toBe(true);
    expect([...codes].sort()).toEqual(['Б', 'Н', 'ОП', 'УП']);
  });

  it('sets first-quarter marks from the averages of the quarter', () => {
    const marks = [...generatePeriodMarks(school)];
    expect(marks.length).toBeGreaterThan(0);
    expect(new Set(marks.map((m) => m.periodId))).toEqual(new Set(['q1']));
    const grade1 = new Set(school.pupils.filter((p) => classOf(p.classId).grade === 1).map((p) => p.id));
    expect(marks.some((m) => grade1.has(m.pupilId))).toBe(false);
    for (const mark of marks.filter((m) => m.average !== null)) {
      expect(Number(mark.value)).toBe(Math.min(5, Math.max(2, Math.floor(mark.average! + 0.5))));
    }
  });
});
