import { planOf, type SubjectPlan } from './curriculum.js';
import { Random, seedFrom } from './prng.js';
import { courseOrdinal, indexOf, lessonKind, type LessonKind, type SchoolIndex } from './schedule.js';
import type { DemoAbsence, DemoAbsenceCode, DemoLesson, DemoLessonFacts, DemoMark, DemoPlants, DemoPupil, DemoSchool, DemoWorkCategory } from './types.js';

/**
 * The marks and absences of one lesson, from a PRNG seeded by the school seed and the lesson id (so a
 * simulator can answer any date range alone). Pupils have a stable ability and two or three illnesses a
 * year; grade 1 gets no marks. Volumes are tuned so a 1,000-pupil year has about 700,000 marks.
 */

/** Probability of a mark for a present pupil in a regular lesson, and of a second one (homework check). */
const P_MARK = 0.78;
const P_SECOND = 0.23;

const WEIGHT: Record<DemoWorkCategory, number> = {
  oral: 1, homework: 1, written: 1.5, test: 1.5, practical: 1, lab: 1.5, control: 2, essay: 2, other: 1,
};

const TITLE: Record<DemoWorkCategory, string> = {
  oral: 'Ответ на уроке', homework: 'Домашнее задание', written: 'Самостоятельная работа', test: 'Тест',
  practical: 'Практическая работа', lab: 'Лабораторная работа', control: 'Контрольная работа', essay: 'Сочинение', other: 'Работа на уроке',
};

const KIND_CATEGORY: Record<Exclude<LessonKind, 'regular'>, DemoWorkCategory> = { control: 'control', lab: 'lab', essay: 'essay' };

export function generateLessonFacts(school: DemoSchool, lesson: DemoLesson): DemoLessonFacts {
  const index = indexOf(school);
  const group = index.groups.get(lesson.groupId)!;
  const plan = planOf(lesson.subjectId);
  const entry = { groupId: lesson.groupId, subjectId: lesson.subjectId, weekday: 0, slot: lesson.slot, teacherId: lesson.teacherId };
  const kind = lessonKind(plan, group.grade, courseOrdinal(index, entry, lesson.date));
  const rng = new Random(seedFrom(school.options.seed, lesson.id));
  const marks: DemoMark[] = [];
  const absences: DemoAbsence[] = [];
  if (lesson.status === 'cancelled') return { marks, absences };
  for (const pupil of index.members.get(lesson.groupId) ?? []) {
    if (pupil.enrolledFrom > lesson.date || (pupil.leftOn && lesson.date >= pupil.leftOn)) continue;
    const code = absenceOf(school, index, rng, pupil, lesson.date);
    if (code) absences.push(absence(rng, lesson, pupil, code));
    if (group.grade === 1) continue;
    const present = code === undefined || code === 'ОП';
    const ctx = { school, lesson, pupil, plan, rng, marks };
    if (kind !== 'regular') {
      if (present && rng.chance(0.92)) addMark(ctx, KIND_CATEGORY[kind]);
      else if (!present && rng.chance(0.3)) addMark(ctx, KIND_CATEGORY[kind], 'н');
    } else if (present && rng.chance(P_MARK)) {
      addMark(ctx, regularCategory(rng, plan));
      if (rng.chance(P_SECOND)) addMark(ctx, 'homework');
    }
  }
  return school.plants ? plantFacts(school.plants, lesson, { marks, absences }) : { marks, absences };
}

/** The platforms' side of the planted discrepancies (types.ts DemoPlants). */
function plantFacts(plants: DemoPlants, lesson: DemoLesson, facts: DemoLessonFacts): DemoLessonFacts {
  const e = plants.electronic;
  const marks = facts.marks.filter((m) => !e.markRemoved.has(m.id)).map((m) => ({
    ...m, value: (e.corrections.served ? e.markCorrected.get(m.id)?.value : undefined) ?? e.markValue.get(m.id) ?? m.value, enteredAt: e.markEnteredAt.get(m.id) ?? m.enteredAt,
  }));
  marks.push(...(e.markAdded.get(lesson.id) ?? []));
  const absences = facts.absences.map((a) => ({ ...a, code: e.absenceCode.get(a.id) ?? a.code }));
  return { marks, absences };
}

function absence(rng: Random, lesson: DemoLesson, pupil: DemoPupil, code: DemoAbsenceCode): DemoAbsence {
  const id = `a-${lesson.id}-${pupil.id}`;
  const base = { id, pupilId: pupil.id, lessonId: lesson.id, date: lesson.date, code };
  return code === 'ОП' ? { ...base, lateMinutes: rng.int(5, 20) } : base;
}

/** Б on the days of the pupil's illnesses; otherwise a small chance of Н, УП or ОП. */
function absenceOf(school: DemoSchool, index: SchoolIndex, rng: Random, pupil: DemoPupil, date: string): DemoAbsenceCode | undefined {
  const day = index.dayIndex.get(date) ?? 0;
  if (illnessesOf(school, index, pupil).some(([from, to]) => day >= from && day <= to)) return 'Б';
  const roll = rng.next();
  if (roll < 0.018) return 'Н';
  if (roll < 0.03) return 'УП';
  if (roll < 0.04) return 'ОП';
  return undefined;
}

