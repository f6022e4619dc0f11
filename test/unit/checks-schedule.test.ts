import { describe, expect, it } from '@jest/globals';
import cron from 'node-cron';
import {
  cronOf, DEFAULT_CHECKS_SCHEDULE, latestSlot, scheduledWindow, scheduleOf, slotJobId, type SlotTimes,
} from '../../src/checks/scheduler.js';

/**
 * The scheduled checks' slots, pure: in each school's own zone (Moscow UTC+3, Tomsk UTC+7, Bishkek UTC+6,
 * none with summer time), the latest slot at an instant, across the school's day and year boundaries.
 */
const TIMES: SlotTimes = { after_lessons: '18:00', nightly: '02:00' };
const at = (iso: string) => new Date(iso);
const slot = (timeZone: string, now: string, times: Partial<SlotTimes> = TIMES) => {
  const s = latestSlot(timeZone, at(now), times);
  return s && { kind: s.kind, at: s.at.toISOString() };
};

describe('latestSlot', () => {
  it('Europe/Moscow: the nightly slot until 18:00, the after-lessons slot from 18:00 on', () => {
    expect(slot('Europe/Moscow', '2025-10-08T14:59:59Z')).toEqual({ kind: 'nightly', at: '2025-10-07T23:00:00.000Z' }); // 17:59:59 MSK
    expect(slot('Europe/Moscow', '2025-10-08T15:00:00Z')).toEqual({ kind: 'after_lessons', at: '2025-10-08T15:00:00.000Z' }); // 18:00 sharp
    expect(slot('Europe/Moscow', '2025-10-08T20:59:00Z')).toEqual({ kind: 'after_lessons', at: '2025-10-08T15:00:00.000Z' }); // 23:59 MSK
  });

  it('Europe/Moscow: after local midnight, before 02:00, the slot is the previous day\'s 18:00, also across a new year', () => {
    expect(slot('Europe/Moscow', '2025-10-08T21:00:00Z')).toEqual({ kind: 'after_lessons', at: '2025-10-08T15:00:00.000Z' }); // 00:00 on the 9th
    expect(slot('Europe/Moscow', '2025-12-31T22:30:00Z')).toEqual({ kind: 'after_lessons', at: '2025-12-31T15:00:00.000Z' }); // 01:30 on 1 January
    expect(slot('Europe/Moscow', '2025-12-31T23:00:00Z')).toEqual({ kind: 'nightly', at: '2025-12-31T23:00:00.000Z' }); // 02:00 on 1 January
  });

  it('Asia/Tomsk: a school day that is the previous UTC day\'s evening', () => {
    expect(slot('Asia/Tomsk', '2025-10-08T10:59:00Z')).toEqual({ kind: 'nightly', at: '2025-10-07T19:00:00.000Z' }); // 17:59 on the 8th
    expect(slot('Asia/Tomsk', '2025-10-08T11:00:00Z')).toEqual({ kind: 'after_lessons', at: '2025-10-08T11:00:00.000Z' }); // 18:00 on the 8th
    expect(slot('Asia/Tomsk', '2025-10-08T18:30:00Z')).toEqual({ kind: 'after_lessons', at: '2025-10-08T11:00:00.000Z' }); // 01:30 on the 9th
    expect(slot('Asia/Tomsk', '2025-10-08T19:00:00Z')).toEqual({ kind: 'nightly', at: '2025-10-08T19:00:00.000Z' }); // 02:00 on the 9th
  });

  it('Asia/Bishkek: the nightly slot falls on the previous UTC day', () => {
    expect(slot('Asia/Bishkek', '2025-10-08T19:59:00Z')).toEqual({ kind: 'after_lessons', at: '2025-10-08T12:00:00.000Z' }); // 01:59 on the 9th
    expect(slot('Asia/Bishkek', '2025-10-08T20:00:00Z')).toEqual({ kind: 'nightly', at: '2025-10-08T20:00:00.000Z' }); // 02:00 on the 9th
    expect(slot('Asia/Bishkek', '2025-10-09T11:59:00Z')).toEqual({ kind: 'nightly', at: '2025-10-08T20:00:00.000Z' }); // 17:59 on the 9th
  });

  it('a school\'s own times, and one kind alone (what a tick of that kind asks)', () => {
    expect(slot('Asia/Tomsk', '2025-10-08T09:00:00Z', { after_lessons: '15:30', nightly: '03:15' })).toEqual({ kind: 'after_lessons', at: '2025-10-08T08:30:00.000Z' });
    expect(slot('Asia/Tomsk', '2025-10-08T08:00:00Z', { after_lessons: '15:30', nightly: '03:15' })).toEqual({ kind: 'nightly', at: '2025-10-07T20:15:00.000Z' });
    expect(slot('Europe/Moscow', '2025-10-08T16:00:00Z', { nightly: '02:00' })).toEqual({ kind: 'nightly', at: '2025-10-07T23:00:00.000Z' });
  });

  it('agrees with the cron task that ticks it in the school\'s zone', () => {
    for (const [timeZone, now] of [['Europe/Moscow', '2025-10-08T19:00:00Z'], ['Asia/Tomsk', '2025-10-08T18:30:00Z'], ['Asia/Bishkek', '2025-10-08T21:00:00Z']] as const) {
      for (const [kind, time] of Object.entries(TIMES) as [keyof SlotTimes, string][]) {
        const task = cron.createTask(cronOf(time), () => undefined, { timezone: timeZone });
        const s = latestSlot(timeZone, at(now), { [kind]: time })!;
        expect(task.match(s.at)).toBe(true);
        expect(task.match(new Date(s.at.getTime() - 60_000))).toBe(false);
        void task.destroy();
      }
    }
  });
});

