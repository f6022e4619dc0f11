import type { DemoPupil, DemoSchool } from '../../src/demo/types.js';
import { numericId, type EduTatarData, type JournalView, type SimClass } from './simulator-data.js';

/**
 * edu.tatar.ru's pages as the simulator serves them: Cyrillic text, the whitespace and non-breaking
 * spaces of a server-rendered site, `td` header cells, and the markers the adapter relies on
 * («Личный кабинет», `.err_text`, «Пользователь не найден»).
 */

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const MONTHS = ['Январь', 'Февраль', 'Март', 'Апрель', 'Май', 'Июнь', 'Июль', 'Август', 'Сентябрь', 'Октябрь', 'Ноябрь', 'Декабрь'];
const NBSP = '&nbsp;';

/** «2025-09-01» → «01.09.2025». */
function ruDate(date: string): string {
  return `${date.slice(8, 10)}.${date.slice(5, 7)}.${date.slice(0, 4)}`;
}

function layout(title: string, body: string, signedIn = true): string {
  const user = signedIn ? '\n      <a href="/user/anketa" class="cabinet">Личный кабинет</a> | <a href="/logoff">Выход</a>' : '\n      <a href="/logon">Войти</a>';
  return `<!DOCTYPE html>
<html lang="ru">
  <head>
    <meta charset="utf-8">
    <title>${escape(title)} :: Электронное образование в Республике Татарстан</title>
  </head>
  <body>
    <div class="top-menu">${user}
    </div>
    <div class="content panel panel-default">
${body}
    </div>
  </body>
</html>
`;
}

export function loginPage(fields: { login: string; password: string }, error?: string): string {
  return layout('Вход', `      <h2>Вход в систему</h2>${error ? `\n      <div class="err_text">${escape(error)}</div>` : ''}
      <form method="post" action="/logon" class="login-form">
        <label>Логин: <input type="text" name="${fields.login}" value=""></label>
        <label>Пароль: <input type="password" name="${fields.password}"></label>
        <input type="submit" value="Войти">
      </form>`, false);
}

export function twoFactorPage(): string {
  return layout('Подтверждение входа', `      <h2>Двухфакторная аутентификация</h2>
      <p>Введите код подтверждения, отправленный на ваш телефон.</p>
      <form method="post" action="/logon/2fa">
        <input type="text" name="code" autocomplete="one-time-code">
        <input type="submit" value="Подтвердить">
      </form>`, false);
}

export function cabinetPage(): string {
  return layout('Личный кабинет', `      <h2>Личный кабинет</h2>
      <table class="tableEx"><tr><td>Пользователь:</td><td><strong>Администратор&nbsp;школы</strong></td></tr></table>`);
}

export function sessionGonePage(): string {
  return layout('Ошибка', '      <div class="alert">\n        Пользователь не найден\n      </div>', false);
}

export function notFoundPage(what: string): string {
  return layout('Ошибка', `      <div class="alert">${escape(what)} не найден</div>`);
}

export function messagePage(title: string, text: string): string {
  return layout(title, `      <h1>${escape(title)}</h1>\n      <p>${escape(text)}</p>`, false);
}

export function schoolPage(school: DemoSchool): string {
  return layout('Школа', `      <h2>${escape(school.school.name)}</h2>
      <h3>${school.year.startYear}/${school.year.startYear + 1}${NBSP}учебный год</h3>
      <ul class="edu-list"><li><a href="/school/academic_year/classes">Классы</a></li><li><a href="/school/subject/index">Предметы</a></li></ul>`);
}

function table(head: string[], rows: string[][], attributes = 'class="table"'): string {
  const cells = (row: string[]) => row.map((c) => `<td>${c}</td>`).join('\n            ');
  return `      <table ${attributes}>
        <thead>
          <tr>
            ${cells(head)}
          </tr>
        </thead>
        <tbody>
${rows.map((r) => `          <tr>\n            ${cells(r)}\n          </tr>`).join('\n')}
        </tbody>
      </table>`;
}

