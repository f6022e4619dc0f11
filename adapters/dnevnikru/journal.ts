import type { AdapterStream, DateRange, SourceBatch } from '../../src/ports/adapter.js';
import { mapLimit } from '../../src/ports/concurrency.js';
import { daySlices, overlaps } from '../../src/ports/ranges.js';
import type { SourceRecord } from '../../src/ports/records.js';
import { DnevnikClient, type DnevnikConfig } from './client.js';
import { FINAL_MARKS, HOMEWORKS, LESSONS, LOG_ENTRIES, MARKS, MARKS_LOSSLESS } from './endpoints.js';
import {
  attendanceRecord, homeworkRecord, lessonRecord, markRecord, periodMarkRecords, workDueDates,
} from './mapping-journal.js';
import { idOf, yearPeriodId } from './mapping.js';
import { pickId, type Lesson, type Work } from './schemas.js';
import { bells, reportingPeriods, school, workTypes, type Ctx, type Group } from './school.js';

/**
 * Lessons, marks, log entries and homework date slice by date slice, group by group; final marks per
 * class. The marks need the target dates of the lessons' works and the log entries the lessons' subjects:
 * the schedule stream leaves both in the run's session, so they cost no second lessons request.
 */

/** Records per batch: small group-and-month answers are gathered, so the journal writes fewer, larger batches. */
const BATCH_RECORDS = 5000;
/** Groups read at once (the HTTP client's rate limit still applies). */
const PARALLEL_GROUPS = 3;

/** The end of a slice's last day: a bare date could be read as its midnight and cut the day off [I]. */
const endOf = (day: string) => `${day}T23:59:59`;

const lessonsPath = (g: Group, slice: DateRange) => `edu-groups/${g.id}/lessons/${slice.from}/${endOf(slice.to)}`;
const dueKey = (g: Group, slice: DateRange) => `dnevnik.dues.${g.id}.${slice.from}`;
const subjectsKey = (g: Group, slice: DateRange) => `dnevnik.subjects.${g.id}.${slice.from}`;

/** Keeps what the later streams need of a lessons answer: its works' target dates and its subjects. */
function keepDigest(ctx: Ctx, g: Group, slice: DateRange, lessons: readonly Lesson[]): void {
  ctx.session.set(dueKey(g, slice), workDueDates(lessons));
  ctx.session.set(subjectsKey(g, slice), [...new Set(lessons.map((l) => idOf(l.subject.id_str, l.subject.id)))]);
}

/**
 * A digest part of a group's lessons in a slice: left by the schedule stream, or read now; used once, then
 * dropped. Streams run one after the other and each asks for a group's slice once, so no read is shared.
 */
async function takeDigest<T>(ctx: Ctx, key: string, g: Group, slice: DateRange): Promise<T> {
  if (!ctx.session.has(key)) keepDigest(ctx, g, slice, await DnevnikClient.of(ctx).get(LESSONS, lessonsPath(g, slice)));
  const value = ctx.session.get(key) as T;
  ctx.session.delete(key);
  return value;
}

