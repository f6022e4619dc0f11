import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import ExcelJS from 'exceljs';
import type { Express } from 'express';
import { authed, keyFor, testAuth, type Authed } from '../support/api.js';
import { createPrisma, type PrismaClient } from '../../src/db/prisma.js';
import { createSchoolRepository } from '../../src/db/repositories/schools.js';
import { createApp } from '../../src/http/app.js';
import { applyBatch } from '../../src/journal/apply-batch.js';
import { fixedClock } from '../../src/lib/clock.js';
import { createLogger } from '../../src/lib/logger.js';
import { ensurePaperConnection } from '../../src/paper/connection.js';
import { formatCell } from '../../src/paper/tokens.js';
import { runChecks } from '../../src/checks/service.js';
import { readSourceCells } from '../../src/paper/page.js';
import type { SourceRecord } from '../../src/ports/records.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { createConnection, createSchool } from '../support/fixtures.js';
import { runCli } from '../support/processes.js';

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const clock = fixedClock(new Date('2025-09-20T12:00:00Z'));
let db: TestDatabase;
let prisma: PrismaClient;
let app: Express;
let api: Authed;
let auth: ReturnType<typeof testAuth>;

/** A small school from one platform-like source: 5А (4 pupils, 5 algebra lessons) and 5Б (1 pupil, 1 lesson). */
function school(prefix: string): SourceRecord[] {
  const pupils = [['p1', 'Иванов', 'Иван'], ['p2', 'Петрова', 'Анна'], ['p3', 'Сидоров', 'Пётр'], ['p4', 'Яковлева', 'Мария']] as const;
  const marks: Array<[string, string, string]> = [
    ['p1', 'l1', '5'], ['p1', 'l1', '4'], ['p2', 'l1', '4-'], ['p3', 'l2', 'зч'], ['p4', 'l2', '2/5'], ['p1', 'l3', '3'], ['p2', 'l4', '5'], ['p4', 'l5', 'н/а'],
  ];
  return [
    { type: 'class', externalId: `${prefix}c5a`, year: 2025, name: '5А', grade: 5, letter: 'А' },
    { type: 'class', externalId: `${prefix}c5b`, year: 2025, name: '5Б', grade: 5, letter: 'Б' },
    { type: 'subject', externalId: `${prefix}alg`, name: 'Алгебра' },
    { type: 'subject', externalId: `${prefix}geo`, name: 'Геометрия' },
    ...pupils.map(([id, last, first]): SourceRecord => ({ type: 'person', externalId: `${prefix}${id}`, role: 'pupil', lastName: last, firstName: first, classExternalId: `${prefix}c5a` })),
    { type: 'person', externalId: `${prefix}p9`, role: 'pupil', lastName: 'Другой', firstName: 'Класс', classExternalId: `${prefix}c5b` },
    ...pupils.map(([id]): SourceRecord => ({ type: 'enrollment', externalId: `${prefix}e-${id}`, pupilExternalId: `${prefix}${id}`, classExternalId: `${prefix}c5a` })),
    { type: 'enrollment', externalId: `${prefix}e-p9`, pupilExternalId: `${prefix}p9`, classExternalId: `${prefix}c5b` },
    ...[1, 2, 3, 4, 5].map((n): SourceRecord => ({
      type: 'lesson', externalId: `${prefix}l${n}`, classExternalId: `${prefix}c5a`, subjectExternalId: `${prefix}alg`, date: `2025-09-0${n}`, slot: 2, status: 'held',
      ...(n <= 3 ? { topic: `Тема ${n}`, homework: `№ ${n}0` } : {}),
    })),
    { type: 'lesson', externalId: `${prefix}lg`, classExternalId: `${prefix}c5a`, subjectExternalId: `${prefix}geo`, date: '2025-09-01', slot: 3, status: 'held' },
    { type: 'lesson', externalId: `${prefix}lb`, classExternalId: `${prefix}c5b`, subjectExternalId: `${prefix}alg`, date: '2025-09-01', slot: 1, status: 'held' },
    ...marks.map(([p, l, value], i): SourceRecord => ({ type: 'mark', externalId: `${prefix}m${i + 1}`, pupilExternalId: `${prefix}${p}`, lessonExternalId: `${prefix}${l}`, value, workCategory: 'oral', weight: 1 })),
    { type: 'attendance', externalId: `${prefix}a1`, pupilExternalId: `${prefix}p3`, lessonExternalId: `${prefix}l1`, code: 'Б' },
    { type: 'attendance', externalId: `${prefix}a2`, pupilExternalId: `${prefix}p2`, lessonExternalId: `${prefix}l5`, code: 'н' },
  ];
}

