import type { AdapterContext, AdapterStream, DateRange, SourceBatch } from '../../src/ports/adapter.js';
import { mapLimit } from '../../src/ports/concurrency.js';
import { weekSlices } from '../../src/ports/ranges.js';
import type { LessonRecord, SourceRecord } from '../../src/ports/records.js';
import { perRun } from '../../src/ports/session.js';
import { NetSchoolClient, type NetSchoolConfig } from './client.js';
import { ATTACHMENTS, DIARY, type Diary, type DiaryLesson } from './endpoints.js';
import { classRecord, dateOf, isHomework, lessonTimes, markRecord, realName, subjectId } from './mapping.js';
import { readSchool, rosterOf, type Pupil, type SchoolView } from './school.js';
import { inferSubgroups, type SeenLesson } from './subgroups.js';

type Ctx = AdapterContext<NetSchoolConfig>;
type LessonFile = NonNullable<LessonRecord['homeworkFiles']>[number];

/** What the run has read of the pupils' diaries: per pupil «subject|date» → lessons in order; every subject; the weeks read. */
interface DiaryIndex {
  lessons: Map<string, Map<string, Array<{ id: string; number: number }>>>;
  subjects: Set<string>;
  weeks: Set<string>;
}

export const diaryIndex = (ctx: Ctx): DiaryIndex => perRun(ctx, 'netschool.diaries', () => ({ lessons: new Map(), subjects: new Set(), weeks: new Set() }));

/** The lessons the adapter reads: extra-curricular ones (`isEaLesson`) only when the configuration asks for them. */
const lessonsOf = (ctx: Ctx, diary: Diary): DiaryLesson[] =>
  (diary.weekDays ?? []).flatMap((d) => d.lessons ?? []).filter((l) => ctx.config.extraCurricular || l.isEaLesson !== true);

/** A pupil's week (Monday to Sunday); its lessons are indexed for the attendance stream, which puts report codes on them. */
export async function readDiary(ctx: Ctx, view: SchoolView, pupilId: string, week: DateRange): Promise<Diary> {
  const diary = await NetSchoolClient.of(ctx).call(DIARY, { url: 'student/diary', query: { studentId: pupilId, yearId: view.yearId, weekStart: week.from, weekEnd: week.to } });
  const index = diaryIndex(ctx);
  index.weeks.add(`${pupilId}|${week.from}`);
  let byDay = index.lessons.get(pupilId);
  if (!byDay) index.lessons.set(pupilId, (byDay = new Map()));
  for (const lesson of lessonsOf(ctx, diary)) {
    const subject = subjectId(lesson.subjectName);
    index.subjects.add(subject);
    const key = `${subject}|${lesson.day.slice(0, 10)}`;
    const list = byDay.get(key) ?? [];
    if (!list.some((l) => l.id === lesson.classmeetingId)) list.push({ id: lesson.classmeetingId, number: lesson.number });
    // Lessons come unsorted (captures: 8 before 7), and two may share a number.
    byDay.set(key, list.sort((a, b) => a.number - b.number));
  }
  return diary;
}

interface Seen {
  lesson: DiaryLesson;
  pupils: Pupil[];
}

/**
 * The weekly diaries of every pupil: lessons (deduplicated by classmeetingId and given to the class,
 * or to a subgroup when only part of the class sees them — subgroups.ts), homework with its files, and
 * marks.
 */
export const schedule: AdapterStream<NetSchoolConfig> = {
  granularity: 'pupil',
  async *read(ctx): AsyncGenerator<SourceBatch> {
    const view = await readSchool(ctx);
    for (const week of weekSlices(ctx.range)) {
      const diaries = await mapLimit(view.pupils, ctx.parallelism(ctx.config.parallelPupils), async (pupil) => ({ pupil, diary: await readDiary(ctx, view, pupil.id, week) }));
      yield await weekBatch(ctx, view, diaries);
    }
  },
};

async function weekBatch(ctx: Ctx, view: SchoolView, diaries: Array<{ pupil: Pupil; diary: Diary }>): Promise<SourceBatch> {
  const seen = new Map<string, Seen>();
  const marks: SourceRecord[] = [];
  for (const { pupil, diary } of diaries) {
    for (const lesson of lessonsOf(ctx, diary)) {
      const date = lesson.day.slice(0, 10);
      if (date < ctx.range.from || date > ctx.range.to) continue;
      const entry = seen.get(lesson.classmeetingId) ?? { lesson, pupils: [] };
      entry.pupils.push(pupil);
      seen.set(lesson.classmeetingId, entry);
      for (const a of lesson.assignments ?? []) {
        if (a.mark) marks.push(markRecord(a.mark, a, lesson.classmeetingId, pupil.id, view.types.get(a.typeId), view.scale));
      }
    }
  }
  const { groupOf, groups } = groupLessons(view, seen);
  const files = await homeworkFiles(ctx, view, seen);
  const subjects = new Set<string>();
  const lessons = [...seen.values()].map(({ lesson }) => {
    subjects.add(subjectId(lesson.subjectName));
    return lessonRecord(ctx, view, lesson, groupOf.get(lesson.classmeetingId)!, files);
  });
  const subjectRecords = [...subjects].map((name): SourceRecord => ({ type: 'subject', externalId: name, name }));
  return { records: [...subjectRecords, ...groups, ...lessons, ...marks] };
}

