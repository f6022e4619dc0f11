import { AdapterError, type Adapter, type AdapterContext, type AdapterStream, type SourceBatch } from '../../src/ports/adapter.js';
import { mapLimit } from '../../src/ports/concurrency.js';
import { once } from '../../src/ports/session.js';
import type { SourceRecord } from '../../src/ports/records.js';
import { DnevnikClient, DnevnikConfigSchema, type DnevnikConfig } from './client.js';
import {
  VOCABULARY, attendanceRecord, classRecord, enrollmentRecord, lessonRecord, markRecord, periodMarkRecords, periodRecord, pupilRecord,
  subjectRecord, teacherRecords,
  type EduGroup, type Lesson, type LogEntry, type Mark, type Person, type PersonFinalMark, type ReportingPeriod, type Subject,
  type Teacher, type TimetableItem, type WorkType,
} from './mapping.js';

/**
 * Дневник.ру (and its white labels) through the REST API v2: the roster school-wide, lessons, marks and
 * lesson log entries group by group in date slices, final marks per class. See README.md.
 */
type Ctx = AdapterContext<DnevnikConfig>;

interface SchoolView {
  schoolId: string;
  groups: EduGroup[];
}

function school(ctx: Ctx): Promise<SchoolView> {
  return once(ctx, 'dnevnik.school', async () => {
    const client = DnevnikClient.of(ctx);
    const context = await client.get<{ schools?: Array<{ id_str: string }> }>('users/me/context');
    const schoolId = ctx.config.schoolId ?? context.schools?.[0]?.id_str;
    if (!schoolId) throw new AdapterError('permanent', 'the Дневник.ру account belongs to no school');
    const groups = await client.get<EduGroup[]>(`schools/${schoolId}/edu-groups`);
    return { schoolId, groups: groups.filter((g) => g.type === 'Group' || g.type === 'Subgroup') };
  });
}

/** A class's reporting periods (read once per run: the roster and the final marks both need them). */
function reportingPeriods(ctx: Ctx, group: EduGroup): Promise<ReportingPeriod[]> {
  return once(ctx, `dnevnik.periods.${group.id_str}`, () => DnevnikClient.of(ctx).get<ReportingPeriod[]>(`edu-groups/${group.id_str}/reporting-periods`));
}

/** Roster: classes and subgroups, subjects, staff with roles, pupils with their enrollments, periods. */
const roster: AdapterStream<DnevnikConfig> = {
  granularity: 'school',
  async *read(ctx) {
    const client = DnevnikClient.of(ctx);
    const { schoolId, groups } = await school(ctx);
    const records: SourceRecord[] = groups.map(classRecord);
    records.push(...(await client.get<Subject[]>(`schools/${schoolId}/subjects`)).map(subjectRecord));
    records.push(...(await client.get<Teacher[]>(`schools/${schoolId}/teachers`)).flatMap(teacherRecords));
    const periods = new Map<string, SourceRecord>();
    for (const group of groups) {
      const persons = await client.get<Person[]>(`edu-groups/${group.id_str}/persons`);
      if (group.type === 'Group') {
        records.push(...persons.map((p) => pupilRecord(p, group.id_str)));
        for (const p of await reportingPeriods(ctx, group)) periods.set(p.id_str, periodRecord(p));
      }
      records.push(...persons.map((p) => enrollmentRecord(p.id_str, group.id_str)));
    }
    records.push(...periods.values());
    yield { records };
  },
};

/** Date slices of the read range, `rangeDays` long. */
function* slices(ctx: Ctx): Generator<{ from: string; to: string }> {
  for (let from = ctx.range.from; from <= ctx.range.to; ) {
    const end = new Date(`${from}T00:00:00Z`);
    end.setUTCDate(end.getUTCDate() + ctx.config.rangeDays - 1);
    const to = end.toISOString().slice(0, 10) < ctx.range.to ? end.toISOString().slice(0, 10) : ctx.range.to;
    yield { from, to };
    end.setUTCDate(end.getUTCDate() + 1);
    from = end.toISOString().slice(0, 10);
  }
}

/** Records per batch: small group-and-month answers are gathered, so the journal writes fewer, larger batches. */
const BATCH_RECORDS = 5000;
/** Groups read at once (the HTTP client's rate limit still applies). */
const PARALLEL_GROUPS = 3;

