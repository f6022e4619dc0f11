import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { backupClose, confirmClose, lockClose, readClose, sealClose, signOffClose, startClose, type CloseDeps } from '../../src/archive/close.js';
import { readPageContent, readPeriod, readPrintedSource } from '../../src/archive/content.js';
import { canonicalJson, pageDigest, sha256Hex } from '../../src/archive/digest.js';
import { NIL_UUID, readSealManifest, signManifest } from '../../src/archive/seal.js';
import { verifyArchiveItems } from '../../src/archive/store.js';
import { verifyPageCode } from '../../src/archive/verify.js';
import { fileDueReports } from '../../src/archive/scheduled-reports.js';
import { verifyArchive } from '../../src/archive/check.js';
import { asSuperuser } from '../support/db.js';
import { createLogger } from '../../src/lib/logger.js';
import { checksConsumer } from '../../src/checks/consumer.js';
import { applyBatch } from '../../src/journal/apply-batch.js';
import { drainConsumer } from '../../src/journal/feed.js';
import { fixedClock } from '../../src/lib/clock.js';
import { SecretBox } from '../../src/lib/secret-box.js';
import type { SourceRecord } from '../../src/ports/records.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { createConnection, createSchool } from '../support/fixtures.js';

/**
 * The period close on a small school with one platform and the school's paper journal: the checks run and
 * the findings are listed; the lock takes the history position; the seal commits to every page (the same
 * content gives the same digest when read again); a page verifies; a mark changed afterwards through the
 * platform's sync is still written, is a post-close change for the deputy, and the page is reported
 * changed at exactly that cell with the history event; the manifest re-exports byte for byte.
 */
const clock = fixedClock(new Date('2025-10-30T09:00:00Z'));
const box = new SecretBox(randomBytes(32));
let db: TestDatabase;
let schoolId: string;
let platform: string;
let periodId: string;
let deps: CloseDeps;

const PUPILS: Array<[string, string, string]> = [['p1', 'Иванов', 'Иван'], ['p2', 'Петрова', 'Анна'], ['p3', 'Өмүрбеков', 'Үмүт']];
const LESSONS = ['2025-09-08', '2025-09-15', '2025-09-22', '2025-10-06'];

function journal(markOfP2AtL2 = '4'): SourceRecord[] {
  return [
    { type: 'class', externalId: '5a', year: 2025, name: '5А', grade: 5, letter: 'А' },
    { type: 'subject', externalId: 'math', name: 'Математика' },
    { type: 'period', externalId: 'q1', year: 2025, kind: 'quarter', number: 1, title: '1 четверть', startDate: '2025-09-01', endDate: '2025-10-26' },
    ...PUPILS.flatMap(([id, lastName, firstName]): SourceRecord[] => [
      { type: 'person', externalId: id, role: 'pupil', lastName, firstName, classExternalId: '5a' },
      { type: 'enrollment', externalId: `e-${id}`, pupilExternalId: id, classExternalId: '5a' },
    ]),
    ...LESSONS.map((date, i): SourceRecord => ({
      type: 'lesson', externalId: `l${i + 1}`, classExternalId: '5a', subjectExternalId: 'math', date, slot: 2, status: 'held', topic: `Тема ${i + 1}`, homework: `§${i + 1}`,
    })),
    { type: 'mark', externalId: 'm1', pupilExternalId: 'p1', lessonExternalId: 'l1', value: '5', workCategory: 'oral' },
    { type: 'mark', externalId: 'm2', pupilExternalId: 'p2', lessonExternalId: 'l2', value: markOfP2AtL2, workCategory: 'written' },
    { type: 'mark', externalId: 'm3', pupilExternalId: 'p3', lessonExternalId: 'l2', value: '3', workCategory: 'written' },
    { type: 'attendance', externalId: 'a1', pupilExternalId: 'p3', lessonExternalId: 'l3', code: 'Absent', kind: 'unexcused' },
    ...PUPILS.map(([id], i): SourceRecord => ({ type: 'period_mark', externalId: `pm-${id}`, pupilExternalId: id, subjectExternalId: 'math', periodExternalId: 'q1', value: String(5 - i) })),
  ] as SourceRecord[];
}

beforeAll(async () => {
  db = await createTestDatabase();
  schoolId = await createSchool(db.pool);
  await createConnection(db.pool, schoolId, 'paper', 'Бумажный журнал');
  platform = await createConnection(db.pool, schoolId, 'dnevnikru', 'Дневник.ру');
  const applied = await applyBatch(db.pool, clock, { connectionId: platform, stream: 'test', records: journal() });
  expect(applied.rejected).toEqual([]);
  await drainConsumer(db.pool, checksConsumer(clock), schoolId);
  periodId = (await db.pool.query<{ id: string }>('SELECT id::text FROM period WHERE school_id = $1', [schoolId])).rows[0]!.id;
  deps = { pool: db.pool, clock, box, backup: async () => ({ id: 'b1', status: 'succeeded' }) };
});
afterAll(async () => {
  await db?.drop();
});

