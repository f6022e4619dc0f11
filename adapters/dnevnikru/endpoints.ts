import { z } from 'zod';
import { defineEndpoint, IdSchema, optional } from '../../src/ports/response.js';
import { parseLossless } from './lossless.js';
import {
  EduGroupSchema, HomeworksSchema, IdentifiedSchema, LessonSchema, LogEntrySchema, MarkSchema, PersonFinalMarkSchema, PersonSchema, RelativeSchema,
  ReportingPeriodSchema, Str, SubjectSchema, TeacherSchema, TimetableSchema, UserSchema, WorkTypeSchema,
} from './schemas.js';

/**
 * Every answer the adapter reads, with the schema it is parsed by before any mapping (src/ports/response.ts).
 * Paths are the API's own (`/v2/…`); README.md "Evidence" says where each shape comes from.
 */

const PLATFORM = 'Дневник.ру';

/** JSON read as text and parsed losslessly (lossless.ts), for answers with twin-less ids above 2^53: all of them, or those of `keys`. */
function losslessJson<S extends z.ZodType>(schema: S, keys?: readonly string[]) {
  return z.string().transform((text, ctx) => {
    try {
      return parseLossless(text, keys);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'not JSON', input: text });
      return z.NEVER;
    }
  }).pipe(schema);
}

/** v2 `{accessToken, expiresIn?}`, or the mobile API's `{type, credentials: {accessToken}}`; a refusal may come as `{type, description}` with 200. */
const LoginSchema = z.looseObject({ accessToken: Str, type: Str, description: Str, credentials: optional(z.looseObject({ accessToken: Str })) });

/** The account's context: schools as `schools[] {id, name, type, groupIds}` (no `id_str`) and `schoolIds[]`. */
const ContextSchema = z.looseObject({
  schools: optional(z.array(IdentifiedSchema)), schoolIds: optional(z.array(IdSchema)),
});

/** `users/{id}/relatives`: a list of `{type, person}`, or one object carrying them in `relatives` (SchoolMosregRuAPI). */
const RelativesSchema = z.union([
  z.array(RelativeSchema),
  z.looseObject({ relatives: z.array(RelativeSchema) }).transform((o) => o.relatives),
]);

/** The class teacher, or nothing (an empty or null answer: no evidence of how a class without one answers). */
const ClassTeacherSchema = z.union([PersonSchema, z.null(), z.literal('')]).transform((p) => p || undefined);

const MarksSchema = z.array(MarkSchema);
const get = <S extends z.ZodType>(path: string, schema: S, body: 'json' | 'text' = 'json') => defineEndpoint(PLATFORM, 'GET', path, schema, { body });

export const LOGIN = defineEndpoint(PLATFORM, 'POST', '/v2/authorizations/bycredentials', LoginSchema);
export const CONTEXT = get('/v2/users/me/context', ContextSchema);
export const EDU_GROUPS = get('/v2/schools/{school}/edu-groups', z.array(EduGroupSchema));
export const SUBJECTS = get('/v2/schools/{school}/subjects', z.array(SubjectSchema));
export const TEACHERS = get('/v2/schools/{school}/teachers', z.array(TeacherSchema));
export const SCHOOL_TIMETABLES = get('/v2/schools/{school}/timetables', z.array(TimetableSchema));
export const GROUP_TIMETABLES = get('/v2/edu-groups/{group}/timetables', z.array(TimetableSchema));
export const PERSONS = get('/v2/edu-groups/{group}/persons', z.array(PersonSchema));
export const CLASS_TEACHER = get('/v2/edu-groups/{group}/classteacher', ClassTeacherSchema);
export const REPORTING_PERIODS = get('/v2/edu-groups/{group}/reporting-periods', z.array(ReportingPeriodSchema));
/** Work type ids have no twin everywhere (dnevnik-partners-api has none): always read losslessly (a few dozen entries). */
export const WORK_TYPES = get('/v2/work-types/{school}', losslessJson(z.array(WorkTypeSchema)), 'text');
export const LESSONS = get('/v2/edu-groups/{group}/lessons/{from}/{to}', z.array(LessonSchema));
export const MARKS = get('/v2/edu-groups/{group}/marks/{from}/{to}', MarksSchema);
/**
 * The same answer read losslessly, `workType` alone quoted: only when two of the school's work type ids
 * round to the same number (Mark `workType` has no twin). Not catalogued apart: its answers are MARKS'.
 */
export const MARKS_LOSSLESS = get(MARKS.path, losslessJson(MarksSchema, ['workType']), 'text');
export const LOG_ENTRIES = get('/v2/lesson-log-entries/group/{group}', z.array(LogEntrySchema));
export const FINAL_MARKS = get('/v2/edu-groups/{group}/final-marks', z.array(PersonFinalMarkSchema));
export const RELATIVES = get('/v2/users/{user}/relatives', RelativesSchema);
export const USERS_MANY = defineEndpoint(PLATFORM, 'POST', '/v2/users/many', z.array(UserSchema));
export const USER = get('/v2/users/{user}', UserSchema);
/** File ids (`works[].files`) have no twin: always lossless. */
export const HOMEWORKS = get('/v2/users/me/school/{school}/homeworks', losslessJson(HomeworksSchema), 'text');

/** The adapter's catalogue (`Adapter.endpoints`). */
export const ENDPOINTS = [
  LOGIN, CONTEXT, EDU_GROUPS, SUBJECTS, TEACHERS, SCHOOL_TIMETABLES, GROUP_TIMETABLES, PERSONS, CLASS_TEACHER, REPORTING_PERIODS,
  WORK_TYPES, LESSONS, MARKS, LOG_ENTRIES, FINAL_MARKS, RELATIVES, USERS_MANY, USER, HOMEWORKS,
];
