import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import ExcelJS from 'exceljs';
import type { Express } from 'express';
import request from 'supertest';
import { fixedClock } from '../../src/lib/clock.js';
import { SecretBox } from '../../src/lib/secret-box.js';
import { produceReport, REPORT_KINDS } from '../../src/reports/produce.js';
import type { ProgressData, UserActivityData } from '../../src/reports/kinds.js';
import type { SummarySheet } from '../../src/reports/types.js';
import { signInCallers, startAccessRig, type AccessRig, type SchoolCallers, type SchoolFixture } from '../support/access-fixture.js';
import { createConnection } from '../support/fixtures.js';
import { pdfPages } from '../support/pdf-text.js';

/**
 * The summary sheet and the regulations' reports on a demo school (50 pupils, up to 31 October, the
 * first quarter's period marks): the sheet's marks are the journal's period marks — the primary source's
 * where a second source disagrees, the second's where the primary has none — in its PDF text and XLSX
 * cells; each report's numbers equal the API's or the journal's for the same query; both print formats
 * parse; bad kinds and formats are 400 with a message; another school's class is 404, a parent never
 * gets a class's sheet.
 */
const clock = fixedClock(new Date('2025-10-31T12:00:00Z'));
const box = new SecretBox(randomBytes(32));
let rig: AccessRig;
let app: Express;
let A: SchoolFixture;
let B: SchoolFixture;
let callers: SchoolCallers;
let classId: string;
let q1: string;
let demoSource: string;
let otherSource: string;
let gone: { pupil: string; subject: string };
const kyrgyz = { last: 'Өмүрбекова', first: 'Ңурай' };
const pool = () => rig.db.pool;
const get = (url: string, token = callers.deputy) => request(app).get(url).set('authorization', `Bearer ${token}`);
const binary = (res: request.Response, cb: (err: Error | null, body: Buffer) => void) => {
  const chunks: Buffer[] = [];
  res.on('data', (c: Buffer) => chunks.push(c));
  res.on('end', () => cb(null, Buffer.concat(chunks)));
};

beforeAll(async () => {
  rig = await startAccessRig(clock, box, [41, 42]);
  app = rig.app;
  [A, B] = rig.schools as [SchoolFixture, SchoolFixture];
  callers = await signInCallers(rig.auth, A, 'r');
  demoSource = A.connectionId;
  q1 = (await pool().query<{ id: string }>(`SELECT id::text FROM period WHERE school_id = $1 AND kind = 'quarter' AND number = 1`, [A.schoolId])).rows[0]!.id;
  // The class with the most first-quarter marks, one of its pupils renamed with Kyrgyz letters.
  classId = (await pool().query<{ id: string }>(
    `SELECT e.class_group_id::text AS id FROM period_mark pm JOIN enrollment e ON e.person_id = pm.pupil_id JOIN class_group c ON c.id = e.class_group_id AND c.parent_id IS NULL
      WHERE pm.school_id = $1 AND pm.period_id = $2 GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1`, [A.schoolId, q1])).rows[0]!.id;
  await pool().query(
    `UPDATE person SET last_name = $2, first_name = $3 WHERE id = (SELECT person_id FROM enrollment WHERE class_group_id = $1 ORDER BY person_id LIMIT 1)`,
    [classId, kyrgyz.last, kyrgyz.first],
  );
  // A second source: it disagrees on one period mark (the primary's stays) and alone holds another (it shows).
  otherSource = await createConnection(pool(), A.schoolId, 'dnevnikru', 'Дневник.ру');
  const copy = `INSERT INTO period_mark (id, school_id, source_id, external_id, payload_hash, pupil_id, subject_id, period_id, raw, kind, numeric, scale)
                SELECT gen_random_uuid(), school_id, $2, 'x-' || id, 0, pupil_id, subject_id, period_id, $3, 'mark', $4, 5 FROM period_mark WHERE id = $1`;
  const some = (await pool().query<{ id: string }>(
    `SELECT pm.id::text FROM period_mark pm JOIN enrollment e ON e.person_id = pm.pupil_id AND e.class_group_id = $2 WHERE pm.period_id = $1 AND pm.raw <> '2' ORDER BY pm.id LIMIT 3`, [q1, classId])).rows;
  await pool().query(copy, [some[0]!.id, otherSource, '2', 2]);
  await pool().query(copy, [some[1]!.id, otherSource, '3', 3]);
  await pool().query('UPDATE period_mark SET deleted_at = now() WHERE id = $1', [some[1]!.id]);
  // And one gone from every source: that pupil misses it.
  gone = (await pool().query<{ pupil: string; subject: string }>('UPDATE period_mark SET deleted_at = now() WHERE id = $1 RETURNING pupil_id::text AS pupil, subject_id::text AS subject', [some[2]!.id])).rows[0]!;
}, 300_000);

