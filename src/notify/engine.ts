import type PgBoss from 'pg-boss';
import { dbOf, startJobQueue } from '../db/job-queue.js';
import type { Pool, PoolClient } from '../db/pool.js';
import type { Clock } from '../lib/clock.js';
import { describeError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import type { SecretBox } from '../lib/secret-box.js';
import type { Consumer } from '../journal/feed.js';
import { PROVIDERS } from './channels/index.js';
import { closeSmtpTransports } from './channels/smtp.js';
import { telegramBot } from './channels/telegram.js';
import { notifyConsumer } from './fanout.js';
import type { SendJob } from './outbox.js';
import { rateKey, SendRates } from './rate.js';
import { runScheduled, teacherDigestNow } from './scheduled.js';
import { Sender, sweepAbandoned, type SenderSettings } from './sender.js';
import { pollDeliveries } from './status.js';
import { handleBotText } from './telegram-link.js';

export const SEND_QUEUE = 'notify-send';

export interface NotifySettings {
  sender: SenderSettings;
  /** Sends in flight per process. */
  concurrency: number;
  retryLimit: number;
  retryDelaySeconds: number;
  /** How often the clocked work (digests, reports, alerts, the sweeper, delivery statuses) runs. */
  tickSeconds: number;
  /** Poll the schools' Telegram bots for updates (getUpdates); off where the bots have a webhook. */
  telegramPolling: boolean;
}

/**
 * The notify side in one process (src/notify): the feed consumer that writes the outbox, the send queue
 * (pg-boss `notify-send`, one job per outbox row) and its workers, the clocked work and the Telegram
 * bots' long polling. It is a ClockedWork of the sync service: `work` with the worker role, `schedule`
 * with the scheduler role.
 */
export class NotifyEngine {
  readonly consumer: Consumer;
  private readonly sender: Sender;
  private tick?: NodeJS.Timeout;
  private readonly polling = new AbortController();
  private pollers: Promise<void>[] = [];
  private stopped = false;

  private constructor(
    private readonly boss: PgBoss,
    private readonly pool: Pool,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly box: SecretBox,
    private readonly settings: NotifySettings,
  ) {
    this.consumer = notifyConsumer(clock, this.enqueue);
    this.sender = new Sender({ pool, clock, logger, box, providers: PROVIDERS, rates: new SendRates(pool), enqueue: this.enqueue, settings: settings.sender });
  }

  static async start(pool: Pool, clock: Clock, logger: Logger, box: SecretBox, settings: NotifySettings): Promise<NotifyEngine> {
    const boss = await startJobQueue(pool, logger, { label: 'notify queue' }, async (b) => {
      await b.createQueue(SEND_QUEUE, {
        name: SEND_QUEUE, policy: 'standard', retryLimit: settings.retryLimit, retryDelay: settings.retryDelaySeconds, retryBackoff: true,
        expireInSeconds: Math.max(60, settings.sender.leaseSeconds * 2),
      });
    });
    return new NotifyEngine(boss, pool, clock, logger, box, settings);
  }

  /** Queues send jobs in a transaction (committed with the rows they send). */
  readonly enqueue = async (client: PoolClient, jobs: readonly SendJob[]): Promise<void> => {
    await this.boss.insert(jobs.map((j) => ({ name: SEND_QUEUE, data: { schoolId: j.schoolId, id: j.id }, startAfter: j.startAfter, priority: j.priority ?? 0 })), { db: dbOf(client) });
  };

  private readonly enqueueNow = async (jobs: readonly SendJob[]): Promise<void> => {
    await this.boss.insert(jobs.map((j) => ({ name: SEND_QUEUE, data: { schoolId: j.schoolId, id: j.id }, startAfter: j.startAfter, priority: j.priority ?? 0 })));
  };

  async work(): Promise<void> {
    for (let i = 0; i < this.settings.concurrency; i++) {
      await this.boss.work<{ schoolId: string; id: string }>(SEND_QUEUE, { batchSize: 1, pollingIntervalSeconds: 0.5, includeMetadata: true }, async ([job]) => {
        if (!job) return;
        const outcome = await this.sender.deliver(job.data, job.retryCount >= job.retryLimit);
        if (outcome === 'retry') throw new Error('temporary delivery failure: retrying with backoff');
      });
    }
  }

  /** The teachers' digest of a school now (once a day per reason). */
  teacherDigestNow(schoolId: string, reason: string): Promise<void> {
    return teacherDigestNow(this.pool, this.clock, this.enqueue, schoolId, reason);
  }

  /** The clocked work on a timer, and the Telegram pollers. */
  async schedule(): Promise<void> {
    const run = () => {
      void this.runTick().finally(() => {
        if (!this.stopped) this.tick = setTimeout(run, this.settings.tickSeconds * 1000).unref();
      });
    };
    this.scheduling = true;
    this.tick = setTimeout(run, 1000).unref();
    if (this.settings.telegramPolling) await this.startPollers();
  }

  private scheduling = false;
  private readonly polled = new Set<string>();

  /** One round of the clocked work for every school (also what a test or the CLI runs). */
  async runTick(): Promise<void> {
    try {
      await sweepAbandoned(this.pool, this.enqueueNow);
      const { rows } = await this.pool.query<{ id: string }>('SELECT id::text FROM school ORDER BY id');
      for (const { id } of rows) await runScheduled(this.pool, this.clock, this.enqueue, id);
      await pollDeliveries(this.pool, this.box, PROVIDERS);
      // A bot added since the last tick gets its poller.
      if (this.scheduling && this.settings.telegramPolling && !this.stopped) await this.startPollers();
    } catch (error) {
      this.logger.warn({ error: describeError(error) }, 'notify: the clocked work failed (it runs again next tick)');
    }
  }

  /** One poller per bot (a token several schools share is polled once: two getUpdates on one bot conflict). */
  private async startPollers(): Promise<void> {
    for (const bot of await this.bots()) {
      if (this.polled.has(bot.key)) continue;
      this.polled.add(bot.key);
      this.pollers.push(this.poll(bot.key).finally(() => this.polled.delete(bot.key)));
    }
  }

  /** The enabled Telegram bots, each with the schools it serves. */
  private async bots(): Promise<Array<{ key: string; config: Record<string, unknown>; secrets: Record<string, string>; schools: string[] }>> {
    const { rows } = await this.pool.query<{ school_id: string; config: Record<string, unknown>; secrets: Buffer | null }>(
      `SELECT school_id::text, config, secrets FROM notify_provider WHERE channel = 'telegram' AND provider = 'telegram' AND enabled ORDER BY school_id`);
    const bots = new Map<string, { key: string; config: Record<string, unknown>; secrets: Record<string, string>; schools: string[] }>();
    for (const row of rows) {
      const secrets = row.secrets ? (this.box.open(row.secrets) as Record<string, string>) : {};
      const key = rateKey('telegram-bot', String(row.config.apiRoot ?? ''), secrets.token ?? '');
      const bot = bots.get(key) ?? { key, config: row.config, secrets, schools: [] };
      bot.schools.push(row.school_id);
      bots.set(key, bot);
    }
    return [...bots.values()];
  }

  /**
   * Long polling of one bot: each update's text handled (linking, /marks …) and answered. The bot's
   * settings and schools are read again before every poll, so a new school or a disabled bot takes
   * effect within one long poll.
   */
  private async poll(key: string): Promise<void> {
    let offset: number | undefined;
    while (!this.polling.signal.aborted) {
      const bot = (await this.bots()).find((b) => b.key === key);
      if (!bot) return;
      try {
        const client = telegramBot(PROVIDERS.get('telegram')!.configSchema.parse(bot.config) as never, bot.secrets as never);
        const updates = await client.getUpdates({ offset, timeoutSeconds: 25, signal: this.polling.signal });
        for (const update of updates) {
          offset = update.update_id + 1;
          const message = update.message;
          if (!message?.text) continue;
          const chatId = String(message.chat.id);
          const { reply } = await handleBotText(this.pool, this.clock, bot.schools, chatId, message.text);
          if (reply) await client.sendMessage(chatId, reply).catch((error: unknown) => this.logger.warn({ error: describeError(error) }, 'telegram: a reply was not sent'));
        }
      } catch (error) {
        if (this.polling.signal.aborted) return;
        this.logger.warn({ error: describeError(error) }, 'telegram: getUpdates failed; polling again shortly');
        await new Promise((r) => setTimeout(r, 2000).unref());
      }
    }
  }

  async stopScheduling(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.tick);
    this.polling.abort();
    await Promise.allSettled(this.pollers);
  }

  private stopping?: Promise<void>;

  /** Stops everything (once: the sync service's shutdown and the composition root may both ask). */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.stopScheduling();
      await this.boss.stop({ graceful: true, wait: true, timeout: 20_000 });
      // Pooled SMTP connections would otherwise hold the process until their idle timeout.
      closeSmtpTransports();
    })();
    return this.stopping;
  }
}
