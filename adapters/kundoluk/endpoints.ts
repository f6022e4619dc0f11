import { z } from 'zod';
import { defineEndpoint, optional } from '../../src/ports/response.js';
import { readJournalPage, readLoginAnswer } from './web-pages.js';

/**
 * Every answer the adapter reads, with the schema it is parsed by (src/ports/response.ts). No captured
 * Kundoluk answer is public: the schemas name the fields the adapter reads, in every spelling three
 * clients parse (kundoluk-plus and the PyPI `kundoluk-api` of one author, react-kundoluk of another;
 * README.md, "Evidence"); fields it does not read pass through unchecked. Scalars are
 * read as leniently as those clients read them (an int may come as a numeric string, a flag as 0/1);
 * structure is strict: a list that is not a list, a lesson that names itself neither by `uid` nor by
 * `scheduleItemId`, an envelope without `actionResult` fail as `permanent`, naming the field.
 */

const PLATFORM = 'Kundoluk';

/** Text as the clients read it (`json['x']?.toString()`): a string, or a number written as one. */
const Str = optional(z.union([z.string(), z.number().transform(String)]));

/** An id: a string (blank = none), or a number JSON carries exactly (an id above 2^53 would be rounded). */
const Id = optional(z.union([
  z.string().transform((s) => s.trim() || undefined),
  z.number().int().refine(Number.isSafeInteger, 'an id above 2^53 sent as a JSON number (rounded)').transform(String),
]));

/** An integer as kundoluk-plus' `parseInt` reads it: a number, or a numeric string (anything else is none). */
const Num = optional(z.union([z.number(), z.string().transform((s) => (s.trim() && Number.isFinite(Number(s)) ? Number(s) : undefined))]));

/** A flag as kundoluk-plus' `parseBool` reads it: a boolean, a number (≠ 0), or «true» / «1». */
const Bool = optional(z.union([z.boolean(), z.number().transform((n) => n !== 0), z.string().transform((s) => ['true', '1'].includes(s.trim().toLowerCase()))]));

/** The account of a login answer, in every spelling the clients read (snake_case, camelCase, `lastNameRu`, `middleName`, `birthDate`). */
const AccountSchema = z.looseObject({
  token: Str,
  userId: Id, user_id: Id, studentId: Id, student_id: Id,
  grade: Num, letter: Str,
  last_name: Str, lastName: Str, lastNameRu: Str,
  first_name: Str, firstName: Str,
  mid_name: Str, midName: Str, middleName: Str,
  birthdate: Str, birthDate: Str,
  type: Str, role: Str, changePassword: Bool,
});

/** The login answer: the account at the top level (all three clients), or inside `actionResult` (the teacher login's envelope). */
const LoginSchema = z.union([z.looseObject({ actionResult: AccountSchema }).transform((e) => e.actionResult), AccountSchema]);

const TeacherSchema = z.looseObject({
  pin: Id, pinAsString: Str, pin_as_string: Str,
  firstName: Str, first_name: Str, lastName: Str, last_name: Str, midName: Str, mid_name: Str,
});

const SubjectSchema = z.looseObject({ name: Str, nameKg: Str, nameRu: Str, short: Str, shortRu: Str });

/** One entry of a lesson's `marks[]`, snake_case (kundoluk-plus `mark.dart`, Python `Mark`, react-kundoluk `MarkModel`). */
const MarkSchema = z.looseObject({
  mark_id: Id, uid: Id,
  mark: optional(z.union([z.number(), z.string()])), mark_type: Str, custom_mark: Str,
  absent: Bool, absent_type: Str, absent_reason: Str, late_minutes: Num,
  note: Str, created_at: Str, updated_at: Str,
});

