import { createHash } from 'node:crypto';
import cron, { type ScheduledTask } from 'node-cron';
import type PgBoss from 'pg-boss';
import { dbOf, startJobQueue } from '../db/job-queue.js';
import { withTransaction, type Pool } from '../db/pool.js';
import type { Clock } from '../lib/clock.js';
import { shiftDays, todayIn } from '../lib/dates.js';
import { describeError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { localInstant } from '../ports/time.js';
import { resolveProfile } from './profiles.js';
import { runChecks } from './service.js';

/**
 * Scheduled checks. Deadline rules fire on the ABSENCE of an event (a topic never written, a period mark
 * never set), so the checks also run on a clock: in each school's time zone after the day's lessons
 * (18:00 by default) and nightly (02:00), every rule over the last `lookbackDays` lesson days (and the
 * school-wide rules over the school). As the sync scheduler (src/sync/scheduler.ts): node-cron ticks
 * only enqueue, and a worker runs the checks. A slot is queued once — a `checks_slot` row per school and
 * slot instant, inserted in the transaction that sends its pg-boss job (whose id is derived from both) —
 * so any number of scheduler processes, and restarts, make one run per slot. At start (and on every
 * refresh) each school's latest slot is queued if it is not yet: a service down at 18:00 runs it when it
 * comes back. A slot before the school existed was not missed.
 */
export type SlotKind = 'after_lessons' | 'nightly';

/** Local times of day (HH:MM) of a school's slots. */
export type SlotTimes = Record<SlotKind, string>;

export interface ChecksSchedule {
  times: SlotTimes;
  /** Lesson days back from today (school-local) a scheduled run covers. */
  lookbackDays: number;
}

export const DEFAULT_CHECKS_SCHEDULE: ChecksSchedule = { times: { after_lessons: '18:00', nightly: '02:00' }, lookbackDays: 14 };

/** The profile entry (not a rule) where a school sets its own schedule. */
export const SCHEDULE_ENTRY = 'scheduled_checks';

export interface Slot {
  kind: SlotKind;
  at: Date;
}

/** The cron expression of a local time of day ("18:30" → "30 18 * * *"), run in the school's zone. */
export function cronOf(time: string): string {
  const [hours, minutes] = time.split(':').map(Number);
  return `${minutes} ${hours} * * *`;
}

/**
 * The latest slot at or before `now` in the school's zone (of the kinds in `times`): today's, or else
 * yesterday's (school-local days).
 */
export function latestSlot(timeZone: string, now: Date, times: Partial<SlotTimes>): Slot | undefined {
  const today = todayIn(timeZone, now);
  let latest: Slot | undefined;
  for (const day of [today, shiftDays(today, -1)]) {
    for (const [kind, time] of Object.entries(times) as [SlotKind, string][]) {
      const at = new Date(localInstant(day, time, timeZone));
      if (at.getTime() <= now.getTime() && (!latest || at.getTime() > latest.at.getTime())) latest = { kind, at };
    }
    if (latest) return latest;
  }
  return latest;
}

/** The lesson days a scheduled run covers: the last `lookbackDays` days up to today, school-local. */
export function scheduledWindow(timeZone: string, now: Date, lookbackDays: number): { from: string; to: string } {
  const to = todayIn(timeZone, now);
  return { from: shiftDays(to, -lookbackDays), to };
}

/** The job id of a school's slot: the same for every scheduler that queues it (a v4-shaped uuid from a digest). */
export function slotJobId(schoolId: string, slot: Date): string {
  const hex = createHash('sha256').update(`checks|${schoolId}|${slot.toISOString()}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** A school's schedule: its profile's `scheduled_checks` entry over the deployment's defaults. */
export function scheduleOf(presetId: string, settings: unknown, defaults: ChecksSchedule): ChecksSchedule {
  const own = resolveProfile(presetId, settings).rules[SCHEDULE_ENTRY] ?? {};
  const text = (v: unknown, fallback: string) => (typeof v === 'string' ? v : fallback);
  return {
    times: { after_lessons: text(own.afterLessonsAt, defaults.times.after_lessons), nightly: text(own.nightlyAt, defaults.times.nightly) },
    lookbackDays: typeof own.lookbackDays === 'number' ? own.lookbackDays : defaults.lookbackDays,
  };
}

export const CHECKS_QUEUE = 'checks-scheduled';

interface ChecksJob {
  schoolId: string;
  slot: string;
  kind: SlotKind;
}

export interface ScheduledChecksOptions {
  defaults: ChecksSchedule;
  /** How often the schools (their zones and profiles) are read again. */
  refreshSeconds: number;
  /** How often an idle worker asks for a job. */
  pollingSeconds: number;
  /** Work that follows a school's nightly checks (the reports that came due, filed in the archive); a failure is logged, the checks stay done. */
  afterNightly?: (schoolId: string) => Promise<void>;
}

interface SchoolRow {
  id: string;
  time_zone: string;
  regulation_profile: string;
  regulation_settings: unknown;
  created_at: Date;
}

interface Planned {
  signature: string;
  tasks: ScheduledTask[];
}

export class ScheduledChecks {
  private readonly planned = new Map<string, Planned>();
  private refreshTimer?: NodeJS.Timeout;

  private constructor(
    private readonly boss: PgBoss,
    private readonly pool: Pool,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly options: ScheduledChecksOptions,
  ) {}

  /** Its own pg-boss instance on the sync queue's schema (the sync engine's instance maintains it), set up under the queue lock. */
  static async start(pool: Pool, clock: Clock, logger: Logger, options: ScheduledChecksOptions): Promise<ScheduledChecks> {
    const boss = await startJobQueue(pool, logger, { label: 'checks queue' }, async (boss) => {
      await boss.createQueue(CHECKS_QUEUE, { name: CHECKS_QUEUE, policy: 'standard', retryLimit: 3, retryDelay: 60, retryBackoff: true, expireInSeconds: 3600 });
    });
    return new ScheduledChecks(boss, pool, clock, logger, options);
  }

  /** The scheduler role: cron tasks per school and slot, kept in line with the schools table. */
  async schedule(): Promise<void> {
    await this.refresh();
    this.refreshTimer = setInterval(() => void this.refresh().catch((e: unknown) => this.logger.warn({ error: describeError(e) }, 'checks schedule refresh failed')), this.options.refreshSeconds * 1000);
    this.refreshTimer.unref();
  }

  /** The worker role: takes the slots' jobs and runs the checks. */
  async work(): Promise<void> {
    await this.boss.work<ChecksJob>(CHECKS_QUEUE, { batchSize: 1, pollingIntervalSeconds: this.options.pollingSeconds }, async ([job]) => {
      if (job) await this.run(job.data);
    });
  }

  /** Brings the cron tasks in line with the schools, and queues each school's latest slot if nobody did. */
  async refresh(): Promise<void> {
    const { rows } = await this.pool.query<SchoolRow>('SELECT id::text, time_zone, regulation_profile, regulation_settings, created_at FROM school');
    const wanted = new Set(rows.map((r) => r.id));
    for (const [id, planned] of this.planned) {
      if (wanted.has(id)) continue;
      for (const task of planned.tasks) await task.destroy();
      this.planned.delete(id);
    }
    for (const school of rows) {
      const schedule = this.scheduleOf(school);
      const signature = `${school.time_zone}|${schedule.times.after_lessons}|${schedule.times.nightly}`;
      const current = this.planned.get(school.id);
      if (current?.signature !== signature) {
        for (const task of current?.tasks ?? []) await task.destroy();
        const tasks = (Object.entries(schedule.times) as [SlotKind, string][]).map(([kind, time]) => cron.schedule(cronOf(time),
          (ctx) => this.tick(school.id, school.time_zone, { [kind]: time }, ctx.date), { timezone: school.time_zone, name: `checks:${school.id}:${kind}`, noOverlap: false }));
        this.planned.set(school.id, { signature, tasks });
      }
      const latest = latestSlot(school.time_zone, this.clock.now(), schedule.times);
      if (latest && latest.at.getTime() > school.created_at.getTime()) await this.enqueueLogged(school.id, latest);
    }
  }

  /** Queues a school's slot with its job; false when it was queued before (by any scheduler). */
  async enqueue(schoolId: string, slot: Slot): Promise<boolean> {
    return withTransaction(this.pool, async (client) => {
      const inserted = await client.query(
        `INSERT INTO checks_slot (school_id, slot, kind) VALUES ($1, $2, $3) ON CONFLICT (school_id, slot) DO NOTHING`,
        [schoolId, slot.at, slot.kind],
      );
      if (inserted.rowCount === 0) return false;
      const jobId = await this.boss.send(CHECKS_QUEUE, { schoolId, slot: slot.at.toISOString(), kind: slot.kind } satisfies ChecksJob,
        { id: slotJobId(schoolId, slot.at), db: dbOf(client) });
      await client.query('UPDATE checks_slot SET job_id = $3 WHERE school_id = $1 AND slot = $2', [schoolId, slot.at, jobId ?? slotJobId(schoolId, slot.at)]);
      return true;
    });
  }

  /** One scheduled evaluation (what a job does): every rule over the school's last days, recorded on its slot. */
  async run(job: ChecksJob): Promise<void> {
    const { rows } = await this.pool.query<SchoolRow>(
      'SELECT id::text, time_zone, regulation_profile, regulation_settings, created_at FROM school WHERE id = $1', [job.schoolId],
    );
    const school = rows[0];
    if (!school) return;
    const window = scheduledWindow(school.time_zone, this.clock.now(), this.scheduleOf(school).lookbackDays);
    const result = await runChecks(this.pool, this.clock, { schoolId: school.id, ...window });
    await this.pool.query('UPDATE checks_slot SET finished_at = now(), found = $3 WHERE school_id = $1 AND slot = $2', [school.id, new Date(job.slot), result.found]);
    this.logger.info({ schoolId: school.id, slot: job.slot, kind: job.kind, ...window, found: result.found, opened: result.opened, resolved: result.resolved }, 'scheduled checks ran');
    if (job.kind === 'nightly' && this.options.afterNightly) {
      await this.options.afterNightly(school.id).catch((error: unknown) => this.logger.warn({ schoolId: school.id, error: describeError(error) }, 'the work after the nightly checks failed'));
    }
  }

  /** Stops ticking (the scheduler part of a shutdown); jobs already queued stay queued. */
  async stopScheduling(): Promise<void> {
    clearInterval(this.refreshTimer);
    for (const planned of this.planned.values()) for (const task of planned.tasks) await task.destroy();
    this.planned.clear();
  }

  /** Stops ticking and working: a running evaluation ends first. */
  async stop(): Promise<void> {
    await this.stopScheduling();
    await this.boss.stop({ graceful: true, wait: true, timeout: 20_000 });
  }

  private scheduleOf(school: SchoolRow): ChecksSchedule {
    try {
      return scheduleOf(school.regulation_profile, school.regulation_settings, this.options.defaults);
    } catch (error) {
      this.logger.warn({ schoolId: school.id, error: describeError(error) }, 'the school\'s profile is invalid: the default checks schedule applies');
      return this.options.defaults;
    }
  }

  private async tick(schoolId: string, timeZone: string, times: Partial<SlotTimes>, at: Date): Promise<void> {
    // The slot the tick is for (a tick a little early or late still names its minute).
    const slot = latestSlot(timeZone, new Date(at.getTime() + 30_000), times);
    if (slot) await this.enqueueLogged(schoolId, slot);
  }

  private async enqueueLogged(schoolId: string, slot: Slot): Promise<void> {
    try {
      if (await this.enqueue(schoolId, slot)) this.logger.info({ schoolId, slot: slot.at.toISOString(), kind: slot.kind }, 'scheduled checks queued');
    } catch (error) {
      this.logger.error({ schoolId, error: describeError(error) }, 'could not queue scheduled checks');
    }
  }
}
