import { generatePeriodMarks, type DemoSchool } from '../../src/demo/generator.js';
import type { DemoLesson, DemoPeriod } from '../../src/demo/types.js';
import { entryJson, hex, KYRGYZ_NAMES, kundolukMark, local, uuidOf, type Json } from './simulator-shapes.js';

/** The generated school's quarter and year marks in Kundoluk's shapes: `qmarks/all` entries, and the same marks as lesson entries of type `quarter`. */

/** A quarter or year mark of `qmarks/all`, with what the term answers need of it; `copy` marks a duplicate. */
export interface QuarterMarkJson {
  id: string;
  subjectId: string;
  value: string;
  period: DemoPeriod;
  json: Json;
  copy: boolean;
}

/** Quarter marks (quarters 1–4) and year marks (quarter 5) per pupil; about a fifth twice (the same objectId, or another). */
export function buildQuarterMarks(school: DemoSchool): Map<string, QuarterMarkJson[]> {
  const periods = new Map(school.periods.filter((p) => p.kind === 'quarter' || p.kind === 'year').map((p) => [p.id, p]));
  const byPupil = new Map<string, QuarterMarkJson[]>();
  const classOf = new Map(school.pupils.map((p) => [p.id, p.classId]));
  for (const pm of generatePeriodMarks(school)) {
    const period = periods.get(pm.periodId);
    if (!period) continue;
    const subject = school.subjects.find((s) => s.id === pm.subjectId)!;
    const { mark, custom_mark } = kundolukMark(pm.value);
    const json: Json = {
      objectId: uuidOf('qmark', pm.id), gradeId: uuidOf('grade', classOf.get(pm.pupilId)!), studentId: uuidOf('student', pm.pupilId),
      subjectId: uuidOf('subject', pm.subjectId), quarter: period.kind === 'year' ? 5 : period.number,
      quarterAvg: pm.average ?? 0, quarterMark: mark, customMark: custom_mark, isBonus: false, quarterDate: local(pm.setAt),
      subjectNameKg: KYRGYZ_NAMES[subject.name] ?? subject.name, subjectNameRu: subject.name, staffId: null,
    };
    const base = { id: pm.id, subjectId: pm.subjectId, value: pm.value, period };
    const copies: QuarterMarkJson[] = [{ ...base, json, copy: false }];
    const roll = parseInt(hex('duplicate', pm.id).slice(0, 4), 16) % 10;
    if (roll < 2) copies.push({ ...base, json: { ...json }, copy: true });
    else if (roll < 3) copies.push({ ...base, json: { ...json, objectId: uuidOf('qmark-copy', pm.id) }, copy: true });
    const list = byPupil.get(pm.pupilId);
    if (list) list.push(...copies);
    else byPupil.set(pm.pupilId, copies);
  }
  return byPupil;
}

/** A pupil's quarter marks of a term as lesson entries, each on the last lesson of its subject the pupil had [I: where the platform puts them]. */
export function quarterEntries(marks: QuarterMarkJson[], lessons: Array<{ lesson: DemoLesson }>, person: Json): Map<string, Json[]> {
  const last = new Map<string, DemoLesson>();
  for (const { lesson } of lessons) {
    const seen = last.get(lesson.subjectId);
    if (!seen || `${lesson.date}|${lesson.slot}` > `${seen.date}|${seen.slot}`) last.set(lesson.subjectId, lesson);
  }
  const entries = new Map<string, Json[]>();
  for (const q of marks.filter((m) => !m.copy)) {
    const lesson = last.get(q.subjectId);
    if (!lesson) continue;
    const entry = entryJson('qentry', q.id, lesson.id, person, { ...kundolukMark(q.value), mark_type: 'quarter', created_at: q.json.quarterDate, updated_at: q.json.quarterDate });
    entries.set(lesson.id, [...entries.get(lesson.id) ?? [], entry]);
  }
  return entries;
}