interface School {
  schoolId: string;
  sourceId: string;
  ids: Map<string, string>;
  classId: string;
  subjectId: string;
}

/** A school of its own whose first source (platform-like, or the paper connection itself) wrote `school()`. */
async function makeSchool(platform = 'dnevnikru', prefix = 'x-'): Promise<School> {
  const schoolId = await createSchool(db.pool);
  const sourceId = await createConnection(db.pool, schoolId, platform);
  const applied = await applyBatch(db.pool, clock, { connectionId: sourceId, stream: 'all', records: school(prefix) });
  expect(applied.rejected).toEqual([]);
  const { rows } = await db.pool.query<{ external_id: string; canonical_id: string }>(
    'SELECT external_id, canonical_id::text FROM external_ref WHERE connection_id = $1', [sourceId],
  );
  const ids = new Map(rows.map((r) => [r.external_id.slice(prefix.length), r.canonical_id]));
  return { schoolId, sourceId, ids, classId: ids.get('c5a')!, subjectId: ids.get('alg')! };
}

async function getTemplate(s: School, query: string): Promise<Buffer> {
  const res = await api.get(`/v1/classes/${s.classId}/paper-template?subject=${s.subjectId}${query}`)
    .buffer(true).parse((r, done) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c)).on('end', () => done(null, Buffer.concat(chunks)));
    }).expect(200);
  return res.body as Buffer;
}

function post(s: School, body: Buffer | string, type = XLSX, classId = s.classId) {
  return api.post(`/v1/classes/${classId}/paper?subject=${s.subjectId}`).set('content-type', type).send(body);
}

async function edit(file: Buffer, change: (sheet: ExcelJS.Worksheet, wb: ExcelJS.Workbook) => void): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(file as unknown as ArrayBuffer);
  change(wb.getWorksheet('Алгебра')!, wb);
  return Buffer.from(await wb.xlsx.writeBuffer());
}

async function emptyWorkbook(): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  wb.addWorksheet('Алгебра');
  return Buffer.from(await wb.xlsx.writeBuffer());
}

/** Every cell a source has in the class's algebra lessons, as the page writes it. */
async function cellsOf(s: School, sourceId: string): Promise<Map<string, string>> {
  const lessons = ['l1', 'l2', 'l3', 'l4', 'l5'].map((l) => s.ids.get(l)!);
  const pupils = ['p1', 'p2', 'p3', 'p4'].map((p) => s.ids.get(p)!);
  const cells = await readSourceCells(db.pool, sourceId, lessons, pupils);
  const texts = [...cells].map(([key, c]): [string, string] => [key, formatCell(c.marks.map((m) => m.raw), c.absences[0]?.raw ?? null)]);
  return new Map(texts.filter(([, text]) => text !== ''));
}

/** The cross-source checks over the algebra lessons' days: each open finding as rule|pupil|lesson (names from the fixture). */
async function crossFindings(s: School): Promise<string[]> {
  await runChecks(db.pool, clock, { schoolId: s.schoolId, from: '2025-09-01', to: '2025-09-05', rules: ['mark_differs', 'mark_only_in_one', 'attendance_differs'] });
  const names = new Map([...s.ids].map(([name, id]) => [id, name]));
  const { rows } = await db.pool.query<{ rule: string; kind: string; pupil_id: string; lesson_id: string }>(
    `SELECT rule, kind, pupil_id::text, lesson_id::text FROM discrepancy WHERE school_id = $1 AND status = 'open' ORDER BY 1, 3, 4`, [s.schoolId]);
  return rows.map((r) => `${r.kind}:${r.rule}|${names.get(r.pupil_id)}|${names.get(r.lesson_id)}`).sort();
}

async function events(schoolId: string): Promise<number> {
  const { rows } = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM journal_event WHERE school_id = $1', [schoolId]);
  return rows[0]!.n;
}

