/**
 * Which lessons of a class belong to a subgroup. NetSchool's diary is per pupil and names no group:
 * a lesson (`classmeetingId`) seen in the diaries of the whole class is the class's; one seen by only
 * part of the pupils who had lessons that day is a subgroup's (README.md "Subgroups", inferred). Pure:
 * the schedule stream hands it what a week's diaries showed.
 */

/** A lesson as a week's diaries show it: who of the class saw it. */
export interface SeenLesson {
  id: string;
  subject: string;
  date: string;
  pupils: readonly string[];
}

export interface ClassWeek {
  classId: string;
  className: string;
  /** The class's pupils in roster order (the journal's alphabetical list); it decides which group is «гр. 1». */
  roster: readonly string[];
  lessons: readonly SeenLesson[];
}

export interface Subgroup {
  externalId: string;
  name: string;
  subject: string;
  number: number;
}

export interface Grouping {
  /** Lesson id → the id of the group it belongs to (the class's own id for the whole class). */
  groupOf: Map<string, string>;
  subgroups: Map<string, Subgroup>;
}

/** A lesson seen by fewer than this share of the pupils who had lessons that day is a subgroup's. */
export const SUBGROUP_SHARE = 0.75;

/**
 * Groups a class's lessons of one week. A subgroup is numbered 1 when it holds the first pupil of the
 * roster who had lessons that day, the others 2, 3 … by the roster position of their first pupil (the
 * usual split puts the first half of the list in group 1); its id is `<class>/<subject>/<number>`, so
 * it stays the same from week to week while the split does.
 */
export function inferSubgroups(week: ClassWeek): Grouping {
  const position = new Map(week.roster.map((id, i) => [id, i]));
  const rank = (id: string) => position.get(id) ?? Number.MAX_SAFE_INTEGER;
  const present = new Map<string, Set<string>>();
  for (const lesson of week.lessons) {
    const day = present.get(lesson.date) ?? new Set<string>();
    for (const pupil of lesson.pupils) day.add(pupil);
    present.set(lesson.date, day);
  }
  const groupOf = new Map<string, string>();
  const subgroups = new Map<string, Subgroup>();
  const partial = week.lessons.filter((l) => l.pupils.length < SUBGROUP_SHARE * present.get(l.date)!.size);
  for (const lesson of week.lessons) groupOf.set(lesson.id, week.classId);
  for (const lesson of partial) {
    const first = [...present.get(lesson.date)!].sort((a, b) => rank(a) - rank(b))[0]!;
    const number = numberOf(lesson, partial, first, rank);
    const externalId = `${week.classId}/${lesson.subject}/${number}`;
    groupOf.set(lesson.id, externalId);
    subgroups.set(externalId, { externalId, name: `${week.className} ${lesson.subject} гр. ${number}`, subject: lesson.subject, number });
  }
  return { groupOf, subgroups };
}

/** 1 for the group holding the day's first pupil; else 2, 3 … by the first pupils of the subject's other groups that day. */
function numberOf(lesson: SeenLesson, partial: readonly SeenLesson[], first: string, rank: (id: string) => number): number {
  if (lesson.pupils.includes(first)) return 1;
  const head = (l: SeenLesson) => Math.min(...l.pupils.map(rank));
  const others = new Set(partial
    .filter((l) => l.subject === lesson.subject && l.date === lesson.date && !l.pupils.includes(first))
    .map(head));
  return 2 + [...others].filter((h) => h < head(lesson)).length;
}
