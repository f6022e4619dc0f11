import type { Pool, PoolClient } from '../db/pool.js';
import type { Clock } from '../lib/clock.js';
import { describeError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { emitWebhookEvent } from './outbox.js';

/**
 * The non-journal events, at the points other modules reach them: a sync run that failed for good, and
 * discrepancies the checks opened or resolved. Each is written without a job of its own (those modules
 * hold no webhook engine); the engine's sweeper queues such messages within WEBHOOK_SWEEP_SECONDS.
 */

/**
 * `sync_run.failed` for a run that failed for good (no retry follows), with ids and the error's kind only
 * (an error text may quote a platform's answer). The sync executor ends a run with single statements, not
 * one transaction, so this is one statement of its own; a failure here is logged and never fails the run's
 * own bookkeeping.
 */
export async function emitSyncRunFailed(pool: Pool, clock: Clock, logger: Logger, run: { id: string; connectionId: string }, errorKind: string): Promise<void> {
  try {
    const { rows } = await pool.query<{ school_id: string }>('SELECT school_id::text FROM connection WHERE id = $1', [run.connectionId]);
    if (!rows[0]) return;
    await emitWebhookEvent(pool, rows[0].school_id, {
      type: 'sync_run.failed', key: `sync_run.failed:${run.id}`, id: run.id, data: { connectionId: run.connectionId, errorKind },
      fetch: `/v1/sync-runs/${run.id}`,
    }, clock.now());
  } catch (error) {
    logger.warn({ runId: run.id, error: describeError(error) }, 'webhooks: sync_run.failed was not emitted');
  }
}

interface DiscrepancyRow { id: string; rule: string; kind: string; class_group_id: string | null; subject_id: string | null; pupil_id: string | null; lesson_id: string | null; day: string | null }

/**
 * `discrepancy.opened` for the discrepancies an evaluation created and `discrepancy.resolved` for those it
 * resolved, in the evaluation's own transaction (now() is its start: what it wrote carries it). A
 * reopened discrepancy (resolved, then found again) is not told apart from a refreshed one here and
 * sends nothing.
 */
export async function emitDiscrepancyEvents(client: PoolClient, schoolId: string, headSeq: number, now: Date): Promise<void> {
  const { rows: endpoints } = await client.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM webhook_endpoint WHERE school_id = $1 AND status = 'enabled' AND deleted_at IS NULL AND ('*' = ANY(event_types) OR 'discrepancy.*' = ANY(event_types)
        OR 'discrepancy.opened' = ANY(event_types) OR 'discrepancy.resolved' = ANY(event_types))`, [schoolId]);
  if (endpoints[0]!.n === 0) return;
  const columns = 'id::text, rule, kind, class_group_id::text, subject_id::text, pupil_id::text, lesson_id::text, day::text';
  const opened = await client.query<DiscrepancyRow>(`SELECT ${columns} FROM discrepancy WHERE school_id = $1 AND status = 'open' AND first_seen_at = now()`, [schoolId]);
  const resolved = await client.query<DiscrepancyRow>(
    `SELECT ${columns} FROM discrepancy WHERE school_id = $1 AND status = 'resolved' AND resolved_at = now() AND resolved_seq = $2`, [schoolId, headSeq]);
  const emit = (type: 'discrepancy.opened' | 'discrepancy.resolved', r: DiscrepancyRow, key: string) => emitWebhookEvent(client, schoolId, {
    type, key, id: r.id, fetch: `/v1/discrepancies/${r.id}`,
    data: { rule: r.rule, kind: r.kind, classGroupId: r.class_group_id, subjectId: r.subject_id, pupilId: r.pupil_id, lessonId: r.lesson_id, date: r.day },
  }, now);
  for (const r of opened.rows) await emit('discrepancy.opened', r, `discrepancy.opened:${r.id}`);
  for (const r of resolved.rows) await emit('discrepancy.resolved', r, `discrepancy.resolved:${r.id}:${headSeq}`);
}
