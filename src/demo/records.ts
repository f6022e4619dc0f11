import type { SourceRecord } from '../ports/records.js';
import { generateLessonFacts, generateLessons, generatePeriodMarks } from './generator.js';
import type { DemoLesson, DemoPersonBase, DemoSchool } from './types.js';

/**
 * The demo school as a source would report it: the records the `demo` connection feeds to
 * applyBatch, with the generator's ids as platform ids.
 */
export function rosterRecords(school: DemoSchool): SourceRecord[] {
  const year = school.year.startYear;
  const records: SourceRecord[] = [];
  for (const p of school.periods) {
    records.push({ type: 'period', externalId: p.id, year, kind: p.kind, number: p.number, title: p.title, startDate: p.startDate, endDate: p.endDate });
  }
  for (const s of school.subjects) records.push({ type: 'subject', externalId: s.id, name: s.name, shortName: s.shortName });
  for (const g of school.groups) {
    records.push({ type: 'class', externalId: g.id, year, name: g.name, grade: g.grade, letter: g.letter, parentExternalId: g.parentId });
  }
  records.push(...personRecords(school), ...linkRecords(school));
  return records;
}

function personRecords(school: DemoSchool): SourceRecord[] {
  const records: SourceRecord[] = [];
  const person = ({ id, lastName, firstName, middleName, sex, birthDate }: DemoPersonBase) =>
    ({ externalId: id, lastName, firstName, middleName, sex, birthDate }) as const;
  for (const s of school.staff) records.push({ type: 'person', role: 'staff', ...person(s), phone: s.phone, email: s.email });
  for (const p of school.pupils) records.push({ type: 'person', role: 'pupil', ...person(p), classExternalId: p.classId });
  for (const p of school.parents) {
    records.push({ type: 'person', role: 'guardian', ...person(p), phone: p.phone, email: p.email, telegram: p.telegram, pupilExternalIds: p.pupilIds });
  }
  return records;
}

function linkRecords(school: DemoSchool): SourceRecord[] {
  const records: SourceRecord[] = [];
  for (const p of school.pupils) {
    for (const groupId of [p.classId, ...p.subgroupIds]) {
      records.push({ type: 'enrollment', externalId: `${p.id}@${groupId}`, pupilExternalId: p.id, classExternalId: groupId, startDate: p.enrolledFrom, endDate: p.leftOn });
    }
  }
  for (const parent of school.parents) {
    for (const pupilId of parent.pupilIds) {
      records.push({ type: 'guardianship', externalId: `${parent.id}@${pupilId}`, guardianExternalId: parent.id, pupilExternalId: pupilId, relation: parent.relation });
    }
  }
  for (const s of school.staff) {
    for (const r of s.roles) {
      records.push({ type: 'staff_role', externalId: `${s.id}:${r.role}@${r.groupId ?? 'school'}`, personExternalId: s.id, role: r.role, classExternalId: r.groupId });
    }
  }
  for (const a of school.assignments) {
    records.push({ type: 'teaching_assignment', externalId: `${a.teacherId}:${a.subjectId}@${a.groupId}`, teacherExternalId: a.teacherId, classExternalId: a.groupId, subjectExternalId: a.subjectId });
  }
  return records;
}

export function lessonRecord(l: DemoLesson): SourceRecord {
  return {
    type: 'lesson', externalId: l.id, classExternalId: l.groupId, subjectExternalId: l.subjectId, date: l.date, slot: l.slot,
    startsAt: l.startsAt, endsAt: l.endsAt, teacherExternalId: l.teacherId, substituteExternalId: l.substituteId,
    topic: l.topic, homework: l.homework || undefined, status: l.status,
  };
}

/** A lesson with its marks and absences, as records. */
export function lessonWithFacts(school: DemoSchool, lesson: DemoLesson): SourceRecord[] {
  const facts = generateLessonFacts(school, lesson);
  const records: SourceRecord[] = [lessonRecord(lesson)];
  for (const m of facts.marks) {
    records.push({
      type: 'mark', externalId: m.id, pupilExternalId: m.pupilId, lessonExternalId: m.lessonId, value: m.value,
      workCategory: m.workCategory, weight: m.weight, workTitle: m.workTitle, enteredAt: m.enteredAt,
    });
  }
  for (const a of facts.absences) {
    records.push({ type: 'attendance', externalId: a.id, pupilExternalId: a.pupilId, lessonExternalId: a.lessonId, code: a.code, lateMinutes: a.lateMinutes });
  }
  return records;
}

/** Lessons and their facts in date order, cut into batches of about `size` records at day boundaries. */
export function* scheduleBatches(school: DemoSchool, size: number): Generator<{ records: SourceRecord[]; until: string }> {
  let batch: SourceRecord[] = [];
  let day = '';
  for (const lesson of generateLessons(school)) {
    if (lesson.date !== day && batch.length >= size) {
      yield { records: batch, until: day };
      batch = [];
    }
    day = lesson.date;
    batch.push(...lessonWithFacts(school, lesson));
  }
  if (batch.length > 0) yield { records: batch, until: day };
}

export function* periodMarkRecords(school: DemoSchool): Generator<SourceRecord> {
  for (const pm of generatePeriodMarks(school)) {
    yield {
      type: 'period_mark', externalId: pm.id, pupilExternalId: pm.pupilId, subjectExternalId: pm.subjectId, periodExternalId: pm.periodId,
      value: pm.value, average: pm.average ?? undefined, setAt: pm.setAt,
    };
  }
}
