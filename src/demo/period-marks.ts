import { planOf } from './curriculum.js';
import { generateLessonFacts } from './facts.js';
import { generateLessons, indexOf } from './schedule.js';
import type { DemoPeriod, DemoPeriodMark, DemoPupil, DemoSchool } from './types.js';

/**
 * Period marks: for each period that ended by `until`, each pupil of a grade that uses it (grade 1 gets
 * none) and each subject the pupil had: the weighted average of the pupil's marks in the period,
 * rounded half up; «зч» for pass/fail subjects; «н/а» with no marks. One pass over the year's lessons.
 */
export function* generatePeriodMarks(school: DemoSchool): Generator<DemoPeriodMark> {
  const periods = school.periods.filter((p) => p.endDate <= school.options.until);
  if (periods.length === 0) return;
  const sums = accumulate(school, periods);
  const index = indexOf(school);
  for (const period of periods) {
    for (const pupil of school.pupils) {
      const grade = index.groups.get(pupil.classId)!.grade;
      if (grade === 1 || !period.grades.includes(grade) || (pupil.leftOn && pupil.leftOn <= period.endDate)) continue;
      for (const subjectId of subjectsOf(school, pupil)) {
        const mark = periodMark(period, pupil, subjectId, sums.get(`${period.id}/${pupil.id}/${subjectId}`));
        if (!school.plants?.electronic.periodMarkRemoved.has(mark.id)) yield mark;
      }
    }
  }
}

type Sum = { weighted: number; weights: number };

function accumulate(school: DemoSchool, periods: DemoPeriod[]): Map<string, Sum> {
  const sums = new Map<string, Sum>();
  const last = periods.reduce((max, p) => (p.endDate > max ? p.endDate : max), '');
  for (const lesson of generateLessons(school, { to: last })) {
    const within = periods.filter((p) => lesson.date >= p.startDate && lesson.date <= p.endDate);
    if (within.length === 0) continue;
    for (const mark of generateLessonFacts(school, lesson).marks) {
      const points = pointsOf(mark.value);
      if (points === undefined) continue;
      for (const period of within) {
        const key = `${period.id}/${mark.pupilId}/${mark.subjectId}`;
        const sum = sums.get(key) ?? { weighted: 0, weights: 0 };
        sum.weighted += points * mark.weight;
        sum.weights += mark.weight;
        sums.set(key, sum);
      }
    }
  }
  return sums;
}

/** «4-» → 4, «2/5» → 3.5, «зч» → none. */
function pointsOf(value: string): number | undefined {
  const parts = value.split('/').map((part) => Number.parseInt(part, 10));
  if (parts.some((p) => Number.isNaN(p))) return undefined;
  return parts.reduce((a, b) => a + b, 0) / parts.length;
}

const subjectCache = new WeakMap<DemoSchool, Map<string, string[]>>();

function subjectsOf(school: DemoSchool, pupil: DemoPupil): string[] {
  let cache = subjectCache.get(school);
  if (!cache) subjectCache.set(school, (cache = new Map()));
  const key = [pupil.classId, ...pupil.subgroupIds].join(',');
  let subjects = cache.get(key);
  if (!subjects) {
    const groups = new Set([pupil.classId, ...pupil.subgroupIds]);
    subjects = [...new Set(school.timetable.filter((e) => groups.has(e.groupId)).map((e) => e.subjectId))];
    cache.set(key, subjects);
  }
  return subjects;
}

function periodMark(period: DemoPeriod, pupil: DemoPupil, subjectId: string, sum: Sum | undefined): DemoPeriodMark {
  const base = { id: `pm-${period.id}-${pupil.id}-${subjectId}`, pupilId: pupil.id, subjectId, periodId: period.id, setAt: `${period.endDate}T15:00:00+03:00` };
  if (planOf(subjectId).passFail) return { ...base, value: 'зч', average: null };
  if (!sum || sum.weights === 0) return { ...base, value: 'н/а', average: null };
  const average = Math.round((sum.weighted / sum.weights) * 100) / 100;
  return { ...base, value: String(Math.min(5, Math.max(2, Math.floor(average + 0.5)))), average };
}
