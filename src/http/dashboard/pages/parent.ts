import type { Pages } from '../pages.js';
import type { DashboardDeps } from '../router.js';

/** The parent pages (see nav.ts for their paths). */
export function registerParentPages(_pages: Pages, _deps: DashboardDeps): void {
}
