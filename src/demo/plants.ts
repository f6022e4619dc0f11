import { addDays } from '../ports/ranges.js';
import { generateLessonFacts } from './facts.js';
import { generateLessons } from './schedule.js';
import type { DemoLesson, DemoMark, DemoPlants, DemoSchool } from './types.js';

/**
 * The demo's planted discrepancies: the platforms serve the generated school with these changes, the
 * demo's own source (its paper journal) without them, and a few change both. Chosen deterministically
 * from the school (the same options, the same plants), in the running period — after the first period
 * has ended, so no period mark changes with them — except the removed period mark, which is of that
 * first period. `planted` lists what the checks must find (rule and generator ids), and nothing else.
 */
export interface PlantedItem {
  rule: string;
  why: string;
  lessonId?: string;
  pupilId?: string;
  periodId?: string;
  subjectId?: string;
}

export interface PlantedSchool {
  /** What the paper journal holds (common plants only). */
  paper: DemoSchool;
  /** What the platform simulators serve. */
  electronic: DemoSchool;
  planted: PlantedItem[];
}

export function plantDiscrepancies(school: DemoSchool): PlantedSchool {
  const ended = school.periods.filter((p) => p.kind === 'quarter' && p.endDate < addDays(school.options.until, -12)).sort((a, b) => a.endDate.localeCompare(b.endDate))[0];
  if (!ended) return { paper: school, electronic: school, planted: [] };
  const from = addDays(ended.endDate, 1);
  const to = addDays(school.options.until, -11);
  const upper = school.groups.find((g) => g.kind === 'class' && g.grade >= 5)!;
  const first = school.groups.find((g) => g.kind === 'class' && g.grade === 1);
  const lessons = [...generateLessons(school, { groupIds: [upper.id], from, to })].filter((l) => l.status === 'held');
  const withFacts = lessons.map((l) => ({ lesson: l, facts: generateLessonFacts(school, l) })).filter((x) => x.facts.marks.length > 0);
  const planted: PlantedItem[] = [];
  const e = {
    markValue: new Map<string, string>(), markEnteredAt: new Map<string, string>(), markRemoved: new Set<string>(),
    markAdded: new Map<string, DemoMark[]>(), absenceCode: new Map<string, 'Н' | 'Б' | 'УП' | 'ОП'>(), periodMarkRemoved: new Set<string>(),
    lessonTeacher: new Map<string, string>(), markCorrected: new Map<string, { value: string; date: string }>(), corrections: { served: false },
  };
  const topicRemoved = new Set<string>();
  const about = (l: DemoLesson, pupilId?: string) => ({ lessonId: l.id, pupilId, subjectId: l.subjectId });
  const numeric = (m: DemoMark) => /^[345]$/.test(m.value);

  const [a, b, c, d, f] = withFacts;
  if (a && b && c && d && f) {
    const changed = a.facts.marks.find(numeric);
    if (changed) {
      e.markValue.set(changed.id, '2');
      planted.push({ rule: 'mark_differs', why: `«${changed.value}» on paper, «2» on the platforms`, ...about(a.lesson, changed.pupilId) });
    }
    const removed = b.facts.marks.find((m) => !b.facts.marks.some((o) => o !== m && o.pupilId === m.pupilId));
    if (removed) {
      e.markRemoved.add(removed.id);
      planted.push({ rule: 'mark_only_in_one', why: 'on paper only', ...about(b.lesson, removed.pupilId) });
    }
    const unmarked = school.pupils.find((p) => p.classId === upper.id && !c.facts.marks.some((m) => m.pupilId === p.id)
      && !c.facts.absences.some((x) => x.pupilId === p.id) && p.enrolledFrom <= c.lesson.date && !p.leftOn);
    if (unmarked) {
      e.markAdded.set(c.lesson.id, [markFor(c.lesson, unmarked.id, '4', c.lesson.startsAt)]);
      planted.push({ rule: 'mark_only_in_one', why: 'on the platforms only', ...about(c.lesson, unmarked.id) });
    }
    const oral = d.facts.marks.find((m) => m.workCategory === 'oral' && !e.markValue.has(m.id));
    if (oral) {
      e.markEnteredAt.set(oral.id, `${addDays(d.lesson.date, 2)}T18:30:00+03:00`);
      planted.push({ rule: 'mark_backdated', why: 'an oral answer entered two days after the lesson', ...about(d.lesson, oral.pupilId) });
    }
    const written = withFacts.flatMap((x) => x.facts.marks.filter((m) => ['written', 'test', 'control'].includes(m.workCategory)).map((m) => ({ m, l: x.lesson })))[0];
    if (written) {
      e.markEnteredAt.set(written.m.id, `${addDays(written.l.date, 10)}T16:00:00+03:00`);
      planted.push({ rule: 'mark_late', why: 'a written work graded ten days after it was written', ...about(written.l, written.m.pupilId) });
    }
    const absence = lessons.flatMap((l) => generateLessonFacts(school, l).absences.filter((ab) => ab.code === 'Б' || ab.code === 'УП').map((ab) => ({ ab, l })))[0];
    if (absence) {
      e.absenceCode.set(absence.ab.id, 'Н');
      planted.push({ rule: 'attendance_differs', why: `«${absence.ab.code}» on paper, «Н» (unexcused) on the platforms`, ...about(absence.l, absence.ab.pupilId) });
    }
    topicRemoved.add(f.lesson.id);
    planted.push({ rule: 'topic_missing', why: 'no topic written for a held lesson', ...about(f.lesson) });

    const used = new Set([a, b, c, d, f].map((x) => x.lesson.id));
    // A colleague taught a lesson and the platforms name them as its teacher, with no substitution recorded.
    const covered = lessons.find((l) => !used.has(l.id) && !l.substituteId);
    const colleague = covered && school.staff.find((t) => school.assignments.some((x) => x.teacherId === t.id)
      && !school.assignments.some((x) => x.teacherId === t.id && x.groupId === upper.id && x.subjectId === covered.subjectId));
    if (covered && colleague) {
      used.add(covered.id);
      e.lessonTeacher.set(covered.id, colleague.id);
      planted.push({ rule: 'substitute_missing', why: 'taught by a colleague, recorded as theirs with no substitution', ...about(covered) });
    }
    // A mark changed on the platforms after their first sync, with no justification: the latest planted lesson, so
    // that the platforms' incremental syncs (which re-read the last days) see the change.
    const last = withFacts.filter((x) => !used.has(x.lesson.id)).at(-1);
    const corrected = last?.facts.marks.find((m) => numeric(m) && !e.markValue.has(m.id) && !e.markEnteredAt.has(m.id));
    if (last && corrected) {
      const value = corrected.value === '5' ? '4' : '5';
      e.markCorrected.set(corrected.id, { value, date: corrected.date });
      planted.push({ rule: 'mark_silent_correction', why: `«${corrected.value}» corrected to «${value}» on the platforms after their first sync, no justification`, ...about(last.lesson, corrected.pupilId) });
      planted.push({ rule: 'mark_differs', why: `«${corrected.value}» on paper, «${value}» on the platforms after the correction`, ...about(last.lesson, corrected.pupilId) });
    }
  }
  if (first) {
    const lesson = [...generateLessons(school, { groupIds: [first.id], from, to })].find((l) => l.status === 'held');
    const pupil = lesson && school.pupils.find((p) => p.classId === first.id && p.enrolledFrom <= lesson.date && !p.leftOn
      && !generateLessonFacts(school, lesson).absences.some((x) => x.pupilId === p.id));
    if (lesson && pupil) {
      e.markAdded.set(lesson.id, [markFor(lesson, pupil.id, '5', lesson.startsAt)]);
      planted.push({ rule: 'grade1_mark', why: 'a mark in grade 1', ...about(lesson, pupil.id) });
    }
  }
  const pupil = school.pupils.find((p) => p.classId === upper.id && !p.leftOn && p.enrolledFrom <= ended.startDate);
  const subject = school.assignments.find((x) => x.groupId === upper.id)?.subjectId;
  if (pupil && subject) {
    e.periodMarkRemoved.add(`pm-${ended.id}-${pupil.id}-${subject}`);
    planted.push({ rule: 'period_mark_missing', why: 'no quarter mark on the platforms', pupilId: pupil.id, periodId: ended.id, subjectId: subject });
    planted.push({ rule: 'period_mark_differs', why: 'the quarter mark is on paper only', pupilId: pupil.id, periodId: ended.id, subjectId: subject });
    planted.push({ rule: 'final_mark_not_visible', why: 'the quarter mark set on paper never reached a platform', pupilId: pupil.id, periodId: ended.id, subjectId: subject });
  }
  const common = { topicRemoved };
  return { paper: { ...school, plants: { common, electronic: NONE } }, electronic: { ...school, plants: { common, electronic: e } }, planted };
}

