import { AdapterError, type AdapterContext } from '../../src/ports/adapter.js';
import { mapLimit } from '../../src/ports/concurrency.js';
import type { ClassRecord, PeriodRecord, SubjectRecord } from '../../src/ports/records.js';
import { once } from '../../src/ports/session.js';
import { EduTatarClient, type EduTatarConfig } from './client.js';
import { parseFilters, type CourseOption, type TermOption } from './journal.js';
import { classRecord, parseClasses, parseSchoolYear, parseSubjects, periodKindOf, type ClassInfo } from './mapping.js';

/**
 * What the adapter knows of the school before it reads journals: the school year (`/school`), the
 * classes (`/school/academic_year/classes`), the subjects (`/school/subject/index`) and, per class, the
 * journal's term and subject selectors — which give the periods and the class's courses (a course is a
 * subject taught to the whole class or to one of its groups [I]).
 */
type Ctx = AdapterContext<EduTatarConfig>;

export const JOURNAL_PATH = 'school/journal/school_editor';

export interface Course {
  criteria: string;
  classId: string;
  /** The class, or the class's group the course is for. */
  groupId: string;
  subjectId: string;
}

export interface Term {
  /** The journal's `term` parameter. */
  value: string;
  periodId: string;
  /** The period as a record; undefined when the selector gives no dates. */
  period?: PeriodRecord;
}

export interface ClassView {
  info: ClassInfo;
  courses: Course[];
  terms: Term[];
  /** The class's groups met in its courses, as class records with the class as parent. */
  groups: ClassRecord[];
}

export interface SchoolView {
  year: number;
  classes: ClassView[];
  subjects: SubjectRecord[];
  /** The whole school year as a period (year marks refer to it); undefined when no term has dates. */
  yearPeriod?: PeriodRecord;
}

export const YEAR_PERIOD_ID = 'year';

/** The start year of the school year from `/school` — also the connection check (a non-staff account has no such page). */
export function schoolYear(ctx: Ctx): Promise<number> {
  return once(ctx, 'edutatar.year', async () => {
    const year = parseSchoolYear(await EduTatarClient.of(ctx).page('school'));
    if (year === undefined) {
      throw new AdapterError('permanent', 'edu.tatar.ru shows this account no school pages (/school names no school year): '
        + 'use the school administrator\'s or a deputy\'s account with the rights to the class journals');
    }
    return year;
  });
}

export function school(ctx: Ctx): Promise<SchoolView> {
  return once(ctx, 'edutatar.school', async () => {
    const client = EduTatarClient.of(ctx);
    const year = await schoolYear(ctx);
    const classes = parseClasses(await client.page('school/academic_year/classes'));
    if (classes.length === 0) throw new AdapterError('permanent', 'edu.tatar.ru lists no classes to this account: use an account with the rights to the class journals');
    const subjects = new Map(parseSubjects(await client.page('school/subject/index')).map((s) => [subjectKey(s.name), s]));
    const views = await mapLimit(classes, ctx.config.parallelPages, async (info) => {
      const filters = parseFilters(await client.page(JOURNAL_PATH, { edu_class_id: info.id }));
      return classView(info, filters.courses, filters.terms, subjects, year);
    });
    return { year, classes: views, subjects: [...subjects.values()], ...yearPeriodOf(views, year) };
  });
}

/** «Русский  язык» → «русский язык»: how a course's subject is found among the school's subjects. */
function subjectKey(name: string): string {
  return name.toLowerCase().replace(/ё/g, 'е').replace(/\s+/g, ' ').trim();
}

/** A course's group is the whole class when it is named «Весь класс», after the class, or not at all [I]. */
function isWholeClass(group: string, info: ClassInfo): boolean {
  const key = subjectKey(group);
  return key === '' || key === 'весь класс' || key === 'класс' || key.replace(/\s/g, '') === info.name.toLowerCase();
}

function classView(info: ClassInfo, options: CourseOption[], termOptions: TermOption[], subjects: Map<string, SubjectRecord>, year: number): ClassView {
  const groups = new Map<string, ClassRecord>();
  const courses = options.map((option): Course => {
    const key = subjectKey(option.subject);
    // A subject the school's list lacks is still a subject: known by its name.
    if (!subjects.has(key)) subjects.set(key, { type: 'subject', externalId: option.subject, name: option.subject });
    let groupId = info.id;
    if (!isWholeClass(option.group, info)) {
      groupId = `${info.id}/${option.criteria}`;
      groups.set(groupId, { ...classRecord(info, year), externalId: groupId, name: `${info.name} ${option.group}`, parentExternalId: info.id });
    }
    return { criteria: option.criteria, classId: info.id, groupId, subjectId: subjects.get(key)!.externalId };
  });
  return { info, courses, terms: termOptions.map((t) => termOf(t, year)), groups: [...groups.values()] };
}

function termOf(option: TermOption, year: number): Term {
  const kind = periodKindOf(option.title);
  const number = Math.min(Number(/\d+/.exec(option.value)?.[0] ?? /^\s*(\d+)/.exec(option.title)?.[1] ?? 1), 12);
  const periodId = `${kind}-${number}`;
  if (!option.startDate || !option.endDate) return { value: option.value, periodId };
  return {
    value: option.value, periodId,
    period: { type: 'period', externalId: periodId, year, kind, number, title: option.title, startDate: option.startDate, endDate: option.endDate },
  };
}

function yearPeriodOf(classes: ClassView[], year: number): { yearPeriod?: PeriodRecord } {
  const periods = classes.flatMap((c) => c.terms.flatMap((t) => (t.period ? [t.period] : [])));
  if (periods.length === 0) return {};
  const startDate = periods.map((p) => p.startDate).sort()[0]!;
  const endDate = periods.map((p) => p.endDate).sort().at(-1)!;
  return { yearPeriod: { type: 'period', externalId: YEAR_PERIOD_ID, year, kind: 'year', number: 1, title: `${year}/${year + 1} учебный год`, startDate, endDate } };
}

/** Whether a term meets the read range (a term without dates always does). */
export function termMeets(term: Term, range: { from: string; to: string }): boolean {
  return !term.period || (term.period.startDate <= range.to && term.period.endDate >= range.from);
}
