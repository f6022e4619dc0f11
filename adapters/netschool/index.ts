import { AdapterError, type Adapter, type AdapterContext, type AdapterStream, type SourceBatch } from '../../src/ports/adapter.js';
import { mapLimit } from '../../src/ports/concurrency.js';
import { once, perRun } from '../../src/ports/session.js';
import type { LessonRecord, SourceRecord } from '../../src/ports/records.js';
import { offsetOf } from '../../src/ports/time.js';
import { NetSchoolClient, NetSchoolConfigSchema, type NetSchoolConfig } from './client.js';
import {
  VOCABULARY, attendanceCodes, attendanceRecord, classRecord, isHomeworkType, lessonTimes, markRecord, parseStudentTotal, periodMarkRecord,
  periodRecord, pupilRecord, realName, subjectId,
  type AssignmentType, type Diary, type DiaryInit, type DiaryLesson, type FilterSource,
} from './mapping.js';

/**
 * NetSchool «Сетевой Город. Образование» through `/webapi` (platforms.md §2): a staff account reads
 * every pupil's weekly diary (lessons, assignments with weights and types, marks) and, through the
 * report queue, each pupil's «studenttotal» report per term (attendance codes, term marks). There is
 * no class-level JSON journal, so the class view is assembled from the pupils' diaries. See README.md.
 */
type Ctx = AdapterContext<NetSchoolConfig>;

interface Student {
  id: string;
  nickName: string;
  classId: string;
}

interface SchoolView {
  yearId: number;
  /** Start year of the school year. */
  year: number;
  yearStart: string;
  students: Student[];
  classes: Map<string, string>;
  types: Map<number, AssignmentType>;
  scale: number;
}

function school(ctx: Ctx): Promise<SchoolView> {
  return once(ctx, 'netschool.school', async () => {
    const client = NetSchoolClient.of(ctx);
    const init = await client.call<DiaryInit>({ url: 'student/diary/init' });
    const year = await client.call<{ id: number; name?: string; startDate?: string }>({ url: 'years/current' });
    const types = await client.call<AssignmentType[]>({ url: 'grade/assignment/types', query: { all: 'false' } });
    const grades = await client.call<{ filterSources?: FilterSource[] }>({ url: 'reports/studentGrades' });
    const classes = new Map((grades.filterSources?.find((f) => f.filterId === 'PCLID')?.items ?? []).map((i) => [String(i.value), i.title]));
    const students = (init.students ?? []).filter((s) => s.classId !== undefined).map((s) => ({ id: String(s.studentId), nickName: s.nickName, classId: String(s.classId) }));
    if (students.length === 0) throw new AdapterError('permanent', 'NetSchool: this account sees no pupils (diary/init lists none); use a school administrator account');
    const startYear = Number(/^(\d{4})/.exec(year.startDate ?? year.name ?? '')?.[1] ?? ctx.range.from.slice(0, 4));
    return {
      yearId: year.id, year: startYear, yearStart: year.startDate?.slice(0, 10) ?? `${startYear}-09-01`, students, classes,
      types: new Map(types.map((t) => [t.id, t])), scale: init.maxMark && init.maxMark > 1 ? init.maxMark : 5,
    };
  });
}

interface Term {
  id: string;
  title: string;
  start: string;
  end: string;
}