describe('a period close', () => {
  let pageCode: string;
  let titleCode: string;

  it('starts with the checks over the period, locks at the history head and seals every page', async () => {
    const started = await startClose(deps, { schoolId, periodId, actor: 'user:deputy' });
    expect(started.status).toBe('open');
    expect(started.steps.map((s) => s.step)).toEqual(['checks']);
    // An open severe finding of the period: no lock without an override (the finding is then resolved).
    const severe = await db.pool.query<{ id: string }>(
      `INSERT INTO discrepancy (school_id, key, rule, kind, severity, day, fingerprint) VALUES ($1, 'test:severe', 'mark_differs', 'cross_source', 'severe', '2025-09-15', 'x') RETURNING id::text`, [schoolId]);
    await expect(lockClose(deps, { schoolId, periodId, actor: 'user:deputy' })).rejects.toThrow(/1 open severe finding/);
    await db.pool.query(`UPDATE discrepancy SET status = 'resolved' WHERE school_id = $1 AND id = $2`, [schoolId, severe.rows[0]!.id]);
    // A platform whose first sync is still running has not been read whole: no lock yet.
    const run = await db.pool.query<{ id: string }>(`INSERT INTO sync_run (connection_id, trigger, mode, status) VALUES ($1, 'manual', 'full', 'running') RETURNING id::text`, [platform]);
    await expect(lockClose(deps, { schoolId, periodId, actor: 'user:deputy' })).rejects.toThrow(/Дневник.ру has not been read whole yet/);
    await db.pool.query(`UPDATE sync_run SET status = 'succeeded', finished_at = now() WHERE id = $1`, [run.rows[0]!.id]);
    const locked = await lockClose(deps, { schoolId, periodId, actor: 'user:deputy' });
    const head = (await db.pool.query<{ seq: string }>('SELECT seq::text FROM journal_head WHERE school_id = $1', [schoolId])).rows[0]!.seq;
    expect(locked).toMatchObject({ status: 'locked', lockSeq: head, lockedBy: 'user:deputy' });
    const sealed = await sealClose(deps, { schoolId, periodId, actor: 'user:deputy' });
    expect(sealed.status).toBe('sealed');
    expect(sealed.seal).toMatchObject({ chainSeq: head, pages: 2 });
    const pages = await db.pool.query<{ code: string; subject_id: string; digest: string; content: unknown }>(
      'SELECT code, subject_id::text, digest, content FROM seal_page WHERE school_id = $1 ORDER BY subject_id', [schoolId]);
    titleCode = pages.rows.find((p) => p.subject_id === NIL_UUID)!.code;
    const page = pages.rows.find((p) => p.subject_id !== NIL_UUID)!;
    pageCode = page.code;
    expect(pageCode).toMatch(/^JB-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/);
    // What was sealed: the platform's values (the electronic journal), not the paper's; cells as printed.
    expect(page.content).toMatchObject({
      className: '5А', subjectName: 'Математика', periodTitle: '1 четверть', source: { id: platform, title: 'Дневник.ру' },
      pupils: [{ name: 'Иванов Иван' }, { name: 'Петрова Анна' }, { name: 'Өмүрбеков Үмүт' }],
      cells: [['5', '', '', ''], ['', '4', '', ''], ['', '3', 'н', '']],
      periodMarks: ['5', '4', '3'],
    });
    // The same content read again gives the same digest.
    const period = await readPeriod(db.pool, schoolId, periodId);
    const again = await readPageContent(db.pool, { period, classId: (page.content as { classId: string }).classId, subjectId: page.subject_id, source: await readPrintedSource(db.pool, schoolId) });
    expect(pageDigest(again)).toBe(page.digest);
    expect(await verifyPageCode(db.pool, pageCode)).toMatchObject({ status: 'matches', kind: 'page', changes: [] });
    expect(await verifyPageCode(db.pool, titleCode.toLowerCase().replace(/-/g, ' '))).toMatchObject({ status: 'matches', kind: 'title', changedPages: [] });
    expect(await verifyPageCode(db.pool, pageCode, 'f'.repeat(64))).toMatchObject({ status: 'not_this_printout' });
  });

  it('writes a later change from the platform, reports it to the deputy, and names the changed cell with its history event', async () => {
    const applied = await applyBatch(db.pool, clock, { connectionId: platform, stream: 'test', records: journal('2') });
    expect(applied.rejected).toEqual([]);
    const mark = await db.pool.query<{ raw: string }>(`SELECT raw FROM mark WHERE school_id = $1 AND source_id = $2 AND external_id = 'm2'`, [schoolId, platform]);
    expect(mark.rows[0]!.raw).toBe('2');
    await drainConsumer(db.pool, checksConsumer(clock), schoolId);
    const findings = await db.pool.query<{ rule: string; kind: string; status: string; expected: { value: { raw: string } }; found: { value: { raw: string } }; evidence: string[] }>(
      `SELECT rule, kind, status, expected, found, evidence::text[] FROM discrepancy WHERE school_id = $1 AND rule = 'post_close_change'`, [schoolId]);
    expect(findings.rows).toHaveLength(1);
    expect(findings.rows[0]).toMatchObject({ status: 'open', expected: { value: { raw: '4' } }, found: { value: { raw: '2' } } });
    const verdict = await verifyPageCode(db.pool, pageCode);
    expect(verdict.status).toBe('changed');
    expect(verdict.changes).toHaveLength(1);
    expect(verdict.changes[0]).toMatchObject({
      kind: 'cell', pupil: { name: 'Петрова Анна', row: 2 }, lesson: { date: '2025-09-15' }, sealed: '4', now: '2',
      events: [{ entityType: 'mark', op: 'update', sourceId: platform, before: { raw: '4' }, after: { raw: '2' } }],
    });
    expect(verdict.changes[0]!.events.map((e) => e.seq)).toEqual(findings.rows[0]!.evidence);
    expect(await verifyPageCode(db.pool, titleCode)).toMatchObject({ status: 'changed', changedPages: [{ code: pageCode }] });
    expect((await readClose(db.pool, schoolId, periodId)).postCloseChanges).toBe(1);
  });

  it('re-exports the seal manifest byte for byte, signed, and keeps the archive verifiable', async () => {
    const close = await readClose(db.pool, schoolId, periodId);
    const one = await readSealManifest(db.pool, schoolId, close.seal!.id);
    const two = await readSealManifest(db.pool, schoolId, close.seal!.id);
    expect(sha256Hex(canonicalJson(one))).toBe(sha256Hex(canonicalJson(two)));
    expect(signManifest(box, one)).toEqual(signManifest(box, two));
    expect(one.pages.map((p) => p.code).sort()).toEqual([pageCode, titleCode].sort());
    expect(await verifyArchiveItems(db.pool, schoolId)).toEqual({ items: 1, corrupt: [] });
  });

  it('waits for the confirmations, the printouts and the backup before the director signs off', async () => {
    await expect(signOffClose(deps, { schoolId, periodId, actor: 'user:director' })).rejects.toThrow(/still waits for/);
    const classId = (await db.pool.query<{ id: string }>(`SELECT id::text FROM class_group WHERE school_id = $1`, [schoolId])).rows[0]!.id;
    const subjectId = (await db.pool.query<{ id: string }>(`SELECT id::text FROM subject WHERE school_id = $1`, [schoolId])).rows[0]!.id;
    await confirmClose(deps, { schoolId, periodId, actor: 'user:teacher', step: 'finals', classId, subjectId });
    await confirmClose(deps, { schoolId, periodId, actor: 'user:teacher', step: 'pages', classId, subjectId });
    await confirmClose(deps, { schoolId, periodId, actor: 'user:class-teacher', step: 'class', classId });
    await backupClose(deps, { schoolId, periodId, actor: 'user:deputy' });
    // The printouts were not made: the sign-off needs an override naming why.
    await expect(signOffClose(deps, { schoolId, periodId, actor: 'user:director' })).rejects.toThrow(/print/);
    const closed = await signOffClose(deps, { schoolId, periodId, actor: 'user:director', override: 'printed by hand' });
    expect(closed).toMatchObject({ status: 'closed', closedBy: 'user:director' });
    expect(closed.steps.map((s) => s.step)).toEqual(['checks', 'confirm_finals', 'lock', 'seal', 'backup', 'sign_pages', 'certify_class', 'sign_off']);
  });

  it('files the reports that came due once, however often the nightly pass runs', async () => {
    const deps = { pool: db.pool, clock, logger: createLogger('silent') };
    expect(await fileDueReports(deps, schoolId)).toBe(5);
    expect(await fileDueReports(deps, schoolId)).toBe(0);
    const { rows } = await db.pool.query<{ title: string; media_type: string }>(`SELECT title, media_type FROM archive_item WHERE school_id = $1 AND kind = 'report' ORDER BY title`, [schoolId]);
    expect(rows.map((r) => r.title)).toEqual([
      'attendance: 1 четверть', 'journal_fill: 2025-09-01 — 2025-09-30', 'missing_final_marks: 1 четверть', 'progress: 1 четверть', 'user_activity: 2025-10-20 — 2025-10-26',
    ]);
    expect(new Set(rows.map((r) => r.media_type))).toEqual(new Set(['application/pdf']));
  });

  it('names a sealed page whose stored content was altered', async () => {
    expect((await verifyArchive(db.pool, schoolId)).ok).toBe(true);
    await asSuperuser(db.pool, [[`UPDATE seal_page SET content = jsonb_set(content, '{cells,0,0}', '"4"') WHERE school_id = $1 AND code = $2`, [schoolId, pageCode]]]);
    const report = await verifyArchive(db.pool, schoolId);
    expect(report.ok).toBe(false);
    expect(report.seals[0]).toMatchObject({ corruptPages: [pageCode], chainMatches: true, rootMatches: true });
  });
});
