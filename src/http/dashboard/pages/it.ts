import type { Pages } from '../pages.js';
import type { DashboardDeps } from '../router.js';

/** The it pages (see nav.ts for their paths). */
export function registerItPages(_pages: Pages, _deps: DashboardDeps): void {
}
