import { z } from 'zod';
import { IdSchema, defineEndpoint, optional } from '../../src/ports/response.js';
import { StudentTotalSchema } from './report.js';

/**
 * Every NetSchool answer the adapter reads, with the schema it is parsed by before any mapping
 * (src/ports/response.ts): unknown fields pass through, every variant the public evidence shows is
 * accepted (mark objects without `id` or with `id: 0`, lessons without `assignments`, bare-array or
 * wrapped filter answers, numbers or strings for the login data). Where each shape comes from:
 * README.md, "Evidence".
 */

const PLATFORM = 'NetSchool';
const json = <S extends z.ZodType>(method: 'GET' | 'POST', path: string, schema: S) => defineEndpoint(PLATFORM, method, path, schema);
/** Answers read as text: their content is not used (acknowledgements), or is HTML. */
const text = (method: 'GET' | 'POST', path: string) => defineEndpoint(PLATFORM, method, path, z.string(), { body: 'text' });

/** A string the platform sends as a string or a number («850328404» / 850328404). */
const TextLike = z.union([z.string().trim().min(1, 'empty'), z.number().transform(String)]);
const IdName = z.looseObject({ id: optional(IdSchema), name: optional(z.string()) });

export const LOGIN_DATA = json('GET', '/webapi/logindata', z.looseObject({
  schoolLogin: optional(z.boolean()),
  esiaMainAuth: optional(z.boolean()),
  version: optional(z.string()),
  productName: optional(z.string()),
}));

export const AUTH_DATA = json('POST', '/webapi/auth/getdata', z.looseObject({ lt: TextLike, ver: TextLike, salt: TextLike }));

export const LOGIN = json('POST', '/webapi/login', z.looseObject({
  at: optional(z.string().min(1)),
  entryPoint: optional(z.string()),
  message: optional(z.string()),
  errorMessage: optional(z.string()),
  timeOut: optional(z.number()),
  accountInfo: optional(z.looseObject({ currentOrganization: optional(IdName), user: optional(IdName) })),
}));

/** The role choice of NetSchool's own «choose-session-role» page; the answer is not read. */
export const SESSION_ROLE = text('POST', '/webapi/context/sessionrole');
export const SECURITY_WARNING = text('POST', '/asp/SecurityWarning.asp');
/** Logout: servers from 5.29 (lentryd `signOut.ts`), and the ASP page before them. */
export const LOGOUT = text('POST', '/webapi/auth/logout');
export const LOGOUT_ASP = text('POST', '/asp/logout.asp');

export const YEAR_CURRENT = json('GET', '/webapi/years/current', z.looseObject({
  id: IdSchema, name: optional(z.string()), startDate: optional(z.string()), endDate: optional(z.string()),
}));

export const ASSIGNMENT_TYPES = json('GET', '/webapi/grade/assignment/types', z.array(z.looseObject({
  id: z.number().int(), name: z.string(), abbr: optional(z.string()), order: optional(z.number()),
})));

const ClassSchema = z.looseObject({
  id: IdSchema,
  name: z.string().trim().min(1, 'an empty class name'),
  grade: optional(IdName),
  letter: optional(z.string()),
  chiefs: optional(z.array(z.looseObject({ id: IdSchema, name: z.string() }))),
});

/** Staff: the school's classes with their class teachers (`expand=chiefs`); one example row is all the evidence shows, so a lone object is taken too. */
export const CLASSES = json('GET', '/webapi/classes', z.union([z.array(ClassSchema), ClassSchema.transform((c) => [c])]));

export const STUDENT_LIST = json('GET', '/webapi/grade/studentList', z.array(z.looseObject({ id: IdSchema, fullName: z.string() })));

export const TERMS = json('GET', '/webapi/terms', z.array(z.looseObject({
  id: IdSchema, termName: z.string().trim().min(1, 'an empty term name'), termTypeId: optional(z.number()),
  startDate: z.string(), endDate: z.string(), schoolYearId: optional(IdSchema),
})));

const MarkSchema = z.looseObject({
  /** Absent (2022) or 0 (2023, 2025): never an identity. */
  id: optional(z.number()),
  assignmentId: optional(IdSchema),
  studentId: optional(IdSchema),
  /** An int in every capture; a string («зч») in one client's model; null on unmarked work (2019). */
  mark: z.union([z.number(), z.string()]).nullish(),
  resultScore: optional(z.number()),
  dutyMark: optional(z.boolean()),
});

const AssignmentSchema = z.looseObject({
  id: IdSchema,
  typeId: z.number().int(),
  assignmentName: optional(z.string()),
  weight: optional(z.number()),
  dueDate: optional(z.string()),
  classMeetingId: optional(IdSchema),
  issueClassMeetingId: optional(IdSchema),
  mark: optional(MarkSchema),
  /** `{id, name, teacher, wasRead, editTime}` (lentryd) — clients read `name`; never captured. */
  markComment: optional(z.looseObject({ name: optional(z.string()) })),
});

