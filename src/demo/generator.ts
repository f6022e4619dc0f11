import { schoolYear } from './calendar.js';
import { CURRICULUM, isSplit, subjectsOfGrade } from './curriculum.js';
import { generateParents, generatePupils, nameSource } from './people.js';
import { Random, seedFrom } from './prng.js';
import { generateStaff } from './staff.js';
import { generateTimetable } from './timetable.js';
import type { DemoBell, DemoGroup, DemoOptions, DemoSchool } from './types.js';

export { generateLessons } from './schedule.js';
export { generateLessonFacts } from './facts.js';
export { generatePeriodMarks } from './period-marks.js';
export type * from './types.js';

/**
 * The demo school: a deterministic function of its options (see types.ts). The roster, staff and
 * timetable are built here; lessons and their marks and absences are generated lazily by
 * `generateLessons` and `generateLessonFacts`, period marks by `generatePeriodMarks`.
 */
export function generateSchool(input: DemoOptions): DemoSchool {
  const calendar = schoolYear(input.year);
  const options: Required<DemoOptions> = { ...input, until: input.until ?? calendar.lastDay };
  const rng = new Random(seedFrom(options.seed, 'school'));
  const faker = nameSource(seedFrom(options.seed, 'names'));
  const parallels = Math.max(1, Math.round(options.pupils / (11 * 26)));
  const classes = generateClasses(parallels);
  const subgroups = classes.flatMap(subgroupsOf);
  const perClass = Math.round(options.pupils / classes.length);
  const { staff, assignments } = generateStaff(faker, rng, classes, subgroups);
  const timetable = generateTimetable(rng, classes, subgroups, assignments);
  const pupils = generatePupils(faker, rng, classes, subgroups, perClass, calendar.startDate);
  markLeavers(rng, pupils, options.year);
  const parents = generateParents(faker, rng, pupils);
  return {
    options,
    school: {
      id: 'school', name: 'МБОУ «Средняя общеобразовательная школа № 17»', shortName: 'МБОУ СОШ № 17',
      region: 'Московская область', timeZone: 'Europe/Moscow',
    },
    year: { id: `year-${options.year}`, startYear: options.year, title: `${options.year}/${options.year + 1}`, startDate: calendar.startDate, endDate: calendar.endDate },
    periods: calendar.periods,
    holidays: calendar.holidays,
    bells: BELLS,
    subjects: CURRICULUM.map(({ id, name, shortName }) => ({ id, name, shortName })),
    groups: [...classes, ...subgroups],
    pupils,
    parents,
    staff,
    timetable,
    assignments,
  };
}

const BELLS: DemoBell[] = [
  ['08:30', '09:15'], ['09:25', '10:10'], ['10:30', '11:15'], ['11:25', '12:10'],
  ['12:20', '13:05'], ['13:15', '14:00'], ['14:10', '14:55'], ['15:05', '15:50'],
].map(([start, end], i) => ({ slot: i + 1, start: start!, end: end! }));

const LETTERS = ['А', 'Б', 'В', 'Г', 'Д', 'Е', 'Ж', 'З', 'И', 'К'];
const LATIN: Record<string, string> = { А: 'a', Б: 'b', В: 'v', Г: 'g', Д: 'd', Е: 'e', Ж: 'zh', З: 'z', И: 'i', К: 'k' };

function generateClasses(parallels: number): DemoGroup[] {
  const classes: DemoGroup[] = [];
  for (let grade = 1; grade <= 11; grade++) {
    for (const letter of LETTERS.slice(0, Math.min(parallels, LETTERS.length))) {
      classes.push({ id: `cls-${grade}${LATIN[letter]}`, kind: 'class', grade, letter, name: `${grade}${letter}` });
    }
  }
  return classes;
}

const SPLIT_LABEL: Record<string, string> = { 'subj-eng': 'англ.', 'subj-inf': 'информ.' };

function subgroupsOf(cls: DemoGroup): DemoGroup[] {
  return subjectsOfGrade(cls.grade)
    .filter((s) => isSplit(s, cls.grade))
    .flatMap((s) => [1, 2].map((n) => ({
      id: `grp-${cls.id.slice(4)}-${s.id.slice(5)}-${n}`, kind: 'subgroup' as const, parentId: cls.id, subjectId: s.id,
      grade: cls.grade, letter: cls.letter, name: `${cls.name} ${SPLIT_LABEL[s.id] ?? s.shortName} гр. ${n}`,
    })));
}

/** About 1 % of pupils leave during the year (October to April). */
function markLeavers(rng: Random, pupils: DemoSchool['pupils'], year: number): void {
  for (const pupil of pupils) {
    if (!rng.chance(0.01)) continue;
    const month = rng.pick([10, 11, 12, 1, 2, 3, 4]);
    pupil.leftOn = `${month >= 9 ? year : year + 1}-${String(month).padStart(2, '0')}-${String(rng.int(1, 28)).padStart(2, '0')}`;
  }
}
