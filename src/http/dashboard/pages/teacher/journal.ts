import type { JournalPage } from '../../../../journal/queries.js';
import { ValidationError } from '../../../../lib/errors.js';
import { IsoDateSchema } from '../../../../ports/records.js';
import { readJournalPageFor } from '../../../routes/journal.js';
import type { PageContext, PageResult } from '../../context.js';
import { html, type Html } from '../../html.js';
import type { Pages } from '../../pages.js';
import type { DashboardDeps } from '../../router.js';
import { journalGrid, lessonsTable } from './grid.js';
import { chooseClass, classOptions, journalOptions, param, subjectOptions, type ClassChoice } from './shared.js';

function dateParam(ctx: PageContext, name: string): string | undefined {
  const v = param(ctx, name);
  if (v !== undefined && !IsoDateSchema.safeParse(v).success) throw new ValidationError(ctx.t('teacher.journal.badDate'));
  return v;
}

/**
 * `/journal`: the class journal page as GET /v1/classes/{id}/journal answers it for the caller (the same
 * access, the same bounded range, the same audit record): pupils × lesson dates, then the lessons' dates,
 * topics and homework; a class and subject of the caller's and a date range to choose.
 */
export function registerJournal(pages: Pages, deps: DashboardDeps): void {
  pages.get('/journal', async (ctx) => journalPage(ctx, deps));
}

async function journalPage(ctx: PageContext, deps: DashboardDeps): Promise<PageResult> {
  const { t } = ctx;
  const choice = await chooseClass(ctx, deps, true);
  const from = dateParam(ctx, 'from');
  const to = dateParam(ctx, 'to');
  const options = journalOptions(deps);
  let page: JournalPage | undefined;
  let problem: string | undefined;
  if (choice.classId && choice.subjectId) {
    try {
      page = await readJournalPageFor(deps.pool, options, ctx.caller, ctx.school.id, choice.classId, { subject: choice.subjectId, from, to });
    } catch (error) {
      // A range wider than a page (or reversed): the form stays, with the reason.
      if (!(error instanceof ValidationError)) throw error;
      problem = t('teacher.journal.badRange', { days: options.maxDays });
    }
  }
  const body = html`<h1>${page ? t('teacher.journal.titleOf', { class: page.class.name, subject: page.subject.name }) : t('teacher.journal.title')}</h1>
    ${selectors(ctx, choice, page?.from ?? from, page?.to ?? to, options.maxDays)}
    ${problem ? html`<p class="error" role="alert" data-error-message>${problem}</p>` : ''}
    ${!choice.classId ? html`<p class="card">${t('teacher.journal.noClasses')}</p>` : ''}
    ${choice.classId && !choice.subjectId ? html`<p class="card">${t('teacher.journal.noSubjects')}</p>` : ''}
    ${page ? html`
      <h2>${t('teacher.journal.marks')}</h2>
      ${journalGrid(ctx, page)}
      <h2>${t('teacher.journal.lessons')}</h2>
      ${lessonsTable(ctx, page)}` : ''}`;
  return { title: t('teacher.journal.title'), body };
}

function selectors(ctx: PageContext, choice: ClassChoice, from: string | undefined, to: string | undefined, maxDays: number): Html {
  const { t } = ctx;
  return html`<form method="get" action="/journal" class="filters teacher-filters" aria-label="${t('form.filter')}">
    ${classOptions(ctx, choice, false)}
    ${subjectOptions(ctx, choice, false)}
    <label>${t('teacher.journal.from')}<input type="date" name="from" value="${from ?? ''}"></label>
    <label>${t('teacher.journal.to')}<input type="date" name="to" value="${to ?? ''}"></label>
    <button type="submit">${t('form.apply')}</button>
    <span class="muted">${t('teacher.journal.maxDays', { count: maxDays })}</span>
  </form>`;
}
