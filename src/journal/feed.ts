import type PgBoss from 'pg-boss';
import { dbOf, startJobQueue } from '../db/job-queue.js';
import { withTransaction, type Pool, type PoolClient } from '../db/pool.js';
import { describeError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';

/**
 * The journal event feed: the one way downstream work (checks, notifications, webhooks) follows the
 * journal. `journal_event.seq` is gap-free and commit-ordered per school (the chain head's row lock
 * serializes writers), so it is every consumer's cursor. A consumer keeps its position in
 * `event_consumer (school_id, name)` and advances it in the same transaction as its effects: a crash
 * replays the batch it was in, never skips one.
 *
 * Wake-up: applyBatch calls `wake` inside its transaction, which sends one debounced job per consumer
 * and school (pg-boss, committed with the events or not at all); a slow poll finds schools whose head
 * is ahead of a consumer's cursor, in case a job was lost (a queue wiped, a consumer added later).
 */

export type EntityType =
  | 'period' | 'class' | 'subject' | 'person' | 'enrollment' | 'guardianship' | 'staff_role'
  | 'teaching_assignment' | 'lesson' | 'mark' | 'attendance' | 'period_mark';

/** A canonical payload as the history stores it: columns by name, nulls left out (columns.ts payloadOf). */
export type Payload = Record<string, string | number | boolean>;

/** Columns of the fact payloads the consumers read most (all as stored: dates and uuids as text). */
export interface MarkPayload extends Payload {
  pupil_id: string; subject_id: string; date: string; raw: string; kind: string; work_category: string;
}
export interface AttendancePayload extends Payload { pupil_id: string; lesson_id: string; date: string; raw: string; kind: string }
export interface LessonPayload extends Payload { class_group_id: string; subject_id: string; date: string; slot: number }
export interface PeriodMarkPayload extends Payload { pupil_id: string; subject_id: string; period_id: string; raw: string; kind: string }

interface PayloadOf {
  mark: MarkPayload;
  attendance: AttendancePayload;
  lesson: LessonPayload;
  period_mark: PeriodMarkPayload;
}

/** One decoded event: what changed, with the row before and after (null for a create's before, a delete's after). */
export interface FeedEvent<E extends EntityType = EntityType> {
  seq: number;
  entityType: E;
  entityId: string;
  op: 'create' | 'update' | 'delete';
  sourceId: string | null;
  actor: string | null;
  runId: string | null;
  at: Date;
  before: (E extends keyof PayloadOf ? PayloadOf[E] : Payload) | null;
  after: (E extends keyof PayloadOf ? PayloadOf[E] : Payload) | null;
}

/** Narrows an event to one entity type. */
export function isEventOf<E extends EntityType>(event: FeedEvent, type: E): event is FeedEvent<E> {
  return event.entityType === type;
}

/** The payload that describes the row as it is (after), or as it was when it was deleted (before). */
export function latestOf<E extends EntityType>(event: FeedEvent<E>): NonNullable<FeedEvent<E>['after']> {
  return (event.after ?? event.before)!;
}

interface EventRow {
  seq: string; entity_type: EntityType; entity_id: string; op: FeedEvent['op']; source_id: string | null;
  actor: string | null; run_id: string | null; at: Date; before: string | null; after: string | null;
}

/** Events of a school after `afterSeq`, in order, at most `limit`. */
export async function readEvents(db: Pool | PoolClient, schoolId: string, afterSeq: number, limit: number): Promise<FeedEvent[]> {
  const { rows } = await db.query<EventRow>(
    `SELECT seq::text, entity_type, entity_id::text, op, source_id::text, actor, run_id::text, at, before::text, after::text
       FROM journal_event e WHERE e.school_id = $1 AND e.seq > $2 ORDER BY e.seq LIMIT $3`,
    [schoolId, afterSeq, limit],
  );
  return rows.map(decodeEvent);
}

function decodeEvent(row: EventRow): FeedEvent {
  return {
    seq: Number(row.seq), entityType: row.entity_type, entityId: row.entity_id, op: row.op, sourceId: row.source_id,
    actor: row.actor, runId: row.run_id, at: row.at,
    before: row.before === null ? null : (JSON.parse(row.before) as Payload) as FeedEvent['before'],
    after: row.after === null ? null : (JSON.parse(row.after) as Payload) as FeedEvent['after'],
  } as FeedEvent;
}

/**
 * Locks a consumer's cursor for this transaction (creating it at 0) and returns its position. The lock
 * is what keeps two workers of one consumer from handling the same events.
 */
export async function lockCursor(client: PoolClient, consumer: string, schoolId: string): Promise<number> {
  await client.query(
    `INSERT INTO event_consumer (school_id, name, seq) VALUES ($1, $2, 0) ON CONFLICT (school_id, name) DO NOTHING`,
    [schoolId, consumer],
  );
  const { rows } = await client.query<{ seq: string }>(
    'SELECT seq::text FROM event_consumer WHERE school_id = $1 AND name = $2 FOR UPDATE',
    [schoolId, consumer],
  );
  return Number(rows[0]!.seq);
}

/** Moves a consumer's cursor (inside the transaction that holds its lock and made its effects). */
export async function advanceCursor(client: PoolClient, consumer: string, schoolId: string, seq: number): Promise<void> {
  await client.query('UPDATE event_consumer SET seq = $3, updated_at = now() WHERE school_id = $1 AND name = $2', [schoolId, consumer, seq]);
}

/** What a consumer does with a batch of events, inside the transaction that advances its cursor. */
export type ConsumerHandler = (client: PoolClient, schoolId: string, events: FeedEvent[]) => Promise<void>;

export interface Consumer {
  /** Names the cursor and the wake-up queue (`feed-<name>`). */
  name: string;
  handle: ConsumerHandler;
  /** Events per transaction. */
  batchSize?: number;
  /** Wake-ups of one school within this many seconds make one job (DEBOUNCE_SECONDS unless set): a consumer whose work is someone's message wakes sooner. */
  wakeSeconds?: number;
}

/**
 * Hands a school's new events to a consumer, batch by batch, each batch and its cursor in one
 * transaction, until it has caught up with the head. Returns the number of events handled.
 */
export async function drainConsumer(pool: Pool, consumer: Consumer, schoolId: string): Promise<number> {
  let handled = 0;
  for (;;) {
    const n = await withTransaction(pool, async (client) => {
      const seq = await lockCursor(client, consumer.name, schoolId);
      const events = await readEvents(client, schoolId, seq, consumer.batchSize ?? 5000);
      if (events.length === 0) return 0;
      await consumer.handle(client, schoolId, events);
      await advanceCursor(client, consumer.name, schoolId, events[events.length - 1]!.seq);
      return events.length;
    });
    if (n === 0) return handled;
    handled += n;
  }
}

/** Schools whose history head is ahead of a consumer's cursor. */
export async function schoolsBehind(db: Pool | PoolClient, consumer: string): Promise<string[]> {
  const { rows } = await db.query<{ school_id: string }>(
    `SELECT h.school_id::text FROM journal_head h
       LEFT JOIN event_consumer c ON c.school_id = h.school_id AND c.name = $1
      WHERE h.seq > COALESCE(c.seq, 0)`,
    [consumer],
  );
  return rows.map((r) => r.school_id);
}

/** The wake-up hook applyBatch takes (`afterEvents`). */
export type WakeHook = (client: PoolClient, change: { schoolId: string; seq: number }) => Promise<void>;

interface FeedJob {
  schoolId: string;
}

const queueOf = (consumer: string) => `feed-${consumer}`;
/** Wake-ups of one school within this many seconds make one job (the next slot's when one already ran). */
const DEBOUNCE_SECONDS = 2;

/**
 * The feed's job queue: wake-ups sent with the events, and workers that drain consumers. Its own pg-boss
 * instance on the sync queue's schema (the sync engine's instance maintains it; this one does not supervise).
 */
export class FeedQueue {
  private pollTimer?: NodeJS.Timeout;
  private stopped = false;

  private constructor(
    private readonly boss: PgBoss,
    private readonly pool: Pool,
    private readonly logger: Logger,
    private readonly consumers: readonly Consumer[],
  ) {}

  static async start(pool: Pool, logger: Logger, consumers: readonly Consumer[]): Promise<FeedQueue> {
    const boss = await startJobQueue(pool, logger, { label: 'feed queue' }, async (boss) => {
      for (const consumer of consumers) {
        const name = queueOf(consumer.name);
        await boss.createQueue(name, { name, policy: 'standard', retryLimit: 10, retryDelay: 5, retryBackoff: true });
      }
    });
    return new FeedQueue(boss, pool, logger, consumers);
  }

  /** The hook for applyBatch: one debounced job per consumer for the school, in the batch's transaction. */
  readonly wake: WakeHook = async (client, change) => {
    for (const consumer of this.consumers) {
      await this.boss.sendDebounced(queueOf(consumer.name), { schoolId: change.schoolId } satisfies FeedJob,
        { db: dbOf(client) }, consumer.wakeSeconds ?? DEBOUNCE_SECONDS, change.schoolId);
    }
  };

  /** Takes wake-up jobs and drains the consumers they name; polls every `pollSeconds` for missed ones. */
  async work(pollSeconds: number): Promise<void> {
    for (const consumer of this.consumers) {
      await this.boss.work<FeedJob>(queueOf(consumer.name), { batchSize: 1, pollingIntervalSeconds: 1 }, async ([job]) => {
        if (job) await drainConsumer(this.pool, consumer, job.data.schoolId);
      });
    }
    const poll = () => {
      void this.poll().finally(() => {
        if (!this.stopped) this.pollTimer = setTimeout(poll, pollSeconds * 1000).unref();
      });
    };
    this.pollTimer = setTimeout(poll, pollSeconds * 1000).unref();
  }

  /** The fallback: every school a consumer is behind on is drained now. */
  async poll(): Promise<void> {
    for (const consumer of this.consumers) {
      try {
        for (const schoolId of await schoolsBehind(this.pool, consumer.name)) await drainConsumer(this.pool, consumer, schoolId);
      } catch (error) {
        this.logger.warn({ consumer: consumer.name, error: describeError(error) }, 'feed poll failed');
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.pollTimer);
    await this.boss.stop({ graceful: true, wait: true, timeout: 20_000 });
  }
}
