import type { Pages } from '../pages.js';
import type { DashboardDeps } from '../router.js';

/** The teacher pages (see nav.ts for their paths). */
export function registerTeacherPages(_pages: Pages, _deps: DashboardDeps): void {
}
