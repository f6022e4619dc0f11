import { addDays } from '../ports/ranges.js';
import { schoolDays, schoolYear, weekday } from './calendar.js';
import { planOf, type SubjectPlan } from './curriculum.js';
import { Random, seedFrom } from './prng.js';
import type { DemoGroup, DemoLesson, DemoPupil, DemoSchool, DemoStaff, DemoTimetableEntry } from './types.js';


/**
 * Lessons, generated lazily from the timetable and the calendar: one per timetable slot and school day,
 * in order of date, then group (as the school lists its groups), then slot.
 */

export type LessonKind = 'regular' | 'control' | 'lab' | 'essay';

/** What the lazy generators need, derived once per school and cached. */
export interface SchoolIndex {
  /** All school days of the year (not only up to `until`), for per-day positions. */
  yearDays: string[];
  dayIndex: Map<string, number>;
  /** Per school day, how many earlier school days fell on each weekday (index 1–5). */
  weekdaysBefore: Map<string, number[]>;
  byWeekday: Map<number, DemoTimetableEntry[]>;
  /** group/subject → its weekly slots, for the position of a lesson in its course. */
  courseSlots: Map<string, DemoTimetableEntry[]>;
  groups: Map<string, DemoGroup>;
  members: Map<string, DemoPupil[]>;
  teachersOf: Map<string, DemoStaff[]>;
  teachers: DemoStaff[];
}

const indexes = new WeakMap<DemoSchool, SchoolIndex>();

export function indexOf(school: DemoSchool): SchoolIndex {
  let index = indexes.get(school);
  if (!index) {
    index = buildIndex(school);
    indexes.set(school, index);
  }
  return index;
}

function buildIndex(school: DemoSchool): SchoolIndex {
  const calendar = schoolYear(school.year.startYear);
  const yearDays = schoolDays(calendar, calendar.lastDay);
  const weekdaysBefore = new Map<string, number[]>();
  const counts = [0, 0, 0, 0, 0, 0, 0, 0];
  for (const day of yearDays) {
    weekdaysBefore.set(day, [...counts]);
    counts[weekday(day)]! += 1;
  }
  const order = new Map(school.groups.map((g, i) => [g.id, i]));
  const byWeekday = new Map<number, DemoTimetableEntry[]>();
  const courseSlots = new Map<string, DemoTimetableEntry[]>();
  for (const entry of school.timetable) {
    byWeekday.set(entry.weekday, [...(byWeekday.get(entry.weekday) ?? []), entry]);
    const course = `${entry.groupId}/${entry.subjectId}`;
    courseSlots.set(course, [...(courseSlots.get(course) ?? []), entry]);
  }
  for (const list of byWeekday.values()) list.sort((a, b) => order.get(a.groupId)! - order.get(b.groupId)! || a.slot - b.slot);
  const members = new Map<string, DemoPupil[]>();
  for (const pupil of school.pupils) {
    for (const groupId of [pupil.classId, ...pupil.subgroupIds]) members.set(groupId, [...(members.get(groupId) ?? []), pupil]);
  }
  const teachers = school.staff.filter((s) => s.roles.some((r) => r.role === 'teacher'));
  const teachersOf = new Map<string, DemoStaff[]>();
  for (const a of school.assignments) {
    const list = teachersOf.get(a.subjectId) ?? [];
    if (!list.some((t) => t.id === a.teacherId)) list.push(school.staff.find((s) => s.id === a.teacherId)!);
    teachersOf.set(a.subjectId, list);
  }
  return {
    yearDays, dayIndex: new Map(yearDays.map((d, i) => [d, i])), weekdaysBefore, byWeekday, courseSlots,
    groups: new Map(school.groups.map((g) => [g.id, g])), members, teachersOf, teachers,
  };
}

/** Lessons up to `options.until`, optionally only of some groups and in a date range. */
export function* generateLessons(school: DemoSchool, filter: { groupIds?: string[]; from?: string; to?: string } = {}): Generator<DemoLesson> {
  const index = indexOf(school);
  const groups = filter.groupIds ? new Set(filter.groupIds) : undefined;
  const last = [school.options.until, filter.to].filter((d): d is string => Boolean(d)).sort()[0]!;
  for (const date of index.yearDays) {
    if (date > last) break;
    if (filter.from && date < filter.from) continue;
    for (const entry of index.byWeekday.get(weekday(date)) ?? []) {
      if (!groups || groups.has(entry.groupId)) yield lessonAt(school, index, entry, date);
    }
  }
}

