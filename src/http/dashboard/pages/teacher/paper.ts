import { listDiscrepancies } from '../../../../checks/discrepancies.js';
import { readSchoolSources } from '../../../../journal/queries.js';
import { ValidationError } from '../../../../lib/errors.js';
import { MAX_PAPER_BYTES, type PaperFormat, type PaperImportResult } from '../../../../paper/import.js';
import { inboxOf } from '../../../routes/discrepancies.js';
import { importPaperAs, subjectPage, XLSX_TYPE } from '../../../routes/paper.js';
import type { PageContext, PageResult } from '../../context.js';
import { html, query, type Html } from '../../html.js';
import type { Pages } from '../../pages.js';
import type { DashboardDeps } from '../../router.js';
import { fieldOf, readMultipart } from './multipart.js';
import { badge, chooseClass, classOptions, idParam, severityKey, statusKey, subjectOptions, type ClassChoice } from './shared.js';

/** The form's own fields beside the file (a few hundred bytes). */
const FORM_OVERHEAD = 64 * 1024;

/**
 * `/paper`: the paper template of a class × subject (links straight to GET /v1/classes/{id}/paper-template,
 * the session cookie authenticates them), and the filled file's upload: a multipart form whose file goes to
 * the same import as POST /v1/classes/{id}/paper, answered with the import's report.
 */
export function registerPaper(pages: Pages, deps: DashboardDeps): void {
  pages.get('/paper', async (ctx) => paperPage(ctx, deps));
  pages.post('/paper', async (ctx) => importPage(ctx, deps));
  pages.get('/paper/findings', async (ctx) => {
    const classId = idParam(typeof ctx.req.query.class === 'string' ? ctx.req.query.class : undefined, 'class');
    const subjectId = idParam(typeof ctx.req.query.subject === 'string' ? ctx.req.query.subject : undefined, 'subject');
    if (!classId || !subjectId) throw new ValidationError('class and subject are required');
    const fragment = await findings(ctx, deps, classId, subjectId);
    return { title: ctx.t('teacher.paper.findings'), body: fragment, fragment };
  });
}

async function paperPage(ctx: PageContext, deps: DashboardDeps): Promise<PageResult> {
  const { t } = ctx;
  const choice = await chooseClass(ctx, deps, true);
  let page: Html = html``;
  if (choice.classId && choice.subjectId) {
    // The page of a class the caller may write (records:write), as the import route checks it.
    await subjectPage(deps.pool, ctx.caller, choice.classId, choice.subjectId, 'records:write');
    page = html`${await downloads(ctx, deps, choice.classId, choice.subjectId)}${uploadForm(ctx, choice.classId, choice.subjectId)}`;
  }
  const body = html`<h1>${t('teacher.paper.title')}</h1>
    <p class="muted">${t('teacher.paper.intro')}</p>
    ${selectors(ctx, choice)}
    ${!choice.classId || !choice.subjectId ? html`<p class="card">${t('teacher.journal.noSubjects')}</p>` : page}`;
  return { title: t('teacher.paper.title'), body };
}

function selectors(ctx: PageContext, choice: ClassChoice): Html {
  return html`<form method="get" action="/paper" class="filters teacher-filters" aria-label="${ctx.t('form.filter')}">
    ${classOptions(ctx, choice, false)}${subjectOptions(ctx, choice, false)}<button type="submit">${ctx.t('form.apply')}</button>
  </form>`;
}

async function downloads(ctx: PageContext, deps: DashboardDeps, classId: string, subjectId: string): Promise<Html> {
  const { t } = ctx;
  const sources = (await readSchoolSources(deps.pool, ctx.school.id)).list;
  const link = (format: 'xlsx' | 'csv', prefill?: string) => `/v1/classes/${classId}/paper-template${query({ subject: subjectId, format, prefill })}`;
  const pair = (prefill?: string) => html`<a class="button secondary" href="${link('xlsx', prefill)}" download data-format="xlsx">XLSX</a>
    <a class="button secondary" href="${link('csv', prefill)}" download data-format="csv">CSV</a>`;
  return html`<section class="card teacher-card" aria-labelledby="download"><h2 id="download">${t('teacher.paper.download')}</h2>
    <div class="table-wrap"><table data-templates>
      <thead><tr><th scope="col">${t('teacher.paper.template')}</th><th scope="col">${t('form.download')}</th></tr></thead>
      <tbody>
        <tr data-prefill=""><th scope="row">${t('teacher.paper.blank')}</th><td><div class="actions">${pair()}</div></td></tr>
        ${sources.map((s) => html`<tr data-prefill="${s.id}"><th scope="row">${t('teacher.paper.prefilled', { source: s.title })}</th><td><div class="actions">${pair(s.id)}</div></td></tr>`)}
      </tbody>
    </table></div>
  </section>`;
}

function uploadForm(ctx: PageContext, classId: string, subjectId: string): Html {
  const { t } = ctx;
  return html`<section class="card teacher-card" aria-labelledby="upload"><h2 id="upload">${t('teacher.paper.upload')}</h2>
    <form method="post" action="/paper" enctype="multipart/form-data" class="stack">
      <input type="hidden" name="class" value="${classId}"><input type="hidden" name="subject" value="${subjectId}">
      <label>${t('teacher.paper.file')}<input type="file" name="file" required accept=".xlsx,.csv,${XLSX_TYPE},text/csv"></label>
      <p class="muted">${t('teacher.paper.fileHint', { mb: Math.round(MAX_PAPER_BYTES / 1024 / 1024) })}</p>
      <div><button type="submit">${t('form.upload')}</button></div>
    </form>
  </section>`;
}