export function classesPage(data: EduTatarData): string {
  const teacherOf = (groupId: string) => data.school.staff.find((s) => s.roles.some((r) => r.role === 'class_teacher' && r.groupId === groupId));
  const rows = data.classes.map((c) => {
    const teacher = teacherOf(c.group.id);
    return [String(c.group.grade), ` ${escape(c.group.letter)} `, escape(teacher ? `${teacher.lastName} ${teacher.firstName} ${teacher.middleName}` : ''),
      `<a href="/school/academic_year/pupils?id=${c.id}">${data.pupilsOf(c).length}</a>`];
  });
  return layout('Классы', table(['Номер класса', 'Литера', 'Руководитель', 'Учеников'], rows, 'class="table" id="dataTable"'));
}

export function pupilsPage(data: EduTatarData, cls: SimClass): string {
  const rows = data.pupilsOf(cls).map((p: DemoPupil, i) => [
    String(i + 1), `<a href="/school/pupil/view?pupil_id=${numericId('pupil', p.id)}">${escape(p.lastName)}${NBSP}${escape(p.firstName)} ${escape(p.middleName)}</a>`,
    ruDate(p.birthDate), p.sex === 'm' ? 'м' : 'ж', ruDate(p.enrolledFrom), p.leftOn && p.leftOn <= data.today ? ruDate(p.leftOn) : '',
  ]);
  return layout(`Ученики ${cls.group.name}`, `      <h2>Ученики ${escape(cls.group.name)} класса</h2>\n${table(['№', 'ФИО', 'Дата рождения', 'Пол', 'Дата зачисления', 'Дата выбытия'], rows)}`);
}

export function subjectsPage(school: DemoSchool): string {
  const taught = new Set(school.timetable.map((e) => e.subjectId));
  const subjects = [...school.subjects, { id: 'subj-astro', name: 'Астрономия', shortName: 'астр.' }];
  const rows = subjects.map((s) => [
    `<label><input type="checkbox" name="subjects[]" value="${numericId('subject', s.id)}"${taught.has(s.id) ? ' checked="checked"' : ''}> ${escape(s.name)}</label>`,
    escape(s.shortName),
  ]);
  return layout('Предметы', `      <form method="post" action="/school/subject/index">\n${table(['Предмет', 'Краткое название'], rows)}\n        <input type="submit" value="Сохранить">\n      </form>`);
}

export const JOURNAL_URL = '/school/journal/school_editor';

function journalHref(view: JournalView, page: number): string {
  return `${JOURNAL_URL}?term=${view.term.value}&amp;criteria=${view.course.criteria}&amp;edu_class_id=${view.cls.id}&amp;show_moved_pupils=1&amp;page=${page}`;
}

