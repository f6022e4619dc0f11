import type { Adapter, AdapterContext, AdapterStream, SourceBatch } from '../../src/ports/adapter.js';
import { mapLimit } from '../../src/ports/concurrency.js';
import type { EnrollmentRecord, GoneId, HomeworkRecord, SourceRecord } from '../../src/ports/records.js';
import { once, perRun } from '../../src/ports/session.js';
import { chunksOf, periodId, periodRecords, schoolYearOf, termsMeeting, termsOf, type Term } from './calendar.js';
import { entriesOf, LessonAssembler, lessonsInRange, type ViewOptions } from './class-view.js';
import { KundolukClient, KundolukConfigSchema, type KundolukConfig } from './client.js';
import { VOCABULARY, classRecord, homeworkText, pupilOf, pupilRecord, quarterMarkRecords, quarterMarkSubjects } from './mapping.js';
import type { KundolukLesson, KundolukQuarterMark, Pupil } from './types.js';
import { classesOf, groupBy, KundolukWeb, matchRoster, pupilsOf, webPupilId, webPupilRecords, type WebClass, type WebPupil } from './web.js';

/**
 * Kundoluk (Күндөлүк, Kyrgyzstan) through the mobile app's JSON API (platforms.md §4.1). The API is
 * pupil-scoped: the connection holds every pupil's login, the adapter signs in as each and assembles the
 * class view from what the pupils see. Terms only, current school year only. Optionally, a teacher's
 * login to the legacy web journal (§4.2, web.ts) completes the roster with the pupils who have no
 * account. See README.md.
 */
type Ctx = AdapterContext<KundolukConfig>;
type QuarterMarkGroup = { quarterMarks?: KundolukQuarterMark[] | null };

/**
 * The pupils of the connection, one per account (the same pupil twice — a parent's copy — is read once).
 * The first account logs in alone: bad settings or a server that is down fail on one login, not on all.
 */
function pupils(ctx: Ctx): Promise<Pupil[]> {
  return once(ctx, 'kundoluk.pupils', async () => {
    const client = KundolukClient.of(ctx);
    const first = await client.login(0);
    const rest = await mapLimit(ctx.config.accounts.slice(1).map((_, i) => i + 1), ctx.config.parallelPupils, (i) => client.login(i));
    const accounts = [first, ...rest];
    const byId = new Map<string, Pupil>();
    accounts.forEach((account, i) => {
      const pupil = pupilOf(i, account);
      if (!byId.has(pupil.id)) byId.set(pupil.id, pupil);
    });
    return [...byId.values()];
  });
}

/** The run's school year and quarters; a range in an earlier year than today's is read, but the API answers the current year only. */
function view(ctx: Ctx): ViewOptions & { terms: Term[] } {
  return perRun(ctx, 'kundoluk.view', () => {
    const year = schoolYearOf(ctx.range.from);
    const today = new Intl.DateTimeFormat('en-CA', { timeZone: ctx.timeZone }).format(ctx.now());
    if (year < schoolYearOf(today)) ctx.logger.warn({ year }, 'Kundoluk answers the current school year only: an earlier year\'s marks and absences cannot be read');
    return { range: ctx.range, year, timeZone: ctx.timeZone, terms: termsOf(ctx.config.terms, year) };
  });
}

/** Pupils class by class, so that a batch holds a class and the platform serves one class at a time. */
const byClass = (list: Pupil[]): Pupil[][] => [...groupBy(list, (p) => p.classId).values()];

/** Each pupil's answer to a GET, at most `parallelPupils` at once, handed to `use` as it comes (answers are not kept). */
function readEach<T, R>(ctx: Ctx, list: Pupil[], request: { url: string; query?: Record<string, string | number> }, use: (pupil: Pupil, answer: T) => R): Promise<R[]> {
  const client = KundolukClient.of(ctx);
  return mapLimit(list, ctx.config.parallelPupils, async (pupil) => use(pupil, await client.get<T>(pupil.index, request.url, request.query)));
}

/** The class journals the teacher sees in the web journal, with their pupils (platforms.md §4.2; the pages' structure is assumed). */
function webRoster(ctx: Ctx): Promise<{ classes: WebClass[]; pupils: WebPupil[] }> {
  return once(ctx, 'kundoluk.webRoster', async () => {
    const web = KundolukWeb.of(ctx);
    const base = ctx.config.teacher!.baseUrl;
    const { classes, unreadable } = classesOf(await web.page('journal2'), base);
    if (unreadable > 0) ctx.logger.warn({ unreadable }, 'class journals of the Kundoluk web journal whose caption names no class were not read');
    if (classes.length === 0) ctx.logger.warn({}, 'the teacher sees no class journal in the Kundoluk web journal: the roster is the accounts\' pupils only');
    const pupils = new Map<string, WebPupil>();
    let skipped = 0;
    for (const c of classes) {
      const page = pupilsOf(await web.page('journal2', { class: c.webId }), c.id);
      skipped += page.skipped;
      for (const p of page.pupils) if (!pupils.has(p.webId)) pupils.set(p.webId, p);
    }
    if (skipped > 0) ctx.logger.warn({ skipped }, 'rows of the Kundoluk web journal without a pupil id or a full name were skipped');
    return { classes, pupils: [...pupils.values()] };
  });
}

const enrollmentOf = (p: Pupil): EnrollmentRecord => ({ type: 'enrollment', externalId: `${p.id}@${p.classId}`, pupilExternalId: p.id, classExternalId: p.classId });

