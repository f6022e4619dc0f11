import { setTimeout as delay } from 'node:timers/promises';
import { ensureDemoAccounts } from './accounts.js';
import type { Users } from '../auth/users.js';
import type { Pool } from '../db/pool.js';
import type { Clock } from '../lib/clock.js';
import type { SecretBox } from '../lib/secret-box.js';
import { startDemoChannels, type DemoChannels, type DemoOutbox } from './channels.js';
import { schoolYearSoFar } from '../lib/dates.js';
import { describeError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import type { AdapterRegistry } from '../ports/adapter.js';
import type { SyncService } from '../sync/service.js';
import { generateSchool } from './generator.js';
import { correctionDays, plantDiscrepancies, serveCorrections } from './plants.js';
import { hasSchools, loadDemoSchool } from './load.js';
import { DEMO_TITLE_PREFIX, startDemoPlatforms, type DemoPlatforms } from './platforms.js';
import { pushDemoClub } from './push.js';
import type { DemoMark, DemoSchool } from './types.js';
import { generateLessons } from './schedule.js';
import { generateLessonFacts } from './facts.js';
import { startDemoWebhooks, type DemoWebhookReceiver, type ReceivedWebhook } from './webhook-receiver.js';

/** How often the demo looks for its platforms' first successful syncs (to serve the planted corrections). */
const CORRECTION_POLL_MS = 2000;

export type DemoState = { status: 'off' | 'loading' | 'ready' } | { status: 'failed'; error: string };

export interface DemoSettings {
  mode: 'auto' | 'on' | 'off';
  seed: number;
  pupils: number;
}

/**
 * The demo of `npm start` with nothing configured: a generated school of the current academic year up
 * to today, loaded behind the listening server; `state()` is what /health shows.
 */
export class DemoRunner {
  private current: DemoState = { status: 'off' };
  private readonly abort = new AbortController();
  private running: Promise<void> = Promise.resolve();

  private platforms?: DemoPlatforms;
  private channels?: DemoChannels;
  private receiver?: DemoWebhookReceiver;
  private correcting: Promise<void> = Promise.resolve();

  /** With `sync`, the demo also runs the platform simulators and syncs the demo school from them. */
  constructor(
    private readonly deps: {
      pool: Pool; clock: Clock; logger: Logger; adapters: AdapterRegistry; sync?: Pick<SyncService, 'connections' | 'queue' | 'targets'>;
      /** With it, the demo also runs the delivery simulators (SMTP, Telegram, SMSC) and the school's providers point at them. */
      box?: SecretBox;
      /** With it, the teachers get their digest as soon as the platforms' first syncs have been checked. */
      notify?: { teacherDigestNow(schoolId: string, reason: string): Promise<void> };
      /** With it, the demo school gets one account per kind of user, printed at every start (kept under dataDir). */
      accounts?: { users: Users; dataDir: string; url?: () => string | undefined };
      /** With it (and `box`), a local webhook receiver is registered for the demo school and shows the signed deliveries. */
      webhooks?: boolean;
    },
    private readonly settings: DemoSettings,
  ) {}

  state(): DemoState {
    return this.current;
  }

  async start(): Promise<void> {
    const wanted = this.settings.mode === 'on' || (this.settings.mode === 'auto' && !(await hasSchools(this.deps.pool)));
    if (wanted) this.running = this.load();
    else if (this.settings.mode !== 'off') this.running = this.resumePlatforms().then(() => this.announceAccounts(undefined)).catch((error: unknown) => {
      this.current = { status: 'failed', error: describeError(error) };
    });
  }

  /** Resolves when the demo is loaded (or failed, or was never wanted). */
  loaded(): Promise<void> {
    return this.running;
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
    await this.correcting;
    await this.platforms?.close();
    await this.channels?.close();
    await this.receiver?.close();
  }

  /** What the demo's delivery simulators received (GET /v1/demo/outbox); empty without them. */
  outbox(): DemoOutbox & { webhooks: ReceivedWebhook[] } {
    return { ...(this.channels?.outbox() ?? { email: [], telegram: [], sms: [] }), webhooks: this.receiver?.deliveries() ?? [] };
  }

  /** The current school year up to today (the generated school lives in Moscow time). */
  private options() {
    const { from, to } = schoolYearSoFar('Europe/Moscow', this.deps.clock.now());
    return { seed: this.settings.seed, pupils: this.settings.pupils, year: Number(from.slice(0, 4)), until: to };
  }

  /**
   * A restart of a process whose database already holds the demo school: the school is there, and its
   * simulators come back — so the demo is `loading` until they have, then `ready`, as after a first
   * load. A database without the demo school keeps the demo `off`.
   */
  private async resumePlatforms(): Promise<void> {
    const { rows } = await this.deps.pool.query<{ school_id: string }>(`SELECT school_id::text FROM connection WHERE platform = 'demo' ORDER BY created_at LIMIT 1`);
    if (!rows[0]) return;
    this.current = { status: 'loading' };
    await this.startPlatforms(this.options(), rows[0].school_id);
    this.current = { status: 'ready' };
  }

  /**
   * The platform simulators and the demo school's connections to them; without them the demo still has its
   * own source. The planted silent corrections are served once every platform has synced the original
   * values (at once after a restart where they had); their scheduled syncs re-read the last days and see them.
   */
  private async startPlatforms(options: ReturnType<DemoRunner['options']>, schoolId: string): Promise<void> {
    if (this.deps.box && !this.abort.signal.aborted && !this.channels) {
      try {
        this.channels = await startDemoChannels({ ...this.deps, box: this.deps.box, targets: this.deps.sync?.targets }, schoolId);
      } catch (error) {
        this.deps.logger.warn({ error: describeError(error) }, 'the demo delivery simulators did not start');
      }
    }
    if (!this.deps.sync || this.abort.signal.aborted) return;
    if (this.deps.webhooks && this.deps.box && !this.receiver) {
      try {
        this.receiver = await startDemoWebhooks(this.deps.pool, this.deps.box, this.deps.sync.targets, schoolId);
      } catch (error) {
        this.deps.logger.warn({ error: describeError(error) }, 'the demo webhook receiver did not start');
      }
    }
    try {
      const electronic = plantDiscrepancies(generateSchool(options)).electronic;
      this.platforms = await startDemoPlatforms({ ...this.deps, sync: this.deps.sync }, electronic, schoolId);
      this.correcting = this.correctAfterFirstSyncs(electronic, schoolId);
    } catch (error) {
      this.deps.logger.warn({ error: describeError(error) }, 'the demo platform simulators did not start');
    }
  }

  /** Waits (polling the runs, until the demo stops) for every demo platform's first successful sync, then serves the corrections. */
  private async correctAfterFirstSyncs(electronic: DemoSchool, schoolId: string): Promise<void> {
    try {
      for (;;) {
        const { rows } = await this.deps.pool.query<{ waiting: number }>(
          `SELECT count(*)::int AS waiting FROM connection c WHERE c.school_id = $1 AND c.platform <> 'demo' AND c.title LIKE $2
              AND NOT EXISTS (SELECT 1 FROM sync_run r WHERE r.connection_id = c.id AND r.status = 'succeeded')`,
          [schoolId, `${DEMO_TITLE_PREFIX}%`],
        );
        if (rows[0]!.waiting === 0) break;
        await delay(CORRECTION_POLL_MS, undefined, { signal: this.abort.signal });
      }
      serveCorrections(electronic);
      // Every platform has been read and checked once: the teachers hear of what the checks found.
      await this.deps.notify?.teacherDigestNow(schoolId, 'demo');
      this.deps.logger.info({ days: correctionDays(electronic) }, 'demo: the platforms serve the planted silent corrections from now on');
      this.deps.logger.info('demo: close the first quarter with `npm run cli -- period close --out ./q1 --override "demo"` (or POST /v1/schools/{id}/periods/{periodId}/close …); the platforms then correct one of its marks');
      await this.correctAfterClose(electronic, schoolId);
    } catch (error) {
      if (!this.abort.signal.aborted) this.deps.logger.warn({ error: describeError(error) }, 'demo: the planted silent corrections were not served');
    }
  }

  /**
   * A post-close change to show: once a period of the demo school is locked (the period close, src/archive),
   * the platforms correct one of its marks — as a teacher who edits a closed quarter would — and the
   * printed platform re-reads that day. The change is written (the platforms are the source of truth), the
   * deputy gets a `post_close_change` finding, and the sealed page of that class and subject no longer matches.
   */
  private async correctAfterClose(electronic: DemoSchool, schoolId: string): Promise<void> {
    for (;;) {
      const { rows } = await this.deps.pool.query<{ start_date: string; end_date: string; title: string }>(
        `SELECT p.start_date::text, p.end_date::text, p.title FROM period_close pc JOIN period p ON p.id = pc.period_id
          WHERE pc.school_id = $1 AND pc.status <> 'open' ORDER BY pc.locked_at LIMIT 1`, [schoolId]);
      const locked = rows[0];
      if (locked) {
        const plants = electronic.plants?.electronic;
        const upper = electronic.groups.find((g) => g.kind === 'class' && g.grade >= 5);
        if (!plants || !upper) return;
        let mark: DemoMark | undefined;
        for (const lesson of generateLessons(electronic, { groupIds: [upper.id], from: locked.start_date, to: locked.end_date })) {
          if (lesson.status !== 'held') continue;
          mark = generateLessonFacts(electronic, lesson).marks.find((m) => /^[2-5]$/.test(m.value) && !plants.markValue.has(m.id) && !plants.markCorrected.has(m.id));
          if (mark) break;
        }
        if (!mark) return;
        // The plants' maps are built mutable (plants.ts); the simulators read them on every request.
        (plants.markCorrected as Map<string, { value: string; date: string }>).set(mark.id, { value: mark.value === '5' ? '4' : '5', date: mark.date });
        const { readPrintedSource } = await import('../archive/content.js');
        const printed = await readPrintedSource(this.deps.pool, schoolId);
        if (printed && this.deps.sync) await this.deps.sync.queue.enqueue(printed.id, 'manual', 'range', { range: { from: mark.date, to: mark.date } });
        this.deps.logger.info({ period: locked.title, day: mark.date, connection: printed?.id }, 'demo: the platforms corrected a mark of the locked period; its re-read makes a post-close change');
        return;
      }
      await delay(CORRECTION_POLL_MS * 5, undefined, { signal: this.abort.signal });
    }
  }

  /** Creates (once) and prints the demo's sign-ins: the demo's passwords only, never a real school's. */
  private async announceAccounts(schoolId: string | undefined): Promise<void> {
    const a = this.deps.accounts;
    if (!a) return;
    const accounts = await ensureDemoAccounts(this.deps.pool, a.users, schoolId, a.dataDir);
    if (accounts.length === 0) return;
    const url = a.url?.() ?? 'http://<host>:<port>';
    const lines = accounts.map((x) => `  ${x.role}: login ${x.login}, password ${x.password}`);
    this.deps.logger.info(
      `demo sign-in — the dashboard at ${url}/ (or POST ${url}/v1/auth/login {"login","password"} → a bearer token; or \`npm run cli -- api-keys create --scopes journal:read\`):\n${lines.join('\n')}`,
    );
  }

  private async load(): Promise<void> {
    this.current = { status: 'loading' };
    const started = performance.now();
    try {
      const options = this.options();
      const result = await loadDemoSchool(this.deps, options, { signal: this.abort.signal });
      this.deps.logger.info({ ...result, seconds: Math.round(performance.now() - started) / 1000 }, 'demo school loaded');
      await this.announceAccounts(result.schoolId);
      await pushDemoClub(this.deps, result.schoolId).catch((error: unknown) => {
        this.deps.logger.warn({ error: describeError(error) }, 'demo: the robotics club\'s push failed');
      });
      // Ready once the platforms are connected too.
      await this.startPlatforms(options, result.schoolId);
      this.current = { status: 'ready' };
    } catch (error) {
      this.current = { status: 'failed', error: describeError(error) };
      if (!this.abort.signal.aborted) this.deps.logger.error({ error: describeError(error) }, 'loading the demo school failed');
    }
  }
}
