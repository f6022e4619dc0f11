/**
 * The demo school: a deterministic, generated school that is the "truth" for the demo mode, the
 * platform simulators and the round-trip tests. Everything is a pure function of `DemoOptions`.
 *
 * The roster and timetable are small and generated eagerly (`generateSchool`); lessons and the facts
 * of a lesson (marks, absences) are generated lazily, per class and day, from seeds derived from the
 * school seed and the lesson id, so that any slice can be regenerated alone (a simulator answering
 * "marks of 5А from 2025-10-01 to 2025-10-14" does not build the whole year).
 *
 * Ids are stable strings (`cls-5a`, `p-0123`, `l-5a-2025-09-01-3` …), unique within the school.
 * Dates are ISO calendar dates (`2025-09-01`); instants are ISO strings with the school's offset.
 */

export interface DemoOptions {
  /** PRNG seed; the same options always give the same school. */
  seed: number;
  /** Approximate number of pupils (the generator fills whole classes; ±10 %). */
  pupils: number;
  /** Start year of the academic year: 2025 → 2025/2026 (1 September 2025 – 31 May 2026). */
  year: number;
  /** Last calendar day with lessons and facts; lessons after it are not generated. Default: year end. */
  until?: string;
}

export type DemoPeriodKind = 'quarter' | 'half_year' | 'year';

export interface DemoPeriod {
  id: string;
  kind: DemoPeriodKind;
  number: number;
  title: string;
  startDate: string;
  endDate: string;
  /** Grades that use this period system (quarters: 1–9, half-years: 10–11, year: all). */
  grades: number[];
}

export interface DemoHoliday {
  title: string;
  startDate: string;
  endDate: string;
}

export interface DemoBell {
  slot: number;
  /** "08:30" school-local. */
  start: string;
  end: string;
}

export interface DemoSubject {
  id: string;
  name: string;
  shortName: string;
}

export type DemoGroupKind = 'class' | 'subgroup';

/** A class (5А) or a subgroup of a class (5А, English group 1). */
export interface DemoGroup {
  id: string;
  kind: DemoGroupKind;
  /** For subgroups: the class. */
  parentId?: string;
  /** For subgroups: the subject the class is split for. */
  subjectId?: string;
  grade: number;
  letter: string;
  /** "5А" for a class, "5А англ. гр. 1" for a subgroup. */
  name: string;
}

export type DemoSex = 'm' | 'f';

export interface DemoPersonBase {
  id: string;
  lastName: string;
  firstName: string;
  middleName: string;
  sex: DemoSex;
  birthDate: string;
}

export interface DemoPupil extends DemoPersonBase {
  classId: string;
  /** Subgroups the pupil belongs to (ids of DemoGroup of kind subgroup). */
  subgroupIds: string[];
  enrolledFrom: string;
  /** Set for the few pupils who leave during the year. */
  leftOn?: string;
}

export interface DemoParent extends DemoPersonBase {
  /** Placeholder contacts that cannot reach a real person: +7 999 …, …@example.org, @demo_… */
  phone: string;
  email: string;
  telegram: string;
  relation: 'mother' | 'father' | 'guardian';
  pupilIds: string[];
}

export type DemoStaffRole = 'teacher' | 'class_teacher' | 'deputy' | 'director';

export interface DemoStaff extends DemoPersonBase {
  phone: string;
  email: string;
  roles: { role: DemoStaffRole; groupId?: string }[];
}

/** A weekly timetable slot of a class or subgroup. weekday: 1 = Monday … 6 = Saturday. */
export interface DemoTimetableEntry {
  groupId: string;
  weekday: number;
  slot: number;
  subjectId: string;
  teacherId: string;
}

export interface DemoAssignment {
  teacherId: string;
  groupId: string;
  subjectId: string;
}

export type DemoLessonStatus = 'held' | 'planned' | 'cancelled';

