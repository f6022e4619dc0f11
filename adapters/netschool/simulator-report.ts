import { generateLessonFacts, generatePeriodMarks } from '../../src/demo/generator.js';
import type { DemoPeriod, DemoPeriodMark, DemoPupil } from '../../src/demo/types.js';
import { intId, netschoolMark, stamp, type NetSchoolData } from './simulator-data.js';

/**
 * The studenttotal report of the simulator: its filters (`initfilters`, a bare array) and the report
 * file in the captured 5.56 layout (`table.table-print`, «Средн.»/«Итог.» columns, the legend's codes
 * УП, Б, НП, ОТ, ОП, ОСВ).
 */

export interface Selected {
  filterId: string;
  filterValue: string;
}

/** A queued report: the session that queued it, and its file once the hub forms it. */
export interface ReportTask {
  at: string;
  render(): string;
}

const PERIOD = /^(\d{4}-\d{2}-\d{2})T[\d:.]+Z? - (\d{4}-\d{2}-\d{2})T[\d:.]+Z?$/;
const valueOf = (selected: readonly Selected[], id: string) => selected.find((s) => s.filterId === id)?.filterValue;

const MONTHS = ['Январь', 'Февраль', 'Март', 'Апрель', 'Май', 'Июнь', 'Июль', 'Август', 'Сентябрь', 'Октябрь', 'Ноябрь', 'Декабрь'];
/** The generator's codes as NetSchool's legend spells them: «Н» is «НП» there. */
export const NETSCHOOL_CODE: Record<string, string> = { Н: 'НП', Б: 'Б', УП: 'УП', ОП: 'ОП' };
/** Reports prefix some subjects with their area (captured: «Ин.яз./Английский язык»). */
const REPORT_NAME: Record<string, string> = { 'Английский язык': 'Ин.яз./Английский язык' };
const LEGEND = [['УП', 'Пропуск по уважительной причине'], ['Б', 'Пропустил по болезни'], ['НП', 'Пропуск по неуважительной причине'], ['ОТ', 'Отсутствовал'], ['ОП', 'Опоздал'], ['ОСВ', 'Освобожден от посещения']];

export class NetSchoolReports {
  private periodMarks?: DemoPeriodMark[];

  constructor(private readonly data: NetSchoolData) {}

  private termOf(termId: string | undefined): DemoPeriod | undefined {
    return this.data.school.periods.find((p) => String(intId('term', p.id)) === termId);
  }

  /** The filters once some are chosen: a class (PCLID) gives its pupils and terms, a term its dates. */
  initFilters(selected: Selected[]): unknown[] | undefined {
    const cls = this.data.classOf(Number(valueOf(selected, 'PCLID')));
    if (!cls) return undefined;
    const terms = this.data.termsOf(cls);
    const term = this.termOf(valueOf(selected, 'TERMID')) ?? terms[0];
    const pupils = this.data.studentList(cls).map((p) => ({ title: p.fullName, value: String(p.id) }));
    const range = term ? { start: stamp(term.startDate), end: stamp(term.endDate) } : null;
    return [
      { filterId: 'PCLID', items: [{ title: cls.name, value: String(intId('class', cls.id)) }], defaultValue: String(intId('class', cls.id)) },
      { filterId: 'SID', items: pupils, defaultValue: pupils[0]?.value ?? null },
      { filterId: 'TERMID', items: terms.map((t) => ({ title: t.title, value: String(intId('term', t.id)) })), defaultValue: term ? String(intId('term', term.id)) : null },
      { filterId: 'period', items: null, defaultValue: null, range, defaultRange: range, minValue: null, maxValue: null, nullText: null },
    ];
  }

  /** The task of a queue body (SID, PCLID of the pupil's class, TERMID, `period`), queued in session `at`; undefined when the body is not one. */
  task(selected: Selected[], at: string): ReportTask | undefined {
    const pupil = this.data.pupil(Number(valueOf(selected, 'SID')));
    const term = this.termOf(valueOf(selected, 'TERMID'));
    const period = PERIOD.exec(valueOf(selected, 'period') ?? '');
    const cls = this.data.classOf(Number(valueOf(selected, 'PCLID')));
    if (!pupil || !term || !period || !cls || cls.id !== pupil.classId) return undefined;
    return { at, render: () => this.studentTotal(pupil, term, { from: period[1]!, to: period[2]! }) };
  }

