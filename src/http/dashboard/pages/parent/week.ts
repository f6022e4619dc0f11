import type { Child, PupilWeek, WeekLesson } from '../../../../journal/pupil-week.js';
import { NotFoundError } from '../../../../lib/errors.js';
import { answerChildren, answerPupilWeek } from '../../../routes/pupils.js';
import type { PageContext, PageResult } from '../../context.js';
import { html, query, type Html } from '../../html.js';
import type { MessageKey } from '../../messages/index.js';
import type { DashboardDeps } from '../../router.js';
import { labelOf, parentOf, UUID } from './shared.js';

const fullName = (p: { lastName: string; firstName: string }) => `${p.firstName} ${p.lastName}`;

/** `/parent`: the parent's children; with one child, that child's week (the page parents open most, on a phone). */
export async function childrenPage(ctx: PageContext, deps: DashboardDeps): Promise<PageResult> {
  parentOf(ctx);
  const children = await answerChildren(deps.pool, deps.clock, ctx.caller, ctx.school.id);
  if (children.length === 1) return weekPage(ctx, deps, children[0]!.id, children, '/parent');
  const { t } = ctx;
  const body = html`<h1>${t('parent.home.title')}</h1>
    ${children.length === 0 ? html`<p class="card muted">${t('parent.home.none')}</p>` : html`<ul class="cards pw-children">${children.map((c) => html`
      <li class="card"><h2>${fullName(c)}</h2><p class="muted">${t('parent.week.class', { names: c.classes.map((k) => k.name).join(', ') || '—' })}</p>
        <a class="button" href="/parent/children/${c.id}" data-child="${c.id}">${t('parent.home.open')}</a></li>`)}</ul>`}`;
  return { title: t('parent.home.title'), body };
}

/** `/parent/children/:pupilId?week=`: one child's week; another family's child is the 404 page, as the API answers. */
export async function childWeekPage(ctx: PageContext, deps: DashboardDeps): Promise<PageResult> {
  parentOf(ctx);
  const pupilId = String(ctx.req.params.pupilId ?? '');
  if (!UUID.test(pupilId)) throw new NotFoundError(`pupil ${pupilId}`);
  const children = await answerChildren(deps.pool, deps.clock, ctx.caller);
  return weekPage(ctx, deps, pupilId, children, `/parent/children/${pupilId}`);
}

async function weekPage(ctx: PageContext, deps: DashboardDeps, pupilId: string, children: Child[], path: string): Promise<PageResult> {
  const asked = typeof ctx.req.query.week === 'string' ? ctx.req.query.week : undefined;
  const week = await answerPupilWeek(deps.pool, deps.clock, ctx.caller, pupilId, asked);
  const { t } = ctx;
  const name = fullName(week.pupil);
  const lessons = week.days.flatMap((d) => d.lessons);
  const marks = lessons.reduce((n, l) => n + l.marks.length, 0);
  const absences = lessons.filter((l) => l.absence).length;
  const others = children.filter((c) => c.id !== pupilId);
  const body = html`
    ${others.length > 0 ? html`<nav class="pw-others" aria-label="${t('parent.week.others')}"><a href="/parent">${t('parent.week.back')}</a>
      ${others.map((c) => html` · <a href="/parent/children/${c.id}${query({ week: week.from })}">${fullName(c)}</a>`)}</nav>` : ''}
    <h1>${t('parent.week.title', { name })}</h1>
    <p class="muted">${t('parent.week.class', { names: week.classes.map((c) => c.name).join(', ') || '—' })}</p>
    ${weekNav(ctx, week, path)}
    <p class="pw-summary" data-week="${week.from}"><span class="badge info" data-marks="${marks}">${t('parent.week.marks', { count: marks })}</span>
      <span class="badge ${absences > 0 ? 'warn' : ''}" data-absences="${absences}">${t('parent.week.absences', { count: absences })}</span></p>
    ${week.days.map((d, i) => day(ctx, d.date, i + 1, d.lessons))}
    ${weekNav(ctx, week, path, false)}`;
  return { title: t('parent.week.title', { name }), body, current: path.startsWith('/parent/children/') ? '/parent' : undefined };
}