const LessonSchema = z.looseObject({
  classmeetingId: IdSchema,
  day: z.string(),
  number: z.number().int(),
  relay: optional(z.number()),
  room: optional(z.string()),
  startTime: optional(z.string()),
  endTime: optional(z.string()),
  subjectName: z.string().trim().min(1, 'an empty subject name'),
  isEaLesson: optional(z.boolean()),
  assignments: optional(z.array(AssignmentSchema)),
});

export const DIARY = json('GET', '/webapi/student/diary', z.looseObject({
  weekStart: optional(z.string()),
  weekEnd: optional(z.string()),
  termName: optional(z.string()),
  className: optional(z.string()),
  weekDays: optional(z.array(z.looseObject({ date: z.string(), lessons: optional(z.array(LessonSchema)) }))),
}));

const AttachmentSchema = z.looseObject({
  id: optional(IdSchema),
  /** Some servers send a GUID instead of the id (netschool-api-plus). */
  attachmentGuid: optional(z.string().min(1)),
  name: optional(z.string()),
  originalFileName: optional(z.string()),
  description: optional(z.string()),
}).refine((a) => a.id !== undefined || a.attachmentGuid !== undefined, 'neither id nor attachmentGuid');

export const ATTACHMENTS = json('POST', '/webapi/student/diary/get-attachments', z.array(z.looseObject({
  assignmentId: IdSchema,
  attachments: optional(z.array(AttachmentSchema)),
})));

const FilterSourceSchema = z.looseObject({
  filterId: z.string(),
  items: optional(z.array(z.looseObject({ title: z.string(), value: TextLike }))),
  defaultValue: optional(TextLike),
  range: optional(z.looseObject({ start: z.string(), end: z.string() })),
});

/** A bare array in every client that reads it (lentryd, pravschool_bot); `{filterSources}` as the report's GET answers it, too. */
export const STUDENT_TOTAL_FILTERS = json('POST', '/webapi/reports/studenttotal/initfilters', z.union([
  z.array(FilterSourceSchema),
  z.looseObject({ filterSources: z.array(FilterSourceSchema) }).transform((o) => o.filterSources),
]));

/** `{taskId, queueKey}` (2026), `{taskId}` before. */
export const STUDENT_TOTAL_QUEUE = json('POST', '/webapi/reports/studenttotal/queue', z.looseObject({
  taskId: z.union([z.number().int().positive(), z.string().regex(/^\d+$/, 'expected a numeric task id').transform(Number)]),
  queueKey: optional(z.string().min(1)),
}));

export const REPORT_FILE = defineEndpoint(PLATFORM, 'GET', '/webapi/files/{code}', StudentTotalSchema, { body: 'text' });

const CompleteSchema = z.looseObject({ taskId: TextLike, data: TextLike });

/**
 * One frame of the report hub (ASP.NET Core SignalR, JSON protocol): the handshake answer `{}` or
 * `{error}`, invocations (`type: 1`, `complete` / `progress`), completions of our `startTask`
 * (`type: 3`, `result {success, message}` or `error`), pings (6) and the close (7, `error`).
 */
export const HUB_FRAME = defineEndpoint(PLATFORM, 'WS', '/webapi/signalr/queueHub', z.looseObject({
  type: optional(z.number().int()),
  target: optional(z.string()),
  invocationId: optional(TextLike),
  arguments: optional(z.array(z.unknown())),
  result: optional(z.looseObject({ success: optional(z.boolean()), message: z.unknown().optional() })),
  error: optional(z.string()),
}).superRefine((frame, ctx) => {
  if (frame.type !== 1 || frame.target !== 'complete') return;
  const done = CompleteSchema.safeParse(frame.arguments?.[0]);
  for (const issue of done.error?.issues ?? []) ctx.addIssue({ code: 'custom', message: issue.message, path: ['arguments', 0, ...issue.path] });
}));

export const HUB_COMPLETE = CompleteSchema;

export type LoginAnswer = z.output<typeof LOGIN.schema>;
export type AssignmentType = z.output<typeof ASSIGNMENT_TYPES.schema>[number];
export type NetSchoolClass = z.output<typeof CLASSES.schema>[number];
export type Term = z.output<typeof TERMS.schema>[number];
export type Diary = z.output<typeof DIARY.schema>;
export type DiaryLesson = NonNullable<NonNullable<Diary['weekDays']>[number]['lessons']>[number];
export type Assignment = NonNullable<DiaryLesson['assignments']>[number];
export type DiaryMark = NonNullable<Assignment['mark']>;
export type HubFrame = z.output<typeof HUB_FRAME.schema>;

/** The catalogue: every endpoint the adapter reads. */
export const ENDPOINTS = [
  LOGIN_DATA, AUTH_DATA, LOGIN, SESSION_ROLE, SECURITY_WARNING, LOGOUT, LOGOUT_ASP, YEAR_CURRENT, ASSIGNMENT_TYPES, CLASSES,
  STUDENT_LIST, TERMS, DIARY, ATTACHMENTS, STUDENT_TOTAL_FILTERS, STUDENT_TOTAL_QUEUE, REPORT_FILE, HUB_FRAME,
];
