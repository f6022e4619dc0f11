import type { AdapterContext, AdapterStream, SourceBatch } from '../../src/ports/adapter.js';
import { mapLimit } from '../../src/ports/concurrency.js';
import { mondayOf, addDays } from '../../src/ports/ranges.js';
import type { SourceRecord } from '../../src/ports/records.js';
import { missingPart } from '../../src/ports/response.js';
import { once } from '../../src/ports/session.js';
import { NetSchoolClient, type NetSchoolConfig, type Session } from './client.js';
import { diaryIndex, readDiary } from './diary.js';
import { STUDENT_TOTAL_FILTERS } from './endpoints.js';
import { closeHub, readReport } from './hub.js';
import { attendanceCodes, attendanceRecord, matchSubject, periodMarkRecord, periodRecord } from './mapping.js';
import { columnDates, totalsFor, type StudentTotal } from './report.js';
import { readSchool, type Pupil, type SchoolView } from './school.js';

type Ctx = AdapterContext<NetSchoolConfig>;

interface ClassTerm {
  id: string;
  title: string;
  start: string;
  end: string;
}

/**
 * The terms of a class: the report's TERMID filter once the class (PCLID) is chosen — a class learns in
 * quarters, another in half-years; dates from `GET terms`, or from the `period` range once the term is
 * chosen as well (lentryd reads term dates that way).
 */
function termsOfClass(ctx: Ctx, view: SchoolView, classId: string): Promise<ClassTerm[]> {
  return once(ctx, `netschool.terms.${classId}`, async () => {
    const client = NetSchoolClient.of(ctx);
    const ask = (selected: Array<{ filterId: string; filterValue: string }>) =>
      client.call(STUDENT_TOTAL_FILTERS, { method: 'POST', url: 'reports/studenttotal/initfilters', json: { params: null, selectedData: selected } });
    const chosen = { filterId: 'PCLID', filterValue: classId };
    const items = (await ask([chosen])).find((f) => f.filterId === 'TERMID')?.items;
    if (!items) throw missingPart(STUDENT_TOTAL_FILTERS, 'TERMID', 'no term filter once the class is chosen');
    // Special values (−1 «год», −2 «итог» in the ASP reports) are not terms.
    return Promise.all(items.filter((i) => /^\d+$/.test(i.value)).map(async (item): Promise<ClassTerm> => {
      const known = view.terms.find((t) => t.id === item.value);
      if (known) return { id: item.value, title: known.termName, start: known.startDate.slice(0, 10), end: known.endDate.slice(0, 10) };
      const range = (await ask([chosen, { filterId: 'TERMID', filterValue: item.value }])).find((f) => f.filterId === 'period')?.range;
      if (!range) throw missingPart(STUDENT_TOTAL_FILTERS, 'period.range', `no dates for the term «${item.title}»`);
      return { id: item.value, title: item.title, start: range.start.slice(0, 10), end: range.end.slice(0, 10) };
    }));
  });
}

/**
 * Attendance and term marks from each pupil's «studenttotal» report per term that meets the range:
 * the codes of a day's cell go to the pupil's lessons of that subject that day, in order. The run's
 * last stream: it logs out at the end.
 */
export const attendance: AdapterStream<NetSchoolConfig> = {
  granularity: 'pupil',
  async *read(ctx): AsyncGenerator<SourceBatch> {
    const client = NetSchoolClient.of(ctx);
    try {
      const view = await readSchool(ctx);
      for (const cls of view.classes) {
        const pupils = view.pupils.filter((p) => p.classId === cls.id);
        if (pupils.length === 0) continue;
        for (const term of await termsOfClass(ctx, view, cls.id)) {
          if (term.end < ctx.range.from || term.start > ctx.range.to) continue;
          const perPupil = await mapLimit(pupils, ctx.parallelism(ctx.config.parallelPupils), async (pupil) =>
            recordsOfReport(ctx, view, pupil, term, await readReport(ctx, client, (session) => reportBody(view, session, pupil, term))));
          const records: SourceRecord[] = [periodRecord(term.id, term.title, term, view.year), ...perPupil.flat()];
          yield { records: [...new Map(records.map((r) => [`${r.type}|${r.externalId}`, r])).values()] };
        }
      }
    } finally {
      closeHub(ctx);
      await client.logOut();
    }
  },
};

