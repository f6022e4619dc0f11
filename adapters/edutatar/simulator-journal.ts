import { fullName, numericId, type JournalView } from './simulator-data.js';
import { NBSP, escape, layout } from './simulator-pages.js';

/**
 * The class journal page as the public parsers require it (README.md, "Evidence"; the research's
 * reconstruction INFERRED-school-journal-school_editor.html): `select#term` with numbered options and
 * no dates, `select#criteria` «<class or group>&nbsp;/&nbsp;<subject>», `div.line.last` «Учитель:» and
 * the full name, `table.table` with «№», «Ученики», months, days, lessons (code as text, «Тема: …» /
 * «Задание: …» as title), rows without links — `td.fio` with `login=` in its title, `td.mark` cells,
 * the average (decimal comma) and `td.term-mark.db-border-left > div` — two service rows, and `p.pages`.
 */

export const JOURNAL_URL = '/school/journal/school_editor';

const MONTHS = ['Январь', 'Февраль', 'Март', 'Апрель', 'Май', 'Июнь', 'Июль', 'Август', 'Сентябрь', 'Октябрь', 'Ноябрь', 'Декабрь'];
const TERM_WORDS: Record<string, string> = { quarter: 'четверть', half_year: 'полугодие' };

/** Page links per pager window; `>>` links the next window's first page. */
const WINDOW = 10;

function journalHref(view: JournalView, page: number): string {
  return `${JOURNAL_URL}?term=${view.term.value}&amp;criteria=${view.course.criteria}&amp;edu_class_id=${view.cls.id}&amp;show_moved_pupils=1&amp;page=${page}`;
}

const termText = (view: JournalView, t: JournalView['term']) => `${t.value}${NBSP}${TERM_WORDS[t.period.kind] ?? ''}`;

function filters(view: JournalView): string {
  const option = (value: number, text: string, selected: boolean) => `<option value="${value}"${selected ? ' selected = "selected"' : ''}>${text}</option>`;
  const terms = view.terms.map((t) => option(t.value, termText(view, t), t.value === view.term.value));
  const courses = view.courses.map((c) => option(c.criteria, `${escape(c.group.name)}${NBSP}/${NBSP}${escape(c.subject.name)}`, c.criteria === view.course.criteria));
  return `        <form method="get" action="${JOURNAL_URL}">
          <input type="hidden" name="edu_class_id" value="${view.cls.id}">
          <select id="term" name="term">${terms.join('')}</select>
          <select id="criteria" name="criteria">${courses.join('')}</select>
        </form>`;
}

/** Columns grouped by a key (month or day), in order, as [value, colspan]. */
function spans(view: JournalView, key: (date: string) => string): Array<[string, number]> {
  const out: Array<[string, number]> = [];
  for (const { lesson } of view.columns) {
    const k = key(lesson.date);
    const last = out.at(-1);
    if (last && last[0] === k) last[1] += 1;
    else out.push([k, 1]);
  }
  return out;
}

function journalHead(view: JournalView): string {
  const months = spans(view, (d) => d.slice(0, 7)).map(([m, n]) => `<td colspan="${n}">${MONTHS[Number(m.slice(5)) - 1]}</td>`);
  const days = spans(view, (d) => d).map(([d, n]) => `<td colspan="${n}">${Number(d.slice(8))}</td>`);
  const lessons = view.columns.map(({ lesson, code }) => {
    const title = `Тема: ${lesson.topic}\n\nЗадание: ${lesson.homework}`;
    return `<td title="${escape(title).replace(/\n/g, '&#10;')}">${code}</td>`;
  });
  return `          <thead>
            <tr><td rowspan="3">№</td><td rowspan="3">Ученики</td>${months.join('')}<td rowspan="3">Ср.</td><td rowspan="3">${termText(view, view.term)}</td></tr>
            <tr>${days.join('')}</tr>
            <tr>${lessons.join('')}</tr>
          </thead>`;
}

/** A mark cell: its tokens as text («оп 4»); an empty mark (the malformed fault) as empty elements, the one shape that can carry it. */
function markCell(tokens: string[]): string {
  if (tokens.some((t) => t === '')) return `<td class="mark">${tokens.map((t) => `<div>${escape(t)}</div>`).join('')}</td>`;
  return `<td class="mark">${escape(tokens.join(' '))}</td>`;
}

function journalBody(view: JournalView): string {
  const rows = view.rows.map((row, i) => {
    const login = 4800000000 + (numericId('login', row.pupil.id) % 99999999);
    return `            <tr><td>${i + 1}</td><td class="fio" title="login=${login}">${escape(fullName(row.pupil))}</td>${row.cells.map(markCell).join('')}`
      + `<td class="mark">${row.average}</td><td class="term-mark db-border-left"><div>${escape(row.term)}</div></td></tr>`;
  });
  const width = view.columns.length + 4;
  const service = `            <tr><td colspan="${width}">Отметки о проверке журнала</td></tr>\n            <tr><td colspan="${width}"><input type="submit" value="Сохранить"></td></tr>`;
  return `          <tbody>\n${rows.join('\n')}\n${service}\n          </tbody>`;
}

/** `p.pages`: the window of the current page, the current page as text, the others as links, `>>` to the next window. */
function pager(view: JournalView): string {
  if (view.pages <= 1) return '        <p class="pages"></p>';
  const first = Math.floor((view.page - 1) / WINDOW) * WINDOW + 1;
  const last = Math.min(view.pages, first + WINDOW - 1);
  const links = Array.from({ length: last - first + 1 }, (_, i) => first + i)
    .map((p) => (p === view.page ? `<b>${p}</b>` : `<a href="${journalHref(view, p)}">${p}</a>`));
  if (first > 1) links.unshift(`<a href="${journalHref(view, first - 1)}">&lt;&lt;</a>`);
  if (last < view.pages) links.push(`<a href="${journalHref(view, last + 1)}">&gt;&gt;</a>`);
  return `        <p class="pages">${links.join(' ')}</p>`;
}

export function journalPage(view: JournalView): string {
  const teacher = view.teacher ? `\n        <div class="line last"><span>Учитель:</span> ${escape(fullName(view.teacher))}</div>` : '';
  return layout(`Журнал ${view.cls.group.name}`, `        <div class="h"><h2>Журнал класса ${escape(view.cls.group.name)}</h2></div>
${filters(view)}${teacher}
        <table class="table">
${journalHead(view)}
${journalBody(view)}
        </table>
${pager(view)}`);
}