beforeAll(async () => {
  db = await createTestDatabase();
  prisma = createPrisma(db.url, 2);
  auth = testAuth(db.pool);
  app = createApp({ auth, pool: db.pool, schools: createSchoolRepository(prisma), logger: createLogger('silent'), embedded: false, demoStatus: () => ({ status: 'off' }), clock });
  api = authed(app, await keyFor(auth));
});
afterAll(async () => {
  await prisma.$disconnect();
  await db.drop();
});

describe('the paper template', () => {
  it('lays out the left page (ids hidden) and the right page; blank by default, prefilled from a source on request', async () => {
    const s = await makeSchool();
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load((await getTemplate(s, '')) as unknown as ArrayBuffer);
    expect(wb.worksheets.map((w) => w.name)).toEqual(['Алгебра', 'Темы и ДЗ']);
    const left = wb.getWorksheet('Алгебра')!;
    expect(left.getColumn(1).hidden).toBe(true);
    expect(left.getRow(1).hidden).toBe(true);
    expect(left.getCell('A1').value).toBe(`journal-bridge paper v1; class=${s.classId}; subject=${s.subjectId}`);
    expect([3, 4, 5, 6, 7].map((c) => left.getCell(1, c).value)).toEqual(['l1', 'l2', 'l3', 'l4', 'l5'].map((l) => s.ids.get(l)));
    expect([2, 3].map((r) => left.getCell(r, 3).value)).toEqual(['01.09.2025', '2']);
    expect([4, 5, 6, 7].map((r) => [left.getCell(r, 1).value, left.getCell(r, 2).value])).toEqual([
      [s.ids.get('p1'), 'Иванов Иван'], [s.ids.get('p2'), 'Петрова Анна'], [s.ids.get('p3'), 'Сидоров Пётр'], [s.ids.get('p4'), 'Яковлева Мария'],
    ]);
    expect(left.getCell('C4').value ?? '').toBe('');
    const full = new ExcelJS.Workbook();
    await full.xlsx.load((await getTemplate(s, `&prefill=${s.sourceId}`)) as unknown as ArrayBuffer);
    const grid = full.getWorksheet('Алгебра')!;
    expect(['C4', 'C5', 'C6', 'D6', 'D7', 'E4', 'G5', 'G7'].map((a) => grid.getCell(a).value)).toEqual(['5 4', '4-', 'Б', 'зч', '2/5', '3', 'н', 'н/а']);
    const right = full.getWorksheet('Темы и ДЗ')!;
    expect(right.getColumn(1).hidden).toBe(true);
    expect(right.getRow(2).values).toEqual([undefined, s.ids.get('l1'), '01.09.2025', '2', 'Тема 1', '№ 10']);
    await api.get(`/v1/classes/${s.classId}/paper-template`).expect(400);
    await api.get(`/v1/classes/${s.classId}/paper-template?subject=${s.subjectId}&prefill=${s.schoolId}`).expect(404);
  });

  it('gives the same grid as CSV: UTF-8 with a BOM, «;» between fields, topic and homework rows under the pupils', async () => {
    const s = await makeSchool();
    const csv = (await getTemplate(s, `&format=csv&prefill=${s.sourceId}`));
    expect([...csv.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const lines = csv.toString('utf8').slice(1).split('\r\n');
    expect(lines[3]).toBe(`${s.ids.get('p1')};Иванов Иван;5 4;;3;;`);
    expect(lines[7]).toBe(`#topic;Тема урока;Тема 1;Тема 2;Тема 3;;`);
    expect(lines[8]).toBe(`#homework;Домашнее задание;№ 10;№ 20;№ 30;;`);
  });
});

describe('the paper import', () => {
  it('round trip: a template prefilled from a platform, imported unchanged, makes the paper records equal the platform\'s; re-import writes nothing', async () => {
    const s = await makeSchool();
    const file = await getTemplate(s, `&prefill=${s.sourceId}`);
    const res = await post(s, file).expect(200);
    expect(res.body).toMatchObject({ cells: { read: 20, created: 9, changed: 0, removed: 0, unchanged: 0, rejected: 0 }, rejections: [] });
    const paperId = res.body.connectionId as string;
    expect(paperId).toBe(await ensurePaperConnection(db.pool, s.schoolId));
    expect(await cellsOf(s, paperId)).toEqual(await cellsOf(s, s.sourceId));
    // The paper (the school's primary source once it exists) and the platform agree in every cell.
    expect(await crossFindings(s)).toEqual([]);
    const kinds = await db.pool.query('SELECT raw, kind FROM mark WHERE source_id = $1 AND raw IN ($2, $3) ORDER BY raw', [paperId, '2/5', 'н/а']);
    expect(kinds.rows).toEqual([{ raw: '2/5', kind: 'mark' }, { raw: 'н/а', kind: 'not_assessed' }]);
    const actors = await db.pool.query('SELECT DISTINCT actor FROM journal_event WHERE source_id = $1', [paperId]);
    // The signed-in caller, never a header's word.
    expect(actors.rows).toEqual([{ actor: expect.stringMatching(/^api:[0-9a-f-]{36}$/) }]);
    const before = await events(s.schoolId);
    const again = await post(s, file).expect(200);
    expect(again.body).toMatchObject({ cells: { read: 20, created: 0, changed: 0, removed: 0, unchanged: 9, rejected: 0 }, events: 0 });
    expect(await events(s.schoolId)).toBe(before);
  });

  it('a changed file changes exactly the cells it changes; an emptied cell removes its paper records', async () => {
    const s = await makeSchool();
    const file = await getTemplate(s, `&prefill=${s.sourceId}`);
    const { body: first } = await post(s, file).expect(200);
    const paperId = first.connectionId as string;
    const changed = await edit(file, (sheet) => {
      sheet.getCell('C5').value = '5'; // 4- → 5
      sheet.getCell('F4').value = '4 5'; // blank → two marks
      sheet.getCell('E4').value = 'н'; // a mark → an absence
    });
    const { body } = await post(s, changed).expect(200);
    expect(body.cells).toMatchObject({ created: 1, changed: 2, removed: 0, rejected: 0 });
    const platform = await cellsOf(s, s.sourceId);
    const paper = await cellsOf(s, paperId);
    const differing = [...new Set([...platform.keys(), ...paper.keys()])].filter((k) => platform.get(k) !== paper.get(k));
    const key = (p: string, l: string) => `${s.ids.get(p)}|${s.ids.get(l)}`;
    expect(differing.sort()).toEqual([key('p2', 'l1'), key('p1', 'l4'), key('p1', 'l3')].sort());
    expect([paper.get(key('p2', 'l1')), paper.get(key('p1', 'l4')), paper.get(key('p1', 'l3'))]).toEqual(['5', '4 5', 'н']);
    // The checks report exactly those three cells, as paper discrepancies.
    expect(await crossFindings(s)).toEqual([
      'paper:attendance_differs|p1|l3', 'paper:mark_differs|p2|l1', 'paper:mark_only_in_one|p1|l3', 'paper:mark_only_in_one|p1|l4',
    ].sort());
    const ids = await db.pool.query('SELECT external_id FROM mark WHERE source_id = $1 AND lesson_id = $2 AND pupil_id = $3 AND deleted_at IS NULL ORDER BY external_id', [paperId, s.ids.get('l4'), s.ids.get('p1')]);
    expect(ids.rows.map((r) => r.external_id)).toEqual([`paper:${s.ids.get('l4')}:${s.ids.get('p1')}:1`, `paper:${s.ids.get('l4')}:${s.ids.get('p1')}:2`]);
    expect((await post(s, changed).expect(200)).body.events).toBe(0);

    const emptied = await edit(changed, (sheet) => {
      sheet.getCell('C4').value = null; // «5 4» erased
    });
    const { body: removal } = await post(s, emptied).expect(200);
    expect(removal.cells).toMatchObject({ created: 0, changed: 0, removed: 1 });
    expect(removal.events).toBe(2);
    expect((await cellsOf(s, paperId)).has(key('p1', 'l1'))).toBe(false);
    const gone = await db.pool.query('SELECT count(*)::int AS n FROM mark WHERE source_id = $1 AND lesson_id = $2 AND pupil_id = $3 AND deleted_at IS NOT NULL', [paperId, s.ids.get('l1'), s.ids.get('p1')]);
    expect(gone.rows[0].n).toBe(2);
  });

  it('rejects a bad cell alone, with its address and reason, and applies the rest; topic and homework update the lesson', async () => {
    const s = await makeSchool();
    const file = await edit(await getTemplate(s, ''), (sheet, wb) => {
      sheet.getCell('C4').value = '7';
      sheet.getCell('D4').value = '5';
      sheet.getCell('E4').value = 'н б';
      sheet.getCell('F4').value = 5; // typed as a number
      const right = wb.getWorksheet('Темы и ДЗ')!;
      right.getCell('D5').value = 'Уравнения';
      right.getCell('E5').value = '§ 4';
    });
    const { body } = await post(s, file).expect(200);
    expect(body.cells).toMatchObject({ read: 20, created: 2, rejected: 2 });
    expect(body.rejections).toEqual([
      { cell: 'Алгебра!C4', reason: 'Алгебра!C4: «7» is not a mark on the 5-point scale' },
      { cell: 'Алгебра!E4', reason: 'Алгебра!E4: «н» and «б»: a cell holds one absence' },
    ]);
    const lesson = await db.pool.query('SELECT topic, homework FROM lesson WHERE id = $1', [s.ids.get('l4')]);
    expect(lesson.rows).toEqual([{ topic: 'Уравнения', homework: '§ 4' }]);
    expect((await post(s, file).expect(200)).body.events).toBe(0);
  });

  it('works on a paper connection that already holds records under other ids (the demo\'s generator ids)', async () => {
    const s = await makeSchool('paper', 'gen-');
    expect(await ensurePaperConnection(db.pool, s.schoolId)).toBe(s.sourceId);
    const file = await getTemplate(s, `&prefill=${s.sourceId}`);
    expect((await post(s, file).expect(200)).body).toMatchObject({ connectionId: s.sourceId, events: 0, cells: { unchanged: 9 } });
    const { body } = await post(s, await edit(file, (sheet) => (sheet.getCell('C5').value = '3'))).expect(200);
    expect(body).toMatchObject({ cells: { changed: 1 }, events: 1 });
    const mark = await db.pool.query('SELECT external_id, raw FROM mark WHERE source_id = $1 AND lesson_id = $2 AND pupil_id = $3 AND deleted_at IS NULL', [s.sourceId, s.ids.get('l1'), s.ids.get('p2')]);
    expect(mark.rows).toEqual([{ external_id: 'gen-m3', raw: '3' }]);
  });

  it('imports the CSV form the same way', async () => {
    const s = await makeSchool();
    const csv = await getTemplate(s, `&format=csv&prefill=${s.sourceId}`);
    const { body } = await post(s, csv, 'text/csv').expect(200);
    expect(body.cells).toMatchObject({ read: 20, created: 9, rejected: 0 });
    expect(await cellsOf(s, body.connectionId)).toEqual(await cellsOf(s, s.sourceId));
    expect((await post(s, csv, 'text/csv; charset=utf-8').expect(200)).body.events).toBe(0);
    const text = csv.toString('utf8').replace(`${s.ids.get('p1')};Иванов Иван;5 4;`, `${s.ids.get('p1')};Иванов Иван;"5/4 3";`)
      .replace('#topic;Тема урока;Тема 1;', '#topic;Тема урока;"Дроби; сложение";');
    const { body: changed } = await post(s, text, 'text/csv').expect(200);
    expect(changed.cells).toMatchObject({ changed: 1, rejected: 0 });
    expect((await cellsOf(s, body.connectionId)).get(`${s.ids.get('p1')}|${s.ids.get('l1')}`)).toBe('5/4 3');
    expect((await db.pool.query('SELECT topic FROM lesson WHERE id = $1', [s.ids.get('l1')])).rows[0].topic).toBe('Дроби; сложение');
  });
});

describe('a file that is not the template', () => {
  it('is refused whole with a clear 4xx, writing nothing', async () => {
    const s = await makeSchool();
    const file = await getTemplate(s, `&prefill=${s.sourceId}`);
    const other = await makeSchool();
    const otherClass = await getTemplate({ ...s, classId: s.ids.get('c5b')! }, '');
    const cases: Array<[string, Buffer | string, string, number, RegExp]> = [
      ['wrong sheet', await edit(file, (sheet) => (sheet.name = 'Лист1')), XLSX, 422, /no sheet «Алгебра».*«Лист1»/],
      ['marker missing', await edit(file, (sheet) => (sheet.getCell('A1').value = null)), XLSX, 422, /does not name the page's class and subject/],
      ['pupil id missing', await edit(file, (sheet) => (sheet.getCell('A5').value = null)), XLSX, 422, /row 5 has values but no pupil id/],
      ['lesson id missing', await edit(file, (sheet) => (sheet.getCell('D1').value = null)), XLSX, 422, /D1 .* is not a lesson id/],
      ['another class', otherClass, XLSX, 422, /template of another class/],
      ['another school\'s ids', await getTemplate(other, `&prefill=${other.sourceId}`), XLSX, 422, /another class/],
      ['unknown lesson', await edit(file, (sheet, wb) => {
        sheet.getCell('E1').value = s.ids.get('lg');
        wb.getWorksheet('Темы и ДЗ')!.getCell('A4').value = s.ids.get('lg');
      }), XLSX, 422, /not lessons of this class and subject/],
      ['unknown pupil', await edit(file, (sheet) => (sheet.getCell('A6').value = s.ids.get('p9'))), XLSX, 422, /not pupils of this class/],
      ['merged cells', await edit(file, (sheet) => sheet.mergeCells('C4:D4')), XLSX, 422, /Алгебра!C4 is a merged cell/],
      ['formula', await edit(file, (sheet) => (sheet.getCell('D5').value = { formula: '2+3', result: 5 })), XLSX, 422, /Алгебра!D5 holds a formula/],
      ['empty file', Buffer.alloc(0), XLSX, 422, /empty/],
      ['empty sheet', await emptyWorkbook(), XLSX, 422, /empty/],
      ['not an XLSX', Buffer.from('PK\u0003\u0004 this is no zip'), XLSX, 422, /cannot be read as an XLSX/],
      ['not UTF-8', Buffer.from([0xcf, 0xf0, 0xe8, 0xe2, 0xe5, 0xf2, 0x3b, 0x35]), 'text/csv', 422, /not UTF-8/],
      ['CSV without ids', 'Ученик;01.09\r\nИванов;5\r\n', 'text/csv', 422, /does not name/],
      ['neither XLSX nor CSV', '{"a":1}', 'application/json', 415, /XLSX.*CSV/],
      ['over 10 MB', Buffer.alloc(10 * 1024 * 1024 + 1, 0x41), 'text/csv', 413, /too large/],
    ];
    const before = await events(s.schoolId);
    for (const [what, body, type, status, message] of cases) {
      const res = await post(s, body, type);
      expect({ what, status: res.status, message: res.body.error?.message }).toEqual({ what, status, message: expect.stringMatching(message) });
    }
    expect(await events(s.schoolId)).toBe(before);
    const refs = await db.pool.query("SELECT count(*)::int AS n FROM external_ref r JOIN connection c ON c.id = r.connection_id WHERE c.school_id = $1 AND c.platform = 'paper'", [s.schoolId]);
    expect(refs.rows[0].n).toBe(0);
    await api.post(`/v1/classes/${s.ids.get('lg')}/paper?subject=${s.subjectId}`).set('content-type', XLSX).send(file).expect(404);
  });
});

describe('the command line', () => {
  it('writes a template and imports it (paper template / paper import)', async () => {
    const s = await makeSchool();
    const dir = await mkdtemp(path.join(tmpdir(), 'jb-paper-'));
    const out = path.join(dir, 'algebra.xlsx');
    const env = { DATABASE_URL: db.url, DATA_DIR: dir };
    const template = await runCli(['paper', 'template', '--class', s.classId, '--subject', s.subjectId, '--prefill', s.sourceId, '--out', out], env);
    expect(template).toMatchObject({ code: 0, stdout: `${out}: 4 pupils × 5 lessons\n` });
    const imported = await runCli(['paper', 'import', out, '--class', s.classId, '--subject', s.subjectId], env);
    expect(imported.code).toBe(0);
    expect(JSON.parse(imported.stdout)).toMatchObject({ cells: { read: 20, created: 9 }, rejections: [] });
    const actors = await db.pool.query("SELECT DISTINCT e.actor FROM journal_event e JOIN connection c ON c.id = e.source_id WHERE c.school_id = $1 AND c.platform = 'paper'", [s.schoolId]);
    expect(actors.rows).toEqual([{ actor: 'cli' }]);
  });
});
