import type { Pool, PoolClient } from '../db/pool.js';
import type { Clock } from '../lib/clock.js';
import { todayIn } from '../lib/dates.js';
import type { Consumer, FeedEvent } from '../journal/feed.js';
import { PROJECTIONS } from './rules/index.js';
import { daysTouched, runChecks, runChecksIn } from './service.js';

/** The checks' cursor on the event feed. */
export const CHECKS_CONSUMER = 'checks';

/**
 * The checks as a consumer of the event feed: each batch of new events first updates the projections
 * the rules read (what each source said of a lesson's topic and homework), then the incremental rules
 * run over the days the events touched — in the transaction that advances the cursor, so a crash
 * re-evaluates the batch and never skips it.
 */
export function checksConsumer(clock: Clock): Consumer {
  return {
    name: CHECKS_CONSUMER,
    batchSize: 20_000,
    handle: async (client: PoolClient, schoolId: string, events: FeedEvent[]) => {
      for (const project of PROJECTIONS) await project(client, schoolId, events);
      // A running sync's events are evaluated at its end, every rule over the days it read (checksAfterRun):
      // evaluating each batch of a full year's first sync as it lands would redo the year again and again.
      const running = await runningRuns(client, events);
      const rest = running.size === 0 ? events : events.filter((e) => !e.runId || !running.has(e.runId));
      if (rest.length === 0) return;
      const days = daysTouched(rest) ?? (await todayOf(client, clock, schoolId));
      await runChecksIn(client, clock, { schoolId, ...days, incremental: true });
    },
  };
}

async function runningRuns(client: PoolClient, events: readonly FeedEvent[]): Promise<Set<string>> {
  const ids = [...new Set(events.flatMap((e) => (e.runId ? [e.runId] : [])))];
  if (ids.length === 0) return new Set();
  const { rows } = await client.query<{ id: string }>(`SELECT id::text FROM sync_run WHERE id = ANY($1::uuid[]) AND status = 'running'`, [ids]);
  return new Set(rows.map((r) => r.id));
}

async function todayOf(client: PoolClient, clock: Clock, schoolId: string): Promise<{ from: string; to: string }> {
  const { rows } = await client.query<{ time_zone: string }>('SELECT time_zone FROM school WHERE id = $1', [schoolId]);
  const today = todayIn(rows[0]?.time_zone ?? 'UTC', clock.now());
  return { from: today, to: today };
}

/** The sync engine's hook after a successful run: every rule over the days it read, for its school. */
export function checksAfterRun(pool: Pool, clock: Clock): (run: { connectionId: string; range: { from: string; to: string } }) => Promise<void> {
  return async ({ connectionId, range }) => {
    const { rows } = await pool.query<{ school_id: string }>('SELECT school_id::text FROM connection WHERE id = $1', [connectionId]);
    if (rows[0]) await runChecks(pool, clock, { schoolId: rows[0].school_id, from: range.from, to: range.to });
  };
}