const NONE: DemoPlants['electronic'] = {
  markValue: new Map(), markEnteredAt: new Map(), markRemoved: new Set(), markAdded: new Map(), absenceCode: new Map(), periodMarkRemoved: new Set(),
  lessonTeacher: new Map(), markCorrected: new Map(), corrections: { served: false },
};

/**
 * The silent corrections' second observation: from now on the platforms serve the corrected marks (a
 * correction needs the original value seen first — the caller switches it after the platforms' first sync).
 */
export function serveCorrections(electronic: DemoSchool): void {
  if (electronic.plants) electronic.plants.electronic.corrections.served = true;
}

/** The lesson days whose marks serveCorrections changes (what a re-read must cover). */
export function correctionDays(electronic: DemoSchool): string[] {
  return [...new Set([...electronic.plants?.electronic.markCorrected.values() ?? []].map((c) => c.date))].sort();
}

function markFor(lesson: DemoLesson, pupilId: string, value: string, enteredAt: string): DemoMark {
  return {
    id: `m-${lesson.id}-${pupilId}-planted`, pupilId, lessonId: lesson.id, subjectId: lesson.subjectId, date: lesson.date, value,
    workCategory: 'oral', weight: 1, workTitle: 'Ответ на уроке', enteredAt,
  };
}