  /** The report of a pupil, term and period: a column per date (two under a day with a double lesson), the term's average and mark. */
  private studentTotal(pupil: DemoPupil, term: DemoPeriod, period: { from: string; to: string }): string {
    const from = period.from > term.startDate ? period.from : term.startDate;
    const to = period.to < term.endDate ? period.to : term.endDate;
    const lessons = this.data.lessonsOfPupil(pupil, from, to).sort((a, b) => a.date.localeCompare(b.date) || a.slot - b.slot);
    this.periodMarks ??= [...generatePeriodMarks(this.data.school)];
    const finals = this.periodMarks.filter((pm) => pm.pupilId === pupil.id && pm.periodId === term.id);
    const subjects = this.data.school.subjects.filter((s) => lessons.some((l) => l.subjectId === s.id) || finals.some((f) => f.subjectId === s.id));
    const cells = new Map<string, string[][]>();
    const width = new Map<string, number>();
    for (const l of lessons) {
      const facts = generateLessonFacts(this.data.school, l);
      const tokens = [
        ...this.data.marksOf(l).filter((m) => m.pupilId === pupil.id).map((m) => String(netschoolMark(m.value))),
        ...facts.absences.filter((a) => a.pupilId === pupil.id).map((a) => NETSCHOOL_CODE[a.code] ?? a.code),
      ];
      const key = `${l.subjectId}|${l.date}`;
      cells.set(key, [...(cells.get(key) ?? []), tokens]);
      width.set(l.date, Math.max(width.get(l.date) ?? 1, cells.get(key)!.length));
    }
    const columns = [...width].flatMap(([date, n]) => Array.from({ length: n }, (_, lesson) => ({ date, lesson })));
    const months: Array<{ month: number; span: number }> = [];
    for (const c of columns) {
      const month = Number(c.date.slice(5, 7));
      if (months[months.length - 1]?.month === month) months[months.length - 1]!.span += 1;
      else months.push({ month, span: 1 });
    }
    const rows = subjects.map((s) => {
      const final = finals.find((f) => f.subjectId === s.id);
      const days = columns.map((c) => {
        const tokens = cells.get(`${s.id}|${c.date}`)?.[c.lesson] ?? [];
        return tokens.length > 0 ? `\t\t\t\t\t\t<td>\n\t\t\t\t\t\t\t\n\t\t                    ${escape(tokens.join(' '))}\n\t\t\t\t\t\t</td>` : '\t                    <td></td>';
      }).join('\n');
      const average = final?.average !== null && final?.average !== undefined ? String(final.average).replace('.', ',') : '';
      return `\t\t\t<tr>\n\t\t\t\t<td class="cell-text">${escape(REPORT_NAME[s.name] ?? s.name)}</td>\n${days}\n\t\t\t\t\t<td class="cell-num-2">${average}</td>\n\t\t\t\t\t<td class="cell-num-2">${escape(final?.value ?? '')}</td>\n\t\t\t</tr>`;
    }).join('\n');
    const head = `<tr>\n\t\t\t<th rowspan="2">Предмет</th>\n${months.map((m) => `\t\t\t\t\t<th colspan="${m.span}">${MONTHS[m.month - 1]}</th>`).join('\n')}\n\t\t\t\t<th rowspan="2">Средн.<br />оценка <br> ${escape(term.title)}</th>\n\t\t\t\t<th rowspan="2">Итог.оценка <br> ${escape(term.title)}</th>\n\t\t</tr>\n\t\t<tr>\n${columns.map((c) => `\t\t\t\t\t<th>${Number(c.date.slice(8, 10))}</th>`).join('\n')}\n\t\t</tr>`;
    return page(this.data.school.school.name, pupil, term, { from, to }, `${head}\n${rows}`);
  }
}

function page(school: string, pupil: DemoPupil, term: DemoPeriod, period: { from: string; to: string }, table: string): string {
  const day = (d: string) => `${Number(d.slice(8, 10))}.${d.slice(5, 7)}.${d.slice(0, 4)}`;
  const name = `${pupil.lastName} ${pupil.firstName} ${pupil.middleName}`;
  const legend = LEGEND.map(([code, text]) => `\t\t\t<p><span class="legend-label">${code}</span><span class="legend-description"> — ${text}</span></p>`).join('\n');
  return `\n\n<div>\n        <h5 class="report-title-school">${escape(school)}</h5>\n\n    <h2 align="center" class="main-report-title">Отчет об успеваемости и посещаемости ученика</h2>\n\n    <br />\n\n</div>
\t<table cellspacing="10px">\n\t\t<tr>\n\t\t\t<td class="no-border">\n\t\t\t\t<div id="photowrap"></div>\n\t\t\t</td>\n\t\t\t<td class="no-border">
\t\t\t\t\t<span class="select"><b>Учебный год:</b> ${term.startDate.slice(0, 4)}/${Number(term.startDate.slice(0, 4)) + 1}</span><br />
\t\t\t\t\t<span class="select"><b>Класс:</b> </span><br />\n\t\t\t\t\t<span class="select"><b>Учебный период:</b> ${escape(term.title)}</span><br />
\t\t\t\t\t<span class="select"><b>Период:</b> с ${day(period.from)} по ${day(period.to)}</span><br />
\t\t\t\t<span class="select" data-sheet-name="${escape(name)}"><b>Ученик:</b> ${escape(name)}</span><br>\n\t\t\t</td>\n\t\t</tr>\n\t</table>\n\t<br />
\t<table class="table-print">\n\t\t${table}\n\t</table>\n\t<br />\n\t<div class="legend">\n\t\t<div>\n${legend}\n\t\t</div>\n\t</div>
<table class="sheet-footer">\n\t<tr>\n\t\t<td class="no-border cell-text">\n\t\t\t<span class="smalltext">©&nbsp;<i>Сетевой Город. Образование </i>&nbsp;5.56.0 (0.29.2)</span>\n\t\t</td>\n\t</tr>\n</table>`;
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