/** A lesson of `gradebook/list`, `gradebook/term/{n}` and `homework/list` (the union of the three clients' lesson models). */
const LessonSchema = z.looseObject({
  uid: Id, scheduleItemId: Id,
  teacher: optional(TeacherSchema), subject: optional(SubjectSchema),
  startTime: Str, endTime: Str, lessonDay: Str, year: Num, month: Num, day: Num, lesson: Num,
  marks: optional(z.array(MarkSchema)),
  topic: optional(z.looseObject({ name: Str })),
  task: optional(z.looseObject({ name: Str, note: Str })),
  grade: Num, letter: Str,
  isKrujok: Bool, isTwelve: Bool,
  group: Num, groupId: Id, subjectGroupName: Str,
}).refine((l) => l.uid !== undefined || l.scheduleItemId !== undefined, 'a lesson with neither uid nor scheduleItemId');

const QuarterMarkSchema = z.looseObject({
  quarter: Num, quarterAvg: Num, quarterMark: Num, customMark: Str, quarterDate: Str,
  subjectNameKg: Str, subjectNameRu: Str,
});

/** `qmarks/all`: groups `{teacher (often null), quarterMarks[]}` (Python `QuarterMarksResult`; kundoluk-plus reads `quarterMarks` of each). */
const QuarterMarkGroupSchema = z.looseObject({ quarterMarks: optional(z.array(QuarterMarkSchema)) });

/**
 * The envelope `{resultCode, resultMessage | message, actionResult}` (every client; `actionResult: null`
 * is an empty list, as react-kundoluk reads it), or the payload alone (kundoluk-plus' `extractActionResult`
 * takes the body when there is no `actionResult`). `resultCode ≠ 0` is classified before (client.ts).
 */
function enveloped<S extends z.ZodType<unknown[]>>(payload: S) {
  const envelope = z.looseObject({ resultCode: optional(z.union([z.number(), z.string()])), actionResult: payload.nullable() });
  return z.union([envelope.transform((e) => (e.actionResult ?? []) as z.output<S>), payload as unknown as z.ZodType<z.output<S>>]);
}

const LessonsSchema = z.array(LessonSchema);

export const LOGIN = defineEndpoint(PLATFORM, 'POST', '/auth/loginStudent', LoginSchema);
export const SCHEDULE = defineEndpoint(PLATFORM, 'GET', '/student/gradebook/list', enveloped(LessonsSchema));
export const TERM = defineEndpoint(PLATFORM, 'GET', '/student/gradebook/term/{term}', enveloped(LessonsSchema));
/** react-kundoluk reads this answer's list from `data` (probably a slip: no other client does); both are accepted. */
export const HOMEWORK = defineEndpoint(PLATFORM, 'GET', '/student/homework/list', z.union([
  enveloped(LessonsSchema),
  z.looseObject({ data: LessonsSchema.nullable() }).transform((e) => e.data ?? []),
]));
export const QUARTER_MARKS = defineEndpoint(PLATFORM, 'GET', '/student/qmarks/all', enveloped(z.array(QuarterMarkGroupSchema)));

/** The legacy web journal's login form answered with a page (200) rather than the redirect of a good login. */
export const WEB_LOGIN = defineEndpoint(PLATFORM, 'POST', '/account/login', z.string().transform(readLoginAnswer), { body: 'text' });

/**
 * A class journal page of the legacy web journal (`journal2?class=&quarter=`, and the subject pages its
 * links lead to): the subject links `ul.uk-subnav a` and, on a subject's page, the pupil table
 * `table.elementFixed-striped`. A page with neither is not a journal page.
 */
export const WEB_JOURNAL = defineEndpoint(PLATFORM, 'GET', '/journal2', z.string().transform(readJournalPage)
  .refine((p) => p.subjects.length > 0 || p.pupils !== undefined, 'neither ul.uk-subnav a (subject links) nor table.elementFixed-striped (pupils)'), { body: 'text' });

export const ENDPOINTS = [LOGIN, SCHEDULE, TERM, HOMEWORK, QUARTER_MARKS, WEB_LOGIN, WEB_JOURNAL];

export type Account = z.output<typeof AccountSchema>;
export type Lesson = z.output<typeof LessonSchema>;
export type Mark = z.output<typeof MarkSchema>;
export type QuarterMark = z.output<typeof QuarterMarkSchema>;
export type JournalPage = z.output<typeof WEB_JOURNAL.schema>;