/** The file's format: its declared type, else its name's extension. */
function formatOf(ctx: PageContext, filename: string | undefined, type: string | undefined): PaperFormat {
  if (type === XLSX_TYPE || /\.xlsx$/i.test(filename ?? '')) return 'xlsx';
  if (type === 'text/csv' || type === 'application/csv' || /\.csv$/i.test(filename ?? '')) return 'csv';
  throw new ValidationError(ctx.t('teacher.paper.badFormat'));
}

async function importPage(ctx: PageContext, deps: DashboardDeps): Promise<PageResult> {
  const { t } = ctx;
  const parts = await readMultipart(ctx.req, MAX_PAPER_BYTES + FORM_OVERHEAD);
  const classId = idParam(fieldOf(parts, 'class'), 'class');
  const subjectId = idParam(fieldOf(parts, 'subject'), 'subject');
  if (!classId || !subjectId) throw new ValidationError(ctx.t('teacher.paper.noPage'));
  const file = parts.find((p) => p.name === 'file' && p.filename !== undefined);
  if (!file || file.data.length === 0) throw new ValidationError(t('teacher.paper.noFile'));
  const result = await importPaperAs({ pool: deps.pool, clock: deps.clock }, ctx.caller, {
    classId, subjectId, format: () => formatOf(ctx, file.filename, file.contentType), body: file.data,
  });
  const back = `/paper${query({ class: classId, subject: subjectId })}`;
  const body = html`<p><a href="${back}">${t('teacher.paper.back')}</a></p>
    <h1>${t('teacher.paper.report')}</h1>
    <p class="notice" role="status">${t('teacher.paper.imported', { name: file.filename ?? '' })}</p>
    ${report(ctx, result)}
    ${await findings(ctx, deps, classId, subjectId)}`;
  return { title: t('teacher.paper.report'), body, current: '/paper' };
}

function report(ctx: PageContext, result: PaperImportResult): Html {
  const { t, fmt } = ctx;
  const counts = ['read', 'created', 'changed', 'removed', 'unchanged', 'rejected'] as const;
  return html`<section class="card teacher-card" aria-labelledby="counts" data-report><h2 id="counts">${t('teacher.paper.written')}</h2>
    <dl class="facts">
      ${counts.map((k) => html`<dt>${t(`teacher.paper.cells.${k}`)}</dt><dd data-count="${k}">${fmt.number(result.cells[k])}</dd>`)}
      <dt>${t('teacher.paper.events')}</dt><dd data-count="events">${fmt.number(result.events)}</dd>
    </dl>
  </section>
  <section aria-labelledby="rejected"><h2 id="rejected">${t('teacher.paper.rejected')}</h2>
    ${result.rejections.length === 0 ? html`<p class="muted" data-no-rejections>${t('teacher.paper.noRejections')}</p>` : html`
      <div class="table-wrap"><table data-rejections>
        <thead><tr><th scope="col">${t('teacher.paper.cell')}</th><th scope="col">${t('teacher.paper.reason')}</th></tr></thead>
        <tbody>${result.rejections.map((r) => html`<tr><td>${r.cell}</td><td>${r.reason}</td></tr>`)}</tbody>
      </table></div>`}
  </section>`;
}

/**
 * The open paper discrepancies of the page, as the caller's inbox lists them. The checks find them after
 * the import (the event feed wakes them), so the list refreshes itself until the caller leaves.
 */
async function findings(ctx: PageContext, deps: DashboardDeps, classId: string, subjectId: string): Promise<Html> {
  const { t, fmt } = ctx;
  const inbox = await inboxOf(deps.pool, ctx.caller, ctx.school.id);
  const list = await listDiscrepancies(deps.pool, { schoolId: ctx.school.id, ...inbox, classId, subjectId, kind: 'paper', status: ['open', 'acknowledged'], limit: 50 });
  const inboxLink = `/inbox${query({ class: classId, subject: subjectId })}`;
  return html`<section id="paper-findings" aria-labelledby="findings" aria-live="polite" data-findings
      hx-get="/paper/findings${query({ class: classId, subject: subjectId })}" hx-trigger="every 5s" hx-swap="outerHTML">
    <h2 id="findings">${t('teacher.paper.findings')}</h2>
    <p class="muted">${t('teacher.paper.findingsIntro')} <a href="${inboxLink}">${t('teacher.paper.toInbox')}</a></p>
    ${list.items.length === 0 ? html`<p class="muted">${t('teacher.paper.noFindings')}</p>` : html`
      <div class="table-wrap"><table>
        <thead><tr><th scope="col">${t('teacher.inbox.severity')}</th><th scope="col">${t('teacher.inbox.rule')}</th><th scope="col">${t('teacher.inbox.day')}</th><th scope="col">${t('teacher.filter.status')}</th></tr></thead>
        <tbody>${list.items.map((d) => html`<tr data-discrepancy="${d.id}"><td>${badge(ctx, d.severity, severityKey(d.severity))}</td>
          <td><a href="/inbox/${d.id}">${d.title ?? d.rule}</a></td><td>${fmt.date(d.day)}</td><td>${badge(ctx, d.status, statusKey(d.status))}</td></tr>`)}</tbody>
      </table></div>`}
  </section>`;
}
