import { accessPerson } from '../../../../auth/access.js';
import { actorOf, permit } from '../../../../auth/caller.js';
import { CHANNELS, PURPOSES, type Channel } from '../../../../notify/policy.js';
import { getPolicy, getPreferences, grantConsent, listConsents, listContacts, putPreferences, withdrawConsent } from '../../../../notify/service.js';
import type { PageContext, PageResult } from '../../context.js';
import { html, type Html } from '../../html.js';
import type { DashboardDeps } from '../../router.js';
import { labelOf, parentOf } from './shared.js';

/**
 * `/parent/preferences`: the parent's own notification preferences (channel order, marks at once / in a
 * digest / off, language) and consents per channel and purpose, with the school's quiet hours and digest
 * times — through the notify service the API's /v1/people/{personId}/… routes call, under the same
 * access rule (accessPerson with notifications:manage: the person themselves).
 */
export async function preferencesPage(ctx: PageContext, deps: DashboardDeps): Promise<PageResult> {
  const personId = await ownPerson(ctx, deps);
  const { t, fmt } = ctx;
  permit(ctx.caller, ctx.school.id, 'notifications:manage');
  const [prefs, consents, contacts, policy] = await Promise.all([
    getPreferences(deps.pool, personId), listConsents(deps.pool, personId), listContacts(deps.pool, personId), getPolicy(deps.pool, ctx.school.id),
  ]);
  const order: readonly (Channel | '')[] = prefs.channels ?? policy.channels;
  const active = consents.filter((c) => c.withdrawnAt === null);
  const mode = (m: string) => (m === 'digest' ? t('parent.prefs.mode.digest', { at: policy.digestAt }) : labelOf(ctx, 'parent.prefs.mode', m));
  const channelSelect = (n: number) => html`<label>${t('parent.prefs.position', { n: n + 1 })}<select name="channel${n + 1}">
      <option value="">${t('parent.prefs.none')}</option>
      ${CHANNELS.map((c) => html`<option value="${c}"${order[n] === c ? html` selected` : ''}>${labelOf(ctx, 'parent.channel', c)}</option>`)}</select></label>`;
  const body = html`<h1>${t('parent.prefs.title')}</h1>
    <p class="muted">${t('parent.prefs.intro')}</p>
    ${policy.enabled ? '' : html`<p class="warning">${t('parent.prefs.off')}</p>`}
    <form method="post" action="/parent/preferences" class="card stack" id="prefs">
      <fieldset class="pw-channels"><legend>${t('parent.prefs.channels')}</legend>
        <div class="actions">${[0, 1, 2].map(channelSelect)}</div>
        <p class="muted">${t('parent.prefs.channelsHelp')}</p></fieldset>
      <label>${t('parent.prefs.marks')}<select name="marks">
        <option value="">${t('parent.prefs.marksSchool')} (${mode(policy.marks)})</option>
        ${(['instant', 'digest', 'off'] as const).map((m) => html`<option value="${m}"${prefs.marks === m ? html` selected` : ''}>${mode(m)}</option>`)}</select></label>
      <label>${t('parent.prefs.language')}<select name="language">
        <option value="">${t('parent.prefs.languageSchool')} (${t(`lang.${policy.language}`)})</option>
        ${(['ru', 'ky'] as const).map((l) => html`<option value="${l}"${prefs.language === l ? html` selected` : ''}>${t(`lang.${l}`)}</option>`)}</select></label>
      <div class="actions"><button type="submit">${t('form.save')}</button></div>
    </form>
    <h2>${t('parent.consents.title')}</h2>
    <p class="muted">${t('parent.consents.help')}</p>
    <form method="post" action="/parent/consents" id="consents">
      <div class="table-wrap"><table class="pw-consents">
        <thead><tr><th scope="col">${t('parent.consents.channel')}</th>${PURPOSES.map((p) => html`<th scope="col">${labelOf(ctx, 'parent.purpose', p)}</th>`)}</tr></thead>
        <tbody>${CHANNELS.map((c) => html`<tr><th scope="row">${labelOf(ctx, 'parent.channel', c)}</th>${PURPOSES.map((p) => {
          const given = active.find((x) => x.channel === c && x.purpose === p);
          return html`<td><label class="check"><input type="checkbox" name="consent" value="${c}:${p}"${given ? html` checked` : ''}>
            <span class="sr">${labelOf(ctx, 'parent.channel', c)}: ${labelOf(ctx, 'parent.purpose', p)}</span>
            ${given ? html`<small class="muted" title="${t('parent.consents.given')}">${fmt.date(given.grantedAt)}</small>` : ''}</label></td>`;
        })}</tr>`)}</tbody>
      </table></div>
      <div class="actions"><button type="submit">${t('parent.consents.save')}</button></div>
    </form>
    <h2>${t('parent.contacts.title')}</h2>
    <dl class="facts card">${CHANNELS.map((c) => {
      const mine = contacts.filter((x) => x.channel === c);
      return html`<dt>${labelOf(ctx, 'parent.channel', c)}</dt><dd>${mine.length === 0 ? html`<span class="muted">${t('parent.contacts.none')}</span>`
        : mine.map((x) => html`<span class="pw-contact">${c === 'telegram' ? 'Telegram' : x.address}${x.usable ? '' : html` <span class="badge warn">${t('parent.contacts.unusable')}</span>`}</span> `)}</dd>`;
    })}</dl>
    <p class="muted">${t('parent.contacts.help')}</p>
    <h2>${t('parent.prefs.school')}</h2>
    ${schoolRules(ctx, policy)}`;
  return { title: t('parent.prefs.title'), body };
}

