import { z } from 'zod';
import { IdSchema, defineEndpoint } from '../../src/ports/response.js';
import { htmlPage } from './html.js';
import { readJournal } from './journal.js';
import { readLoginForm } from './login.js';
import { readClasses, readPupils, readSchoolYear } from './roster.js';
import { readTimetable } from './timetable.js';

/**
 * Every page the adapter reads, with the schema its answers are parsed by (src/ports/response.ts).
 * edu.tatar.ru has no API: each schema reads an HTML page (html.ts) and checks what it read; a page
 * that lacks what the evidence says it has fails as `permanent`, naming the page and the element.
 * Where the evidence comes from: README.md, "Evidence".
 */

const PLATFORM = 'edu.tatar.ru';
const text = <S extends z.ZodType>(method: 'GET' | 'POST', path: string, schema: S) => defineEndpoint(PLATFORM, method, path, schema, { body: 'text' });

const LoginFormSchema = z.looseObject({ fields: z.enum(['main_login', 'main_login2']).optional(), action: z.string().optional() });
const loginForm = htmlPage(readLoginForm, LoginFormSchema);

/** Any page of the login's chain: only what the client classifies by (login.ts) is read from it. */
const anyPage = htmlPage((html) => ({ html }), z.looseObject({ html: z.string() }));

/** The form's page (2023–24: `/login/`), and `/logon`, where the form was until 2019 and a refused login stayed in 2017. */
export const LOGIN_PAGE = text('GET', '/login', loginForm);
export const LOGON_PAGE = text('GET', '/logon', loginForm);
/** The form's answer when it is a page rather than a redirect (2017–2022: the form again with the error). */
export const LOGON_ANSWER = text('POST', '/logon', anyPage);
/** Where a refused login (2023–24) and an ended session land: `div.alert.alert-danger`. */
export const MESSAGE = text('GET', '/message', anyPage);

export const SCHOOL = text('GET', '/school', htmlPage(readSchoolYear, z.looseObject({ startYear: z.number().int().min(2000).max(2100) })));

export const CLASSES = text('GET', '/school/academic_year/classes', htmlPage(readClasses, z.looseObject({
  classes: z.array(z.looseObject({ id: IdSchema, grade: z.number().int(), letter: z.string(), teacher: z.string().optional() })).min(1),
})));

export const PUPILS = text('GET', '/school/academic_year/pupils', htmlPage(readPupils, z.looseObject({
  pupils: z.array(z.looseObject({ id: IdSchema, fullName: z.string().min(3) })),
})));

const LessonSchema = z.looseObject({
  date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/), code: z.string(), topic: z.string().optional(), homework: z.string().optional(), slot: z.number().int().optional(),
});
const RowSchema = z.looseObject({
  number: z.number().int(), name: z.string(), login: z.string().optional(), cells: z.array(z.string()),
  average: z.string().optional(), term: z.string().optional(),
});
const OptionSchema = z.looseObject({ value: z.string(), text: z.string() });
const CourseSchema = z.looseObject({ criteria: IdSchema, group: z.string(), subject: z.string().min(1) });

/** The class journal; `startYear` dates its day columns (the school year from `/school`). */
export function journalEndpoint(startYear: number) {
  return text('GET', '/school/journal/school_editor', htmlPage((html, report) => readJournal(html, startYear, report), z.looseObject({
    terms: z.array(OptionSchema), courses: z.array(CourseSchema), teacher: z.string().optional(),
    lessons: z.array(LessonSchema), rows: z.array(RowSchema), pages: z.array(z.number().int()), next: z.number().int().optional(),
  })));
}

/** The catalogue's journal entry (fixtures and simulator answers are checked with it; any year dates them). */
export const JOURNAL = journalEndpoint(2025);

export const TIMETABLE = text('GET', '/school/schedule/lessons', htmlPage(readTimetable, z.looseObject({
  days: z.array(z.looseObject({ weekday: z.number().int().min(1).max(7), rows: z.array(z.looseObject({ slot: z.number().int().min(0).max(20), subject: z.string() })) })),
})));

export type JournalPage = z.output<typeof JOURNAL.schema>;

export const ENDPOINTS = [LOGIN_PAGE, LOGON_PAGE, LOGON_ANSWER, MESSAGE, SCHOOL, CLASSES, PUPILS, JOURNAL, TIMETABLE];