/**
 * Roster: the quarters, the classes, the pupils from their login answers; with a teacher login, also
 * every pupil of the class journals the teacher sees in the web journal who has no account in the
 * connection (as `web-<id>`). A pupil with an account keeps the API's id; the web journal's id it had
 * while it had no account is retired first, so the journal hands the person over to the new id.
 */
const roster: AdapterStream<KundolukConfig> = {
  granularity: 'pupil',
  async *read(ctx) {
    const list = await pupils(ctx);
    const { year, terms } = view(ctx);
    const web = ctx.config.teacher ? await webRoster(ctx) : undefined;
    const classes = new Map(list.map((p) => [p.classId, classRecord(p.grade, p.letter, year)]));
    for (const c of web?.classes ?? []) if (!classes.has(c.id)) classes.set(c.id, classRecord(c.grade, c.letter, year));
    const people: SourceRecord[] = list.flatMap((p) => [pupilRecord(p), enrollmentOf(p)]);
    if (!web) {
      yield { records: [...periodRecords(terms, year), ...classes.values(), ...people] };
      return;
    }
    const match = matchRoster(web.pupils, list);
    people.push(...match.webOnly.flatMap(webPupilRecords));
    if (match.unresolved.length > 0) {
      ctx.logger.warn({ rows: match.unresolved.length }, 'pupils of the Kundoluk web journal whose names (class, last, first and middle name) do not tell them apart from pupils with accounts were left out');
    }
    ctx.logger.info({ classes: web.classes.length, rows: web.pupils.length, withAccount: match.matched.size, withoutAccount: match.webOnly.length }, 'read the Kundoluk web journal\'s class journals');
    const handedOver = [...match.matched.keys()].map((id): GoneId => ({ type: 'person', externalId: webPupilId(id) }));
    yield { records: [...periodRecords(terms, year), ...classes.values()], goneIds: handedOver };
    yield { records: people };
  },
};

/** Pupils whose diaries showed the same groups see the same lessons (and homework); this run's schedule knows them. */
const groupsSeen = (ctx: Ctx) => perRun(ctx, 'kundoluk.groups', () => new Map<number, string[]>());

/** The pupils' schedules (`gradebook/list`) piece by piece: subjects, subgroups, teachers, lessons with topics. */
const schedule: AdapterStream<KundolukConfig> = {
  granularity: 'pupil',
  async *read(ctx): AsyncGenerator<SourceBatch> {
    const list = await pupils(ctx);
    const seen = groupsSeen(ctx);
    for (const chunk of chunksOf(ctx.range, ctx.config.weeksPerRequest)) {
      const assembler = new LessonAssembler(view(ctx));
      const query = { start_date: chunk.from, end_date: chunk.to };
      await readEach(ctx, list, { url: 'student/gradebook/list', query }, (pupil, answer: KundolukLesson[]) => assembler.add(pupil, answer));
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
      for (const term of termsMeeting(o.terms, ctx.range)) {
        for (const members of classes) {
          const request = { url: `student/gradebook/term/${term.number}`, query: { absent } };
          const records = await readEach(ctx, members, request, (pupil, answer: KundolukLesson[]) => entriesOf(pupil, answer, o, type));
          yield { records: records.flat() };
        }
      }
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
      await readEach(ctx, [...readers.values()], { url: 'student/homework/list', query: { term_no: term.number } }, (_pupil, answer: KundolukLesson[]) => {
        for (const { lesson, id } of lessonsInRange(answer, ctx.range)) {
          const text = homeworkText(lesson);
          if (text && !records.has(id)) records.set(id, { type: 'homework', externalId: id, lessonExternalId: id, text });
        }
      });
      yield { records: [...records.values()] };
    }
  },
};

/** Quarter marks (`qmarks/all`, deduplicated) of the quarters that began by the range's end. */
const periodMarks: AdapterStream<KundolukConfig> = {
  granularity: 'pupil',
  async *read(ctx): AsyncGenerator<SourceBatch> {
    const list = await pupils(ctx);
    const { year, terms } = view(ctx);
    const periodOf = (quarter: number) => (terms.some((t) => t.number === quarter && t.start <= ctx.range.to) ? periodId(year, quarter) : undefined);
    for (const members of byClass(list)) {
      const marks = await readEach(ctx, members, { url: 'student/qmarks/all' }, (pupil, answer: QuarterMarkGroup[] | null) => ({
        pupil, marks: (answer ?? []).flatMap((group) => group.quarterMarks ?? []),
      }));
      const records: SourceRecord[] = [
        ...quarterMarkSubjects(marks.flatMap((m) => m.marks)),
        ...marks.flatMap((m) => quarterMarkRecords(m.pupil.id, m.marks, periodOf, ctx.timeZone)),
      ];
      yield { records };
    }
  },
};

export const kundoluk: Adapter<KundolukConfig> = {
  id: 'kundoluk',
  title: 'Kundoluk (Күндөлүк)',
  configSchema: KundolukConfigSchema,
  // Storage seals top-level keys whole: the accounts (pupils' logins and passwords) and the teacher's web
  // login (`teacher.password` is nested, so `teacher` is sealed); `password` blanks every password in logs.
  secretKeys: ['accounts', 'teacher', 'password'],
  endpoints: [],
  vocabulary: VOCABULARY,
  simulator: () => import('./simulator.js').then((m) => m.simulator),
  streams: { roster, schedule, homework, marks: termStream('mark'), attendance: termStream('attendance'), periodMarks },
  async checkConnection(ctx) {
    await pupils(ctx);
    if (ctx.config.teacher) await KundolukWeb.of(ctx).login();
  },
};
