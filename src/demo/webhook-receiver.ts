import { createServer, type Server } from 'node:http';
import { Webhook } from 'standardwebhooks';
import type { Pool } from '../db/pool.js';
import type { TargetPolicy } from '../lib/net-targets.js';
import type { SecretBox } from '../lib/secret-box.js';
import { createEndpoint } from '../webhooks/endpoints.js';
import { readAllowedTargets, writeAllowedTargets } from '../webhooks/targets.js';

/** One delivery the demo receiver took, and whether its signature checked out. */
export interface ReceivedWebhook {
  webhookId: string;
  timestamp: string;
  verified: boolean;
  error?: string;
  payload: unknown;
  receivedAt: string;
}

/** Deliveries kept (the newest). */
const KEEP = 200;

/**
 * The demo's webhook receiver: a local HTTP server (port 0) standing in for another school system. It
 * verifies each delivery with the `standardwebhooks` package — as a real receiver would — answers 204,
 * and keeps the last deliveries for GET /v1/demo/outbox.
 */
export class DemoWebhookReceiver {
  private readonly received: ReceivedWebhook[] = [];
  private secret?: string;

  private readonly server: Server;
  url = '';

  private constructor() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        this.take(Buffer.concat(chunks).toString('utf8'), req.headers as Record<string, string>);
        res.statusCode = 204;
        res.end();
      });
    });
  }

  static async start(): Promise<DemoWebhookReceiver> {
    const receiver = new DemoWebhookReceiver();
    await new Promise<void>((resolve) => receiver.server.listen(0, '127.0.0.1', resolve));
    const address = receiver.server.address();
    receiver.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/webhooks`;
    return receiver;
  }

  /** The endpoint's secret, once it is registered. */
  useSecret(secret: string): void {
    this.secret = secret;
  }

  deliveries(): ReceivedWebhook[] {
    return [...this.received];
  }

  private take(body: string, headers: Record<string, string>): void {
    let verified = false;
    let error: string | undefined;
    try {
      if (!this.secret) throw new Error('no secret yet');
      new Webhook(this.secret).verify(body, headers);
      verified = true;
    } catch (e) {
      error = (e as Error).message;
    }
    let payload: unknown;
    try {
      payload = JSON.parse(body) as unknown;
    } catch {
      payload = null;
    }
    this.received.push({ webhookId: headers['webhook-id'] ?? '', timestamp: headers['webhook-timestamp'] ?? '', verified, error, payload, receivedAt: new Date().toISOString() });
    if (this.received.length > KEEP) this.received.shift();
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * What the demo subscribes to: the sync's absences and period marks, and the planted discrepancies. Not
 * every mark or lesson: a first full sync of a year would send tens of thousands of deliveries to a
 * receiver that only shows them (a school's own endpoint subscribes to what it needs).
 */
const DEMO_EVENT_TYPES = ['attendance.*', 'period_mark.*', 'discrepancy.*', 'sync_run.failed'];

/** How the demo's endpoint is told from a school's own. */
export const DEMO_WEBHOOK_DESCRIPTION = 'demo receiver (local)';

/**
 * The receiver, allow-listed for the demo school (it is a private, loopback target) and registered for
 * DEMO_EVENT_TYPES. A restart listens on a new port: the previous demo endpoint is deleted first.
 */
export async function startDemoWebhooks(pool: Pool, box: SecretBox, targets: TargetPolicy, schoolId: string): Promise<DemoWebhookReceiver> {
  const receiver = await DemoWebhookReceiver.start();
  try {
    const origin = new URL(receiver.url).origin;
    const entries = (await readAllowedTargets(pool, schoolId)).filter((e) => !e.startsWith('http://127.0.0.1:'));
    await writeAllowedTargets(pool, schoolId, [...entries, origin]);
    await pool.query(`UPDATE webhook_endpoint SET deleted_at = now(), status = 'disabled', disabled_reason = 'deleted' WHERE school_id = $1 AND description = $2 AND deleted_at IS NULL`,
      [schoolId, DEMO_WEBHOOK_DESCRIPTION]);
    const endpoint = await createEndpoint(pool, box, targets, schoolId, { url: receiver.url, eventTypes: DEMO_EVENT_TYPES, description: DEMO_WEBHOOK_DESCRIPTION });
    receiver.useSecret(endpoint.secret);
    return receiver;
  } catch (error) {
    await receiver.close();
    throw error;
  }
}
