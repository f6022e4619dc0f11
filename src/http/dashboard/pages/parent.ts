import type { Pages } from '../pages.js';
import type { DashboardDeps } from '../router.js';
import { preferencesPage, saveConsents, savePreferences } from './parent/preferences.js';
import { issueTelegramCode, telegramPage } from './parent/telegram.js';
import { childWeekPage, childrenPage } from './parent/week.js';

/** The parent pages (see nav.ts for their paths): the children's week, notification preferences and consents, the Telegram link code. */
export function registerParentPages(pages: Pages, deps: DashboardDeps): void {
  pages.get('/parent', (ctx) => childrenPage(ctx, deps));
  pages.get('/parent/children/:pupilId', (ctx) => childWeekPage(ctx, deps));
  pages.get('/parent/preferences', (ctx) => preferencesPage(ctx, deps));
  pages.post('/parent/preferences', (ctx) => savePreferences(ctx, deps));
  pages.post('/parent/consents', (ctx) => saveConsents(ctx, deps));
  pages.get('/parent/telegram', (ctx) => telegramPage(ctx, deps));
  pages.post('/parent/telegram', (ctx) => issueTelegramCode(ctx, deps));
}