/** The terms of a class (its TERMID filter) with their dates (the `period` range once a term is chosen). */
function termsOf(ctx: Ctx, classId: string): Promise<Term[]> {
  return once(ctx, `netschool.terms.${classId}`, async () => {
    const client = NetSchoolClient.of(ctx);
    const filters = await client.call<{ filterSources?: FilterSource[] }>({
      method: 'POST', url: 'v2/reports/studentgrades/initfilters', json: { params: null, selectedData: [{ filterId: 'PCLID', filterValue: classId }] },
    });
    const items = filters.filterSources?.find((f) => f.filterId === 'TERMID')?.items ?? [];
    return Promise.all(items.map((item) => once(ctx, `netschool.term.${item.value}`, async () => {
      const chosen = await client.call<{ filterSources?: FilterSource[] }>({
        method: 'POST', url: 'v2/reports/studentgrades/initfilters',
        json: { params: null, selectedData: [{ filterId: 'PCLID', filterValue: classId }, { filterId: 'TERMID', filterValue: String(item.value) }] },
      });
      const range = chosen.filterSources?.find((f) => f.filterId === 'period')?.range;
      if (!range) throw new AdapterError('permanent', `NetSchool gave no dates for the term «${item.title}»`);
      return { id: String(item.value), title: item.title, start: range.start.slice(0, 10), end: range.end.slice(0, 10) };
    })));
  });
}

/** Roster: classes (the report filter's PCLID), pupils with their class (diary/init), terms. */
const roster: AdapterStream<NetSchoolConfig> = {
  granularity: 'school',
  async *read(ctx) {
    const view = await school(ctx);
    const records: SourceRecord[] = [...view.classes].map(([id, title]) => classRecord(id, title, view.year));
    const periods = new Map<string, SourceRecord>();
    for (const classId of view.classes.keys()) {
      for (const term of await termsOf(ctx, classId)) periods.set(term.id, periodRecord(term.id, term.title, term, view.year));
    }
    records.push(...periods.values());
    for (const s of view.students) {
      records.push(pupilRecord({ studentId: Number(s.id), nickName: s.nickName, classId: Number(s.classId) }));
      records.push({ type: 'enrollment', externalId: `${s.id}@${s.classId}`, pupilExternalId: s.id, classExternalId: s.classId });
    }
    yield { records };
  },
};

/** Mondays of the weeks that meet the range. */
function* weeks(range: { from: string; to: string }): Generator<{ start: string; end: string }> {
  const first = new Date(`${range.from}T00:00:00Z`);
  first.setUTCDate(first.getUTCDate() - ((first.getUTCDay() + 6) % 7));
  for (const d = first; d.toISOString().slice(0, 10) <= range.to; d.setUTCDate(d.getUTCDate() + 7)) {
    const end = new Date(d);
    end.setUTCDate(end.getUTCDate() + 6);
    yield { start: d.toISOString().slice(0, 10), end: end.toISOString().slice(0, 10) };
  }
}

/** What this run has read of the pupils' diaries: per pupil «subject|date» → lessons by number; the weeks read. */
interface DiaryIndex {
  lessons: Map<string, Map<string, Array<{ id: string; number: number }>>>;
  weeks: Set<string>;
}

const diaryIndex = (ctx: Ctx) => perRun<DiaryIndex>(ctx, 'netschool.diaries', () => ({ lessons: new Map(), weeks: new Set() }));

/** A pupil's week; its lessons are indexed for the attendance stream, which places report codes on them. */
async function readDiary(ctx: Ctx, view: SchoolView, studentId: string, week: { start: string; end: string }): Promise<Diary> {
  const diary = await NetSchoolClient.of(ctx).call<Diary>({ url: 'student/diary', query: { studentId, yearId: view.yearId, weekStart: week.start, weekEnd: week.end } });
  const index = diaryIndex(ctx);
  index.weeks.add(`${studentId}|${week.start}`);
  let byDay = index.lessons.get(studentId);
  if (!byDay) index.lessons.set(studentId, (byDay = new Map()));
  for (const day of diary.weekDays ?? []) {
    for (const lesson of day.lessons ?? []) {
      const key = `${subjectId(lesson.subjectName)}|${lesson.day.slice(0, 10)}`;
      const list = byDay.get(key) ?? [];
      if (!list.some((l) => l.id === String(lesson.classmeetingId))) list.push({ id: String(lesson.classmeetingId), number: lesson.number });
      byDay.set(key, list.sort((a, b) => a.number - b.number));
    }
  }
  return diary;
}

/** A lesson seen by fewer than this share of the class's pupils that day is a subgroup's. */
const SUBGROUP_SHARE = 0.75;

