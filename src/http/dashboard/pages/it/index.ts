import type { Pages } from '../../pages.js';
import type { DashboardDeps } from '../../router.js';
import { registerAccessPages } from './access.js';
import { registerBackupPages } from './backups.js';
import { registerConnectionPages } from './connections.js';
import { registerRunPages } from './runs.js';
import { registerWebhookPages } from './webhooks.js';

/**
 * The school IT administrator's pages: connections and their health, the adapter's own form, sync now
 * with live progress, runs, dead letters and redrive, webhooks, API keys, users and roles, the school's
 * settings, the backups and restore drills — each on the service the API's route calls, with its permission check.
 */
export function registerItPages(pages: Pages, deps: DashboardDeps): void {
  registerConnectionPages(pages, deps);
  registerRunPages(pages, deps);
  registerWebhookPages(pages, deps);
  registerAccessPages(pages, deps);
  registerBackupPages(pages, deps);
}
