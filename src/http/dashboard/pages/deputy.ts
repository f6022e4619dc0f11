import type { Pages } from '../pages.js';
import type { DashboardDeps } from '../router.js';

/** The deputy pages (see nav.ts for their paths). */
export function registerDeputyPages(_pages: Pages, _deps: DashboardDeps): void {
}