/**
 * The weekly diaries of every pupil, week by week: lessons (deduplicated by classmeetingId and given to
 * the class, or to a subgroup when only part of the class sees them), homework, and marks.
 */
const schedule: AdapterStream<NetSchoolConfig> = {
  granularity: 'pupil',
  async *read(ctx): AsyncGenerator<SourceBatch> {
    const view = await school(ctx);
    const names = new Map(view.students.map((s) => [s.id, s.nickName]));
    for (const week of weeks(ctx.range)) {
      const diaries = await mapLimit(view.students, ctx.config.parallelPupils, async (s) => ({ student: s, diary: await readDiary(ctx, view, s.id, week) }));
      const marks: SourceRecord[] = [];
      const lessons = new Map<string, { lesson: DiaryLesson; classId: string; pupils: string[] }>();
      const present = new Map<string, Set<string>>();
      const marked = new Set<string>();
      for (const { student, diary } of diaries) {
        for (const day of diary.weekDays ?? []) {
          for (const lesson of day.lessons ?? []) {
            const date = lesson.day.slice(0, 10);
            if (date < ctx.range.from || date > ctx.range.to) continue;
            const id = String(lesson.classmeetingId);
            const entry = lessons.get(id) ?? { lesson, classId: student.classId, pupils: [] };
            entry.pupils.push(student.id);
            lessons.set(id, entry);
            const key = `${student.classId}|${date}`;
            present.set(key, (present.get(key) ?? new Set()).add(student.id));
            for (const a of lesson.assignments ?? []) {
              if (!a.mark) continue;
              marked.add(String(a.id));
              marks.push(markRecord(a.mark, a, view.types.get(a.typeId), view.scale));
            }
          }
        }
      }
      const byName = (a: string, b: string) => (names.get(a) ?? a).localeCompare(names.get(b) ?? b, 'ru');
      const firstOf = new Map<string, string>();
      const subjects = new Set<string>();
      const groups = new Map<string, SourceRecord>();
      const lessonRecords: LessonRecord[] = [];
      for (const [id, { lesson, classId, pupils }] of lessons) {
        const date = lesson.day.slice(0, 10);
        const subject = subjectId(lesson.subjectName);
        subjects.add(subject);
        const day = `${classId}|${date}`;
        const everyone = present.get(day)!;
        let groupId = classId;
        if (pupils.length < everyone.size * SUBGROUP_SHARE) {
          const head = [...pupils].sort(byName)[0]!;
          let first = firstOf.get(day);
          if (!first) firstOf.set(day, (first = [...everyone].sort(byName)[0]!));
          groupId = `${classId}/${subject}/${head}`;
          const className = view.classes.get(classId) ?? classId;
          groups.set(groupId, { ...classRecord(groupId, className, view.year), name: `${className} ${subject} гр. ${head === first ? 1 : 2}`, parentExternalId: classId });
        }
        const homework = (lesson.assignments ?? [])
          .filter((a) => isHomeworkType(view.types.get(a.typeId)) && !marked.has(String(a.id)))
          .map((a) => realName(a.assignmentName)).filter((t): t is string => Boolean(t));
        lessonRecords.push({
          type: 'lesson', externalId: id, classExternalId: groupId, subjectExternalId: subject, date, slot: lesson.number,
          ...lessonTimes(lesson, ctx.timeZone), ...(homework.length > 0 ? { homework: homework.join('\n') } : {}),
        });
      }
      const subjectRecords = [...subjects].map((name): SourceRecord => ({ type: 'subject', externalId: name, name }));
      yield { records: [...subjectRecords, ...groups.values(), ...lessonRecords, ...marks] };
    }
  },
};

/**
 * Attendance and term marks from each pupil's «studenttotal» report per term that meets the range:
 * the attendance codes of a day's cell go to the pupil's lessons of that subject that day, in order.
 */
