import type { Logger } from '../lib/logger.js';
import type { AdapterRegistry } from '../ports/adapter.js';
import type { SimulatorHandle } from '../ports/simulator.js';
import type { SyncService } from '../sync/service.js';
import type { DemoSchool } from './types.js';

/**
 * The demo's platforms: the simulator of every registered adapter serves the demo school on a loopback
 * port, and the demo school gets a connection to each, synced on a schedule by the ordinary sync engine — so
 * what the journal shows of them arrived through the adapters. On a restart the simulators come back on
 * new ports and the connections are pointed at them.
 */
export const DEMO_TITLE_PREFIX = 'Демо · ';
/** Every 30 minutes during the school day, Monday to Saturday (school time zone). */
export const DEMO_SCHEDULE = '0 */30 7-20 * * 1-6';

/** Gentler than the simulators allow: the demo's simulators share the process with the API. */
const DEMO_REQUESTS_PER_SECOND = 200;

export interface DemoPlatforms {
  close(): Promise<void>;
}

export async function startDemoPlatforms(
  deps: { sync: Pick<SyncService, 'connections' | 'queue' | 'targets'>; logger: Logger; adapters: AdapterRegistry },
  school: DemoSchool,
  schoolId: string,
): Promise<DemoPlatforms> {
  const started: SimulatorHandle[] = [];
  const demoConnections = (await deps.sync.connections.list({ schoolId })).filter((c) => c.title.startsWith(DEMO_TITLE_PREFIX));
  try {
    for (const adapter of deps.adapters.values()) {
      const sim = await (await adapter.simulator()).start(school);
      started.push(sim);
      // Loopback http is refused to every connection unless configured: the demo allows exactly the
      // origins of the simulators it started itself (each restart, their new ports), nothing else.
      deps.sync.targets.allowOrigin(sim.url);
      const config = { ...sim.connectionConfig(), requestsPerSecond: DEMO_REQUESTS_PER_SECOND };
      const existing = demoConnections.find((c) => c.platform === adapter.id);
      if (existing) {
        await deps.sync.connections.update(existing.id, { config });
        deps.logger.info({ platform: adapter.id, url: sim.url }, 'demo platform simulator restarted');
        continue;
      }
      const connection = await deps.sync.connections.create({ schoolId, platform: adapter.id, title: `${DEMO_TITLE_PREFIX}${adapter.title} (симулятор)`, config, schedule: DEMO_SCHEDULE }, { check: true });
      await deps.sync.queue.enqueue(connection.id, 'manual', 'full');
      deps.logger.info({ platform: adapter.id, url: sim.url, connectionId: connection.id }, 'demo platform simulator started and its first sync queued');
    }
  } catch (error) {
    await Promise.all(started.map((s) => s.close()));
    throw error;
  }
  return { close: async () => void (await Promise.all(started.map((s) => s.close()))) };
}
