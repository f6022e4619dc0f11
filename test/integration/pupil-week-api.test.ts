import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { fixedClock } from '../../src/lib/clock.js';
import { SecretBox } from '../../src/lib/secret-box.js';
import { mondayOf } from '../../src/ports/ranges.js';
import { weekStart } from '../../src/journal/pupil-week.js';
import { signInCallers, startAccessRig, type AccessRig, type SchoolCallers, type SchoolFixture } from '../support/access-fixture.js';

/**
 * GET /v1/pupils/{pupilId}/week and /v1/me/children: a parent reads their child's week — the same values
 * the class journal page shows for that child — and never another family's child; the class teacher and
 * the school's staff read it too, a subject teacher does not.
 */
const clock = fixedClock(new Date('2025-10-31T09:00:00Z'));
const box = new SecretBox(randomBytes(32));
let rig: AccessRig;
let A: SchoolFixture;
let as: SchoolCallers;
let otherChild: string;
let monday: string;

interface WeekBody {
  pupil: { id: string }; from: string; to: string; previous: string; next: string;
  days: Array<{ date: string; lessons: Array<{ id: string; date: string; subject: { id: string }; marks: Array<{ id: string; raw: string }>; absence: { kind: string; raw: string } | null }> }>;
}

beforeAll(async () => {
  rig = await startAccessRig(clock, box, [43]);
  A = rig.schools[0]!;
  as = await signInCallers(rig.auth, A, 'w');
  otherChild = (await rig.db.pool.query<{ id: string }>('SELECT pupil_id::text AS id FROM guardianship WHERE guardian_id = $1 AND deleted_at IS NULL LIMIT 1', [A.otherParentId])).rows[0]!.id;
  const last = await rig.db.pool.query<{ d: string }>(
    `SELECT max(m.date)::text AS d FROM mark m WHERE m.pupil_id = $1 AND m.deleted_at IS NULL AND m.lesson_id IS NOT NULL`, [A.childId]);
  monday = mondayOf(last.rows[0]!.d);
}, 300_000);

afterAll(async () => {
  await rig?.close();
});

const week = (token: string, pupil: string, q = `?week=${monday}`) => request(rig.app).get(`/v1/pupils/${pupil}/week${q}`).set('authorization', `Bearer ${token}`);

describe("a pupil's week", () => {
  it("shows a parent their child's marks and absences exactly as the class journal page does", async () => {
    const res = await week(as.parent, A.childId);
    expect(res.status).toBe(200);
    const body = res.body as WeekBody;
    expect(body.pupil.id).toBe(A.childId);
    expect(body.from).toBe(monday);
    expect(body.days.map((d) => d.date)[0]).toBe(monday);
    expect(body.days).toHaveLength(7);
    expect(body.previous < body.from && body.next > body.to).toBe(true);
    const lessons = body.days.flatMap((d) => d.lessons);
    expect(lessons.some((l) => l.marks.length > 0)).toBe(true);
    for (const l of lessons) expect(l.date >= body.from && l.date <= body.to).toBe(true);
    // The journal page of each subject of the week, the child's row: the same marks and absences per lesson.
    const subjects = [...new Set(lessons.map((l) => l.subject.id))];
    for (const subject of subjects) {
      const page = await request(rig.app).get(`/v1/classes/${A.classId}/journal?subject=${subject}&from=${body.from}&to=${body.to}`).set('authorization', `Bearer ${as.parent}`);
      expect(page.status).toBe(200);
      const row = (page.body.rows as Array<{ pupil: { id: string }; cells: Array<{ marks: Array<{ id: string }>; absence: { kind: string } | null }> }>)
        .find((r) => r.pupil.id === A.childId)!;
      const pageLessons = page.body.lessons as Array<{ id: string }>;
      for (const [i, lesson] of pageLessons.entries()) {
        const mine = lessons.find((l) => l.id === lesson.id);
        if (!mine) continue;
        expect(mine.marks.map((m) => m.id)).toEqual(row.cells[i]!.marks.map((m) => m.id));
        expect(mine.absence?.kind ?? null).toBe(row.cells[i]!.absence?.kind ?? null);
      }
    }
    // The marks are the child's (the DB's marks of the week on those lessons, of the shown source).
    const marked = lessons.flatMap((l) => l.marks.map((m) => m.id));
    const owners = await rig.db.pool.query<{ pupil_id: string }>('SELECT DISTINCT pupil_id::text FROM mark WHERE id = ANY($1::uuid[])', [marked]);
    expect(owners.rows.map((r) => r.pupil_id)).toEqual([A.childId]);
  });

  it('takes any day of the week, or an ISO week, and refuses anything else', async () => {
    const byDay = await week(as.parent, A.childId, `?week=${weekStart(undefined, 'UTC', new Date(`${monday}T12:00:00Z`))}`);
    const wednesday = await week(as.parent, A.childId, `?week=${new Date(Date.parse(`${monday}T00:00:00Z`) + 2 * 86_400_000).toISOString().slice(0, 10)}`);
    expect(wednesday.body.from).toBe(monday);
    expect(wednesday.body).toEqual(byDay.body);
    expect(weekStart('2025-W44', 'UTC', new Date())).toBe('2025-10-27');
    expect(weekStart('2026-W01', 'UTC', new Date())).toBe('2025-12-29');
    expect(() => weekStart('2025-W53', 'UTC', new Date())).toThrow();
    const iso = await week(as.parent, A.childId, '?week=2025-W44');
    expect(iso.status).toBe(200);
    expect(iso.body.from).toBe('2025-10-27');
    for (const bad of ['?week=2025-13-01', '?week=next', '?week=2025-W00']) expect((await week(as.parent, A.childId, bad)).status).toBe(400);
    // Without a week: this week in the school's time zone (the clock's 31 October 2025 is a Friday).
    expect((await week(as.parent, A.childId, '')).body.from).toBe('2025-10-27');
  });

  it("answers another family's child, and a stranger's id, with 404", async () => {
    expect((await week(as.parent, otherChild)).status).toBe(404);
    expect((await week(as.otherParent, A.childId)).status).toBe(404);
    expect((await week(as.parent, A.otherParentId)).status).toBe(404);
    expect((await week(as.parent, '00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await week(as.otherParent, otherChild)).status).toBe(200);
  });

  it('is read by the class teacher and the school staff, not by a subject teacher', async () => {
    expect((await week(as.classTeacher, A.childId)).status).toBe(200);
    expect((await week(as.deputy, A.childId)).status).toBe(200);
    expect((await week(as.key, A.childId)).status).toBe(200);
    expect((await week(as.teacher, A.childId)).status).toBe(404);
    const audited = await rig.db.pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM audit_log WHERE action = 'pupil_week.read' AND $1 = ANY(object_ids::text[])", [A.childId]);
    expect(audited.rows[0]!.n).toBeGreaterThanOrEqual(3);
  });
});

describe('my children', () => {
  it("lists a parent's own children only", async () => {
    const mine = await request(rig.app).get('/v1/me/children').set('authorization', `Bearer ${as.parent}`);
    expect(mine.status).toBe(200);
    const ids = (mine.body.items as Array<{ id: string; schoolId: string; classes: Array<{ id: string }> }>);
    expect(ids.map((c) => c.id)).toContain(A.childId);
    expect(ids.map((c) => c.id)).not.toContain(otherChild);
    expect(ids.find((c) => c.id === A.childId)!.classes.map((c) => c.id)).toContain(A.classId);
    const staff = await request(rig.app).get('/v1/me/children').set('authorization', `Bearer ${as.deputy}`);
    expect(staff.body.items).toEqual([]);
  });
});
