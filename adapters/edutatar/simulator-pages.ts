import type { DemoSchool } from '../../src/demo/types.js';
import { fullName, numericId, type EduTatarData, type SimClass } from './simulator-data.js';

/**
 * edu.tatar.ru's pages as the simulator serves them, in the shapes of the public evidence (README.md,
 * "Evidence"): the site's chrome of the captured pages (crumbs, `a.cabinet` «Личный кабинет», «Выход»),
 * the login form at `/login/` (`main_login2`), `/message` with its `div.alert.alert-danger` as the
 * body's first child, the cabinet's `table.tableEx`, the classes table with «(Свойства класса)» links,
 * the pupils as `addUser(…)` calls, and the timetable's `h4` + `tr.lessonRow`.
 */

export function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export const NBSP = '&nbsp;';

/** The page around a body, as the captured pages have it; `signedIn` shows the cabinet and logout links. */
export function layout(title: string, body: string, signedIn = true): string {
  const crumbs = signedIn ? '\n                	<li><a href="/user/anketa">Главная</a></li>\n<li><a href="/user/anketa">Личный кабинет</a></li>' : '';
  const extra = signedIn
    ? '<a href="/user/anketa" class="cabinet">Личный кабинет</a>\n                            <a href="/logoff" class="log_off">Выход</a>'
    : '<a href="/login/">Вход</a>';
  return `<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN"
    "http://www.w3.org/TR/html4/strict.dtd">
<html>
<head>
    <title>${escape(title)} :: Электронное образование Республики Татарстан</title>
</head>
<body>
            <div class="crumbs">
                <ul class="clearfix">${crumbs}
<li class="active"><span class="l">${escape(title)}</span></li>                </ul>
            </div>
            <div id="content_holder">
                <div id="content">
                    <div class="search header hidden-print">
                        <div class="extra">
                            <a href="http://help.edu.tatar.ru/" class="xhelp">Помощь</a>
                            ${extra}
                        </div>
                    </div>
                    <div class="r_block">
${body}
                    </div>
                </div>
            </div>
</body>
</html>
`;
}

/** The login form (`/login/`, 2023–24) with the field pair of its time. */
export function loginPage(fields: { login: string; password: string }): string {
  return layout('Вход в систему', `        <div class="h"><h2>Вход в систему</h2></div>
        <form method="post" action="/logon" class="form-signin">
          <div class="form-group"><input type="text" name="${fields.login}" class="form-control" placeholder="Логин"></div>
          <div class="form-group"><input type="password" name="${fields.password}" class="form-control" placeholder="Пароль"></div>
          <div class="form-group"><button type="submit" class="btn btn-primary">Войти</button></div>
        </form>`, false);
}

/** `/message`: the alert is the first element of the body's first `div` (a client selects `body > div:nth-child(1) > div.alert.alert-danger`). */
export function messagePage(text: string): string {
  return `<!DOCTYPE html>
<html>
<head><title>Электронное образование Республики Татарстан</title></head>
<body><div class="container"><div class="alert alert-danger">${escape(text)}</div>
<p><a href="/login/">Вход в систему</a></p></div>
</body>
</html>
`;
}

/** The cabinet a good login lands on: `table.tableEx` as captured (a staff account's «Должность:»). */
export function cabinetPage(school: DemoSchool): string {
  const deputy = school.staff.find((s) => s.roles.some((r) => r.role === 'deputy')) ?? school.staff[0]!;
  return layout('Моя анкета', `<div class="content panel panel-default">
<div class="panel-body">
    <h1>Моя анкета</h1>
            <table class="tableEx">
                <tr><td>Имя:</td><td><strong>${escape(fullName(deputy))}</strong></td></tr>
                <tr><td style="vertical-align: middle;">Логин:</td><td style="vertical-align: middle;"><strong>1600000001</strong></td></tr>
                <tr><td>Школа:</td><td>${escape(school.school.name)}</td></tr>
                <tr><td>Должность:</td><td>Заместитель директора</td></tr>
            </table>
</div>
</div>`);
}

export function notFoundPage(what: string): string {
  return layout('Ошибка', `        <div class="alert alert-danger">${escape(what)} не найден</div>`);
}

/** A 200 page for an ended session (the pupil-side bot's detector phrase, 2022). */
export function choosePage(): string {
  return layout('Электронное образование', '        <div class="h"><h2>Выберите дальнейшее действие</h2></div>\n        <ul><li><a href="/login/">Войти в систему</a></li></ul>', false);
}

export function schoolPage(school: DemoSchool): string {
  return layout('Школа', `        <h2>${escape(school.school.name)}</h2>
        <h3>${school.year.startYear}/${school.year.startYear + 1} учебный год</h3>`);
}

/** The classes: `table#dataTable` — grade, letter, «Руководитель» (text cells), then the «(Свойства класса)» link with `edu_class_id`. */
export function classesPage(data: EduTatarData): string {
  const teacherOf = (groupId: string) => data.school.staff.find((s) => s.roles.some((r) => r.role === 'class_teacher' && r.groupId === groupId));
  const rows = data.classes.map((c) => {
    const teacher = teacherOf(c.group.id);
    return `          <tr>
            <td>${c.group.grade}</td>
            <td>${escape(c.group.letter)}</td>
            <td>${escape(teacher ? fullName(teacher) : '')}</td>
            <td><a href="/school/academic_year/edu_class/edit?edu_class_id=${c.id}">(Свойства класса)</a></td>
          </tr>`;
  });
  return layout('Классы', `        <table class="table" id="dataTable">
          <thead><tr><td>Номер класса</td><td>Литера</td><td>Руководитель</td><td></td></tr></thead>
          <tbody id="dataBody">
${rows.join('\n')}
          </tbody>
        </table>`);
}

/** A class's pupils: one `addUser(…)` per line — a number, the pupil's id (the second integer), the full name. */
export function pupilsPage(data: EduTatarData, cls: SimClass): string {
  const calls = data.pupilsOf(cls).map((p) => `    addUser(${cls.id}, ${numericId('pupil', p.id)}, '${escape(fullName(p))}');`);
  return layout(`Ученики ${cls.group.name}`, `        <h2>Ученики класса ${escape(cls.group.name)}</h2>
        <div id="users"></div>
<script type="text/javascript">
${calls.join('\n')}
</script>`);
}

const WEEKDAYS = ['Понедельник', 'Вторник', 'Среда', 'Четверг', 'Пятница', 'Суббота'];

/** The class's timetable: per weekday an `h4` and a table of `tr.lessonRow` — number, subject («-» when none), teacher. */
export function timetablePage(data: EduTatarData, cls: SimClass): string {
  const days = data.timetable(cls);
  const last = Math.max(5, ...days.keys());
  const tables = WEEKDAYS.slice(0, last).map((name, i) => {
    const day = days.get(i + 1) ?? new Map<number, { subject: string; teachers: string[] }>();
    const rows = Array.from({ length: Math.max(0, ...day.keys()) }, (_, k) => {
      const lesson = day.get(k + 1);
      return `<tr class="lessonRow"><td>${k + 1}</td><td>${lesson ? escape(lesson.subject) : '-'}</td><td>${lesson ? escape(lesson.teachers.join(', ')) : ''}</td></tr>`;
    });
    return `        <h4>${name}</h4>\n        <table class="table">\n          ${rows.join('\n          ')}\n        </table>`;
  });
  return layout(`Расписание ${cls.group.name}`, tables.join('\n'));
}