afterAll(async () => {
  await rig?.close();
});

/** The journal's period marks of the class's pupils in the year, the primary source's first, as `pupil/subject/period → raw`. */
async function journalMarks(): Promise<Map<string, string>> {
  const { rows } = await pool().query<{ k: string; raw: string }>(
    `SELECT DISTINCT ON (pm.pupil_id, pm.subject_id, pm.period_id) pm.pupil_id || '/' || pm.subject_id || '/' || pm.period_id AS k, pm.raw
       FROM period_mark pm JOIN enrollment e ON e.person_id = pm.pupil_id AND e.class_group_id = $1
      WHERE pm.deleted_at IS NULL ORDER BY pm.pupil_id, pm.subject_id, pm.period_id, (pm.source_id = $2) DESC`,
    [classId, demoSource],
  );
  return new Map(rows.map((r) => [r.k, r.raw]));
}

describe('the summary sheet', () => {
  let sheet: SummarySheet;

  it('holds the journal\'s period marks, the primary source\'s first, and the absences', async () => {
    const res = await get(`/v1/classes/${classId}/summary-sheet?format=json`).expect(200);
    sheet = res.body as SummarySheet;
    expect(sheet.columns.map((c) => c.title)).toEqual(['1 четверть', '2 четверть', '3 четверть', '4 четверть']);
    const fromSheet = new Map<string, string>();
    for (const p of sheet.pupils) {
      p.marks.forEach((bySubject, s) => bySubject.forEach((raw, c) => {
        if (raw !== null) fromSheet.set(`${p.id}/${sheet.subjects[s]!.id}/${sheet.columns[c]!.id}`, raw);
      }));
    }
    expect(fromSheet.size).toBeGreaterThan(20);
    expect(fromSheet).toEqual(await journalMarks());
    expect(sheet.pupils.map((p) => p.name)).toContain(`${kyrgyz.last} ${kyrgyz.first}`);
    const absences = await pool().query<{ pupil_id: string; n: number; excused: number }>(
      `SELECT a.pupil_id::text, count(*)::int AS n, count(*) FILTER (WHERE a.kind IN ('ill', 'valid'))::int AS excused
         FROM attendance a JOIN enrollment e ON e.person_id = a.pupil_id AND e.class_group_id = $1
        WHERE a.deleted_at IS NULL AND a.kind <> 'late' GROUP BY 1`, [classId]);
    const expected = Object.fromEntries(sheet.pupils.map((p) => [p.id, { lessons: 0, excused: 0 }]));
    for (const r of absences.rows) expected[r.pupil_id] = { lessons: r.n, excused: r.excused };
    expect(Object.fromEntries(sheet.pupils.map((p) => [p.id, p.absences]))).toEqual(expected);
    expect(sheet.pupils.some((p) => p.absences.lessons > 0)).toBe(true);
  });

  it('prints the same marks in its PDF and its XLSX', async () => {
    const pdf = (await get(`/v1/classes/${classId}/summary-sheet?format=pdf`).buffer(true).parse(binary).expect(200)).body as Buffer;
    const text = (await pdfPages(pdf)).join('\n');
    expect(text).toContain('Сводная ведомость учёта успеваемости обучающихся');
    // Each pupil's row on the first slice: «№ name marks…»; the marks of the first subjects in order.
    const first = sheet.pupils.find((p) => p.name === `${kyrgyz.last} ${kyrgyz.first}`)!;
    const line = text.split('\n').find((l) => l.includes(first.name))!;
    const firstSubjectMarks = first.marks[0]!.filter((m): m is string => m !== null);
    expect(line.split(/\s+/).filter((w) => firstSubjectMarks.includes(w)).slice(0, firstSubjectMarks.length)).toEqual(firstSubjectMarks);

    const xlsx = (await get(`/v1/classes/${classId}/summary-sheet?format=xlsx`).buffer(true).parse(binary).expect(200)).body as Buffer;
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(xlsx as unknown as ArrayBuffer);
    const ws = workbook.worksheets[0]!;
    const rows: string[][] = [];
    ws.eachRow((row) => rows.push((row.values as unknown[]).slice(1).map((v) => (v === null || v === undefined ? '' : String(v)))));
    const header = rows.findIndex((r) => r[1] === 'Фамилия, имя обучающегося');
    expect(header).toBeGreaterThan(0);
    const body = rows.slice(header + 1);
    expect(body.map((r) => r[1])).toEqual(sheet.pupils.map((p) => p.name));
    body.forEach((r, i) => {
      const p = sheet.pupils[i]!;
      expect(r.slice(2, 2 + sheet.subjects.length * sheet.columns.length)).toEqual(p.marks.flat().map((m) => m ?? ''));
      expect(r.slice(-2)).toEqual([String(p.absences.lessons), String(p.absences.excused)]);
    });
  });

  it('is not a parent\'s, nor another school\'s', async () => {
    await get(`/v1/classes/${classId}/summary-sheet?format=json`, callers.parent).expect(404);
    await get(`/v1/classes/${A.classId}/summary-sheet?format=json`, callers.parent).expect(404);
    await get(`/v1/classes/${B.classId}/summary-sheet?format=json`).expect(404);
    const bad = await get(`/v1/classes/${classId}/summary-sheet?format=docx`).expect(400);
    expect(bad.body.error.message).toContain('format');
  });
});