describe('the rest of a slot', () => {
  it('cron expressions of local times', () => {
    expect(cronOf('18:00')).toBe('0 18 * * *');
    expect(cronOf('02:05')).toBe('5 2 * * *');
  });

  it('covers the last days up to today in the school\'s own calendar', () => {
    const now = at('2025-10-08T19:30:00Z'); // 22:30 in Moscow, 02:30 on the 9th in Tomsk, 01:30 on the 9th in Bishkek
    expect(scheduledWindow('Europe/Moscow', now, 14)).toEqual({ from: '2025-09-24', to: '2025-10-08' });
    expect(scheduledWindow('Asia/Tomsk', now, 14)).toEqual({ from: '2025-09-25', to: '2025-10-09' });
    expect(scheduledWindow('Asia/Bishkek', now, 3)).toEqual({ from: '2025-10-06', to: '2025-10-09' });
  });

  it('names a school\'s slot with one job id, different for another slot or school', () => {
    const s = at('2025-10-08T15:00:00Z');
    expect(slotJobId('s1', s)).toBe(slotJobId('s1', new Date(s.getTime())));
    expect(slotJobId('s1', s)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-8[0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(slotJobId('s1', at('2025-10-08T23:00:00Z'))).not.toBe(slotJobId('s1', s));
    expect(slotJobId('s2', s)).not.toBe(slotJobId('s1', s));
  });

  it('a school\'s profile may set its own times and lookback over the defaults', () => {
    expect(scheduleOf('default', {}, DEFAULT_CHECKS_SCHEDULE)).toEqual(DEFAULT_CHECKS_SCHEDULE);
    expect(scheduleOf('tomsk-college', { scheduled_checks: { afterLessonsAt: '16:40', lookbackDays: 7 } }, DEFAULT_CHECKS_SCHEDULE))
      .toEqual({ times: { after_lessons: '16:40', nightly: '02:00' }, lookbackDays: 7 });
    expect(() => scheduleOf('default', { scheduled_checks: { nightlyAt: '25:00' } }, DEFAULT_CHECKS_SCHEDULE)).toThrow();
  });
});
