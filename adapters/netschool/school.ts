import { AdapterError, type AdapterContext, type AdapterStream } from '../../src/ports/adapter.js';
import { mapLimit } from '../../src/ports/concurrency.js';
import type { SourceRecord } from '../../src/ports/records.js';
import { once } from '../../src/ports/session.js';
import { NetSchoolClient, type NetSchoolConfig } from './client.js';
import { ASSIGNMENT_TYPES, CLASSES, STUDENT_LIST, TERMS, YEAR_CURRENT, type AssignmentType, type NetSchoolClass, type Term } from './endpoints.js';
import { chiefRecords, classRecord, dateOf, periodRecord, personRecord } from './mapping.js';

type Ctx = AdapterContext<NetSchoolConfig>;

export interface Pupil {
  id: string;
  fullName: string;
  classId: string;
}

/** What every stream needs of the school, read once per run. */
export interface SchoolView {
  yearId: string;
  /** Start year of the school year. */
  year: number;
  classes: NetSchoolClass[];
  /** Every class's pupils, in the order `grade/studentList` lists them. */
  pupils: Pupil[];
  /** The terms of this school year (`GET terms`). */
  terms: Term[];
  types: Map<number, AssignmentType>;
  scale: number;
}

/** NetSchool's scale: `maxMark` 5 in every capture; diary/init, which says it, is a pupil's answer (see README.md). */
const SCALE = 5;
const collator = new Intl.Collator('ru');

/** A class's pupils as the journal lists them (by name): the subgroup inference numbers groups by it. */
export function rosterOf(view: SchoolView, classId: string): string[] {
  return view.pupils.filter((p) => p.classId === classId).sort((a, b) => collator.compare(a.fullName, b.fullName)).map((p) => p.id);
}

/**
 * The school as a staff account sees it: the year, the assignment types, the classes (`GET classes`),
 * each class's pupils (`GET grade/studentList?classId=`), the terms (`GET terms`) — the requests of
 * the one public teacher/administrator client (AgafonovChita/AdminAPI_SGO).
 */
export function readSchool(ctx: Ctx): Promise<SchoolView> {
  return once(ctx, 'netschool.school', async () => {
    const client = NetSchoolClient.of(ctx);
    const year = await client.call(YEAR_CURRENT, { url: 'years/current' });
    const types = await client.call(ASSIGNMENT_TYPES, { url: 'grade/assignment/types', query: { all: 'true' } });
    const classes = await readClasses(ctx);
    const lists = await mapLimit(classes, ctx.parallelism(ctx.config.parallelPupils), (cls) => client.call(STUDENT_LIST, { url: 'grade/studentList', query: { classId: cls.id } }));
    const terms = (await client.call(TERMS, { url: 'terms' })).filter((t) => t.schoolYearId === undefined || t.schoolYearId === year.id);
    // The server's order: reads (and a capture's replay) follow it, whatever the names.
    const pupils = classes.flatMap((cls, i) => lists[i]!.map((p) => ({ id: p.id, fullName: p.fullName.trim().replace(/\s+/g, ' '), classId: cls.id })));
    const startYear = Number((dateOf(year.startDate) ?? dateOf(terms[0]?.startDate) ?? ctx.range.from).slice(0, 4));
    return { yearId: year.id, year: startYear, classes, pupils, terms, types: new Map(types.map((t) => [t.id, t])), scale: SCALE };
  });
}

/** The school's classes; none means the account is not the school's staff. */
export function readClasses(ctx: Ctx): Promise<NetSchoolClass[]> {
  return once(ctx, 'netschool.classes', async () => {
    const classes = await NetSchoolClient.of(ctx).call(CLASSES, { url: 'classes', query: { expand: 'chiefs' } });
    if (classes.length === 0) throw new AdapterError('permanent', 'NetSchool: this account sees no classes of the school (GET classes is empty); use a school administrator\'s or deputy\'s account');
    return classes;
  });
}

/** Roster: classes with their class teachers, pupils with their class, the year's terms. */
export const roster: AdapterStream<NetSchoolConfig> = {
  granularity: 'school',
  async *read(ctx) {
    const view = await readSchool(ctx);
    const records: SourceRecord[] = [];
    for (const cls of view.classes) records.push(classRecord(cls, view.year), ...chiefRecords(cls));
    // A broken term date still goes to the journal, which rejects that period with the reason.
    for (const term of view.terms) records.push(periodRecord(term.id, term.termName, { start: term.startDate, end: term.endDate }, view.year));
    for (const p of view.pupils) {
      records.push(personRecord(p.id, p.fullName, 'pupil', p.classId));
      records.push({ type: 'enrollment', externalId: `${p.id}@${p.classId}`, pupilExternalId: p.id, classExternalId: p.classId });
    }
    // One teacher may lead two classes, one pupil be listed twice: each record once.
    const unique = new Map(records.map((r) => [`${r.type}|${r.externalId}`, r]));
    yield { records: [...unique.values()] };
  },
};
