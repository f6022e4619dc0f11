import { actorOf } from '../../../../auth/caller.js';
import { ValidationError } from '../../../../lib/errors.js';
import { listContacts } from '../../../../notify/service.js';
import { createLinkToken } from '../../../../notify/telegram-link.js';
import type { PageContext, PageResult } from '../../context.js';
import { html, type Html } from '../../html.js';
import type { DashboardDeps } from '../../router.js';
import { ownPerson } from './preferences.js';

interface Issued { token: string; url: string; expiresAt: Date }

/**
 * `/parent/telegram`: whether the parent's chat is linked, and a one-time link code (POST: the notify
 * engine's createLinkToken, as POST /v1/people/{personId}/telegram-link issues it) shown once with what to do
 * with it — open the deep link, or send `/start <code>` to the school's bot. The code is never put in a URL
 * of ours, so the answer to the POST is the page itself.
 */
export async function telegramPage(ctx: PageContext, deps: DashboardDeps): Promise<PageResult> {
  return render(ctx, deps, undefined, false);
}

export async function issueTelegramCode(ctx: PageContext, deps: DashboardDeps): Promise<PageResult> {
  const personId = await ownPerson(ctx, deps);
  try {
    const link = await createLinkToken(deps.pool, deps.clock, { schoolId: ctx.school.id, personId, createdBy: actorOf(ctx.caller) });
    return await render(ctx, deps, link, false);
  } catch (error) {
    // The one refusal a parent can meet: the school has no bot yet.
    if (error instanceof ValidationError) return render(ctx, deps, undefined, true);
    throw error;
  }
}

async function render(ctx: PageContext, deps: DashboardDeps, issued: Issued | undefined, noBot: boolean): Promise<PageResult> {
  const personId = await ownPerson(ctx, deps);
  const { t } = ctx;
  const linked = (await listContacts(deps.pool, personId)).some((c) => c.channel === 'telegram' && c.usable);
  const body = html`<h1>${t('parent.telegram.title')}</h1>
    <p>${t('parent.telegram.intro')}</p>
    <p class="${linked ? 'notice' : 'muted'}" data-linked="${linked ? 'yes' : 'no'}">${linked ? t('parent.telegram.linked') : t('parent.telegram.notLinked')}</p>
    ${noBot ? html`<p class="warning" role="alert" data-no-bot>${t('parent.telegram.noBot')}</p>` : ''}
    ${issued ? code(ctx, issued) : ''}
    <form method="post" action="/parent/telegram" class="actions">
      <button type="submit"${issued ? html` class="secondary"` : ''}>${issued ? t('parent.telegram.again') : t('parent.telegram.get')}</button></form>
    <p class="muted">${t('parent.telegram.commands')}</p>`;
  return { title: t('parent.telegram.title'), body, current: '/parent/telegram' };
}

function code(ctx: PageContext, issued: Issued): Html {
  const { t, fmt } = ctx;
  const bot = new URL(issued.url).pathname.replace(/^\//, '');
  const message = `/start ${issued.token}`;
  return html`<section class="card pw-code" aria-live="polite">
    <ol class="steps">
      <li>${t('parent.telegram.step1')}<br><a class="button" href="${issued.url}" rel="noopener" data-link>${t('parent.telegram.open', { bot })}</a></li>
      <li>${t('parent.telegram.step2', { bot })}
        <label class="pw-message">${t('parent.telegram.message')}<input type="text" readonly value="${message}" data-code="${issued.token}" spellcheck="false"></label></li>
      <li>${t('parent.telegram.step3')}</li>
    </ol>
    <p class="muted">${t('parent.telegram.expires', { time: fmt.dateTime(issued.expiresAt) })}</p>
  </section>`;
}
