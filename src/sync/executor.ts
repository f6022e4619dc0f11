import type { WakeHook } from '../journal/feed.js';
import type { Pool } from '../db/pool.js';
import { StaleRunError } from '../journal/apply-batch.js';
import type { Clock } from '../lib/clock.js';
import { schoolYearSoFar, shiftDays } from '../lib/dates.js';
import { describeError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import type { ChainAnchors } from '../journal/anchors.js';
import type { TargetPolicy } from '../lib/net-targets.js';
import { AdapterError, type AdapterRegistry, type DateRange } from '../ports/adapter.js';
import type { ConnectionService } from './connections.js';
import { unavailableIn, type Limiters, type PlatformUnavailableError } from './host-limits.js';
import { heartbeat, releaseLease, takeLease } from './lease.js';
import { raiseAlert, resolveAlerts } from './alerts.js';
import { finishRun, getRun, markRunning, saveProgress, type RunMode, type RunView } from './runs.js';
import { InterruptedError, syncStreams } from './run-streams.js';
import { emitSyncRunFailed } from '../webhooks/emitters.js';

export interface ExecutorDeps {
  pool: Pool;
  clock: Clock;
  logger: Logger;
  limiters: Limiters;
  adapters: AdapterRegistry;
  connections: ConnectionService;
  targets: TargetPolicy;
  /** Wakes the event feed's consumers in each batch's transaction. */
  wake?: WakeHook;
  /** After a successful run, with the days it read (the checks run every rule over them). */
  afterRun?: (run: { connectionId: string; range: { from: string; to: string } }) => Promise<void>;
  /** Days an incremental run re-reads before the last window's end (late marks). */
  lookbackDays: number;
  heartbeatSeconds: number;
  deadAfterSeconds: number;
  /** Where each run's end anchors its school's chain head (outside the database). */
  anchors?: ChainAnchors;
  /** Aborted when the process begins to stop: runs end after their current batch, and none start. */
  draining?: AbortSignal;
  /** Aborted when the shutdown's grace is over: runs are cut short (their open batch is never half-applied). */
  halting?: AbortSignal;
}

export type AttemptResult =
  | { outcome: 'done'; run: RunView }
  /** A retryable failure: the caller retries the attempt later (pg-boss backoff). */
  | { outcome: 'retry'; error: AdapterError | Error }
  /**
   * The platform host's circuit breaker is open: the run waits (queued again) for `retryInMs`, when
   * the breaker lets one probe through; no retry is spent and nothing is dead-lettered.
   */
  | { outcome: 'rescheduled'; retryInMs: number; error: PlatformUnavailableError }
  /** Another live run holds the connection; try again later. */
  | { outcome: 'busy' }
  /** This attempt lost the lease to a newer one (it was presumed dead); the newer one owns the run. */
  | { outcome: 'superseded' }
  /** The process is stopping: the run (queued again, lease released) resumes in a later job. */
  | { outcome: 'interrupted' };

/**
 * Executes one attempt of a sync run: takes the connection's lease (one writer per connection), keeps
 * it alive with heartbeats, reads the window (incremental: from the last window's end minus the
 * look-back; full: the school year) through the adapter into applyBatch under the lease's fence,
 * detects deletions, and records counts, rejections, requests and the end on the run.
 */
export async function executeRun(deps: ExecutorDeps, runId: string, attempt: { jobId: string | null; number: number; final: boolean }, onProgress?: (run: Pick<RunView, 'progress'>) => void): Promise<AttemptResult> {
  const run = await getRun(deps.pool, runId);
  if (!run) throw new Error(`sync run ${runId} does not exist`);
  const token = `${runId}:${attempt.jobId ?? 'inline'}:${attempt.number}`;
  if (deps.draining?.aborted) return { outcome: 'interrupted' };
  if (!(await takeLease(deps.pool, run.connectionId, runId, token, { deadAfterSeconds: deps.deadAfterSeconds }))) return { outcome: 'busy' };
  const abort = new AbortController();
  const halt = () => abort.abort(new InterruptedError());
  if (deps.halting?.aborted) halt();
  deps.halting?.addEventListener('abort', halt);
  const beat = setInterval(() => {
    heartbeat(deps.pool, run.connectionId, token).then((held) => held || abort.abort(new Error('the lease was taken over')), () => undefined);
  }, deps.heartbeatSeconds * 1000);
  const progress: RunView['progress'] = {};
  let requests = run.requests;
  try {
    // Inside the try: whatever fails from here on, the finally gives the lease back.
    await markRunning(deps.pool, runId, attempt.jobId, attempt.number);
    const { adapter, config, timeZone } = await deps.connections.resolveConfig(run.connectionId);
    const range = run.range ?? (await windowOf(deps, run.connectionId, run.mode, timeZone));
    const result = await syncStreams(deps, {
      connectionId: run.connectionId, config, range, signal: abort.signal, fence: token, runId, detectGone: true, drain: deps.draining,
      onProgress: (stream, r) => {
        progress[stream] = { batches: r.batches, records: r.created + r.updated + r.unchanged + r.rejected.length, done: false };
        onProgress?.({ progress });
        void saveProgress(deps.pool, runId, progress, requests).catch(() => undefined);
      },
    });
    requests += result.requests;
    for (const s of result.streams) progress[s.stream] = { ...(progress[s.stream] ?? { batches: 0, records: 0 }), done: true };
    await saveProgress(deps.pool, runId, progress, requests);
    // A range run reads days of its own choosing: the incremental window stays where it was.
    if (run.mode !== 'range') await saveWindow(deps.pool, run.connectionId, range);
    const status = result.streams.some((s) => s.rejected.length > 0 || s.guarded.length > 0) ? 'partial' : 'succeeded';
    await finishRun(deps.pool, runId, { status, streams: result.streams, requests });
    await resolveAlerts(deps.pool, run.connectionId);
    deps.logger.info({ runId, connectionId: run.connectionId, adapter: adapter.id, status, requests }, 'sync run finished');
    // Every rule over what the run read (the feed's consumer runs the incremental ones as batches land).
    await deps.afterRun?.({ connectionId: run.connectionId, range }).catch((error: unknown) =>
      deps.logger.warn({ runId, error: describeError(error) }, 'the checks after the sync run failed'));
    return { outcome: 'done', run: (await getRun(deps.pool, runId))! };
  } catch (error) {
    if (error instanceof InterruptedError || abort.signal.reason instanceof InterruptedError) {
      // What was applied stays applied (with its cursors); the run is read again from there.
      await finishRun(deps.pool, runId, { status: 'queued', streams: [], requests, error: 'interrupted: the service stopped; the run resumes when it runs again', errorKind: 'transient' });
      deps.logger.info({ runId, connectionId: run.connectionId }, 'sync run interrupted by the shutdown: queued again');
      return { outcome: 'interrupted' };
    }
    if (error instanceof StaleRunError || abort.signal.aborted) {
      deps.logger.warn({ runId, connectionId: run.connectionId }, 'sync attempt superseded: another attempt holds the lease');
      return { outcome: 'superseded' };
    }
    const unavailable = unavailableIn(error);
    if (unavailable && attempt.jobId) return await reschedule(deps, run, unavailable, requests);
    return await failAttempt(deps, run, attempt, error, requests);
  } finally {
    clearInterval(beat);
    deps.halting?.removeEventListener('abort', halt);
    // Whatever the adapter left running (a request, a report socket) ends with the run.
    if (!abort.signal.aborted) abort.abort(new Error('the sync run ended'));
    await releaseLease(deps.pool, run.connectionId, token).catch((error: unknown) => {
      // The lease then lapses after deadAfterSeconds without heartbeats; the next run takes it over.
      deps.logger.warn({ runId, connectionId: run.connectionId, error: describeError(error) }, 'could not release the sync lease');
    });
    await deps.anchors?.write(deps.pool, { connectionId: run.connectionId }).catch((error: unknown) => {
      deps.logger.warn({ runId, error: describeError(error) }, 'could not anchor the chain head');
    });
  }
}

/** The run goes back to the queue, saying why and until when; the caller sends its next job. */
async function reschedule(deps: ExecutorDeps, run: RunView, error: PlatformUnavailableError, requests: number): Promise<AttemptResult> {
  deps.logger.warn({ runId: run.id, connectionId: run.connectionId, host: error.host, retryAt: error.retryAt.toISOString() }, 'platform unavailable: sync rescheduled');
  await finishRun(deps.pool, run.id, { status: 'queued', streams: [], requests, error: error.message, errorKind: 'unavailable' });
  return { outcome: 'rescheduled', retryInMs: error.retryAfterMs ?? 0, error };
}

async function failAttempt(deps: ExecutorDeps, run: RunView, attempt: { final: boolean }, error: unknown, requests: number): Promise<AttemptResult> {
  // An open breaker met outside the queue (an inline `sync run`) ends the run: nothing would start it again.
  const kind = unavailableIn(error) ? 'unavailable' : error instanceof AdapterError ? error.kind : error instanceof StaleRunError ? 'stale' : 'internal';
  const message = describeError(error);
  const retryable = (error instanceof AdapterError && error.retryable && kind !== 'unavailable') || kind === 'internal';
  deps.logger.warn({ runId: run.id, connectionId: run.connectionId, kind, final: attempt.final || !retryable, error: message }, 'sync attempt failed');
  const retrying = retryable && !attempt.final;
  // The alert first: whoever sees the run failed (the API, a watching CLI) sees why it needs a person too.
  if (!retrying && (kind === 'auth' || kind === 'permanent')) await raiseAlert(deps.pool, run.connectionId, run.id, kind, message);
  else if (!retrying && retryable) await raiseAlert(deps.pool, run.connectionId, run.id, 'dead_letter', `gave up after the retries: ${message}`);
  // This attempt's run ends here either way; a retry is a run of its own (trigger "retry").
  await finishRun(deps.pool, run.id, { status: 'failed', streams: [], requests, error: message, errorKind: kind });
  if (retrying) return { outcome: 'retry', error: error as Error };
  await emitSyncRunFailed(deps.pool, deps.clock, deps.logger, run, kind);
  return { outcome: 'done', run: (await getRun(deps.pool, run.id))! };
}

const WINDOW_STREAM = '_window';

/** Incremental: from the last completed window's end minus the look-back, to today; full: the school year (range runs carry their days). */
async function windowOf(deps: ExecutorDeps, connectionId: string, mode: RunMode, timeZone: string): Promise<DateRange> {
  const year = schoolYearSoFar(timeZone, deps.clock.now());
  if (mode === 'full') return year;
  const { rows } = await deps.pool.query<{ cursor: { until?: string } }>(
    'SELECT cursor FROM sync_cursor WHERE connection_id = $1 AND stream = $2', [connectionId, WINDOW_STREAM],
  );
  const until = rows[0]?.cursor.until;
  if (!until) return year;
  const from = shiftDays(until, -deps.lookbackDays);
  return { from: from < year.from ? year.from : from, to: year.to };
}

async function saveWindow(pool: Pool, connectionId: string, range: DateRange): Promise<void> {
  await pool.query(
    `INSERT INTO sync_cursor (connection_id, stream, cursor) VALUES ($1, $2, $3)
     ON CONFLICT (connection_id, stream) DO UPDATE SET cursor = EXCLUDED.cursor, updated_at = now()`,
    [connectionId, WINDOW_STREAM, JSON.stringify({ until: range.to })],
  );
}