export interface DemoLesson {
  id: string;
  groupId: string;
  subjectId: string;
  date: string;
  slot: number;
  /** ISO instants with the school's offset, from the bell schedule. */
  startsAt: string;
  endsAt: string;
  teacherId: string;
  /** Set when another teacher taught the lesson (about 2 % of lessons). */
  substituteId?: string;
  topic: string;
  /** Empty for some lessons (tests, the last lesson before holidays). */
  homework: string;
  status: DemoLessonStatus;
}

export type DemoWorkCategory =
  | 'oral'
  | 'written'
  | 'control'
  | 'essay'
  | 'lab'
  | 'practical'
  | 'homework'
  | 'test'
  | 'other';

export interface DemoMark {
  id: string;
  pupilId: string;
  lessonId: string;
  subjectId: string;
  date: string;
  /** As a teacher writes it: «5», «4», «3», «2», «5-», «4+», «зч», «нз», «н», «2/5» … */
  value: string;
  workCategory: DemoWorkCategory;
  /** Weight of the work type: oral 1, homework 1, written 1.5, control 2, essay 2 … */
  weight: number;
  workTitle: string;
  /** When the teacher entered it (mostly the lesson day, some late: the checks need them). */
  enteredAt: string;
}

/** Absence codes: Н (no valid reason), Б (ill), УП (valid reason), ОП (late, with minutes). */
export type DemoAbsenceCode = 'Н' | 'Б' | 'УП' | 'ОП';

export interface DemoAbsence {
  id: string;
  pupilId: string;
  lessonId: string;
  date: string;
  code: DemoAbsenceCode;
  lateMinutes?: number;
}

export interface DemoLessonFacts {
  marks: DemoMark[];
  absences: DemoAbsence[];
}

export interface DemoPeriodMark {
  id: string;
  pupilId: string;
  subjectId: string;
  periodId: string;
  /** «5», «4», «3», «2», «зч», «н/а», «осв». */
  value: string;
  /** Weighted average of the pupil's marks in the period, two decimals. */
  average: number | null;
  setAt: string;
}

export interface DemoSchool {
  options: Required<DemoOptions>;
  /** Planted discrepancies (src/demo/plants.ts): what the paper journal and the platforms serve differently. */
  plants?: DemoPlants;
  school: { id: string; name: string; shortName: string; region: string; timeZone: string };
  year: { id: string; startYear: number; title: string; startDate: string; endDate: string };
  periods: DemoPeriod[];
  holidays: DemoHoliday[];
  bells: DemoBell[];
  subjects: DemoSubject[];
  /** Classes first (ordered by grade, letter), then subgroups. */
  groups: DemoGroup[];
  pupils: DemoPupil[];
  parents: DemoParent[];
  staff: DemoStaff[];
  timetable: DemoTimetableEntry[];
  assignments: DemoAssignment[];
}

/**
 * Planted discrepancies, applied by the generator where it makes lessons, facts and period marks (and
 * nowhere else): `common` changes every source's view (the paper journal too), `electronic` only what
 * the platform simulators serve. Keys are generator ids.
 */
export interface DemoPlants {
  common: { topicRemoved: ReadonlySet<string> };
  electronic: {
    markValue: ReadonlyMap<string, string>;
    markEnteredAt: ReadonlyMap<string, string>;
    markRemoved: ReadonlySet<string>;
    /** Marks the platforms have and the paper does not, by lesson id. */
    markAdded: ReadonlyMap<string, readonly DemoMark[]>;
    absenceCode: ReadonlyMap<string, DemoAbsenceCode>;
    periodMarkRemoved: ReadonlySet<string>;
    /** Lessons a colleague taught with no substitution recorded: the platforms name the colleague as the lesson's teacher. */
    lessonTeacher: ReadonlyMap<string, string>;
    /** Marks changed on the platforms after the fact, without a justification: served with the new value once `corrections.served`. */
    markCorrected: ReadonlyMap<string, { value: string; date: string }>;
    /** Switched on (plants.ts serveCorrections) once the platforms have synced the original values. */
    corrections: { served: boolean };
  };
}
