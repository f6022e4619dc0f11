import type { Adapter, AdapterContext, AdapterStream, SourceBatch } from '../../src/ports/adapter.js';
import type { HomeworkRecord, SourceRecord } from '../../src/ports/records.js';
import { daySlices } from '../../src/ports/ranges.js';
import { perRun } from '../../src/ports/session.js';
import { byClass, pupils, readEach, view } from './accounts.js';
import { periodId, termsMeeting, YEAR_QUARTER } from './calendar.js';
import { entriesOf, LessonAssembler, lessonsInRange } from './class-view.js';
import { KundolukConfigSchema, type KundolukConfig } from './client.js';
import { ENDPOINTS, HOMEWORK, QUARTER_MARKS, SCHEDULE, TERM } from './endpoints.js';
import { homeworkText } from './mapping.js';
import { quarterMarkRecords, quarterMarkSubjects, VOCABULARY } from './marks.js';
import { roster } from './roster.js';
import { KundolukWeb } from './web.js';

/**
 * Kundoluk (Күндөлүк, Kyrgyzstan) through the mobile app's JSON API. The API is pupil-scoped: the
 * connection holds every pupil's login, the adapter signs in as each and assembles the class view from
 * what the pupils see. Terms only, current school year only. Optionally, a login to the legacy web
 * journal (web.ts) completes the roster with the pupils who have no account. See README.md.
 */
type Ctx = AdapterContext<KundolukConfig>;

/** Pupils whose diaries showed the same groups see the same lessons (and homework); this run's schedule knows them. */
const groupsSeen = (ctx: Ctx) => perRun(ctx, 'kundoluk.groups', () => new Map<number, string[]>());

/** The pupils' schedules (`gradebook/list`) piece by piece: subjects, subgroups, teachers, lessons with topics. */
const schedule: AdapterStream<KundolukConfig> = {
  granularity: 'pupil',
  async *read(ctx): AsyncGenerator<SourceBatch> {
    const list = await pupils(ctx);
    const seen = groupsSeen(ctx);
    for (const slice of daySlices(ctx.range, ctx.config.weeksPerRequest * 7)) {
      const assembler = new LessonAssembler(view(ctx));
      const query = { start_date: slice.from, end_date: slice.to };
      await readEach(ctx, list, SCHEDULE, { url: 'student/gradebook/list', query }, (pupil, answer) => assembler.add(pupil, answer));
      for (const [index, groups] of assembler.groupsOf) seen.set(index, [...new Set([...(seen.get(index) ?? []), ...groups])].sort());
      yield { records: assembler.records() };
    }
  },
};

/** Marks (`absent=0`) or attendance notes (`absent=1`) of the terms that meet the range, class by class. */
function termStream(type: 'mark' | 'attendance'): AdapterStream<KundolukConfig> {
  const absent = type === 'attendance' ? 1 : 0;
  return {
    granularity: 'pupil',
    async *read(ctx): AsyncGenerator<SourceBatch> {
      const classes = byClass(await pupils(ctx));
      const o = view(ctx);
      let quarterEntries = 0;
      for (const term of termsMeeting(o.terms, ctx.range)) {
        for (const members of classes) {
          const request = { url: `student/gradebook/term/${term.number}`, query: { absent } };
          const read = await readEach(ctx, members, TERM, request, (pupil, answer) => entriesOf(pupil, answer, o, type));
          quarterEntries += read.reduce((n, r) => n + r.quarterEntries, 0);
          yield { records: read.flatMap((r) => r.records) };
        }
      }
      if (quarterEntries > 0 && type === 'mark') ctx.logger.info({ quarterEntries }, 'entries of type «quarter» among the lessons\' marks were not read as lesson marks: quarter marks come from qmarks/all');
    },
  };
}

/**
 * Homework (`homework/list` per term) read as one pupil per set of groups: pupils who saw the same
 * class and subgroups in this run's schedule get the same homework. Without a schedule read, every pupil.
 */
const homework: AdapterStream<KundolukConfig> = {
  granularity: 'pupil',
  async *read(ctx): AsyncGenerator<SourceBatch> {
    const list = await pupils(ctx);
    const seen = groupsSeen(ctx);
    const readers = new Map(list.map((p) => [seen.has(p.index) ? seen.get(p.index)!.join(',') : `#${p.index}`, p]));
    for (const term of termsMeeting(view(ctx).terms, ctx.range)) {
      const records = new Map<string, HomeworkRecord>();
      await readEach(ctx, [...readers.values()], HOMEWORK, { url: 'student/homework/list', query: { term_no: term.number } }, (_pupil, answer) => {
        for (const { lesson, id } of lessonsInRange(answer, ctx.range, ctx.timeZone)) {
          const text = homeworkText(lesson);
          if (text && !records.has(id)) records.set(id, { type: 'homework', externalId: id, lessonExternalId: id, text });
        }
      });
      yield { records: [...records.values()] };
    }
  },
};

/**
 * Quarter marks of the quarters begun by the range's end and the year marks (`quarter` 5), from
 * `qmarks/all` (deduplicated), class by class. Their scale is 12 for the subjects whose lessons this
 * run saw flagged `isTwelve`.
 */
const periodMarks: AdapterStream<KundolukConfig> = {
  granularity: 'pupil',
  async *read(ctx): AsyncGenerator<SourceBatch> {
    const list = await pupils(ctx);
    const { year, terms, twelve } = view(ctx);
    const periodOf = (quarter: number) => (quarter === YEAR_QUARTER || terms.some((t) => t.number === quarter && t.start <= ctx.range.to) ? periodId(year, quarter) : undefined);
    for (const members of byClass(list)) {
      const marks = await readEach(ctx, members, QUARTER_MARKS, { url: 'student/qmarks/all' }, (pupil, answer) => ({
        pupil, marks: answer.flatMap((group) => group.quarterMarks ?? []),
      }));
      const records: SourceRecord[] = [
        ...quarterMarkSubjects(marks.flatMap((m) => m.marks)),
        ...marks.flatMap((m) => quarterMarkRecords(m.pupil.id, m.marks, {
          periodOf, timeZone: ctx.timeZone, scaleOf: (subject) => (twelve.has(`${m.pupil.classId}|${subject}`) ? 12 : 5),
        })),
      ];
      yield { records };
    }
  },
};

export const kundoluk: Adapter<KundolukConfig> = {
  id: 'kundoluk',
  title: 'Kundoluk (Күндөлүк)',
  configSchema: KundolukConfigSchema,
  // Storage seals top-level keys whole: the accounts (pupils' logins and passwords) and the web journal's
  // login (`teacher.password` is nested, so `teacher` is sealed); `password` blanks every password in logs.
  secretKeys: ['accounts', 'teacher', 'password'],
  instances: [{ name: 'kundoluk.edu.gov.kg', title: 'Күндөлүк (Кыргызстан)', config: { baseUrl: 'https://kundoluk.edu.gov.kg/api/' } }],
  endpoints: ENDPOINTS,
  vocabulary: VOCABULARY,
  simulator: () => import('./simulator.js').then((m) => m.simulator),
  streams: { roster, schedule, homework, marks: termStream('mark'), attendance: termStream('attendance'), periodMarks },
  async checkConnection(ctx) {
    await pupils(ctx);
    if (ctx.config.teacher) await KundolukWeb.of(ctx).login();
  },
};