/** The week's range and the links to the weeks around it; at the top also "this week" and a day picker. */
function weekNav(ctx: PageContext, week: PupilWeek, path: string, top = true): Html {
  const { t, fmt } = ctx;
  return html`<nav class="pager pw-weeks" aria-label="${t('parent.week.nav')}">
    ${top ? html`<strong>${t('parent.week.range', { from: fmt.date(week.from), to: fmt.date(week.to) })}</strong>` : ''}
    <a href="${path}${query({ week: week.previous })}" rel="prev">${t('parent.week.previous')}</a>
    <a href="${path}${query({ week: week.next })}" rel="next">${t('parent.week.next')}</a>
    ${top ? html`<a href="${path}">${t('parent.week.current')}</a>
    <form method="get" action="${path}" class="pw-pick"><label>${t('parent.week.pick')}<input type="date" name="week" value="${week.from}" required></label>
      <button type="submit" class="secondary">${t('parent.week.show')}</button></form>` : ''}
  </nav>`;
}

function day(ctx: PageContext, date: string, weekday: number, lessons: WeekLesson[]): Html {
  const { t, fmt } = ctx;
  const today = fmt.today(ctx.now) === date;
  const heading = html`<h2 id="d-${date}">${t(`parent.day.${weekday}` as MessageKey)}, ${fmt.date(date)}${today ? html` <span class="badge info">${t('parent.week.today')}</span>` : ''}</h2>`;
  if (lessons.length === 0) return html`<section class="pw-day pw-empty" data-day="${date}" aria-labelledby="d-${date}">${heading}<p class="muted">${t('parent.week.noLessons')}</p></section>`;
  return html`<section class="pw-day" data-day="${date}" aria-labelledby="d-${date}">${heading}
    <div class="table-wrap"><table class="pw-lessons">
      <colgroup><col class="pw-c-slot"><col class="pw-c-subject"><col class="pw-c-marks"><col class="pw-c-absence"><col class="pw-c-homework"></colgroup>
      <thead><tr><th scope="col" class="num">${t('parent.week.slot')}</th><th scope="col">${t('parent.week.subject')}</th><th scope="col">${t('parent.week.markCol')}</th>
        <th scope="col">${t('parent.week.absenceCol')}</th><th scope="col">${t('parent.week.homework')}</th></tr></thead>
      <tbody>${lessons.map((l) => lesson(ctx, l))}</tbody>
    </table></div></section>`;
}

function lesson(ctx: PageContext, l: WeekLesson): Html {
  const { t } = ctx;
  return html`<tr data-lesson="${l.id}"${l.status === 'cancelled' ? html` class="pw-cancelled"` : ''}>
    <td class="num" data-label="${t('parent.week.slot')}">${l.slot}</td>
    <th scope="row" class="pw-subject"><span>${l.subject.name}</span>
      ${l.topic ? html`<span class="pw-topic muted">${l.topic}</span>` : ''}${l.status === 'cancelled' ? html`<span class="badge warn">${t('parent.week.cancelled')}</span>` : ''}</th>
    <td data-label="${t('parent.week.markCol')}">${l.marks.map((m) => {
      const kind = labelOf(ctx, 'parent.work', m.workCategory);
      // The work's own title when it says more than its kind («Контрольная работа» of a control work does not).
      const work = m.workTitle && m.workTitle.toLowerCase() !== kind.toLowerCase() ? `${kind}: ${m.workTitle}` : kind;
      return html`<span class="pw-mark" data-mark="${m.id}" title="${t('parent.week.markTitle', { value: m.raw, work })}"><b class="badge ${markTone(m.numeric)}">${m.raw}</b>
        <small>${work}${m.weight !== null && m.weight !== 1 ? html`, ${t('parent.week.weight', { weight: ctx.fmt.number(m.weight, 1) })}` : ''}</small></span>`;
    })}</td>
    <td data-label="${t('parent.week.absenceCol')}">${l.absence ? html`<span class="badge ${l.absence.kind === 'unexcused' ? 'bad' : 'warn'}" data-absence="${l.absence.kind}">${l.absence.raw}</span>
      <small>${l.absence.kind === 'late' && l.absence.lateMinutes ? t('parent.week.late', { minutes: l.absence.lateMinutes }) : labelOf(ctx, 'parent.absence', l.absence.kind)}</small>` : ''}</td>
    <td data-label="${t('parent.week.homework')}" class="pw-homework">${l.homework ?? ''}</td>
  </tr>`;
}

/** A mark's colour by its points (five-point scale): 2 and below bad, 3 warn, 4–5 ok; no points, neutral. */
function markTone(numeric: number | null): string {
  if (numeric === null) return '';
  if (numeric < 3) return 'bad';
  if (numeric < 4) return 'warn';
  return 'ok';
}