describe('the reports', () => {
  it('counts the progress from the period marks', async () => {
    const res = await get(`/v1/reports/progress?school=${A.schoolId}&period=${q1}&format=json`).expect(200);
    const data = res.body.data as ProgressData;
    const { rows } = await pool().query<{ class_id: string; subject_id: string; pupils: number; five: number; four: number; three: number; two: number; avg: number | null }>(
      `WITH chosen AS (SELECT DISTINCT ON (pm.pupil_id, pm.subject_id) pm.* FROM period_mark pm
                        WHERE pm.period_id = $1 AND pm.deleted_at IS NULL ORDER BY pm.pupil_id, pm.subject_id, (pm.source_id = $2) DESC)
       SELECT e.class_group_id::text AS class_id, ch.subject_id::text AS subject_id, count(*)::int AS pupils,
              count(*) FILTER (WHERE ch.kind = 'mark' AND round(ch.numeric) = 5)::int AS five, count(*) FILTER (WHERE ch.kind = 'mark' AND round(ch.numeric) = 4)::int AS four,
              count(*) FILTER (WHERE ch.kind = 'mark' AND round(ch.numeric) = 3)::int AS three, count(*) FILTER (WHERE ch.kind = 'mark' AND round(ch.numeric) <= 2)::int AS two,
              round(avg(round(ch.numeric)) FILTER (WHERE ch.kind = 'mark'), 2)::float8 AS avg
         FROM chosen ch JOIN enrollment e ON e.person_id = ch.pupil_id JOIN class_group c ON c.id = e.class_group_id AND c.parent_id IS NULL
        GROUP BY 1, 2`, [q1, demoSource]);
    expect(rows.length).toBeGreaterThan(5);
    const mine = Object.fromEntries(data.rows.map((r) => [`${r.classId}/${r.subjectId}`, [r.pupils, r.five, r.four, r.three, r.two, r.average]]));
    expect(mine).toEqual(Object.fromEntries(rows.map((r) => [`${r.class_id}/${r.subject_id}`, [r.pupils, r.five, r.four, r.three, r.two, r.avg]])));
    for (const c of data.classes) expect(c.excellent + c.good + c.oneThree + c.failing).toBeLessThanOrEqual(c.pupils);
  });

  it('gives the journal fill shares of the compliance view', async () => {
    const report = await get(`/v1/reports/journal_fill?school=${A.schoolId}&period=${q1}&format=json`).expect(200);
    const compliance = await get(`/v1/schools/${A.schoolId}/compliance?period=${q1}`, callers.admin).expect(200);
    expect(report.body.data.rows).toEqual(compliance.body.rows);
    expect(report.body.data.rows.length).toBeGreaterThan(5);
  });

  it('counts the user activity from the history', async () => {
    const res = await get(`/v1/reports/user_activity?school=${A.schoolId}&from=2025-10-25&to=2025-10-31&format=json`).expect(200);
    const data = res.body.data as UserActivityData;
    const { rows } = await pool().query<{ actor: string | null; source_id: string | null; entity_type: string; op: string; n: number }>(
      `SELECT actor, source_id::text, entity_type, op, count(*)::int AS n FROM journal_event
        WHERE school_id = $1 AND at >= '2025-10-24T21:00:00Z' AND at < '2025-10-31T21:00:00Z' GROUP BY 1, 2, 3, 4`, [A.schoolId]);
    expect(rows.length).toBeGreaterThan(2);
    const key = (r: { actor: string | null; sourceId?: string | null; source_id?: string | null; entityType?: string; entity_type?: string; op: string }) =>
      `${r.actor}|${r.sourceId ?? r.source_id}|${r.entityType ?? r.entity_type}|${r.op}`;
    expect(Object.fromEntries(data.rows.map((r) => [key(r), r.count]))).toEqual(Object.fromEntries(rows.map((r) => [key(r), r.n])));
  });

  it('lists the pupils without a period mark and the attendance of a class', async () => {
    const missing = await get(`/v1/reports/missing_final_marks?school=${A.schoolId}&period=${q1}&class=${classId}&format=json`).expect(200);
    expect(missing.body.data.periodEnded).toBe(true);
    const rows = missing.body.data.rows as Array<{ classId: string; subjectId: string; pupilId: string }>;
    expect(rows.map((r) => `${r.pupilId}/${r.subjectId}`)).toContain(`${gone.pupil}/${gone.subject}`);
    const held = await pool().query<{ n: number }>(
      `SELECT count(*)::int AS n FROM period_mark pm, jsonb_to_recordset($2::jsonb) AS r("pupilId" uuid, "subjectId" uuid)
        WHERE pm.period_id = $1 AND pm.deleted_at IS NULL AND pm.pupil_id = r."pupilId" AND pm.subject_id = r."subjectId"`, [q1, JSON.stringify(rows)]);
    expect(held.rows[0]!.n).toBe(0);
    expect(rows.every((r) => r.classId === classId)).toBe(true);
    const attendance = await get(`/v1/reports/attendance?school=${A.schoolId}&period=${q1}&class=${classId}&format=json`).expect(200);
    expect(attendance.body.data.classes).toHaveLength(1);
    const q1Absences = await pool().query<{ n: number }>(
      `SELECT count(*)::int AS n FROM attendance a JOIN lesson l ON l.id = a.lesson_id JOIN class_group g ON g.id = l.class_group_id
        WHERE (g.id = $1 OR g.parent_id = $1) AND a.deleted_at IS NULL AND a.kind <> 'late' AND a.date BETWEEN '2025-09-01' AND '2025-10-26'`, [classId]);
    expect(attendance.body.data.classes[0].missed).toBe(q1Absences.rows[0]!.n);
  });

  it('produces every kind as PDF and XLSX that parse', async () => {
    for (const kind of REPORT_KINDS) {
      const request = { kind, schoolId: A.schoolId, classId, periodId: q1 };
      const pdf = await produceReport(pool(), request, 'pdf', clock.now());
      expect(pdf.mediaType).toBe('application/pdf');
      expect((await pdfPages(pdf.bytes)).length).toBeGreaterThan(0);
      const xlsx = await produceReport(pool(), request, 'xlsx', clock.now());
      const workbook = new ExcelJS.Workbook();
      await workbook.xlsx.load(xlsx.bytes as unknown as ArrayBuffer);
      expect(workbook.worksheets.length).toBeGreaterThan(0);
      expect(xlsx.filename).toMatch(new RegExp(`^${kind}-.*\\.xlsx$`));
    }
    const res = await get(`/v1/reports/attendance?school=${A.schoolId}&period=${q1}&format=pdf`).buffer(true).parse(binary).expect(200);
    expect(res.headers['content-type']).toContain('application/pdf');
    expect((await pdfPages(res.body as Buffer)).join('\n')).toContain('Отчёт о посещаемости');
  });

  it('answers a bad kind or format with 400 and a message, another school\'s class with 404', async () => {
    const kind = await get(`/v1/reports/grades?school=${A.schoolId}`).expect(400);
    expect(kind.body.error.message).toContain('progress');
    const format = await get(`/v1/reports/progress?school=${A.schoolId}&format=docx`).expect(400);
    expect(format.body.error.message).toContain('format');
    await get(`/v1/reports/progress?school=${A.schoolId}&class=${B.classId}&period=${q1}`).expect(404);
    await get(`/v1/reports/progress?school=${B.schoolId}`).expect(404);
    await get(`/v1/reports/progress?school=${A.schoolId}`, callers.parent).expect(403);
    // A class teacher: their own class only.
    const own = (await pool().query<{ id: string }>(`SELECT class_group_id::text AS id FROM staff_role WHERE person_id = $1 AND role = 'class_teacher'`, [A.classTeacherId])).rows[0]!.id;
    await get(`/v1/reports/attendance?school=${A.schoolId}&period=${q1}&class=${own}&format=json`, callers.classTeacher).expect(200);
    await get(`/v1/reports/attendance?school=${A.schoolId}&period=${q1}&format=json`, callers.classTeacher).expect(403);
    const notOwn = own === classId ? A.otherClassId : classId;
    await get(`/v1/reports/attendance?school=${A.schoolId}&period=${q1}&class=${notOwn}&format=json`, callers.classTeacher).expect(404);
    await get(`/v1/reports/user_activity?school=${A.schoolId}&class=${own}&format=json`, callers.classTeacher).expect(403);
    // A caller with one school may leave it out.
    const only = await get(`/v1/reports/journal_fill?period=${q1}&format=json`).expect(200);
    expect(only.body.window.school.id).toBe(A.schoolId);
  });
});