/** Each lesson's class (the one most of its pupils are in) and, through the subgroup inference, its group. */
function groupLessons(view: SchoolView, seen: Map<string, Seen>): { groupOf: Map<string, string>; groups: SourceRecord[] } {
  const byClass = new Map<string, SeenLesson[]>();
  for (const [id, { lesson, pupils }] of seen) {
    const counts = new Map<string, number>();
    for (const p of pupils) counts.set(p.classId, (counts.get(p.classId) ?? 0) + 1);
    const main = [...counts].sort((a, b) => b[1] - a[1])[0]![0];
    const list = byClass.get(main) ?? [];
    list.push({ id, subject: subjectId(lesson.subjectName), date: lesson.day.slice(0, 10), pupils: pupils.filter((p) => p.classId === main).map((p) => p.id) });
    byClass.set(main, list);
  }
  const groupOf = new Map<string, string>();
  const groups: SourceRecord[] = [];
  for (const cls of view.classes) {
    const lessons = byClass.get(cls.id);
    if (!lessons) continue;
    const grouping = inferSubgroups({ classId: cls.id, className: cls.name, roster: rosterOf(view, cls.id), lessons });
    for (const [lesson, group] of grouping.groupOf) groupOf.set(lesson, group);
    for (const g of grouping.subgroups.values()) groups.push({ ...classRecord(cls, view.year), externalId: g.externalId, name: g.name, parentExternalId: cls.id });
  }
  return { groupOf, groups };
}

/** The homework assignments of a lesson: the homework type, with a real text (not «-», «не задано» …). */
const homeworkOf = (view: SchoolView, lesson: DiaryLesson) =>
  (lesson.assignments ?? []).filter((a) => isHomework(a.typeId, view.types.get(a.typeId)) && realName(a.assignmentName));

/** Ids in numeric order (longer is larger): a choice that does not depend on names, which a capture replaces. */
const byId = (a: Pupil, b: Pupil) => a.id.length - b.id.length || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * The files of the week's homework: `POST student/diary/get-attachments?studentId=` with the
 * assignments' ids, asked once per pupil for the lessons whose pupil with the lowest id they are —
 * homework is the lesson's, the same in every pupil's diary.
 */
async function homeworkFiles(ctx: Ctx, view: SchoolView, seen: Map<string, Seen>): Promise<Map<string, LessonFile[]>> {
  const asks = new Map<string, string[]>();
  for (const { lesson, pupils } of seen.values()) {
    const ids = homeworkOf(view, lesson).map((a) => a.id);
    if (ids.length === 0) continue;
    const first = [...pupils].sort(byId)[0]!;
    asks.set(first.id, [...(asks.get(first.id) ?? []), ...ids]);
  }
  const client = NetSchoolClient.of(ctx);
  const answers = await mapLimit([...asks], ctx.parallelism(ctx.config.parallelPupils), ([studentId, assignId]) =>
    client.call(ATTACHMENTS, { method: 'POST', url: 'student/diary/get-attachments', query: { studentId }, json: { assignId: assignId.map(Number) } }));
  const files = new Map<string, LessonFile[]>();
  for (const item of answers.flat()) {
    const list = (item.attachments ?? []).map((a): LessonFile => {
      const externalId = a.id ?? a.attachmentGuid!;
      // No URL: the download (`GET webapi/attachments/{id}`) needs the session, and the server's address is the connection's.
      return { name: (a.originalFileName ?? a.name ?? '').trim() || externalId, externalId };
    });
    if (list.length > 0) files.set(item.assignmentId, list);
  }
  return files;
}

function lessonRecord(ctx: Ctx, view: SchoolView, lesson: DiaryLesson, groupId: string, files: Map<string, LessonFile[]>): LessonRecord {
  const date = lesson.day.slice(0, 10);
  const homework = homeworkOf(view, lesson);
  const text = [...new Set(homework.map((a) => realName(a.assignmentName)!))].join('\n');
  const attached = homework.flatMap((a) => files.get(a.id) ?? []);
  // NetSchool lists homework at the lesson it is due for; a due date is worth saying when it is another day.
  const due = homework.map((a) => dateOf(a.dueDate)).filter((d): d is string => d !== undefined && d !== date).sort().pop();
  return {
    type: 'lesson', externalId: lesson.classmeetingId, classExternalId: groupId, subjectExternalId: subjectId(lesson.subjectName), date, slot: lesson.number,
    ...lessonTimes(lesson, ctx.timeZone), ...(text ? { homework: text } : {}), ...(attached.length > 0 ? { homeworkFiles: attached } : {}),
    ...(due ? { homeworkDueDate: due } : {}),
  };
}
