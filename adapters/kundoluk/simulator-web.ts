import { randomBytes } from 'node:crypto';
import type express from 'express';
import type { Request, Response } from 'express';
import type { DemoSchool } from '../../src/demo/generator.js';
import type { DemoGroup, DemoPupil } from '../../src/demo/types.js';
import type { KundolukData } from './simulator-data.js';

/**
 * The legacy web journal (kundoluk.edu.kg) of a deputy head who sees every class journal, in the
 * structure the public scrapers read: the form login (302 + `session` cookie; the login page with the
 * refusal in the form's language), `journal2?class=&quarter=` with the subject links `ul.uk-subnav a`
 * (absolute), and each subject's page (`&subject=` [I: the links' form]) with the pupil table
 * `table.elementFixed-striped` (two header rows, «СР» second to last; the row number in a
 * `span.uk-margin-xsmall-right`). Without a session: a 302 to the login page [I].
 */

/** The login page's refusal per form language (zaqSmg/kundoluk's history). */
const REFUSED: Record<string, string> = { ru: 'Пользователя с такими данными не найдено.', ky: 'Ысымыңыз же сыр сөзүңүз туура эмес!' };

const escape = (text: string) => text.replace(/[&<>"]/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[ch]!);
const page = (title: string, body: string) =>
  `<!DOCTYPE html>\n<html lang="ru"><head><meta charset="utf-8"><title>${escape(title)} – Күндөлүк</title></head>\n<body><div class="uk-container">\n${body}\n</div></body></html>\n`;

function loginPage(error?: string): string {
  return page('Кирүү', [
    '<h1>Күндөлүк</h1>', error ? `<div class="uk-alert uk-alert-danger">${escape(error)}</div>` : '',
    '<form class="uk-form" method="post" action="/account/login">',
    '<input type="text" name="login"> <input type="password" name="password">',
    '<select name="language"><option value="ky">Кыргызча</option><option value="ru">Русский</option></select>',
    '<input type="hidden" name="type" value="default"> <button type="submit">Кирүү</button></form>',
  ].join('\n'));
}

/** A class journal of the web journal: its 5-digit id (KParser's ids are 90340–90361) and its caption («7А»). */
export interface WebClass {
  webId: string;
  caption: string;
  group: DemoGroup;
}

/** The web journal's class journals, captioned as KParser's table has them («7А»). */
export function webClasses(school: DemoSchool): WebClass[] {
  return school.groups.filter((g) => g.kind === 'class').map((g, i) => ({ webId: String(90340 + i), caption: `${g.grade}${g.letter}`, group: g }));
}

/** A class's subjects in the web journal, the whole class's first: one web id per subject for all classes (as in the bot's database). */
function webSubjects(school: DemoSchool, classId: string): Array<{ webId: string; name: string }> {
  const groups = new Map(school.groups.map((g) => [g.id, g]));
  const taught = school.timetable.filter((e) => e.groupId === classId || groups.get(e.groupId)?.parentId === classId);
  const split = new Set(taught.filter((e) => e.groupId !== classId).map((e) => e.subjectId));
  const ids = [...new Set(taught.map((e) => e.subjectId))].sort((a, b) => Number(split.has(a)) - Number(split.has(b)));
  return ids.map((id) => ({ webId: String(10445 + school.subjects.findIndex((s) => s.id === id)), name: school.subjects.find((s) => s.id === id)!.name }));
}

/** The pupils of a class journal; pupils who left are listed too. */
function webPupils(school: DemoSchool, classId: string): DemoPupil[] {
  return school.pupils.filter((p) => p.classId === classId);
}

/** The web journal's part of the simulator's state: the live session cookies. */
interface WebState {
  sessions: Set<string>;
}

const DAYS = ['02', '09', '16'];

function pupilTable(data: KundolukData, classId: string): string {
  const rows = webPupils(data.school, classId).map((p, i) => {
    const name = [p.lastName, p.firstName, p.middleName].filter(Boolean).join(' ');
    return `<tr><td><span class="uk-margin-xsmall-right">${i + 1}</span>${escape(name)}</td>${DAYS.map(() => '<td></td>').join('')}<td></td><td></td></tr>`;
  });
  return [
    '<table class="uk-table elementFixed-striped">',
    `<thead><tr><th rowspan="2">ФИО</th><th colspan="${DAYS.length}">Сентябрь</th><th rowspan="2">СР</th><th rowspan="2"></th></tr>`,
    `<tr>${DAYS.map((d) => `<th>${d}</th>`).join('')}</tr></thead>`,
    `<tbody>\n${rows.join('\n')}\n</tbody></table>`,
  ].join('\n');
}

/** Serves the web journal at the simulator's root. */
export function serveWebJournal(app: express.Express, data: KundolukData, state: WebState): void {
  app.get('/account/login', (_req, res) => void res.type('html').send(loginPage()));
  app.post('/account/login', (req: Request, res: Response) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const language = String(body.language ?? 'ky');
    const known = body.login === data.teacher.login && body.password === data.teacher.password;
    if (!known || !(language in REFUSED) || (body.type !== undefined && body.type !== 'default')) {
      return void res.type('html').send(loginPage(REFUSED[language] ?? REFUSED.ky));
    }
    const session = randomBytes(16).toString('hex');
    state.sessions.add(session);
    res.cookie('session', session, { httpOnly: true, path: '/' }).cookie('language', language, { path: '/' }).redirect(302, '/');
  });
  app.get('/journal2', (req: Request, res: Response) => {
    const session = /(?:^|;\s*)session=([^;]+)/.exec(req.header('cookie') ?? '')?.[1];
    if (!session || !state.sessions.has(session)) return void res.redirect(302, `/account/login?ReturnUrl=${encodeURIComponent(req.originalUrl)}`);
    const cls = data.webClasses.find((c) => c.webId === req.query.class);
    if (!cls) return void res.status(404).type('html').send(page('404', '<h1>Барак табылган жок</h1>'));
    const quarter = typeof req.query.quarter === 'string' ? req.query.quarter : '0';
    const origin = `${req.protocol}://${req.get('host')}`;
    const subjects = webSubjects(data.school, cls.group.id);
    const links = subjects.map((s) => `<li><a href="${origin}/journal2?class=${cls.webId}&amp;quarter=${quarter}&amp;subject=${s.webId}">${escape(s.name)}</a></li>`);
    const shown = subjects.find((s) => s.webId === req.query.subject);
    res.type('html').send(page(`${cls.caption} журнал`, [
      `<h2 class="journal-title">${escape(cls.caption)}</h2>`, `<ul class="uk-subnav uk-subnav-pill">\n${links.join('\n')}\n</ul>`,
      shown ? pupilTable(data, cls.group.id) : '',
    ].join('\n')));
  });
}