/** Reads a group-and-range endpoint slice by slice, group by group (date slices outermost). */
function byGroupAndRange(map: (ctx: Ctx, group: EduGroup, from: string, to: string) => Promise<SourceRecord[]>): AdapterStream<DnevnikConfig> {
  return {
    granularity: 'class',
    async *read(ctx): AsyncGenerator<SourceBatch> {
      const { groups } = await school(ctx);
      for (const { from, to } of slices(ctx)) {
        let records: SourceRecord[] = [];
        for (let i = 0; i < groups.length; i += PARALLEL_GROUPS * 4) {
          const answers = await mapLimit(groups.slice(i, i + PARALLEL_GROUPS * 4), PARALLEL_GROUPS, (g) => map(ctx, g, from, to));
          records.push(...answers.flat());
          if (records.length >= BATCH_RECORDS) {
            yield { records };
            records = [];
          }
        }
        if (records.length > 0) yield { records };
      }
    },
  };
}

function bells(ctx: Ctx, schoolId: string): Promise<Map<number, TimetableItem>> {
  return once(ctx, 'dnevnik.bells', async () => {
    const timetables = await DnevnikClient.of(ctx).get<Array<{ Items?: TimetableItem[] }>>(`schools/${schoolId}/timetables`);
    return new Map((timetables[0]?.Items ?? []).map((i) => [i.LessonNumber, i]));
  });
}

function workTypes(ctx: Ctx, schoolId: string): Promise<Map<number, WorkType>> {
  return once(ctx, 'dnevnik.workTypes', async () => new Map((await DnevnikClient.of(ctx).get<WorkType[]>(`work-types/${schoolId}`)).map((w) => [w.id, w])));
}

const schedule = byGroupAndRange(async (ctx, group, from, to) => {
  const { schoolId } = await school(ctx);
  const times = await bells(ctx, schoolId);
  const lessons = await DnevnikClient.of(ctx).get<Lesson[]>(`edu-groups/${group.id_str}/lessons/${from}/${to}`);
  return lessons.map((l) => lessonRecord(l, group.id_str, times, ctx.timeZone));
});

const marks = byGroupAndRange(async (ctx, group, from, to) => {
  const { schoolId } = await school(ctx);
  const types = await workTypes(ctx, schoolId);
  const list = await DnevnikClient.of(ctx).get<Mark[]>(`edu-groups/${group.id_str}/marks/${from}/${to}`);
  return list.map((m) => markRecord(m, types, ctx.timeZone, ctx.config.scale));
});

const attendance = byGroupAndRange(async (ctx, group, from, to) => {
  const entries = await DnevnikClient.of(ctx).get<LogEntry[]>(`lesson-log-entries/group/${group.id_str}`, { from, to });
  return entries.map(attendanceRecord);
});

/**
 * Final marks per class. The API answers a class's whole year at once; only the periods the read range
 * touches are passed on (a daily run's window: the current term and the year; a full run: all of them),
 * as lesson marks outside the window are not re-read either. Classes are gathered into batches of about
 * BATCH_RECORDS, as the other streams' answers are.
 */
const periodMarks: AdapterStream<DnevnikConfig> = {
  granularity: 'class',
  async *read(ctx) {
    const { groups } = await school(ctx);
    let records: SourceRecord[] = [];
    for (const group of groups.filter((g) => g.type === 'Group')) {
      const inRange = new Set((await reportingPeriods(ctx, group))
        .filter((p) => p.start.slice(0, 10) <= ctx.range.to && p.finish.slice(0, 10) >= ctx.range.from).map((p) => p.id_str));
      const finals = await DnevnikClient.of(ctx).get<PersonFinalMark[]>(`edu-groups/${group.id_str}/final-marks`);
      const touched = finals.filter((f) => f.reportingPeriod_str && inRange.has(f.reportingPeriod_str));
      records.push(...touched.flatMap((f) => periodMarkRecords(f, ctx.timeZone, ctx.config.scale)));
      if (records.length >= BATCH_RECORDS) {
        yield { records };
        records = [];
      }
    }
    if (records.length > 0) yield { records };
  },
};

export const dnevnikru: Adapter<DnevnikConfig> = {
  id: 'dnevnikru',
  title: 'Дневник.ру',
  configSchema: DnevnikConfigSchema,
  secretKeys: ['token', 'password', 'clientSecret'],
  endpoints: [],
  vocabulary: VOCABULARY,
  simulator: () => import('./simulator.js').then((m) => m.simulator),
  streams: { roster, schedule, marks, attendance, periodMarks },
  async checkConnection(ctx) {
    await school(ctx);
  },
};
