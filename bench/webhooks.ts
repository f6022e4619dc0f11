import { createServer } from 'node:http';
import { Webhook } from 'standardwebhooks';
import { APP_ROLE, grantApplicationRole } from '../src/db/roles.js';
import { createPool, withTransaction, type Pool } from '../src/db/pool.js';
import { systemClock } from '../src/lib/clock.js';
import { createLogger } from '../src/lib/logger.js';
import { TargetPolicy } from '../src/lib/net-targets.js';
import { SecretBox } from '../src/lib/secret-box.js';
import { createEndpoint } from '../src/webhooks/endpoints.js';
import { WebhookEngine } from '../src/webhooks/engine.js';
import { writeMessages } from '../src/webhooks/outbox.js';
import { writeAllowedTargets } from '../src/webhooks/targets.js';
import type { Metric } from './metrics.js';

export interface WebhooksBenchOptions {
  pool: Pool;
  /** The application role's connection: the delivery queue (pg-boss's schema is the application's). */
  appUrl: string;
  log(message: string): void;
}

const MESSAGES = Number(process.env.BENCH_WEBHOOK_MESSAGES ?? 2000);
const CONCURRENCY = 16;

/** A loopback receiver that verifies every delivery as a real one would, and counts them by webhook-id. */
async function startReceiver(secret: () => string) {
  const seen = new Map<string, number>();
  let unverified = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        new Webhook(secret()).verify(Buffer.concat(chunks).toString('utf8'), req.headers as Record<string, string>);
      } catch {
        unverified++;
      }
      const id = String(req.headers['webhook-id']);
      seen.set(id, (seen.get(id) ?? 0) + 1);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    origin: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`,
    unique: () => seen.size,
    total: () => [...seen.values()].reduce((s, n) => s + n, 0),
    unverified: () => unverified,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

/**
 * `webhooks.deliveries_per_s`: MESSAGES messages of one school to one endpoint on a loopback receiver
 * that verifies each signature, through the production path — outbox rows and their jobs in one
 * transaction, pg-boss `webhook-deliver`, one engine with 16 deliveries in flight, claim, sign, the SSRF-
 * guarded POST, the attempt recorded — from the commit to the last delivery; with none lost or doubled.
 */
export async function benchWebhooks(o: WebhooksBenchOptions): Promise<Metric[]> {
  const logger = createLogger('warn');
  const box = new SecretBox(Buffer.alloc(32, 9));
  await grantApplicationRole(o.pool, APP_ROLE).catch(() => undefined);
  const app = createPool(o.appUrl, CONCURRENCY + 4);
  let secret = '';
  const receiver = await startReceiver(() => secret);
  const targets = new TargetPolicy();
  const engine = await WebhookEngine.start(app, systemClock, logger, box, targets, {
    delivery: { timeoutMs: 15_000, leaseSeconds: 60, disableAfterSeconds: 432_000 }, concurrency: CONCURRENCY, rotationGraceSeconds: 86_400, sweepSeconds: 3600,
  });
  try {
    const { rows } = await o.pool.query<{ id: string }>(`INSERT INTO school (name, region, time_zone) VALUES ('Bench webhooks', 'bench', 'Europe/Moscow') RETURNING id::text`);
    const schoolId = rows[0]!.id;
    await writeAllowedTargets(app, schoolId, [receiver.origin]);
    secret = (await createEndpoint(app, box, targets, schoolId, { url: `${receiver.origin}/hook`, eventTypes: ['*'] })).secret;
    await engine.work();
    const now = systemClock.now();
    const outgoing = Array.from({ length: MESSAGES }, (_, i) => ({
      eventKey: `bench:${i}`,
      event: { type: 'mark.created', timestamp: now.toISOString(), data: { id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, schoolId, entity: 'mark', op: 'create' } },
    }));
    const t0 = performance.now();
    await withTransaction(app, (client) => writeMessages(client, schoolId, outgoing, now, engine.enqueue));
    while (receiver.unique() < MESSAGES && performance.now() - t0 < 600_000) await new Promise((r) => setTimeout(r, 20));
    const seconds = (performance.now() - t0) / 1000;
    const rate = receiver.unique() / seconds;
    o.log(`${receiver.unique()} of ${MESSAGES} delivered in ${seconds.toFixed(2)} s (${rate.toFixed(1)}/s), ${receiver.total() - receiver.unique()} doubled, ${receiver.unverified()} unverified`);
    return [
      { name: 'webhooks.deliveries_per_s', value: Number(rate.toFixed(1)), unit: '/s' },
      { name: 'webhooks.lost', value: MESSAGES - receiver.unique(), unit: 'messages' },
      { name: 'webhooks.doubled', value: receiver.total() - receiver.unique(), unit: 'messages' },
      { name: 'webhooks.unverified', value: receiver.unverified(), unit: 'messages' },
    ];
  } finally {
    await engine.stop();
    await receiver.close();
    await app.end();
  }
}
