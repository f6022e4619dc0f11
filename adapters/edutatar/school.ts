import { AdapterError, type AdapterContext } from '../../src/ports/adapter.js';
import { mapLimit } from '../../src/ports/concurrency.js';
import type { ClassRecord, SubjectRecord } from '../../src/ports/records.js';
import { once, perRun } from '../../src/ports/session.js';
import { termKindOf, termOf, type Term } from './calendar.js';
import { EduTatarClient, type EduTatarConfig } from './client.js';
import { CLASSES, PUPILS, SCHOOL, journalEndpoint, type JournalPage } from './endpoints.js';
import { nameKey } from './mapping.js';
import { Roster, type PupilEntry } from './roster.js';

/**
 * What the adapter knows of the school before it reads journals: the school year (`/school`), the
 * classes (`/school/academic_year/classes`) and, per class, the journal's term and course selectors —
 * which give the class's terms (dated by the configuration) and courses (a subject for the whole
 * class or for a group of it [I]). Subjects are known by name only: the journal names them so.
 */
type Ctx = AdapterContext<EduTatarConfig>;

export interface ClassInfo {
  id: string;
  grade: number;
  letter: string;
  name: string;
  /** The class teacher's full name («Руководитель»). */
  teacher?: string;
}

export interface Course {
  criteria: string;
  classId: string;
  /** The class, or the class's group the course is for. */
  groupId: string;
  subjectId: string;
  subject: string;
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
}

/** The start year of the school year from `/school` — also the connection check (a non-staff account has no such page). */
export function schoolYear(ctx: Ctx): Promise<number> {
  return once(ctx, 'edutatar.year', async () => (await EduTatarClient.of(ctx).read(SCHOOL)).startYear);
}

/** The journal endpoint dating its columns in the run's school year. */
export function journalOf(ctx: Ctx, year: number): ReturnType<typeof journalEndpoint> {
  return perRun(ctx, `edutatar.journal.${year}`, () => journalEndpoint(year));
}

export function school(ctx: Ctx): Promise<SchoolView> {
  return once(ctx, 'edutatar.school', async () => {
    const client = EduTatarClient.of(ctx);
    const year = await schoolYear(ctx);
    const classes = (await client.read(CLASSES)).classes.map((c): ClassInfo => ({ ...c, name: `${c.grade}${c.letter}` }));
    const subjects = new Map<string, SubjectRecord>();
    const views = await mapLimit(classes, ctx.parallelism(ctx.config.parallelPages), async (info) => {
      const first = await client.read(journalOf(ctx, year), { edu_class_id: info.id });
      return classView(ctx, info, first, subjects, year);
    });
    return { year, classes: views, subjects: [...subjects.values()] };
  });
}

/** A class's pupils (`addUser(…)` of its pupils page), read once per run: the roster stream writes them, the journals match rows to them. */
export function pupilsOf(ctx: Ctx, classId: string): Promise<{ pupils: PupilEntry[]; roster: Roster }> {
  return once(ctx, `edutatar.pupils.${classId}`, async () => {
    const { pupils } = await EduTatarClient.of(ctx).read(PUPILS, { id: classId });
    return { pupils, roster: new Roster(pupils) };
  });
}

/** A course's group is the whole class when the selector's first part is empty, «Весь класс» or the class's name [I]. */
function isWholeClass(group: string, info: ClassInfo): boolean {
  const key = nameKey(group).replace(/\s/g, '');
  return key === '' || key === 'веськласс' || key === 'класс' || key === nameKey(info.name).replace(/\s/g, '');
}

function classView(ctx: Ctx, info: ClassInfo, page: JournalPage, subjects: Map<string, SubjectRecord>, year: number): ClassView {
  const groups = new Map<string, ClassRecord>();
  const courses = page.courses.map((option): Course => {
    const key = nameKey(option.subject);
    if (!subjects.has(key)) subjects.set(key, { type: 'subject', externalId: option.subject, name: option.subject });
    let groupId = info.id;
    if (!isWholeClass(option.group, info)) {
      groupId = `${info.id}/${option.criteria}`;
      const named = nameKey(option.group).replace(/\s/g, '').startsWith(nameKey(info.name).replace(/\s/g, ''));
      groups.set(groupId, {
        type: 'class', externalId: groupId, year, name: named ? option.group : `${info.name} ${option.group}`, grade: info.grade,
        ...(info.letter ? { letter: info.letter } : {}), parentExternalId: info.id,
      });
    }
    return { criteria: option.criteria, classId: info.id, groupId, subjectId: subjects.get(key)!.externalId, subject: option.subject };
  });
  return { info, courses, terms: termsOf(ctx, page, info, year), groups: [...groups.values()] };
}

/** The class's terms: `select#term`'s numbered options, dated by the configured calendar. */
function termsOf(ctx: Ctx, page: JournalPage, info: ClassInfo, year: number): Term[] {
  return page.terms.filter((o) => /^\d{1,2}$/.test(o.value)).map((option) => {
    const kind = termKindOf(option.text, info.grade);
    const term = kind ? termOf(ctx.config.terms, year, kind, Number(option.value), option.value) : undefined;
    if (!term) {
      throw new AdapterError('permanent', `edu.tatar.ru GET /school/journal/school_editor: select#term: «${option.text}» (class ${info.name}) `
        + 'is a term the configured calendar (terms.quarters, terms.halfYears) has no dates for');
    }
    return term;
  });
}