const attendance: AdapterStream<NetSchoolConfig> = {
  granularity: 'pupil',
  async *read(ctx): AsyncGenerator<SourceBatch> {
    const view = await school(ctx);
    const client = NetSchoolClient.of(ctx);
    try {
      for (const classId of view.classes.keys()) {
        const pupils = view.students.filter((s) => s.classId === classId);
        for (const term of await termsOf(ctx, classId)) {
          if (term.end < ctx.range.from || term.start > ctx.range.to) continue;
          const perPupil = await mapLimit(pupils, ctx.config.parallelPupils, async (pupil) => {
            const html = await client.report('reports/studenttotal/queue', reportBody(ctx, view, pupil, classId, term));
            return recordsOfReport(ctx, view, pupil, term, html);
          });
          yield { records: (await Promise.all(perPupil)).flat() };
        }
      }
    } finally {
      client.closeHub();
    }
  },
};

/** The report's parameters; SERVERTIMEZONE is the school's UTC offset in hours. */
function reportBody(ctx: Ctx, view: SchoolView, pupil: Student, classId: string, term: Term): unknown {
  const [, sign, hours, minutes] = /^([+-])(\d{2}):(\d{2})$/.exec(offsetOf(ctx.timeZone, term.start))!;
  const offset = (sign === '-' ? -1 : 1) * (Number(hours) + Number(minutes) / 60);
  return {
    params: [
      { name: 'DATEFORMAT', value: 'd\u0001mm\u0001yy\u0001.' }, { name: 'SCHOOLYEARID', value: view.yearId },
      { name: 'SERVERTIMEZONE', value: offset }, { name: 'FULLSCHOOLNAME', value: '' },
    ],
    selectedData: [
      { filterId: 'SID', filterValue: pupil.id, filterText: '' }, { filterId: 'PCLID', filterValue: classId, filterText: '' },
      { filterId: 'TERMID', filterValue: term.id, filterText: '' },
    ],
  };
}

async function recordsOfReport(ctx: Ctx, view: SchoolView, pupil: Student, term: Term, html: string): Promise<SourceRecord[]> {
  const rows = parseStudentTotal(html, term.start);
  const records: SourceRecord[] = [];
  for (const row of rows) {
    const subject = subjectId(row.subject);
    const final = periodMarkRecord(pupil.id, subject, term.id, row, view.scale);
    if (final) records.push(final);
    for (const [date, cells] of row.days) {
      if (date < ctx.range.from || date > ctx.range.to) continue;
      for (const [i, tokens] of cells.entries()) {
        const codes = attendanceCodes(tokens ?? []);
        if (codes.length === 0) continue;
        const lessons = await lessonsOfDay(ctx, view, pupil, subject, date);
        // A code without a lesson in the pupil's diary still reaches the journal, which rejects it with the reason.
        const lessonId = lessons[i]?.id ?? `${subject}@${date}#${i + 1}`;
        for (const code of codes) records.push(attendanceRecord(pupil.id, lessonId, code));
      }
    }
  }
  return records;
}

/** The pupil's lessons of a subject on a day, from the diaries this run read (the week's diary is read now if it was not). */
async function lessonsOfDay(ctx: Ctx, view: SchoolView, pupil: Student, subject: string, date: string): Promise<Array<{ id: string; number: number }>> {
  const week = weeks({ from: date, to: date }).next().value!;
  if (!diaryIndex(ctx).weeks.has(`${pupil.id}|${week.start}`)) await readDiary(ctx, view, pupil.id, week);
  return diaryIndex(ctx).lessons.get(pupil.id)?.get(`${subject}|${date}`) ?? [];
}

export const netschool: Adapter<NetSchoolConfig> = {
  id: 'netschool',
  title: 'NetSchool «Сетевой Город. Образование»',
  configSchema: NetSchoolConfigSchema,
  secretKeys: ['password'],
  endpoints: [],
  vocabulary: VOCABULARY,
  simulator: () => import('./simulator.js').then((m) => m.simulator),
  streams: { roster, schedule, attendance },
  async checkConnection(ctx) {
    await school(ctx);
  },
};
