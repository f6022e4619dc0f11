import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Express } from 'express';
import request from 'supertest';
import { checksConsumer } from '../../src/checks/consumer.js';
import { applyBatch } from '../../src/journal/apply-batch.js';
import { drainConsumer } from '../../src/journal/feed.js';
import { fixedClock } from '../../src/lib/clock.js';
import { SecretBox } from '../../src/lib/secret-box.js';
import type { SourceRecord } from '../../src/ports/records.js';
import { pdfPages, pdfQrCodes } from '../support/pdf-text.js';
import { signInCallers, startAccessRig, type AccessRig, type SchoolCallers, type SchoolFixture } from '../support/access-fixture.js';

/**
 * The close through the API, as each role may do it: the deputy runs it (a teacher may not), teachers
 * confirm their own subjects and class teachers their own class, only the director signs off; a
 * printout's code answers anyone holding it with where it changed, and staff of the class with whose
 * cell and the history; the archive lists, serves and verifies what was filed.
 */
const clock = fixedClock(new Date('2025-10-31T12:00:00Z'));
const box = new SecretBox(randomBytes(32));
let rig: AccessRig;
let app: Express;
let A: SchoolFixture;
let callers: SchoolCallers;
let director: string;
let base: string;

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

beforeAll(async () => {
  rig = await startAccessRig(clock, box, [41]);
  app = rig.app;
  A = rig.schools[0]!;
  callers = await signInCallers(rig.auth, A, 'a');
  const user = await rig.auth.users.create({ kind: 'staff', login: 'director-a', password: 'correct horse battery', memberships: [{ schoolId: A.schoolId, roles: ['director'], personId: null }] }, 'test');
  director = (await rig.auth.sessions.create(user.id, 'bearer')).token;
  base = `/v1/schools/${A.schoolId}/periods/${A.periodId}/close`;
}, 300_000);
afterAll(async () => {
  await rig?.close();
});