const illnessCache = new WeakMap<DemoSchool, Map<string, Array<[number, number]>>>();

function illnessesOf(school: DemoSchool, index: SchoolIndex, pupil: DemoPupil): Array<[number, number]> {
  let cache = illnessCache.get(school);
  if (!cache) illnessCache.set(school, (cache = new Map()));
  let spans = cache.get(pupil.id);
  if (!spans) {
    const rng = new Random(seedFrom(school.options.seed, pupil.id, 'illness'));
    spans = Array.from({ length: rng.int(1, 3) }, () => {
      const start = rng.int(0, index.yearDays.length - 1);
      return [start, start + rng.int(2, 6)] as [number, number];
    });
    cache.set(pupil.id, spans);
  }
  return spans;
}

function regularCategory(rng: Random, plan: SubjectPlan): DemoWorkCategory {
  if (plan.id === 'subj-tech' || plan.id === 'subj-inf') return rng.weighted([['practical', 5], ['oral', 3], ['test', 1]]);
  return rng.weighted([['oral', 56], ['written', 22], ['homework', 14], ['test', 8]]);
}

interface MarkContext {
  school: DemoSchool;
  lesson: DemoLesson;
  pupil: DemoPupil;
  plan: SubjectPlan;
  rng: Random;
  marks: DemoMark[];
}

function addMark(ctx: MarkContext, category: DemoWorkCategory, forced?: string): void {
  const { lesson, pupil, rng } = ctx;
  ctx.marks.push({
    id: `m-${lesson.id}-${pupil.id}-${ctx.marks.filter((m) => m.pupilId === pupil.id).length + 1}`,
    pupilId: pupil.id, lessonId: lesson.id, subjectId: lesson.subjectId, date: lesson.date,
    value: forced ?? valueOf(ctx, category), workCategory: category, weight: WEIGHT[category],
    workTitle: TITLE[category], enteredAt: enteredAt(rng, lesson, category),
  });
}

const abilities = new WeakMap<DemoSchool, Map<string, number>>();

/** A pupil's stable ability in a subject: mostly the pupil's, a little the subject's. */
function abilityOf(school: DemoSchool, pupilId: string, subjectId: string): number {
  let cache = abilities.get(school);
  if (!cache) abilities.set(school, (cache = new Map()));
  const key = `${pupilId}/${subjectId}`;
  let ability = cache.get(key);
  if (ability === undefined) {
    const general = new Random(seedFrom(school.options.seed, pupilId, 'ability')).normal() * 0.8;
    const subject = new Random(seedFrom(school.options.seed, key, 'ability')).normal() * 0.25;
    ability = Math.max(-1.2, Math.min(1.2, general + subject));
    cache.set(key, ability);
  }
  return ability;
}

function valueOf(ctx: MarkContext, category: DemoWorkCategory): string {
  const { rng, plan } = ctx;
  if (plan.passFail) return rng.chance(0.97) ? 'зч' : 'нз';
  if (plan.id === 'subj-pe' && rng.chance(0.12)) return 'зч';
  const a = abilityOf(ctx.school, ctx.pupil.id, plan.id);
  const points = () => rng.weighted([[5, 30 * Math.exp(1.4 * a)], [4, 38], [3, 22 * Math.exp(-1.4 * a)], [2, 5 * Math.exp(-2 * a)]] as const);
  if (category === 'control' && plan.id === 'subj-rus' && rng.chance(0.3)) return `${points()}/${points()}`;
  const value = points();
  if (rng.chance(0.04)) {
    if (value === 5) return '5-';
    if (value === 4) return rng.chance(0.5) ? '4+' : '4-';
    if (value === 3) return '3+';
  }
  return String(value);
}

/**
 * During the lesson for oral answers, after it for the rest, always on the lesson day: the demo's late
 * and back-dated entries are planted ones (plants.ts), so that the checks find exactly those. The
 * draws that once made 5 % of entries late are still made, so every other generated value stays as it was.
 */
function enteredAt(rng: Random, lesson: DemoLesson, category: DemoWorkCategory): string {
  const start = minutesOf(lesson.startsAt);
  const end = minutesOf(lesson.endsAt);
  const day = lesson.date;
  let minute = category === 'oral' ? start + rng.int(5, 40) : end + rng.int(5, 300);
  const roll = rng.next();
  if (roll < 0.05) {
    rng.int(1, 3);
    minute = Math.max(minute, rng.int(17 * 60, 21 * 60));
  } else if (roll < 0.06 && (category === 'control' || category === 'written' || category === 'essay')) {
    rng.int(8, 12);
    minute = Math.max(minute, rng.int(15 * 60, 20 * 60));
  }
  minute = Math.min(minute, 23 * 60 + 59);
  return `${day}T${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}:00+03:00`;
}

function minutesOf(instant: string): number {
  return Number(instant.slice(11, 13)) * 60 + Number(instant.slice(14, 16));
}
