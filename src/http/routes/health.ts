import { Router } from 'express';
import type { Pool } from '../../db/pool.js';
import { readCounts } from '../../journal/counts.js';
import type { SyncHealth } from '../../sync/alerts.js';
import type { components } from '../openapi.js';

type Health = components['schemas']['Health'];
export type DemoStatus = NonNullable<Health['demo']>;

export interface HealthDeps {
  pool: Pool;
  embedded: boolean;
  demoStatus(): DemoStatus;
  /** Alerts and dead letters, where this process runs the sync engine. */
  syncHealth?(): Promise<SyncHealth>;
}

/** GET /health: 200 while the database answers, 503 when it does not. */
export function healthRouter(deps: HealthDeps): Router {
  const router = Router();
  router.get('/health', async (_req, res) => {
    const started = performance.now();
    let body: Health;
    try {
      const counts = await readCounts(deps.pool);
      body = {
        status: 'ok',
        database: { status: 'up', embedded: deps.embedded, latencyMs: Math.round(performance.now() - started) },
        counts,
        sync: await deps.syncHealth?.(),
        demo: deps.demoStatus(),
      };
    } catch (error) {
      body = { status: 'degraded', database: { status: 'down', embedded: deps.embedded, error: (error as Error).message }, demo: deps.demoStatus() };
    }
    res.status(body.status === 'ok' ? 200 : 503).json(body);
  });
  return router;
}
