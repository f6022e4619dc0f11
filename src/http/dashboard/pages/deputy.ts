import type { Pages } from '../pages.js';
import type { DashboardDeps } from '../router.js';
import { registerClose } from './deputy/close.js';
import { registerCompliance } from './deputy/compliance.js';
import { registerReports } from './deputy/reports.js';

/** The deputy pages (see nav.ts for their paths): the compliance monitor, the period close, the reports. */
export function registerDeputyPages(pages: Pages, deps: DashboardDeps): void {
  registerCompliance(pages, deps);
  registerClose(pages, deps);
  registerReports(pages, deps);
}
