import type { Pages } from '../pages.js';
import type { DashboardDeps } from '../router.js';
import { registerDiscrepancy } from './teacher/discrepancy.js';
import { registerInbox } from './teacher/inbox.js';
import { registerJournal } from './teacher/journal.js';
import { registerPaper } from './teacher/paper.js';

/** The class and subject teachers' pages (nav.ts): the inbox and one discrepancy, the class journal, the paper journal. */
export function registerTeacherPages(pages: Pages, deps: DashboardDeps): void {
  registerInbox(pages, deps);
  registerDiscrepancy(pages, deps);
  registerJournal(pages, deps);
  registerPaper(pages, deps);
}