/** Reads a group-and-range endpoint slice by slice, group by group (date slices outermost). */
function byGroupAndRange(map: (ctx: Ctx, group: Group, slice: DateRange) => Promise<SourceRecord[]>): AdapterStream<DnevnikConfig> {
  return {
    granularity: 'class',
    async *read(ctx): AsyncGenerator<SourceBatch> {
      const { groups } = await school(ctx);
      const parallel = ctx.parallelism(PARALLEL_GROUPS);
      for (const slice of daySlices(ctx.range, ctx.config.rangeDays)) {
        let records: SourceRecord[] = [];
        for (let i = 0; i < groups.length; i += parallel * 4) {
          const answers = await mapLimit(groups.slice(i, i + parallel * 4), parallel, (g) => map(ctx, g, slice));
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

export const schedule = byGroupAndRange(async (ctx, group, slice) => {
  const bellOf = (await bells(ctx))(group);
  const lessons = await DnevnikClient.of(ctx).get(LESSONS, lessonsPath(group, slice));
  keepDigest(ctx, group, slice, lessons);
  return lessons.map((l) => lessonRecord(l, group.id, bellOf, ctx.timeZone));
});

export const marks = byGroupAndRange(async (ctx, group, slice) => {
  const types = await workTypes(ctx);
  const dueDates = await takeDigest<Map<string, string>>(ctx, dueKey(group, slice), group, slice);
  const path = `edu-groups/${group.id}/marks/${slice.from}/${endOf(slice.to)}`;
  // Mark `workType` has no twin: only when two of the school's work type ids round alike must marks be read losslessly.
  const list = await DnevnikClient.of(ctx).get(types.ambiguous ? MARKS_LOSSLESS : MARKS, path);
  return list.map((m) => markRecord(m, types, dueDates, ctx.timeZone, ctx.config.scale));
});

/** Log entries are answered per group and subject (`subject` is required): one request per subject the slice has lessons of. */
export const attendance = byGroupAndRange(async (ctx, group, slice) => {
  const subjects = await takeDigest<string[]>(ctx, subjectsKey(group, slice), group, slice);
  const query = { from: slice.from, to: endOf(slice.to) };
  const client = DnevnikClient.of(ctx);
  const answers = await mapLimit(subjects, 1, (subject) => client.get(LOG_ENTRIES, `lesson-log-entries/group/${group.id}`, { subject, ...query }));
  const records = new Map<string, SourceRecord>();
  for (const entry of answers.flat()) {
    const record = attendanceRecord(entry);
    if (record) records.set(record.externalId, record);
  }
  return [...records.values()];
});

/**
 * Homework files: the account's homework of the school per slice (`users/me/school/{s}/homeworks`), one
 * homework record per lesson whose homework has named files. File ids have no twins: read losslessly.
 */
export const homework: AdapterStream<DnevnikConfig> = {
  granularity: 'school',
  async *read(ctx) {
    if (!ctx.config.homeworkFiles) return;
    const { schoolId } = await school(ctx);
    for (const slice of daySlices(ctx.range, ctx.config.rangeDays)) {
      const query = { startDate: slice.from, endDate: endOf(slice.to) };
      const answer = await DnevnikClient.of(ctx).get(HOMEWORKS, `users/me/school/${schoolId}/homeworks`, query);
      const files = new Map((answer.files ?? []).map((f) => [idOf(f.id_str, f.id), f]));
      const byLesson = new Map<string, Work[]>();
      for (const w of answer.works ?? []) {
        const lesson = pickId(w.lesson_str, w.lesson);
        if (w.type === 'Homework' && lesson) byLesson.set(lesson, [...(byLesson.get(lesson) ?? []), w]);
      }
      const records = [...byLesson].map(([lesson, works]) => homeworkRecord(lesson, works, files)).filter((r): r is SourceRecord => r !== undefined);
      if (records.length > 0) yield { records };
    }
  },
};

/**
 * Final marks per class. The API answers a class's whole year at once; only the periods the read range
 * touches are passed on (a daily run's window: the current term and the year; a full run: all of them),
 * as lesson marks outside the window are not re-read either. Marks without a reporting period are the
 * year's and always passed on.
 */
export const periodMarks: AdapterStream<DnevnikConfig> = {
  granularity: 'class',
  async *read(ctx) {
    const { classes, startYear } = await school(ctx);
    let records: SourceRecord[] = [];
    for (const group of classes) {
      const periods = await reportingPeriods(ctx, group);
      const inRange = new Set(periods.filter((p) => overlaps({ from: p.start.slice(0, 10), to: p.finish.slice(0, 10) }, ctx.range)).map((p) => idOf(p.id_str, p.id)));
      const year = yearPeriodId(startYear, periods);
      const finals = await DnevnikClient.of(ctx).get(FINAL_MARKS, `edu-groups/${group.id}/final-marks`);
      const touched = finals.filter((f) => {
        const period = pickId(f.reportingPeriod_str, f.reportingPeriod);
        return period === undefined || inRange.has(period);
      });
      records.push(...touched.flatMap((f) => periodMarkRecords(f, year, ctx.timeZone, ctx.config.scale)));
      if (records.length >= BATCH_RECORDS) {
        yield { records };
        records = [];
      }
    }
    if (records.length > 0) yield { records };
  },
};
