import { withTransaction, type Pool, type PoolClient } from '../db/pool.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import type { TargetPolicy } from '../lib/net-targets.js';
import type { SecretBox } from '../lib/secret-box.js';
import type { DeliveryEnqueue } from './outbox.js';
import { MAX_ATTEMPTS, nextDelayMs, parseRetryAfter, verdictOf, type Verdict } from './schedule.js';
import { activeSecrets, signedHeaders, webhookIdOf, type SigningSecrets } from './signing.js';
import { schoolPolicy } from './targets.js';
import { postWebhook, type PostResult } from './transport.js';

/** The delivery policy's knobs (config.ts WEBHOOK_*). */
export interface DeliverySettings {
  timeoutMs: number;
  /** How long a claimed message belongs to its worker (longer than the timeout). */
  leaseSeconds: number;
  /** An endpoint failing without a single success for this long is disabled. */
  disableAfterSeconds: number;
  /** [0, 1) for the schedule's jitter; Math.random unless given. */
  random?: () => number;
}

export interface DelivererDeps {
  pool: Pool;
  clock: Clock;
  logger: Logger;
  box: SecretBox;
  /** The process-wide target policy; each school's allow-list is added to it per delivery. */
  targets: TargetPolicy;
  enqueue: DeliveryEnqueue;
  settings: DeliverySettings;
}

interface Claimed {
  schoolId: string; id: string; endpointId: string; url: string; body: string; attempts: number; trigger: string; secrets: SigningSecrets;
}

interface Row {
  id: string; endpoint_id: string; status: string; attempts: number; next_attempt_at: Date | null; lease_until: Date | null; trigger: string; body: string;
  url: string; secrets: Buffer; endpoint_status: string; deleted: boolean;
}

/**
 * Delivers one webhook message per job: claims it (FOR UPDATE; `sending` with a lease, so a worker that
 * dies mid-call leaves it to the sweeper, never to two workers at once), signs its stored bytes with the
 * endpoint's active secrets and the attempt's timestamp, POSTs through the SSRF guard, and records the
 * attempt and what follows from it (schedule.ts) in one transaction. The clock decides what is due, so a
 * test can walk the whole schedule.
 */
export class Deliverer {
  constructor(private readonly deps: DelivererDeps) {}

  /** Handles one job; returns whether an attempt was made (false: not due, already done, or its endpoint is off). */
  async deliver(job: { schoolId: string; id: string }): Promise<boolean> {
    const claimed = await withTransaction(this.deps.pool, (client) => this.claim(client, job.schoolId, job.id));
    if (!claimed) return false;
    const startedAt = this.deps.clock.now();
    const policy = await schoolPolicy(this.deps.pool, this.deps.targets, claimed.schoolId);
    const headers = signedHeaders(webhookIdOf(claimed.id), startedAt, claimed.body, activeSecrets(claimed.secrets, startedAt));
    const result = await postWebhook(policy, claimed.url, headers, claimed.body, this.deps.settings.timeoutMs);
    await withTransaction(this.deps.pool, (client) => this.record(client, claimed, startedAt, result));
    return true;
  }

  private async claim(client: PoolClient, schoolId: string, id: string): Promise<Claimed | undefined> {
    const { rows } = await client.query<Row>(
      `SELECT m.id::text, m.endpoint_id::text, m.status, m.attempts, m.next_attempt_at, m.lease_until, m.trigger, m.body,
              e.url, e.secrets, e.status AS endpoint_status, e.deleted_at IS NOT NULL AS deleted
         FROM webhook_message m JOIN webhook_endpoint e ON e.school_id = m.school_id AND e.id = m.endpoint_id
        WHERE m.school_id = $1 AND m.id = $2 FOR UPDATE OF m`, [schoolId, id]);
    const row = rows[0];
    const now = this.deps.clock.now();
    if (!row) return undefined;
    const takeable = row.status === 'pending' || (row.status === 'sending' && (!row.lease_until || row.lease_until <= now));
    if (!takeable || (row.next_attempt_at && row.next_attempt_at > now)) return undefined;
    if (row.endpoint_status !== 'enabled' || row.deleted) {
      await client.query(`UPDATE webhook_message SET status = 'failed', lease_until = NULL, updated_at = now() WHERE school_id = $1 AND id = $2`, [schoolId, id]);
      return undefined;
    }
    const lease = new Date(now.getTime() + this.deps.settings.leaseSeconds * 1000);
    await client.query(`UPDATE webhook_message SET status = 'sending', attempts = attempts + 1, lease_until = $3, updated_at = now() WHERE school_id = $1 AND id = $2`,
      [schoolId, id, lease]);
    return {
      schoolId, id, endpointId: row.endpoint_id, url: row.url, body: row.body, attempts: row.attempts + 1, trigger: row.trigger,
      secrets: this.deps.box.open(row.secrets) as unknown as SigningSecrets,
    };
  }