function filters(view: JournalView): string {
  const option = (value: number, text: string, selected: boolean) => `<option value="${value}"${selected ? ' selected="selected"' : ''}>${text}</option>`;
  const terms = view.terms.map((t) => option(t.value, `${escape(t.period.title)} (${ruDate(t.period.startDate)}${NBSP}–${NBSP}${ruDate(t.period.endDate)})`, t.value === view.term.value));
  const courses = view.courses.map((c) => option(c.criteria, `${escape(c.label)}${NBSP}/${NBSP}${escape(c.subject.name)}`, c.criteria === view.course.criteria));
  return `      <form method="get" action="${JOURNAL_URL}" id="journal-filter">
        <input type="hidden" name="edu_class_id" value="${view.cls.id}">
        <select name="term" id="term">
          ${terms.join('\n          ')}
        </select>
        <select name="criteria" id="criteria">
          ${courses.join('\n          ')}
        </select>
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

/** The titles of the work-type codes the simulator writes. */
const WORK_TITLES: Readonly<Record<string, string>> = { КР: 'Контрольная работа', Д: 'Диктант', ЛР: 'Лабораторная работа', С: 'Сочинение' };

function journalHead(view: JournalView): string {
  const months = spans(view, (d) => d.slice(0, 7)).map(([m, n]) => `<td colspan="${n}">${MONTHS[Number(m.slice(5)) - 1]}</td>`);
  const days = spans(view, (d) => d).map(([d, n]) => `<td colspan="${n}">${Number(d.slice(8))}</td>`);
  const lessons = view.columns.map(({ lesson, code }) => {
    const title = `Тема: ${lesson.topic}\n\nЗадание: ${lesson.homework}\n\nУрок № ${lesson.slot}`;
    return `<td class="lesson" title="${escape(title).replace(/\n/g, '&#10;')}">${code ? `<span title="${WORK_TITLES[code] ?? code}">${code}</span>` : ''}</td>`;
  });
  const finals = [`<td rowspan="3" class="term-mark">${escape(view.term.period.title)}</td>`, ...(view.withYear ? ['<td rowspan="3" class="term-mark">Год</td>'] : [])];
  return `        <thead>
          <tr><td rowspan="3" class="pupils">Ученики</td>${months.join('')}<td rowspan="3">Ср.</td>${finals.join('')}</tr>
          <tr>${days.join('')}</tr>
          <tr>${lessons.join('\n            ')}</tr>
        </thead>`;
}

function journalBody(view: JournalView): string {
  const mark = (tokens: string[]) => `<td class="mark">${tokens.map((t) => `\n              <div>${escape(t)}</div>`).join(' ')}${tokens.length > 0 ? '\n            ' : ''}</td>`;
  const finalCell = (value: string, extra: string) => `<td class="term-mark${extra}"><div>${escape(value)}</div></td>`;
  const rows = view.rows.map((row) => `          <tr>
            <td class="pupil"><a href="/school/pupil/view?pupil_id=${numericId('pupil', row.pupil.id)}">${escape(row.pupil.lastName)}${NBSP}${escape(row.pupil.firstName)}</a></td>
            ${row.cells.map(mark).join('')}<td class="mark average">  ${row.average}  </td>${finalCell(row.term, ' db-border-left')}${view.withYear ? finalCell(row.year, ' year-mark') : ''}
          </tr>`);
  const service = `          <tr class="service"><td>Отметки о проверке</td></tr>\n          <tr class="service"><td><input type="submit" value="Сохранить"></td></tr>`;
  return `        <tbody>\n${rows.join('\n')}\n${service}\n        </tbody>`;
}

function pager(view: JournalView): string {
  const links = Array.from({ length: view.pages }, (_, i) => i + 1)
    .map((p) => (p === view.page ? `<span class="current">${p}</span>` : `<a href="${journalHref(view, p)}">${p}</a>`));
  if (view.page < view.pages) links.push(`<a href="${journalHref(view, view.page + 1)}">&gt;&gt;</a>`);
  return `      <div class="pages">\n        ${view.pages > 1 ? links.join('\n        ') : ''}\n      </div>`;
}

export function journalPage(view: JournalView, data: EduTatarData): string {
  const assignment = data.school.assignments.find((a) => a.groupId === view.course.group.id && a.subjectId === view.course.subject.id);
  const teacher = data.school.staff.find((s) => s.id === assignment?.teacherId);
  const initials = teacher ? `${teacher.lastName} ${teacher.firstName[0]}. ${teacher.middleName[0]}.` : '';
  return layout(`Журнал ${view.cls.group.name}`, `      <h2>Журнал класса ${escape(view.cls.group.name)}</h2>
${filters(view)}
      <div class="line">Предмет: ${escape(view.course.subject.name)}</div>
      <div class="line last">Учитель: ${escape(initials)}</div>
      <table class="table journal">
${journalHead(view)}
${journalBody(view)}
      </table>
${pager(view)}`);
}