/** The queue body as the clients send it (report-queue-bodies.json): the pupil, the class, the term and its `period`; the school's name as the login gave it. */
function reportBody(view: SchoolView, session: Session, pupil: Pupil, term: ClassTerm): unknown {
  return {
    params: [
      { name: 'DATEFORMAT', value: 'd\u0001mm\u0001yy\u0001.' }, { name: 'SCHOOLYEARID', value: view.yearId },
      // Every client sends 3, whatever the region.
      { name: 'SERVERTIMEZONE', value: 3 }, { name: 'FULLSCHOOLNAME', value: session.schoolName },
    ],
    selectedData: [
      { filterId: 'SID', filterValue: pupil.id }, { filterId: 'PCLID', filterValue: pupil.classId }, { filterId: 'TERMID', filterValue: term.id },
      { filterId: 'period', filterValue: `${term.start}T00:00:00.000Z - ${term.end}T00:00:00.000Z` },
    ],
  };
}

async function recordsOfReport(ctx: Ctx, view: SchoolView, pupil: Pupil, term: ClassTerm, report: StudentTotal): Promise<SourceRecord[]> {
  const dates = columnDates(report.columns, view.year);
  const inRange = (d: string | undefined): d is string => d !== undefined && d >= ctx.range.from && d <= ctx.range.to;
  // Per row, per date column: the cell's attendance codes.
  const codes = report.rows.map((row) => row.cells.map((cell) => attendanceCodes(cell, report.legend)));
  await readWeeks(ctx, view, pupil, codes.flatMap((cells) => cells.flatMap((c, i) => (c.length > 0 ? [dates[i]] : []))).filter(inRange));
  const index = diaryIndex(ctx);
  const columnsOf = new Map<string, number[]>();
  dates.forEach((d, i) => inRange(d) && columnsOf.set(d, [...(columnsOf.get(d) ?? []), i]));
  const records: SourceRecord[] = [];
  for (const [r, row] of report.rows.entries()) {
    const subject = matchSubject(row.subject, index.subjects);
    if (!index.subjects.has(subject)) records.push({ type: 'subject', externalId: subject, name: subject });
    const final = periodMarkRecord(pupil.id, subject, term.id, totalsFor(row, term.title), view.scale);
    if (final) records.push(final);
    for (const [date, columns] of columnsOf) {
      const lessons = index.lessons.get(pupil.id)?.get(`${subject}|${date}`) ?? [];
      for (const [lesson, code] of placeCodes(columns.map((c) => codes[r]![c] ?? []))) {
        // A code without a lesson in the pupil's diary still reaches the journal, which rejects it with the reason.
        records.push(attendanceRecord(pupil.id, lessons[lesson]?.id ?? `${subject}@${date}#${lesson + 1}`, code));
      }
    }
  }
  return records;
}

/**
 * Which lesson of the day each code belongs to: with a column per lesson (a double lesson under one
 * day number) column i is lesson i; one column for several lessons gives its codes to them in order.
 */
export function placeCodes(cells: string[][]): Array<[number, string]> {
  if (cells.length > 1) return cells.flatMap((codes, i): Array<[number, string]> => (codes[0] ? [[i, codes[0]]] : []));
  // Codes beyond the day's lessons get a lesson the diary does not have: the journal says so.
  return (cells[0] ?? []).map((code, i) => [i, code]);
}

/** Reads the diary weeks of these days that the run has not read yet. */
async function readWeeks(ctx: Ctx, view: SchoolView, pupil: Pupil, days: string[]): Promise<void> {
  const index = diaryIndex(ctx);
  const weeks = [...new Set(days.map(mondayOf))].filter((monday) => !index.weeks.has(`${pupil.id}|${monday}`));
  for (const monday of weeks) await readDiary(ctx, view, pupil.id, { from: monday, to: addDays(monday, 6) });
}
