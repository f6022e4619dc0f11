import type { Random } from './prng.js';
import { unitsOf } from './staff.js';
import type { DemoAssignment, DemoGroup, DemoTimetableEntry } from './types.js';

/**
 * A weekly timetable without clashes: a class never has two lessons in one slot (the two subgroups of a
 * split subject share theirs, each with its own teacher) and a teacher never teaches two groups at once.
 * Greedy, slot by slot: the subject with the most hours left whose teachers are free, at most twice a
 * day; hours that found no place go to any slot where the class and the teachers are still free.
 */

const DAYS = 5;
const MAX_SLOTS = 8;

type Unit = ReturnType<typeof unitsOf>[number] & { left: number };

export function generateTimetable(rng: Random, classes: DemoGroup[], subgroups: DemoGroup[], assignments: DemoAssignment[]): DemoTimetableEntry[] {
  const busy = new Set<string>();
  const entries: DemoTimetableEntry[] = [];
  const place = (cls: DemoGroup, unit: Unit, day: number, slot: number) => {
    busy.add(`${cls.id}/${day}/${slot}`);
    for (const lesson of unit.lessons) {
      busy.add(`${lesson.teacherId}/${day}/${slot}`);
      entries.push({ groupId: lesson.groupId, weekday: day, slot, subjectId: unit.subject.id, teacherId: lesson.teacherId });
    }
    unit.left -= 1;
  };
  const fits = (cls: DemoGroup, unit: Unit, day: number, slot: number) =>
    unit.left > 0 && !busy.has(`${cls.id}/${day}/${slot}`) && unit.lessons.every((l) => !busy.has(`${l.teacherId}/${day}/${slot}`));
  for (const cls of classes) {
    const units: Unit[] = unitsOf(cls, subgroups, assignments).map((u) => ({ ...u, left: u.hours }));
    const total = units.reduce((sum, u) => sum + u.hours, 0);
    for (let day = 1; day <= DAYS; day++) {
      const quota = Math.floor(total / DAYS) + (day <= total % DAYS ? 1 : 0);
      const today = new Map<string, number>();
      for (let slot = 1, placed = 0; slot <= MAX_SLOTS && placed < quota; slot++) {
        const free = units.filter((u) => fits(cls, u, day, slot) && (today.get(u.subject.id) ?? 0) < 2);
        if (free.length === 0) continue;
        const most = Math.max(...free.map((u) => u.left));
        const unit = rng.pick(free.filter((u) => u.left === most));
        place(cls, unit, day, slot);
        today.set(unit.subject.id, (today.get(unit.subject.id) ?? 0) + 1);
        placed += 1;
      }
    }
    for (const unit of units) {
      for (let slot = 1; slot <= MAX_SLOTS; slot++) {
        for (let day = 1; day <= DAYS; day++) if (fits(cls, unit, day, slot)) place(cls, unit, day, slot);
      }
    }
  }
  return entries;
}
