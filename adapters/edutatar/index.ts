import type { Adapter, AdapterStream, SourceBatch } from '../../src/ports/adapter.js';
import { mapLimit } from '../../src/ports/concurrency.js';
import type { PeriodRecord, PersonRecord, SourceRecord } from '../../src/ports/records.js';
import { periodRecord } from './calendar.js';
import { EduTatarConfigSchema, type EduTatarConfig } from './client.js';
import { ENDPOINTS } from './endpoints.js';
import { cellTokens } from './journal.js';
import { journals, type Table } from './journals.js';
import {
  VOCABULARY, attendanceRecord, averageOf, classTeacherRecord, isAbsenceCode, markRecord, periodMarkRecord, pupilRecord, staffRecord,
} from './mapping.js';
import { pupilsOf, school, schoolYear, type ClassView } from './school.js';

/**
 * «Электронное образование в Республике Татарстан» (edu.tatar.ru) through its staff pages: no API, so a
 * school administrator's session reads HTML — the school, its classes and their pupils, then the class
 * journal per course and term, page by page, and each class's timetable for the lessons' places in
 * the day. One journal page gives lessons, marks, absences and term marks together; they are read once
 * per run and handed to their own streams, so that each stream's deletions are detected. Homework has
 * no page of its own (it is in the lesson's header). See README.md — and note that most of
 * Tatarstan's schools keep their journals in «Моя школа» since January 2024.
 */

function classRecord(cls: ClassView, year: number): SourceRecord {
  const { id, name, grade, letter } = cls.info;
  return { type: 'class', externalId: id, year, name, grade, ...(letter ? { letter } : {}) };
}

/** Roster: classes and their groups, subjects, the configured terms, class teachers, pupils with their classes. */
const roster: AdapterStream<EduTatarConfig> = {
  granularity: 'school',
  async *read(ctx) {
    const view = await school(ctx);
    const records: SourceRecord[] = [...view.subjects];
    const periods = new Map<string, PeriodRecord>();
    // One person per name: a teacher leading two classes would otherwise be sent twice, and the journal rejects the first.
    const teachers = new Map<string, PersonRecord>();
    for (const cls of view.classes) {
      records.push(classRecord(cls, view.year), ...cls.groups);
      for (const term of cls.terms) periods.set(term.periodId, periodRecord(term, view.year));
      if (!cls.info.teacher) continue;
      const teacher = staffRecord(cls.info.teacher);
      teachers.set(teacher.externalId, teacher);
      records.push(classTeacherRecord(cls.info.teacher, cls.info.id));
    }
    records.push(...teachers.values(), ...periods.values());
    const lists = await mapLimit(view.classes, ctx.parallelism(ctx.config.parallelPages), async (cls) => ({ classId: cls.info.id, ...await pupilsOf(ctx, cls.info.id) }));
    for (const { classId, pupils } of lists) {
      for (const p of pupils) {
        records.push(pupilRecord(p.id, p.fullName, classId), { type: 'enrollment', externalId: `${p.id}@${classId}`, pupilExternalId: p.id, classExternalId: classId });
      }
    }
    yield { records };
  },
};

/** A stream of the records one kind of fact makes of the journals, a batch per class. */
function journalStream(recordsOf: (table: Table) => SourceRecord[], extra?: (staff: SourceRecord[]) => SourceRecord[]): AdapterStream<EduTatarConfig> {
  return {
    granularity: 'class',
    async *read(ctx): AsyncGenerator<SourceBatch> {
      for await (const { tables, staff } of journals(ctx)) {
        const records = [...(extra?.(staff) ?? []), ...tables.flatMap(recordsOf)];
        if (records.length > 0) yield { records };
      }
    },
  };
}

/** Each cell of a table with its lesson, as pupil × lesson. */
function* cells(table: Table): Generator<{ pupilId: string; lesson: Table['lessons'][number]; tokens: string[] }> {
  for (const row of table.rows) {
    for (const [index, lesson] of table.lessons.entries()) {
      const cell = row.cells[index];
      if (cell) yield { pupilId: row.pupilId, lesson, tokens: cellTokens(cell) };
    }
  }
}

function marksOf(table: Table): SourceRecord[] {
  return [...cells(table)].flatMap(({ pupilId, lesson, tokens }) => tokens
    .filter((token) => !isAbsenceCode(token))
    .map((value, k) => markRecord(pupilId, lesson.record.externalId, k + 1, value, lesson.work)));
}

function attendanceOf(table: Table): SourceRecord[] {
  return [...cells(table)].flatMap(({ pupilId, lesson, tokens }) => {
    const code = tokens.find(isAbsenceCode);
    return code ? [attendanceRecord(pupilId, lesson.record.externalId, code)] : [];
  });
}

/** The term mark (`td.term-mark`) with the row's average; a «Год» column has no evidence and is not read. */
function periodMarksOf(table: Table): SourceRecord[] {
  return table.rows.flatMap((row) => (row.term
    ? [periodMarkRecord(row.pupilId, table.course.subjectId, table.term.periodId, row.term, averageOf(row.average))]
    : []));
}

export const edutatar: Adapter<EduTatarConfig> = {
  id: 'edutatar',
  title: 'Электронное образование в РТ (edu.tatar.ru)',
  configSchema: EduTatarConfigSchema,
  secretKeys: ['password'],
  instances: [{ name: 'edu.tatar.ru', title: 'Электронное образование в Республике Татарстан', config: { baseUrl: 'https://edu.tatar.ru' } }],
  endpoints: ENDPOINTS,
  vocabulary: VOCABULARY,
  simulator: () => import('./simulator.js').then((m) => m.simulator),
  streams: {
    roster,
    schedule: journalStream((table) => table.lessons.map((l) => l.record), (staff) => staff),
    marks: journalStream(marksOf),
    attendance: journalStream(attendanceOf),
    periodMarks: journalStream(periodMarksOf),
  },
  async checkConnection(ctx) {
    await schoolYear(ctx);
  },
};
