import { describe, expect, it } from '@jest/globals';
import { dnevnikru } from '../../adapters/dnevnikru/index.js';
import { syncFromSimulator, withSimulatedSchool } from '../support/round-trip.js';

/**
 * What the Дневник.ру adapter reads beyond the registry's round trip (test/integration/adapters.test.ts):
 * the generated parents with their phones and e-mails through the relatives and user profiles, the class
 * teachers through `classteacher`, the works' target dates on marks and lessons, homework files.
 */
const RANGE = { from: '2025-09-01', to: '2025-10-10' };

describe('Дневник.ру round trip: parents, class teachers, due dates, files', () => withSimulatedSchool(dnevnikru, { seed: 7, pupils: 40, range: RANGE }, (state) => {
  it('brings every generated parent with contacts, every class teacher, the due dates and the files into the journal', async () => {
    const { db, sim, truth } = state();
    const { schoolId, result } = await syncFromSimulator(db.pool, dnevnikru, sim.connectionConfig(), RANGE);
    expect(result.streams.flatMap((s) => s.rejected)).toEqual([]);
    const query = async <T>(sql: string) => (await db.pool.query<T & object>(sql, [schoolId])).rows;

    const guardianships = await query<{ k: string }>(`SELECT g.last_name || ' ' || g.first_name || '|' || coalesce(g.phone, '') || '|' || coalesce(g.email, '') || '>' || p.last_name || ' ' || p.first_name AS k
      FROM guardianship x JOIN person g ON g.id = x.guardian_id JOIN person p ON p.id = x.pupil_id WHERE x.school_id = $1`);
    const pupils = new Map(truth.pupils.map((p) => [p.id, p]));
    const expected = truth.parents.flatMap((parent) => parent.pupilIds.map((id) => `${parent.lastName} ${parent.firstName}|${parent.phone}|${parent.email}>${pupils.get(id)!.lastName} ${pupils.get(id)!.firstName}`));
    expect(guardianships.map((r) => r.k).sort()).toEqual(expected.sort());

    const classTeachers = await query<{ k: string }>(`SELECT p.last_name || '|' || c.name AS k FROM staff_role r JOIN person p ON p.id = r.person_id
      JOIN class_group c ON c.id = r.class_group_id WHERE r.school_id = $1 AND r.role = 'class_teacher'`);
    const groups = new Map(truth.groups.map((g) => [g.id, g.name]));
    const truthTeachers = truth.staff.flatMap((t) => t.roles.filter((r) => r.role === 'class_teacher').map((r) => `${t.lastName}|${groups.get(r.groupId!)}`));
    expect(classTeachers.map((r) => r.k).sort()).toEqual(truthTeachers.sort());

    const [marks] = await query<{ all: number; due: number }>('SELECT count(*)::int AS all, count(due_date)::int AS due FROM mark WHERE school_id = $1');
    expect(marks!.all).toBeGreaterThan(100);
    expect(marks!.due).toBe(marks!.all);
    const [lessons] = await query<{ homework: number; due: number; files: number }>(`SELECT count(homework)::int AS homework, count(homework_due_date)::int AS due,
      count(homework_files)::int AS files FROM lesson WHERE school_id = $1`);
    expect(lessons!.due).toBe(lessons!.homework);
    expect(lessons!.files).toBeGreaterThan(0);
  });
}));