  private async record(client: PoolClient, c: Claimed, startedAt: Date, result: PostResult): Promise<void> {
    const verdict: Verdict = result.statusCode === undefined ? 'failure' : verdictOf(result.statusCode);
    await client.query(
      `INSERT INTO webhook_attempt (school_id, message_id, attempt, trigger, started_at, duration_ms, status_code, response_body, error, succeeded)
       SELECT $1, $2, count(*) + 1, $3, $4, $5, $6, $7, $8, $9 FROM webhook_attempt WHERE school_id = $1 AND message_id = $2`,
      [c.schoolId, c.id, c.trigger, startedAt, result.durationMs, result.statusCode ?? null, result.body ?? null,
        result.error?.slice(0, 500) ?? (verdict === 'success' ? null : redirectNote(result.statusCode)), verdict === 'success']);
    if (verdict === 'success') {
      await this.finish(client, c, 'succeeded', result.statusCode);
      await client.query(`UPDATE webhook_endpoint SET failing_since = NULL, updated_at = now() WHERE school_id = $1 AND id = $2 AND failing_since IS NOT NULL`, [c.schoolId, c.endpointId]);
      return;
    }
    if (verdict === 'disable') {
      await this.finish(client, c, 'failed', result.statusCode);
      await this.disable(client, c, 'the receiver answered 410 Gone');
      return;
    }
    await this.recordFailure(client, c, startedAt, verdict, result);
  }

  /** A failed attempt: the endpoint's failure record, then disabled, or the next attempt, or failed for good. */
  private async recordFailure(client: PoolClient, c: Claimed, startedAt: Date, verdict: Verdict, result: PostResult): Promise<void> {
    const now = this.deps.clock.now();
    const { rows } = await client.query<{ failing_since: Date }>(
      `UPDATE webhook_endpoint SET failing_since = coalesce(failing_since, $3), updated_at = now() WHERE school_id = $1 AND id = $2 RETURNING failing_since`,
      [c.schoolId, c.endpointId, startedAt]);
    const failingMs = now.getTime() - rows[0]!.failing_since.getTime();
    if (failingMs >= this.deps.settings.disableAfterSeconds * 1000) {
      await this.finish(client, c, 'failed', result.statusCode);
      await this.disable(client, c, `no successful delivery since ${rows[0]!.failing_since.toISOString()} (${Math.round(failingMs / 1000)} s)`);
      return;
    }
    const delay = c.attempts >= MAX_ATTEMPTS ? undefined
      : nextDelayMs(c.attempts, verdict, parseRetryAfter(result.retryAfter, now), this.deps.settings.random);
    if (delay === undefined) {
      await this.finish(client, c, 'failed', result.statusCode);
      return;
    }
    const at = new Date(now.getTime() + delay);
    await client.query(
      `UPDATE webhook_message SET status = 'pending', next_attempt_at = $3, lease_until = NULL, last_status_code = $4, updated_at = now() WHERE school_id = $1 AND id = $2`,
      [c.schoolId, c.id, at, result.statusCode ?? null]);
    await this.deps.enqueue(client, [{ schoolId: c.schoolId, id: c.id, startAfter: at }]);
  }

  private async finish(client: PoolClient, c: Claimed, status: 'succeeded' | 'failed', code: number | undefined): Promise<void> {
    await client.query(
      `UPDATE webhook_message SET status = $3, next_attempt_at = NULL, lease_until = NULL, last_status_code = $4, updated_at = now() WHERE school_id = $1 AND id = $2`,
      [c.schoolId, c.id, status, code ?? null]);
  }

  /**
   * Disables the endpoint and says why on it (GET /v1/webhooks/{id} shows status and reason to the
   * school's administrator); the log line carries ids only.
   */
  private async disable(client: PoolClient, c: Claimed, reason: string): Promise<void> {
    await client.query(
      `UPDATE webhook_endpoint SET status = 'disabled', disabled_reason = $3, disabled_at = $4, updated_at = now() WHERE school_id = $1 AND id = $2 AND status = 'enabled'`,
      [c.schoolId, c.endpointId, reason, this.deps.clock.now()]);
    this.deps.logger.warn({ school: c.schoolId, endpoint: c.endpointId, reason }, 'webhook endpoint disabled');
  }
}

function redirectNote(status: number | undefined): string | null {
  return status !== undefined && status >= 300 && status < 400 ? `redirect ${status}: not followed (a receiver must answer 2xx itself)` : null;
}