function lessonAt(school: DemoSchool, index: SchoolIndex, entry: DemoTimetableEntry, date: string): DemoLesson {
  const id = `l-${entry.groupId.replace(/^(cls|grp)-/, '')}-${date}-${entry.slot}`;
  const rng = new Random(seedFrom(school.options.seed, id, 'lesson'));
  const plan = planOf(entry.subjectId);
  const ordinal = courseOrdinal(index, entry, date);
  const kind = lessonKind(plan, index.groups.get(entry.groupId)!.grade, ordinal);
  const bell = school.bells[entry.slot - 1]!;
  const substitute = rng.chance(0.02) ? substituteFor(rng, index, entry) : undefined;
  // A planted unrecorded substitution (plants.ts): the platforms name the colleague who taught it as its teacher.
  const colleague = school.plants?.electronic.lessonTeacher.get(id);
  return {
    id, groupId: entry.groupId, subjectId: entry.subjectId, date, slot: entry.slot,
    startsAt: `${date}T${bell.start}:00+03:00`, endsAt: `${date}T${bell.end}:00+03:00`,
    teacherId: colleague ?? entry.teacherId, substituteId: colleague ? undefined : substitute?.id,
    topic: school.plants?.common.topicRemoved.has(id) ? '' : topicOf(plan, ordinal, kind), homework: homeworkOf(rng, plan, ordinal, kind, index, date),
    status: rng.chance(0.004) ? 'cancelled' : 'held',
  };
}

/** Position of the lesson in its course (group + subject) since the year began, from 0. */
export function courseOrdinal(index: SchoolIndex, entry: DemoTimetableEntry, date: string): number {
  const before = index.weekdaysBefore.get(date)!;
  const today = weekday(date);
  let ordinal = 0;
  for (const slot of index.courseSlots.get(`${entry.groupId}/${entry.subjectId}`) ?? []) {
    ordinal += before[slot.weekday]!;
    if (slot.weekday === today && slot.slot < entry.slot) ordinal += 1;
  }
  return ordinal;
}

export function lessonKind(plan: SubjectPlan, grade: number, ordinal: number): LessonKind {
  const every = (n: number | undefined) => n !== undefined && n > 0 && ordinal % n === n - 1;
  if (every(plan.controlEvery)) return 'control';
  if (every(plan.labEvery)) return 'lab';
  if (grade >= 5 && every(plan.essayEvery)) return 'essay';
  return 'regular';
}

const KIND_TITLE: Record<LessonKind, string> = { regular: '', control: 'Контрольная работа: ', lab: 'Лабораторная работа: ', essay: 'Сочинение: ' };

function topicOf(plan: SubjectPlan, ordinal: number, kind: LessonKind): string {
  return `${KIND_TITLE[kind]}${plan.topics[Math.floor(ordinal / 4) % plan.topics.length]}`;
}

function homeworkOf(rng: Random, plan: SubjectPlan, ordinal: number, kind: LessonKind, index: SchoolIndex, date: string): string {
  const next = index.yearDays[index.dayIndex.get(date)! + 1];
  const beforeHolidays = !next || next > addDays(date, 3);
  if (kind === 'control' || beforeHolidays || plan.controlEvery === 0 || rng.chance(0.08)) return '';
  const paragraph = Math.floor(ordinal / 2) + 1;
  if (plan.id === 'subj-lit' || plan.id === 'subj-read') return `Читать с. ${10 + ordinal * 4}–${16 + ordinal * 4}`;
  if (['subj-rus', 'subj-math', 'subj-alg', 'subj-geom', 'subj-eng'].includes(plan.id)) {
    return `§ ${paragraph}, упр. ${100 + ordinal * 3}–${102 + ordinal * 3}`;
  }
  return `§ ${paragraph}, вопросы 1–${rng.int(3, 6)}`;
}

function substituteFor(rng: Random, index: SchoolIndex, entry: DemoTimetableEntry): DemoStaff {
  const colleagues = (index.teachersOf.get(entry.subjectId) ?? []).filter((t) => t.id !== entry.teacherId);
  return colleagues.length > 0 ? rng.pick(colleagues) : rng.pick(index.teachers.filter((t) => t.id !== entry.teacherId));
}
