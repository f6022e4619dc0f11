import { withTransaction, type Pool, type PoolClient } from '../db/pool.js';
import type { Clock } from '../lib/clock.js';
import { describeError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import type { SecretBox } from '../lib/secret-box.js';
import { ChannelError, type ChannelProvider, type SendResult } from './channels/contract.js';
import { priorityOf, writeOutbox, type Enqueue, type SendJob } from './outbox.js';
import { parsePolicy, type Channel, type NotifyPolicy, type Purpose } from './policy.js';
import { sendableAt } from './quiet.js';
import { rateKey, type RateLimit, type SendRates } from './rate.js';
import { hasConsent, loadReach, route } from './reach.js';
import { renderMessage } from './render.js';

/**
 * The sender: one pg-boss job per outbox row. A job claims its row (FOR UPDATE; `sending` with a lease),
 * checks at that moment what may have changed since the row was written — consent withdrawn or the
 * contact gone (cancelled, and the next channel tried), the provider paused, quiet hours, the school's SMS
 * budget — renders the text, waits for its send slot (rate.ts), calls the provider with the row's id as the
 * client message id, and records the result. Errors by kind (channels/contract.ts): temporary → the job
 * retries with backoff (the last attempt fails the row and falls back); rate_limited → the provider
 * credential is held for `retry_after` and the message goes after it; permanent → failed, the contact
 * marked unusable when the error is about it, and the next channel tried; account → the provider is paused
 * for the school (`notify_provider.paused_until`) and the message waits for it.
 *
 * Exactly once, as far as it goes: a sender that dies after the provider took the message but before the
 * result was committed leaves the row `sending`; once its lease is over the sweeper queues it again and it
 * is sent with the SAME client id — SMSC (`id`, error 9) and Nikita (`<id>`, status 10) recognise it and
 * nothing is delivered twice; Telegram, SMTP (Message-ID kept) and SMS.ru have no such key, so that window
 * may deliver one duplicate. Nothing is lost: a row leaves `sending` only with a recorded result.
 */
export interface SenderSettings {
  /** How long a claimed row belongs to its sender (longer than any provider call). */
  leaseSeconds: number;
  telegramPerSecond: number;
  telegramChatIntervalMs: number;
  smsPerSecond: number;
  emailPerSecond: number;
  /** An account problem pauses the provider this long (or until an admin changes it). */
  pauseSeconds: number;
  /** Provider calls time out after this. */
  timeoutMs: number;
}

/** Longer than this at a chat's gate, a send is put off to a job of its own (Sender.defer). */
const MAX_GATE_WAIT_MS = 200;

export const DEFAULT_SENDER: SenderSettings = {
  leaseSeconds: 120, telegramPerSecond: 29, telegramChatIntervalMs: 1100, smsPerSecond: 10, emailPerSecond: 20, pauseSeconds: 1800, timeoutMs: 20_000,
};

export interface SenderDeps {
  pool: Pool;
  clock: Clock;
  logger: Logger;
  box: SecretBox;
  providers: ReadonlyMap<string, ChannelProvider>;
  rates: SendRates;
  /** Queues jobs in a transaction (the outbox's). */
  enqueue: Enqueue;
  settings: SenderSettings;
}

interface Claimed {
  id: string;
  schoolId: string;
  schoolName: string;
  timeZone: string;
  policy: NotifyPolicy;
  channel: Channel;
  recipientId: string;
  kind: string;
  purpose: Purpose;
  data: Record<string, unknown>;
  address: string;
  subject?: string;
  text: string;
  html?: string;
  provider: { id: string; row: string; config: Record<string, unknown>; secrets: Record<string, string> };
}

interface Row {
  id: string; event_key: string; status: string; lease_active: boolean; channel: Channel | 'none'; recipient_id: string; kind: string; purpose: Purpose;
  pupil_id: string | null; data: Record<string, unknown>; contact_id: string | null; address: string | null; contact_usable: boolean | null;
  school_name: string; time_zone: string; policy: unknown; language: string | null; body: string | null; subject: string | null;
}

export type Outcome = 'sent' | 'retry' | 'done';

export class Sender {
  constructor(private readonly deps: SenderDeps) {}

  /** Handles one job: `lastAttempt` when pg-boss will not retry it again (a temporary error then fails the row). */
  async deliver(job: { schoolId: string; id: string }, lastAttempt: boolean): Promise<Outcome> {
    const claimed = await withTransaction(this.deps.pool, (client) => this.claim(client, job.schoolId, job.id));
    if (!claimed) return 'done';
    for (let rateLimited = 0; ; rateLimited++) {
      const limits = this.limitsOf(claimed);
      try {
        const { deferMs } = await this.deps.rates.acquire(limits, { maxGateWaitMs: MAX_GATE_WAIT_MS });
        if (deferMs !== undefined) {
          await this.defer(claimed, deferMs);
          return 'done';
        }
        const result = await this.call(claimed);
        await this.recordSent(claimed, result);
        return 'sent';
      } catch (error) {
        const e = error instanceof ChannelError ? error : new ChannelError('temporary', `unexpected: ${describeError(error)}`);
        if (e.kind === 'rate_limited' && rateLimited < 5) {
          await this.deps.rates.hold(limits[0]!.key, e.retryAfterMs ?? 1000);
          await this.deps.pool.query(`UPDATE notification SET lease_until = now() + make_interval(secs => $3), updated_at = now() WHERE school_id = $1 AND id = $2`,
            [claimed.schoolId, claimed.id, this.deps.settings.leaseSeconds + (e.retryAfterMs ?? 1000) / 1000]);
          continue;
        }
        return this.recordFailure(claimed, e, lastAttempt);
      }
    }
  }

  /**
   * A message to a chat that had one a moment ago goes in a job of its own once the chat is free, so that
   * the sender takes other chats' messages meanwhile (held, the bot's slots would go unused). Not an attempt.
   */
  private async defer(c: Claimed, ms: number): Promise<void> {
    await withTransaction(this.deps.pool, async (client) => {
      const at = new Date(this.deps.clock.now().getTime() + ms);
      const { rowCount } = await client.query(
        `UPDATE notification SET status = 'queued', attempts = greatest(attempts - 1, 0), lease_until = NULL, not_before = $3, updated_at = now(),
                reason = 'waiting: its chat had a message moments ago (Telegram: one a second per chat)'
          WHERE school_id = $1 AND id = $2 AND status = 'sending'`, [c.schoolId, c.id, at]);
      if (rowCount) await this.deps.enqueue(client, [{ schoolId: c.schoolId, id: c.id, startAfter: at, priority: priorityOf(c.kind) }]);
    });
  }

  private limitsOf(c: Claimed): RateLimit[] {
    const s = this.deps.settings;
    const credential = JSON.stringify([c.provider.id, c.provider.config, c.provider.secrets]);
    if (c.channel === 'telegram') {
      return [
        { key: rateKey('telegram', credential), intervalMs: 1000 / s.telegramPerSecond },
        { key: rateKey('telegram-chat', credential, c.address), intervalMs: s.telegramChatIntervalMs, gate: true },
      ];
    }
    const perSecond = typeof c.provider.config.perSecond === 'number' ? c.provider.config.perSecond : c.channel === 'sms' ? s.smsPerSecond : s.emailPerSecond;
    return [{ key: rateKey(c.channel, credential), intervalMs: 1000 / perSecond }];
  }

  private async call(c: Claimed): Promise<SendResult> {
    const provider = this.deps.providers.get(c.provider.id);
    if (!provider) throw new ChannelError('account', `provider ${c.provider.id} is not known to this build`);
    const signal = AbortSignal.timeout(this.deps.settings.timeoutMs);
    const headers = c.channel === 'email' ? { 'List-Unsubscribe': `<mailto:${String(c.provider.config.unsubscribeAddress ?? c.provider.config.bounceAddress ?? 'unsubscribe@invalid')}?subject=unsubscribe>` } : undefined;
    return provider.send({ config: provider.configSchema.parse(c.provider.config) as Record<string, unknown>, secrets: c.provider.secrets, signal }, {
      clientId: c.id, to: c.address, subject: c.subject, text: c.text, html: c.html, headers,
    });
  }

  /** The row, if this job may send it now; every reason it may not is written to the row. */
  private async claim(client: PoolClient, schoolId: string, id: string): Promise<Claimed | undefined> {
    const { rows } = await client.query<Row>(
      `SELECT n.id::text, n.event_key, n.status, coalesce(n.lease_until > now(), false) AS lease_active, n.channel, n.recipient_id::text, n.kind, n.purpose,
              n.pupil_id::text, n.data, n.contact_id::text, c.address, c.usable AS contact_usable, s.name AS school_name, s.time_zone,
              coalesce(ns.policy, '{}'::jsonb) AS policy, p.language, n.body, n.subject
         FROM notification n JOIN school s ON s.id = n.school_id
         LEFT JOIN notify_settings ns ON ns.school_id = n.school_id
         LEFT JOIN contact_point c ON c.school_id = n.school_id AND c.id = n.contact_id
         LEFT JOIN notify_preference p ON p.school_id = n.school_id AND p.person_id = n.recipient_id
        WHERE n.school_id = $1 AND n.id = $2 FOR UPDATE OF n`,
      [schoolId, id],
    );
    const row = rows[0];
    if (!row || row.channel === 'none' || !(row.status === 'queued' || (row.status === 'sending' && !row.lease_active))) return undefined;
    const channel = row.channel;
    const policy = parsePolicy(row.policy);
    const now = this.deps.clock.now();
    const reach = await loadReach(client, schoolId, [row.recipient_id]);
    if (!row.contact_usable || !row.address) return this.stop(client, schoolId, row, 'cancelled', 'the contact is no longer usable');
    if (!hasConsent(reach, row.recipient_id, channel, row.purpose)) return this.stop(client, schoolId, row, 'cancelled', `consent for ${row.purpose} by ${channel} was withdrawn`);
    const provider = await this.providerOf(client, schoolId, channel);
    if (!provider) return this.stop(client, schoolId, row, 'failed', `the school has no enabled ${channel} provider`);
    if (provider.pausedUntil && provider.pausedUntil > now) return this.later(client, schoolId, row.id, provider.pausedUntil, `waiting: the ${channel} provider is paused (${provider.pausedReason ?? 'account problem'})`, row.kind);
    // A test message and a sign-in code are asked for by someone waiting for them: no quiet hours.
    const at = row.kind === 'test' || row.kind === 'sign_in_code' ? now : sendableAt(now, row.time_zone, policy.quietHours);
    if (at.getTime() > now.getTime() + 1000) return this.later(client, schoolId, row.id, at, 'waiting: quiet hours', row.kind);
    const lang = row.language === 'ky' || row.language === 'ru' ? row.language : policy.language;
    const rendered = renderMessage(row.kind, row.data, { lang, channel, schoolName: row.school_name, maxSmsParts: policy.sms.maxParts });
    if (channel === 'sms') {
      const { rows: spent } = await client.query<{ parts: number }>(
        `SELECT coalesce(sum(parts), 0)::int AS parts FROM notification WHERE school_id = $1 AND channel = 'sms' AND status IN ('sending', 'sent', 'delivered')
            AND sent_at >= (date_trunc('day', now() AT TIME ZONE $2) AT TIME ZONE $2) AND id <> $3`,
        [schoolId, row.time_zone, row.id],
      );
      if (spent[0]!.parts + rendered.parts > policy.sms.dailyBudget) return this.stop(client, schoolId, row, 'failed', `the school's daily SMS budget (${policy.sms.dailyBudget} parts) is spent`);
    }
    await client.query(
      `UPDATE notification SET status = 'sending', attempts = attempts + 1, lease_until = now() + make_interval(secs => $3), provider = $4,
              subject = coalesce(subject, $5), body = coalesce(body, $6), parts = $7, sent_at = coalesce(sent_at, now()), updated_at = now()
        WHERE school_id = $1 AND id = $2`,
      [schoolId, row.id, this.deps.settings.leaseSeconds, provider.provider, rendered.subject ?? null, rendered.text, rendered.parts],
    );
    return {
      id: row.id, schoolId, schoolName: row.school_name, timeZone: row.time_zone, policy, channel, recipientId: row.recipient_id, kind: row.kind, purpose: row.purpose,
      data: row.data, address: row.address, subject: row.subject ?? rendered.subject, text: row.body ?? rendered.text, html: rendered.html,
      provider: { id: provider.provider, row: provider.id, config: provider.config, secrets: provider.secrets },
    };
  }

  private async providerOf(client: PoolClient, schoolId: string, channel: Channel) {
    const { rows } = await client.query<{ id: string; provider: string; config: Record<string, unknown>; secrets: Buffer | null; paused_until: Date | null; paused_reason: string | null }>(
      `SELECT id::text, provider, config, secrets, paused_until, paused_reason FROM notify_provider WHERE school_id = $1 AND channel = $2 AND enabled`, [schoolId, channel]);
    const p = rows[0];
    if (!p) return undefined;
    const secrets = p.secrets ? (this.deps.box.open(p.secrets) as Record<string, string>) : {};
    return { id: p.id, provider: p.provider, config: p.config, secrets, pausedUntil: p.paused_until, pausedReason: p.paused_reason };
  }

  /** A row that will not go on its channel: its state and reason, and the next channel of the recipient tried. */
  private async stop(client: PoolClient, schoolId: string, row: Pick<Row, 'id' | 'event_key' | 'recipient_id' | 'kind' | 'purpose' | 'pupil_id' | 'data'>, status: 'cancelled' | 'failed', reason: string): Promise<undefined> {
    await client.query(`UPDATE notification SET status = $3, reason = $4, lease_until = NULL, updated_at = now() WHERE school_id = $1 AND id = $2`, [schoolId, row.id, status, reason]);
    await this.fallback(client, schoolId, row);
    return undefined;
  }

  private async later(client: PoolClient, schoolId: string, id: string, at: Date, reason: string, kind: string): Promise<undefined> {
    await client.query(`UPDATE notification SET status = 'queued', reason = $3, not_before = $4, lease_until = NULL, updated_at = now() WHERE school_id = $1 AND id = $2`, [schoolId, id, reason, at]);
    await this.deps.enqueue(client, [{ schoolId, id, startAfter: at, priority: priorityOf(kind) }]);
    return undefined;
  }

  /** The same message on the recipient's next channel (one not tried for this event yet), if there is one. */
  private async fallback(client: PoolClient, schoolId: string, row: Pick<Row, 'id' | 'event_key' | 'recipient_id' | 'kind' | 'purpose' | 'pupil_id' | 'data'>): Promise<void> {
    const { rows: tried } = await client.query<{ channel: string }>(
      `SELECT channel FROM notification WHERE school_id = $1 AND event_key = $2 AND recipient_id = $3`, [schoolId, row.event_key, row.recipient_id]);
    const school = await client.query<{ policy: unknown; providers: Channel[] | null }>(
      `SELECT coalesce((SELECT policy FROM notify_settings WHERE school_id = $1), '{}'::jsonb) AS policy,
              (SELECT array_agg(channel) FROM notify_provider WHERE school_id = $1 AND enabled) AS providers`, [schoolId]);
    const policy = parsePolicy(school.rows[0]!.policy);
    const reach = await loadReach(client, schoolId, [row.recipient_id]);
    const defaults = row.purpose === 'discrepancies' ? policy.teachers.channels : policy.channels;
    const next = route(reach, row.recipient_id, row.purpose, defaults, new Set(school.rows[0]!.providers ?? []), new Set(tried.map((t) => t.channel)));
    if (next.channel === 'none') return;
    await writeOutbox(client, schoolId, [{
      eventKey: row.event_key, recipientId: row.recipient_id, kind: row.kind, purpose: row.purpose, pupilId: row.pupil_id, data: row.data, route: next,
      notBefore: this.deps.clock.now(), fallbackOf: row.id,
    }], this.deps.enqueue);
  }

  private async recordSent(c: Claimed, result: SendResult): Promise<void> {
    const delivered = result.state === 'delivered';
    await this.deps.pool.query(
      `UPDATE notification SET status = $3, provider_message_id = coalesce($4, provider_message_id), provider_status = $5, reason = $6,
              delivered_at = CASE WHEN $3 = 'delivered' THEN now() END, lease_until = NULL, updated_at = now()
        WHERE school_id = $1 AND id = $2 AND status = 'sending'`,
      [c.schoolId, c.id, delivered ? 'delivered' : 'sent', result.providerMessageId ?? null, result.raw ?? result.state,
        result.duplicate ? 'the provider already had this message: sent once, before a restart' : null],
    );
  }

  private async recordFailure(c: Claimed, e: ChannelError, lastAttempt: boolean): Promise<Outcome> {
    const reason = `${e.kind}: ${e.message}`.slice(0, 500);
    return withTransaction(this.deps.pool, async (client) => {
      const row = { id: c.id, event_key: '', recipient_id: c.recipientId, kind: c.kind, purpose: c.purpose, pupil_id: null as string | null, data: c.data };
      const { rows } = await client.query<{ event_key: string; pupil_id: string | null }>(
        `SELECT event_key, pupil_id::text FROM notification WHERE school_id = $1 AND id = $2 FOR UPDATE`, [c.schoolId, c.id]);
      row.event_key = rows[0]!.event_key;
      row.pupil_id = rows[0]!.pupil_id;
      if (e.kind === 'account') {
        const until = new Date(this.deps.clock.now().getTime() + this.deps.settings.pauseSeconds * 1000);
        await client.query(`UPDATE notify_provider SET paused_until = $3, paused_reason = $4, updated_at = now() WHERE school_id = $1 AND id = $2`,
          [c.schoolId, c.provider.row, until, reason]);
        this.deps.logger.warn({ school: c.schoolId, provider: c.provider.id, code: e.code }, 'notification provider paused: account problem');
        await this.later(client, c.schoolId, c.id, until, `waiting: the ${c.channel} provider is paused (${reason})`, c.kind);
        return 'done';
      }
      if (e.kind === 'permanent' || lastAttempt) {
        if (e.contactUnusable) {
          await client.query(
            `UPDATE contact_point SET usable = false, unusable_reason = $3, unusable_at = now(), updated_at = now()
              WHERE school_id = $1 AND id = (SELECT contact_id FROM notification WHERE school_id = $1 AND id = $2)`,
            [c.schoolId, c.id, reason]);
        }
        await this.stop(client, c.schoolId, row, 'failed', reason);
        return 'done';
      }
      await client.query(`UPDATE notification SET status = 'queued', reason = $3, lease_until = NULL, updated_at = now() WHERE school_id = $1 AND id = $2`,
        [c.schoolId, c.id, `${reason} (will retry)`]);
      return 'retry';
    });
  }
}

/**
 * The sweeper: rows whose sender died while it had them (lease over) go back to `queued` with a new job —
 * to be sent with the same client id — and queued rows long past due whose job was lost get a new one (a
 * second job for a row is harmless: the claim lets one through).
 */
export async function sweepAbandoned(pool: Pool, enqueue: (jobs: readonly SendJob[]) => Promise<void>): Promise<number> {
  const { rows } = await pool.query<{ school_id: string; id: string }>(
    `UPDATE notification n SET status = 'queued', lease_until = NULL, updated_at = now(),
            reason = CASE WHEN n.status = 'sending' THEN 'its sender stopped during the call: sent again with the same client id' ELSE n.reason END
      WHERE (n.school_id, n.id) IN (
              (SELECT school_id, id FROM notification WHERE status = 'sending' AND lease_until < now() LIMIT 500)
              UNION ALL
              (SELECT school_id, id FROM notification WHERE status = 'queued' AND coalesce(not_before, created_at) < now() - interval '15 minutes'
                  AND updated_at < now() - interval '15 minutes' LIMIT 500))
      RETURNING n.school_id::text, n.id::text`);
  if (rows.length > 0) await enqueue(rows.map((r) => ({ schoolId: r.school_id, id: r.id, startAfter: new Date() })));
  return rows.length;
}