describe('the period close over HTTP', () => {
  let code: string;
  let pupilName: string;

  it('lets the deputy start and lock it (severe findings need a reason), and not a teacher', async () => {
    const started = await request(app).post(base).set(bearer(callers.deputy));
    expect(started.status).toBe(201);
    expect(started.body).toMatchObject({ status: 'open', period: { id: A.periodId } });
    expect((await request(app).get(base).set(bearer(callers.teacher))).status).toBe(200);
    expect((await request(app).get(base).set(bearer(callers.parent))).status).toBe(403);
    expect((await request(app).post(`${base}/lock`).set(bearer(callers.teacher))).status).toBe(403);
    expect((await request(app).post(`${base}/seal`).set(bearer(callers.deputy))).status).toBe(409);
    if (started.body.findings.severe > 0) {
      const refused = await request(app).post(`${base}/lock`).set(bearer(callers.deputy));
      expect(refused.status).toBe(409);
      expect(refused.body.error.message).toMatch(/severe/);
    }
    expect((await request(app).post(`${base}/lock`).set(bearer(callers.deputy)).send({ override: 'x' })).status).toBe(400);
    const locked = await request(app).post(`${base}/lock`).set(bearer(callers.deputy)).send({ override: 'checked with the class teachers' });
    expect(locked.status).toBe(200);
    expect(locked.body).toMatchObject({ status: 'locked', overrideReason: started.body.findings.severe > 0 ? 'checked with the class teachers' : expect.anything() });
  });

  it('seals it; a page code tells anyone whether it matches, and staff of the class whose cell changed', async () => {
    const sealed = await request(app).post(`${base}/seal`).set(bearer(callers.deputy));
    expect(sealed.status).toBe(200);
    expect(sealed.body.seal.pages).toBeGreaterThan(2);
    const { rows } = await rig.db.pool.query<{ code: string; content: { pupils: Array<{ id: string; name: string }>; lessons: Array<{ id: string }>; cells: string[][] } }>(
      `SELECT code, content FROM seal_page WHERE school_id = $1 AND class_group_id = $2 AND content ? 'cells'`, [A.schoolId, A.classId]);
    // The class teacher's class, its page with the most marks.
    const marks = (p: (typeof rows)[number]) => p.content.cells.flat().filter((c) => /^\d/.test(c)).length;
    const chosen = rows.sort((x, y) => marks(y) - marks(x))[0]!;
    code = chosen.code;
    const page = chosen.content;
    const anonymous = await request(app).get(`/v1/seals/${code}`);
    expect(anonymous.status).toBe(200);
    expect(anonymous.body).toMatchObject({ status: 'matches', kind: 'page', changes: [] });
    // A mark of the first pupil's first lesson changes at the source after the seal.
    const row = page.cells.findIndex((cells) => cells.some((c) => /^\d/.test(c)));
    const col = page.cells[row]!.findIndex((c) => /^\d/.test(c));
    pupilName = page.pupils[row]!.name;
    const mark = (await rig.db.pool.query<{ source_id: string; external_id: string; pupil: string; lesson: string; raw: string }>(
      `SELECT m.source_id::text, m.external_id,
              (SELECT r.external_id FROM external_ref r WHERE r.connection_id = m.source_id AND r.entity_type = 'person' AND r.canonical_id = m.pupil_id) AS pupil,
              (SELECT r.external_id FROM external_ref r WHERE r.connection_id = m.source_id AND r.entity_type = 'lesson' AND r.canonical_id = m.lesson_id) AS lesson, m.raw
         FROM mark m WHERE m.lesson_id = $1 AND m.pupil_id = $2 AND m.deleted_at IS NULL ORDER BY m.entered_at NULLS LAST, m.id LIMIT 1`,
      [page.lessons[col]!.id, page.pupils[row]!.id])).rows[0]!;
    const changed = mark.raw === '2' ? '3' : '2';
    const applied = await applyBatch(rig.db.pool, clock, { connectionId: mark.source_id, stream: 'test', records: [
      { type: 'mark', externalId: mark.external_id, pupilExternalId: mark.pupil, lessonExternalId: mark.lesson, value: changed, workCategory: 'oral' } as SourceRecord,
    ] });
    expect(applied.rejected).toEqual([]);
    await drainConsumer(rig.db.pool, checksConsumer(clock), A.schoolId);

    const open = await request(app).get(`/v1/seals/${code}`);
    expect(open.body.status).toBe('changed');
    expect(open.body.changes).toEqual([{ kind: 'cell', row: row + 1, date: expect.any(String), slot: expect.any(Number) }]);
    expect(JSON.stringify(open.body)).not.toContain(pupilName);
    const html = await request(app).get(`/v1/seals/${code}`).set('accept', 'text/html');
    expect(html.type).toBe('text/html');
    expect(html.text).toContain('НЕ совпадает');
    expect(html.text).not.toContain(pupilName);
    const detailed = await request(app).get(`/v1/seals/${code}`).set(bearer(callers.classTeacher));
    expect(detailed.body.changes).toEqual([expect.objectContaining({
      kind: 'cell', pupil: expect.objectContaining({ name: pupilName, row: row + 1 }), now: expect.stringContaining(changed),
      events: [expect.objectContaining({ entityType: 'mark', op: 'update', after: expect.objectContaining({ raw: changed }) })],
    })]);
    // A parent, and a wrong credential, get nothing more than anyone.
    expect(JSON.stringify((await request(app).get(`/v1/seals/${code}`).set(bearer(callers.parent))).body)).not.toContain(pupilName);
    expect((await request(app).get(`/v1/seals/${code}`).set(bearer('jbs_nonsense'))).status).toBe(401);
    expect((await request(app).get('/v1/seals/JB-0000-0000')).status).toBe(404);
    expect((await request(app).get(`/v1/seals/${code}?d=zz`)).status).toBe(400);
    const after = await request(app).get(base).set(bearer(callers.deputy));
    expect(after.body.postCloseChanges).toBe(1);
    const finding = await request(app).get(`/v1/discrepancies?school=${A.schoolId}&rule=post_close_change`).set(bearer(callers.deputy));
    expect(finding.body.items).toEqual([expect.objectContaining({ rule: 'post_close_change', kind: 'regulation', status: 'open', assignee: expect.objectContaining({ id: A.deputyId }) })]);
  });

  it('prints a class from the seal: its journal with the seal on every page, and its summary sheet, filed in the archive', async () => {
    expect((await request(app).post(`${base}/print`).set(bearer(callers.teacher))).status).toBe(403);
    expect((await request(app).post(`${base}/print`).set(bearer(callers.deputy)).send({ classIds: ['x'] })).status).toBe(400);
    // One class printed again (the whole school's print is the command line test's): cli-period-close.test.ts.
    const printed = await request(app).post(`${base}/print`).set(bearer(callers.deputy)).send({ classIds: [A.classId] });
    expect(printed.status).toBe(200);
    expect(printed.body.items.map((i: { kind: string; classGroupId: string }) => `${i.kind} ${i.classGroupId}`).sort())
      .toEqual(['journal_pdf', 'summary_pdf', 'summary_xlsx'].map((k) => `${k} ${A.classId}`));
    const journal = printed.body.items.find((i: { kind: string; classGroupId: string }) => i.kind === 'journal_pdf' && i.classGroupId === A.classId);
    const pdf = (await rig.db.pool.query<{ content: Buffer }>('SELECT content FROM archive_item WHERE id = $1', [journal.id])).rows[0]!.content;
    const pages = await pdfPages(pdf);
    const text = pages.join('\n');
    expect(text).toContain(code);
    expect(text).toContain(pupilName);
    // The QR code of a page of that subject (the title page lists the codes too; every page's QR: reports-journal-pdf.test.ts).
    const at = pages.findLastIndex((p) => p.includes(code)) + 1;
    const qr = await pdfQrCodes(pdf, [at, at]);
    expect(qr).toContainEqual(expect.stringMatching(new RegExp(`/v1/seals/${code}\\?d=[0-9a-f]{64}$`)));
    expect(printed.body.close.steps).toContainEqual(expect.objectContaining({ step: 'print', classId: A.classId }));
    expect(printed.body.close.waitingFor).toContain('print');
  });

  it('lets teachers confirm their own subjects and class teachers their own class; only the director signs off', async () => {
    const confirm = (token: string, body: object) => request(app).post(`${base}/confirm`).set(bearer(token)).send(body);
    expect((await confirm(callers.teacher, { step: 'finals', ...A.teacherPair })).status).toBe(200);
    expect((await confirm(callers.teacher, { step: 'pages', ...A.teacherPair })).status).toBe(200);
    expect((await confirm(callers.teacher, { step: 'class', classId: A.teacherPair.classId })).status).toBe(403);
    expect((await confirm(callers.parent, { step: 'class', classId: A.classId })).status).toBe(403);
    expect((await confirm(callers.classTeacher, { step: 'class', classId: A.classId })).status).toBe(200);
    expect((await confirm(callers.classTeacher, { step: 'dance', classId: A.classId })).status).toBe(400);
    expect((await request(app).post(`${base}/sign-off`).set(bearer(callers.deputy)).send({ override: 'not mine to sign' })).status).toBe(403);
    const waiting = await request(app).post(`${base}/sign-off`).set(bearer(director));
    expect(waiting.status).toBe(409);
    expect(waiting.body.error.details.waitingFor.length).toBeGreaterThan(0);
    const closed = await request(app).post(`${base}/sign-off`).set(bearer(director)).send({ override: 'the remaining pages are signed on paper' });
    expect(closed.status).toBe(200);
    expect(closed.body.status).toBe('closed');
    const steps = closed.body.steps.map((s: { step: string }) => s.step);
    expect(steps).toEqual(expect.arrayContaining(['checks', 'lock', 'seal', 'confirm_finals', 'sign_pages', 'certify_class', 'sign_off']));
  });

  it('files the signed seal manifest in the archive, serves it with its digest, and verifies the archive', async () => {
    const list = await request(app).get(`/v1/archive?school=${A.schoolId}&kind=seal_manifest`).set(bearer(callers.deputy));
    expect(list.status).toBe(200);
    const item = list.body.data.find((i: { title: string }) => i.title !== 'test');
    expect(item).toMatchObject({ kind: 'seal_manifest', mediaType: 'application/json' });
    const file = await request(app).get(`/v1/archive/${item.id}/content`).set(bearer(callers.deputy)).buffer(true).parse((res, done) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => done(null, Buffer.concat(chunks)));
    });
    expect(file.status).toBe(200);
    expect(createHash('sha256').update(file.body as Buffer).digest('hex')).toBe(item.sha256);
    expect(file.headers['x-content-sha256']).toBe(item.sha256);
    expect(JSON.parse((file.body as Buffer).toString('utf8'))).toMatchObject({ manifest: { format: 'journal-bridge/seal-manifest@1' }, signature: { signature: expect.any(String) } });
    expect((await request(app).get(`/v1/archive/${item.id}/content`).set(bearer(callers.teacher))).status).toBe(403);
    const verified = await request(app).post(`/v1/schools/${A.schoolId}/archive/verify`).set(bearer(callers.deputy));
    expect(verified.status).toBe(200);
    expect(verified.body).toMatchObject({ ok: true, chain: { ok: true } });
    expect(verified.body.seals).toEqual([expect.objectContaining({ chainMatches: true, rootMatches: true, corruptPages: [] })]);
  });
});
