import type { JournalPage } from '../../../../journal/queries.js';
import { formatCell } from '../../../../paper/tokens.js';
import type { PageContext } from '../../context.js';
import { html, type Html } from '../../html.js';

type Row = JournalPage['rows'][number];
type Cell = Row['cells'][number];

/** A cell as the paper writes it: the absence first, then the marks («н», «5 4»). */
export function cellText(cell: { marks: ReadonlyArray<{ raw: string }>; absence: { raw: string } | null }): string {
  return formatCell(cell.marks.map((m) => m.raw), cell.absence?.raw ?? null);
}

export function pupilName(p: Row['pupil']): string {
  return [p.lastName, p.firstName, p.middleName].filter(Boolean).join(' ');
}

/** The cell of one discrepancy (its pupil and lesson), marked on the grid beyond the plain `differs`. */
export interface Focus { pupilId: string | null; lessonId: string | null }

/**
 * The journal grid: pupils × lessons, each cell the shown source's value; a cell another source disagrees
 * with is `differs` and shows each other source's value under it, named.
 */
export function journalGrid(ctx: PageContext, page: JournalPage, focus?: Focus): Html {
  const { t, fmt } = ctx;
  if (page.lessons.length === 0) return html`<p class="muted" data-empty-grid>${t('teacher.journal.noLessons')}</p>`;
  const sourceTitle = new Map(page.sources.map((s) => [s.id, s.title]));
  const groups = new Set(page.lessons.map((l) => l.group.id)).size > 1;
  const head = page.lessons.map((l) => html`<th scope="col" data-lesson="${l.id}" title="${l.topic ?? ''}">${fmt.dayShort(l.date)}${groups ? html`<br><span class="muted">${l.group.name}</span>` : ''}</th>`);
  const cell = (row: Row, c: Cell, i: number) => {
    const lesson = page.lessons[i]!;
    const here = focus?.pupilId === row.pupil.id && focus?.lessonId === lesson.id;
    const differs = c.agreement === 'differ';
    const text = cellText(c);
    const cls = [differs ? 'differs' : '', here ? 'focus' : '', c.absence && c.marks.length === 0 ? 'absent' : ''].filter(Boolean).join(' ');
    const others = differs ? c.others.map((o) => html`<span class="other" data-source="${o.sourceId}">${sourceTitle.get(o.sourceId) ?? o.sourceId}: ${cellText(o) || '—'}</span>`) : '';
    const label = differs ? html`<span class="sr">${t('teacher.grid.differs')}</span>` : '';
    return html`<td class="${cls}" data-pupil="${row.pupil.id}" data-lesson="${lesson.id}"${here ? html` aria-current="true"` : ''}><span class="shown">${text}</span>${others}${label}</td>`;
  };
  const rows = page.rows.map((r) => html`<tr><th scope="row">${pupilName(r.pupil)}</th>${r.cells.map((c, i) => cell(r, c, i))}</tr>`);
  const shown = page.primarySourceId ? sourceTitle.get(page.primarySourceId) ?? '' : '';
  return html`
    <p class="muted">${shown ? t('teacher.grid.shown', { source: shown }) : ''}</p>
    <div class="table-wrap"><table class="grid" data-grid>
      <caption class="sr">${t('teacher.grid.caption', { class: page.class.name, subject: page.subject.name })}</caption>
      <thead><tr><th scope="col">${t('teacher.grid.pupil')}</th>${head}</tr></thead>
      <tbody>${rows}</tbody>
    </table></div>`;
}

/** The lessons' dates, topics and homework (the journal's right-hand page). */
export function lessonsTable(ctx: PageContext, page: JournalPage): Html {
  const { t, fmt } = ctx;
  if (page.lessons.length === 0) return html``;
  return html`<div class="table-wrap"><table data-lessons>
    <thead><tr><th scope="col">${t('teacher.journal.date')}</th><th scope="col">${t('teacher.journal.group')}</th><th scope="col">${t('teacher.journal.topic')}</th>
      <th scope="col">${t('teacher.journal.homework')}</th><th scope="col">${t('teacher.journal.lessonStatus')}</th></tr></thead>
    <tbody>${page.lessons.map((l) => html`<tr data-lesson="${l.id}"><td>${fmt.date(l.date)}</td><td>${l.group.name}</td><td>${l.topic ?? '—'}</td><td>${l.homework ?? '—'}</td>
      <td>${t(`teacher.lesson.${l.status}`)}</td></tr>`)}</tbody>
  </table></div>`;
}