function schoolRules(ctx: PageContext, policy: Awaited<ReturnType<typeof getPolicy>>): Html {
  const { t } = ctx;
  return html`<dl class="facts card">
    <dt>${t('parent.prefs.quiet')}</dt><dd>${t('parent.prefs.quietValue', { from: policy.quietHours.from, to: policy.quietHours.to })}</dd>
    <dt>${t('parent.prefs.schoolMarks')}</dt><dd>${policy.marks === 'digest' ? t('parent.prefs.mode.digest', { at: policy.digestAt }) : labelOf(ctx, 'parent.prefs.mode', policy.marks)}</dd>
    <dt>${t('parent.prefs.report')}</dt><dd>${policy.report.enabled ? t('parent.prefs.reportValue', { days: policy.report.everyDays, at: policy.report.at }) : t('parent.prefs.reportOff')}</dd>
  </dl>`;
}

/** POST /parent/preferences: the form's choices, as PUT /v1/people/{personId}/notify-preferences takes them. */
export async function savePreferences(ctx: PageContext, deps: DashboardDeps): Promise<string> {
  const personId = await ownPerson(ctx, deps);
  const form = ctx.req.body as Record<string, unknown>;
  const picked = [form.channel1, form.channel2, form.channel3].filter((c): c is string => typeof c === 'string' && c !== '');
  const channels = [...new Set(picked)];
  const current = await getPreferences(deps.pool, personId);
  const schoolOrder = (await getPolicy(deps.pool, ctx.school.id)).channels;
  // Left as the school's order, an unset choice stays unset (it follows the school's later changes).
  const keep = current.channels === null && channels.join(',') === schoolOrder.join(',');
  const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : null);
  await putPreferences(deps.pool, personId, { ...(keep ? {} : { channels }), marks: text(form.marks), language: text(form.language) });
  return '/parent/preferences?notice=parent.prefs.saved';
}

/** POST /parent/consents: each channel's ticked purposes granted (a web form, by the parent), the unticked ones withdrawn. */
export async function saveConsents(ctx: PageContext, deps: DashboardDeps): Promise<string> {
  const personId = await ownPerson(ctx, deps);
  const raw = (ctx.req.body as Record<string, unknown>).consent;
  const ticked = new Set((Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).map(String));
  const active = (await listConsents(deps.pool, personId)).filter((c) => c.withdrawnAt === null);
  const by = `${actorOf(ctx.caller)} (dashboard)`;
  for (const channel of CHANNELS) {
    const grant = PURPOSES.filter((p) => ticked.has(`${channel}:${p}`) && !active.some((c) => c.channel === channel && c.purpose === p));
    const withdraw = PURPOSES.filter((p) => !ticked.has(`${channel}:${p}`) && active.some((c) => c.channel === channel && c.purpose === p));
    if (grant.length > 0) await grantConsent(deps.pool, deps.clock, personId, { channel, purposes: grant, method: 'web_form', grantedBy: by });
    if (withdraw.length > 0) await withdrawConsent(deps.pool, deps.clock, personId, { channel, purposes: withdraw, withdrawnBy: by });
  }
  return '/parent/preferences?notice=parent.consents.saved';
}

/** The parent's own journal person, under the API's rule for /v1/people/{personId}/… (the person themselves). */
export async function ownPerson(ctx: PageContext, deps: DashboardDeps): Promise<string> {
  const personId = parentOf(ctx);
  await accessPerson(deps.pool, ctx.caller, personId, 'notifications:manage');
  return personId;
}
