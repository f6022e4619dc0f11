import { AdapterError, type AdapterContext } from '../../src/ports/adapter.js';
import { once } from '../../src/ports/session.js';
import { DnevnikClient, type DnevnikConfig } from './client.js';
import { CONTEXT, EDU_GROUPS, GROUP_TIMETABLES, REPORTING_PERIODS, SCHOOL_TIMETABLES, WORK_TYPES } from './endpoints.js';
import { WorkTypeIndex, type Bell, type BellOf } from './mapping-journal.js';
import { groupIdOf, idOf, parentIdOf } from './mapping.js';
import { BELL_TIME, pickId, type EduGroup, type ReportingPeriod, type Timetable } from './schemas.js';

/**
 * What every stream of a run needs of the school, read once per run (ctx.session): its id, its active
 * classes and subgroups, the classes' reporting periods, the work types and the bells.
 */

export type Ctx = AdapterContext<DnevnikConfig>;

/** A class or subgroup of the school. */
export interface Group {
  id: string;
  isClass: boolean;
  /** A subgroup's class. */
  parentId?: string;
  /** The timetable the group follows (`timetable_str`; subgroups share their class's). */
  timetableId?: string;
  raw: EduGroup;
}

export interface SchoolView {
  schoolId: string;
  groups: Group[];
  classes: Group[];
  /** Start year of the school year (the classes' `studyyear`). */
  startYear: number;
}

/** The school of the account: `schoolIds[0]`, else `schools[0]` (`id` or `id_str`), unless the configuration names it. */
async function schoolIdOf(ctx: Ctx): Promise<string> {
  if (ctx.config.schoolId) return ctx.config.schoolId;
  const context = await DnevnikClient.of(ctx).get(CONTEXT, 'users/me/context');
  const school = context.schoolIds?.[0] ?? (context.schools?.[0] ? idOf(context.schools[0].id_str, context.schools[0].id) : undefined);
  if (!school) throw new AdapterError('permanent', 'Дневник.ру GET /v2/users/me/context: the account belongs to no school (schools and schoolIds are empty)');
  return school;
}

function groupOf(g: EduGroup): Group {
  return { id: groupIdOf(g), isClass: g.type === 'Group', parentId: g.type === 'Subgroup' ? parentIdOf(g) : undefined, timetableId: pickId(g.timetable_str, g.timetable), raw: g };
}

/** The school's classes and subgroups; archived groups (`status: "Archive"`, captured) are left out. */
export function school(ctx: Ctx): Promise<SchoolView> {
  return once(ctx, 'dnevnik.school', async () => {
    const schoolId = await schoolIdOf(ctx);
    const answer = await DnevnikClient.of(ctx).get(EDU_GROUPS, `schools/${schoolId}/edu-groups`);
    const groups = answer.filter((g) => (g.type === 'Group' || g.type === 'Subgroup') && g.status !== 'Archive').map(groupOf);
    const classes = groups.filter((g) => g.isClass);
    const years = classes.map((c) => c.raw.studyyear).filter((y): y is number => typeof y === 'number');
    const startYear = years.length > 0 ? Math.max(...years) : ctx.now().getUTCFullYear() - (ctx.now().getUTCMonth() < 7 ? 1 : 0);
    return { schoolId, groups, classes, startYear };
  });
}

/** A class's reporting periods (read once per run: the roster and the final marks both need them). */
export function reportingPeriods(ctx: Ctx, group: Group): Promise<ReportingPeriod[]> {
  return once(ctx, `dnevnik.periods.${group.id}`, () => DnevnikClient.of(ctx).get(REPORTING_PERIODS, `edu-groups/${group.id}/reporting-periods`));
}

/** The school's work types (read losslessly: their ids have no twin in dnevnik-partners-api's model). */
export function workTypes(ctx: Ctx): Promise<WorkTypeIndex> {
  return once(ctx, 'dnevnik.workTypes', async () => {
    const { schoolId } = await school(ctx);
    const types = await DnevnikClient.of(ctx).get(WORK_TYPES, `work-types/${schoolId}`);
    return new WorkTypeIndex(types.map((t) => [idOf(t.id_str, t.id), t] as const));
  });
}

const clocks = new Map<string, Intl.DateTimeFormat>();

/** "HH:MM" of a bell in the school's zone: the time part of a local date-time, or an instant's wall clock there. */
export function bellTime(value: string, timeZone: string): string {
  const match = BELL_TIME.exec(value)!;
  const offset = match[3];
  if (!offset) return match[2]!;
  let clock = clocks.get(timeZone);
  if (!clock) clocks.set(timeZone, (clock = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })));
  const zone = offset === 'Z' ? 'Z' : `${offset.slice(0, 3)}:${offset.slice(-2)}`;
  return clock.format(new Date(`${match[1] ?? '2000-01-01'}T${match[2]}:00${zone}`));
}

const DAY_NAMES: ReadonlyArray<readonly string[]> = [
  ['sun', 'вос'], ['mon', 'пон'], ['tue', 'вто'], ['wed', 'сре'], ['thu', 'чет'], ['fri', 'пят'], ['sat', 'суб'],
];

/** Whether a `DaysOfWeek` entry («Monday», «MONDAY», «Понедельник») names the weekday (0 = Sunday) [I: the spellings]. */
const namesDay = (entry: string | number, weekday: number) => typeof entry === 'string' && DAY_NAMES[weekday]!.includes(entry.trim().slice(0, 3).toLowerCase());

/** Bells by lesson number; where items differ by day (`DaysOfWeek`), the one naming the lesson's weekday. */
export function bellsOf(timetable: Timetable | undefined, timeZone: string): BellOf {
  const items = new Map<number, Array<{ bell: Bell; days: ReadonlyArray<string | number> }>>();
  for (const item of timetable?.Items ?? []) {
    const list = items.get(item.LessonNumber) ?? [];
    list.push({ bell: { start: bellTime(item.Start, timeZone), end: bellTime(item.Finish, timeZone) }, days: item.DaysOfWeek ?? [] });
    items.set(item.LessonNumber, list);
  }
  return (number, date) => {
    const list = items.get(number);
    if (!list || list.length < 2) return list?.[0]?.bell;
    const weekday = new Date(`${date}T12:00:00Z`).getUTCDay();
    return (list.find((i) => i.days.some((d) => namesDay(d, weekday))) ?? list[0])!.bell;
  };
}

/**
 * The bells of every group. One school timetable serves all groups; with several (no client shows a
 * timetable's id to tell them apart) each timetable is read through one group that follows it.
 */
export function bells(ctx: Ctx): Promise<(group: Group) => BellOf> {
  return once(ctx, 'dnevnik.bells', async () => {
    const client = DnevnikClient.of(ctx);
    const { schoolId, groups } = await school(ctx);
    const all = await client.get(SCHOOL_TIMETABLES, `schools/${schoolId}/timetables`);
    if (all.length <= 1) {
      const only = bellsOf(all[0], ctx.timeZone);
      return () => only;
    }
    const byId = new Map(groups.map((g) => [g.id, g]));
    const keyOf = (g: Group) => g.timetableId ?? (g.parentId && byId.get(g.parentId)?.timetableId) ?? `group:${g.id}`;
    const readers = new Map<string, Group>();
    for (const g of groups) if (!readers.has(keyOf(g))) readers.set(keyOf(g), g);
    const timetables = new Map<string, BellOf>();
    for (const [key, g] of readers) timetables.set(key, bellsOf((await client.get(GROUP_TIMETABLES, `edu-groups/${g.id}/timetables`))[0], ctx.timeZone));
    return (g: Group) => timetables.get(keyOf(g))!;
  });
}
