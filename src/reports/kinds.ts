import { readCompliance, type ComplianceRow } from '../checks/compliance.js';
import type { Pool } from '../db/pool.js';
import { shiftDays, todayIn } from '../lib/dates.js';
import { NotFoundError, ValidationError } from '../lib/errors.js';
import { sourcePreference } from './sources.js';
import type { ReportDocument, ReportTable, TableColumn } from './table.js';

/**
 * The regulations' reports (001 Инструкция §6; 002 §6; 004 §3.2), one definition each: a data function
 * reading the journal (the numbers an API client gets as JSON) and a table description of that data,
 * which table.ts renders to PDF and XLSX. Values are chosen per fact as the journal page does: the
 * school's primary source, else the first that has one (sources.ts).
 */

export const REPORT_KINDS = ['progress', 'attendance', 'class_teacher_period', 'missing_final_marks', 'journal_fill', 'user_activity'] as const;
export type ReportKind = (typeof REPORT_KINDS)[number];

export interface ReportRequest {
  kind: ReportKind;
  schoolId: string;
  classId?: string;
  subjectId?: string;
  periodId?: string;
  from?: string;
  to?: string;
}

/** What a report covers: the period asked for, or the dates, or (by default) the period of today, or for user activity the last seven days. */
export interface ReportWindow {
  school: { id: string; name: string };
  class: { id: string; name: string } | null;
  period: { id: string; title: string; kind: string; academicYearId: string } | null;
  from: string;
  to: string;
  today: string;
}

export interface ReportContext { pool: Pool; window: ReportWindow; request: ReportRequest; now: Date }

interface Definition<D> {
  title: string;
  /** The report needs a period (period marks belong to one). */
  needsPeriod?: boolean;
  needsClass?: boolean;
  read(ctx: ReportContext): Promise<D>;
  tables(data: D, ctx: ReportContext): ReportTable[];
}

/** Absence kinds that are a missed lesson (a late arrival is counted apart), and of those the excused. */
const MISSED = ['ill', 'valid', 'unexcused', 'unknown'];
const EXCUSED = ['ill', 'valid'];

// ---------- progress ----------

export interface ProgressRow {
  classId: string; className: string; subjectId: string; subjectName: string;
  pupils: number; five: number; four: number; three: number; two: number; pass: number; fail: number; notAssessed: number; other: number;
  /** Pupils with no 2, «незачёт» or «н/а», of all with a period mark. */
  successShare: number;
  /** Pupils with 4 or 5, of all with a period mark. */
  qualityShare: number;
  /** Mean of the numeric marks, two decimals; null without any. */
  average: number | null;
}
export interface ProgressClassTotal {
  classId: string; className: string; pupils: number;
  excellent: number; good: number; oneThree: number; failing: number;
  successShare: number; qualityShare: number;
}
export interface ProgressData { rows: ProgressRow[]; classes: ProgressClassTotal[] }

interface ChosenMark { class_id: string; class_name: string; subject_id: string; subject_name: string; pupil_id: string; kind: string; numeric: number | null }

/** The period marks of the period, one per pupil × subject (the preferred source's), with the pupil's class in the period. */
async function periodMarksOf(ctx: ReportContext): Promise<ChosenMark[]> {
  const { pool, window, request } = ctx;
  const preference = await sourcePreference(pool, window.school.id);
  const { rows } = await pool.query<ChosenMark>(
    `WITH chosen AS (
       SELECT DISTINCT ON (pm.pupil_id, pm.subject_id) pm.pupil_id, pm.subject_id, pm.kind, pm.numeric::float8 AS numeric
         FROM period_mark pm
        WHERE pm.school_id = $1 AND pm.period_id = $2 AND pm.deleted_at IS NULL AND ($5::uuid IS NULL OR pm.subject_id = $5)
        ORDER BY pm.pupil_id, pm.subject_id, array_position($3::uuid[], pm.source_id) NULLS LAST, pm.set_at DESC NULLS LAST, pm.id
     ), placed AS (
       SELECT DISTINCT ON (e.person_id) e.person_id, e.class_group_id
         FROM enrollment e JOIN class_group c ON c.id = e.class_group_id AND c.parent_id IS NULL AND c.deleted_at IS NULL
        WHERE e.school_id = $1 AND (e.start_date IS NULL OR e.start_date <= $7) AND (e.end_date IS NULL OR e.end_date >= $6)
          AND ($4::uuid IS NULL OR e.class_group_id = $4)
        ORDER BY e.person_id, e.start_date DESC NULLS LAST, e.class_group_id
     )
     SELECT pl.class_group_id::text AS class_id, c.name AS class_name, ch.subject_id::text AS subject_id, s.name AS subject_name,
            ch.pupil_id::text AS pupil_id, ch.kind, ch.numeric
       FROM chosen ch JOIN placed pl ON pl.person_id = ch.pupil_id
       JOIN class_group c ON c.id = pl.class_group_id JOIN subject s ON s.id = ch.subject_id
      ORDER BY c.grade, c.name, s.name`,
    [window.school.id, window.period!.id, preference, request.classId ?? null, request.subjectId ?? null, window.from, window.to],
  );
  return rows;
}

const share = (part: number, whole: number) => (whole === 0 ? 0 : Math.round((part / whole) * 1000) / 1000);
const points = (m: ChosenMark) => (m.kind === 'mark' && m.numeric !== null ? Math.round(m.numeric) : null);
const failing = (m: ChosenMark) => points(m) === 2 || (points(m) !== null && points(m)! < 2) || m.kind === 'fail' || m.kind === 'not_assessed';

export function progressOf(marks: ChosenMark[]): ProgressData {
  const rows = new Map<string, ProgressRow & { sum: number; numbers: number }>();
  const byPupil = new Map<string, { classId: string; className: string; marks: ChosenMark[] }>();
  for (const m of marks) {
    const key = `${m.class_id}/${m.subject_id}`;
    let row = rows.get(key);
    if (!row) {
      row = { classId: m.class_id, className: m.class_name, subjectId: m.subject_id, subjectName: m.subject_name, pupils: 0, five: 0, four: 0, three: 0, two: 0, pass: 0, fail: 0, notAssessed: 0, other: 0, successShare: 0, qualityShare: 0, average: null, sum: 0, numbers: 0 };
      rows.set(key, row);
    }
    row.pupils++;
    const p = points(m);
    if (p !== null) {
      row.sum += p;
      row.numbers++;
      if (p >= 5) row.five++;
      else if (p === 4) row.four++;
      else if (p === 3) row.three++;
      else row.two++;
    } else if (m.kind === 'pass') row.pass++;
    else if (m.kind === 'fail') row.fail++;
    else if (m.kind === 'not_assessed') row.notAssessed++;
    else row.other++;
    const pupil = byPupil.get(m.pupil_id) ?? { classId: m.class_id, className: m.class_name, marks: [] };
    pupil.marks.push(m);
    byPupil.set(m.pupil_id, pupil);
  }
  const progress = [...rows.values()].map(({ sum, numbers, ...row }) => ({
    ...row,
    successShare: share(row.pupils - row.two - row.fail - row.notAssessed, row.pupils),
    qualityShare: share(row.five + row.four, row.pupils),
    average: numbers === 0 ? null : Math.round((sum / numbers) * 100) / 100,
  }));
  const classes = new Map<string, ProgressClassTotal>();
  for (const pupil of byPupil.values()) {
    const total = classes.get(pupil.classId) ?? { classId: pupil.classId, className: pupil.className, pupils: 0, excellent: 0, good: 0, oneThree: 0, failing: 0, successShare: 0, qualityShare: 0 };
    classes.set(pupil.classId, total);
    total.pupils++;
    const numeric = pupil.marks.map(points).filter((p): p is number => p !== null);
    const threes = numeric.filter((p) => p === 3).length;
    if (pupil.marks.some(failing)) total.failing++;
    else if (numeric.length > 0 && numeric.every((p) => p >= 5)) total.excellent++;
    else if (numeric.length > 0 && numeric.every((p) => p >= 4)) total.good++;
    else if (threes === 1) total.oneThree++;
  }
  return {
    rows: progress,
    classes: [...classes.values()].map((c) => ({ ...c, successShare: share(c.pupils - c.failing, c.pupils), qualityShare: share(c.excellent + c.good, c.pupils) })),
  };
}

const PROGRESS_COLUMNS: TableColumn[] = [
  { title: 'Класс' }, { title: 'Предмет', weight: 3 }, { title: 'Уч-ся' }, { title: '«5»' }, { title: '«4»' }, { title: '«3»' }, { title: '«2»' },
  { title: 'зач.' }, { title: 'незач.' }, { title: 'н/а' }, { title: 'Успеваемость', weight: 1.5, percent: true }, { title: 'Качество', weight: 1.5, percent: true }, { title: 'Средний балл', weight: 1.3 },
];
const CLASS_COLUMNS: TableColumn[] = [
  { title: 'Класс' }, { title: 'Уч-ся' }, { title: 'Отличники', weight: 1.3 }, { title: 'Хорошисты', weight: 1.3 }, { title: 'С одной «3»', weight: 1.3 },
  { title: 'Неуспевающие', weight: 1.5 }, { title: 'Успеваемость', weight: 1.5, percent: true }, { title: 'Качество', weight: 1.5, percent: true },
];
function progressTables(data: ProgressData): ReportTable[] {
  return [
    { title: 'Успеваемость по классам и предметам', columns: PROGRESS_COLUMNS, rows: data.rows.map((r) => [r.className, r.subjectName, r.pupils, r.five, r.four, r.three, r.two, r.pass, r.fail, r.notAssessed, r.successShare, r.qualityShare, r.average]) },
    { title: 'Итоги по классам', columns: CLASS_COLUMNS, rows: data.classes.map((c) => [c.className, c.pupils, c.excellent, c.good, c.oneThree, c.failing, c.successShare, c.qualityShare]) },
  ];
}

// ---------- attendance ----------

export interface AttendanceCounts { missed: number; excused: number; unexcused: number; late: number }
export interface AttendanceData {
  classes: Array<{ classId: string; className: string } & AttendanceCounts>;
  subjects: Array<{ classId: string; className: string; subjectId: string; subjectName: string } & AttendanceCounts>;
  pupils: Array<{ classId: string; className: string; pupilId: string; name: string } & AttendanceCounts>;
}

async function readAttendance(ctx: ReportContext): Promise<AttendanceData> {
  const { pool, window, request } = ctx;
  const preference = await sourcePreference(pool, window.school.id);
  const { rows } = await pool.query<{ class_id: string; class_name: string; subject_id: string; subject_name: string; pupil_id: string; name: string; missed: number; excused: number; late: number }>(
    `WITH chosen AS (
       SELECT DISTINCT ON (a.pupil_id, a.lesson_id) a.pupil_id, a.lesson_id, a.kind
         FROM attendance a
        WHERE a.school_id = $1 AND a.date BETWEEN $2 AND $3 AND a.deleted_at IS NULL
        ORDER BY a.pupil_id, a.lesson_id, array_position($4::uuid[], a.source_id) NULLS LAST, a.id
     )
     SELECT COALESCE(g.parent_id, g.id)::text AS class_id, c.name AS class_name, l.subject_id::text AS subject_id, s.name AS subject_name,
            ch.pupil_id::text AS pupil_id, concat_ws(' ', p.last_name, p.first_name) AS name,
            count(*) FILTER (WHERE ch.kind = ANY($5::text[]))::int AS missed, count(*) FILTER (WHERE ch.kind = ANY($6::text[]))::int AS excused,
            count(*) FILTER (WHERE ch.kind = 'late')::int AS late
       FROM chosen ch JOIN lesson l ON l.id = ch.lesson_id AND l.deleted_at IS NULL
       JOIN class_group g ON g.id = l.class_group_id JOIN class_group c ON c.id = COALESCE(g.parent_id, g.id)
       JOIN subject s ON s.id = l.subject_id JOIN person p ON p.id = ch.pupil_id
      WHERE ($7::uuid IS NULL OR c.id = $7) AND ($8::uuid IS NULL OR l.subject_id = $8)
      GROUP BY 1, 2, 3, 4, 5, 6, c.grade, p.last_name, p.first_name, p.middle_name
      ORDER BY c.grade, c.name, p.last_name, p.first_name, p.middle_name NULLS FIRST, 5, s.name`,
    [window.school.id, window.from, window.to, preference, MISSED, EXCUSED, request.classId ?? null, request.subjectId ?? null],
  );
  const add = (into: AttendanceCounts, r: { missed: number; excused: number; late: number }) => {
    into.missed += r.missed;
    into.excused += r.excused;
    into.unexcused += r.missed - r.excused;
    into.late += r.late;
  };
  const zero = (): AttendanceCounts => ({ missed: 0, excused: 0, unexcused: 0, late: 0 });
  const classes = new Map<string, AttendanceData['classes'][number]>();
  const subjects = new Map<string, AttendanceData['subjects'][number]>();
  const pupils = new Map<string, AttendanceData['pupils'][number]>();
  for (const r of rows) {
    const cls = classes.get(r.class_id) ?? { classId: r.class_id, className: r.class_name, ...zero() };
    classes.set(r.class_id, cls);
    add(cls, r);
    const sk = `${r.class_id}/${r.subject_id}`;
    const subj = subjects.get(sk) ?? { classId: r.class_id, className: r.class_name, subjectId: r.subject_id, subjectName: r.subject_name, ...zero() };
    subjects.set(sk, subj);
    add(subj, r);
    const pk = `${r.class_id}/${r.pupil_id}`;
    const pupil = pupils.get(pk) ?? { classId: r.class_id, className: r.class_name, pupilId: r.pupil_id, name: r.name, ...zero() };
    pupils.set(pk, pupil);
    add(pupil, r);
  }
  const bySubject = [...subjects.values()].sort((x, y) => (x.className === y.className ? x.subjectName.localeCompare(y.subjectName, 'ru') : 0));
  return { classes: [...classes.values()], subjects: bySubject, pupils: [...pupils.values()] };
}

const COUNT_COLUMNS: TableColumn[] = [{ title: 'Пропущено уроков', weight: 1.5 }, { title: 'по уважит. причине', weight: 1.5 }, { title: 'без уважит. причины', weight: 1.5 }, { title: 'Опоздания', weight: 1.2 }];
const counts = (c: AttendanceCounts) => [c.missed, c.excused, c.unexcused, c.late];
function attendanceTables(data: AttendanceData): ReportTable[] {
  return [
    { title: 'Посещаемость по классам', columns: [{ title: 'Класс' }, ...COUNT_COLUMNS], rows: data.classes.map((c) => [c.className, ...counts(c)]) },
    { title: 'По предметам', columns: [{ title: 'Класс' }, { title: 'Предмет', weight: 3 }, ...COUNT_COLUMNS], rows: data.subjects.map((s) => [s.className, s.subjectName, ...counts(s)]) },
    { title: 'По обучающимся', columns: [{ title: 'Класс' }, { title: 'Обучающийся', weight: 3 }, ...COUNT_COLUMNS], rows: data.pupils.map((p) => [p.className, p.name, ...counts(p)]) },
  ];
}

// ---------- missing final marks ----------

export interface MissingFinalMarksData {
  /** Whether the period has ended (the report is the regulation's after its end; before, it is a forecast). */
  periodEnded: boolean;
  rows: Array<{ classId: string; className: string; subjectId: string; subjectName: string; pupilId: string; name: string }>;
}

/**
 * Per class × subject the class had lessons in during the period, each pupil enrolled then without a
 * period mark of the period in any source. Classes of grade 1 (no marks) are left out, and so are
 * classes that have period marks of another kind this year but none of this kind (a senior class on
 * half-years is not missing quarter marks).
 */
async function readMissingFinalMarks(ctx: ReportContext): Promise<MissingFinalMarksData> {
  const { pool, window, request } = ctx;
  const period = window.period!;
  const { rows } = await pool.query<{ class_id: string; class_name: string; subject_id: string; subject_name: string; pupil_id: string; name: string }>(
    `WITH classes AS (
       SELECT c.id, c.name, c.grade FROM class_group c
        WHERE c.school_id = $1 AND c.parent_id IS NULL AND c.deleted_at IS NULL AND c.grade > 1 AND ($5::uuid IS NULL OR c.id = $5)
          AND (EXISTS (SELECT 1 FROM period_mark pm JOIN enrollment e ON e.person_id = pm.pupil_id AND e.class_group_id = c.id
                        JOIN period pe ON pe.id = pm.period_id AND pe.kind = $7 AND pe.academic_year_id = $8 WHERE pm.school_id = $1 AND pm.deleted_at IS NULL)
               OR NOT EXISTS (SELECT 1 FROM period_mark pm JOIN enrollment e ON e.person_id = pm.pupil_id AND e.class_group_id = c.id
                        JOIN period pe ON pe.id = pm.period_id AND pe.kind <> 'year' AND pe.academic_year_id = $8 WHERE pm.school_id = $1 AND pm.deleted_at IS NULL))
     ), pairs AS (
       SELECT DISTINCT cl.id AS class_id, l.subject_id
         FROM classes cl JOIN class_group g ON g.id = cl.id OR g.parent_id = cl.id
         JOIN lesson l ON l.class_group_id = g.id AND l.school_id = $1 AND l.deleted_at IS NULL AND l.status <> 'cancelled' AND l.date BETWEEN $3 AND $4
        WHERE ($6::uuid IS NULL OR l.subject_id = $6)
     )
     SELECT cl.id::text AS class_id, cl.name AS class_name, s.id::text AS subject_id, s.name AS subject_name, p.id::text AS pupil_id,
            concat_ws(' ', p.last_name, p.first_name) AS name
       FROM pairs pr JOIN classes cl ON cl.id = pr.class_id JOIN subject s ON s.id = pr.subject_id
       JOIN enrollment e ON e.class_group_id = cl.id AND (e.start_date IS NULL OR e.start_date <= $4) AND (e.end_date IS NULL OR e.end_date >= $4)
       JOIN person p ON p.id = e.person_id
      WHERE NOT EXISTS (SELECT 1 FROM period_mark pm WHERE pm.school_id = $1 AND pm.period_id = $2 AND pm.pupil_id = p.id AND pm.subject_id = s.id AND pm.deleted_at IS NULL)
      ORDER BY cl.grade, cl.name, s.name, p.last_name, p.first_name, p.middle_name NULLS FIRST, p.id`,
    [window.school.id, period.id, window.from, window.to, request.classId ?? null, request.subjectId ?? null, period.kind, period.academicYearId],
  );
  return {
    periodEnded: window.today > window.to,
    rows: rows.map((r) => ({ classId: r.class_id, className: r.class_name, subjectId: r.subject_id, subjectName: r.subject_name, pupilId: r.pupil_id, name: r.name })),
  };
}

// ---------- journal fill ----------

export interface JournalFillData { rows: ComplianceRow[] }

/** The compliance view's shares (checks/compliance.ts), as the API's GET /v1/schools/{id}/compliance gives them. */
async function readJournalFill(ctx: ReportContext): Promise<JournalFillData> {
  const { request, window } = ctx;
  const view = await readCompliance(ctx.pool, { schoolId: window.school.id, periodId: request.periodId, from: request.periodId ? undefined : window.from, to: request.periodId ? undefined : window.to }, ctx.now);
  return { rows: view.rows.filter((r) => (!request.classId || r.classId === request.classId) && (!request.subjectId || r.subjectId === request.subjectId)) };
}

function journalFillTables(data: JournalFillData): ReportTable[] {
  return [{
    title: 'Заполнение журнала и накопляемость отметок',
    columns: [
      { title: 'Класс' }, { title: 'Предмет', weight: 2.5 }, { title: 'Учитель', weight: 3 }, { title: 'Уч-ся' },
      { title: 'Без отметок' }, { title: 'доля', percent: true }, { title: 'С одной отметкой', weight: 1.3 }, { title: 'доля', percent: true },
      { title: 'Уроков' }, { title: 'Без темы' }, { title: 'доля', percent: true }, { title: 'Поздние записи', weight: 1.3 },
    ],
    rows: data.rows.map((r) => [r.className, r.subjectName, r.teacher?.name ?? '', r.pupils, r.pupilsWithoutMarks, r.shareWithoutMarks, r.pupilsWithOneMark, r.shareWithOneMark, r.lessons, r.lessonsWithoutTopic, r.shareWithoutTopic, r.lateEntries]),
  }];
}

// ---------- user activity ----------

export interface UserActivityRow {
  /** As stored: user:<id>, api:<id>, a platform's technical account, or null (a sync). */
  actor: string | null;
  /** What is printed: a staff user's login, an API key's name; never a pupil's or a parent's name. */
  actorLabel: string;
  sourceId: string | null;
  source: string | null;
  platform: string | null;
  entityType: string;
  op: string;
  count: number;
}
export interface UserActivityData { rows: UserActivityRow[] }

async function readUserActivity(ctx: ReportContext): Promise<UserActivityData> {
  const { pool, window } = ctx;
  const { rows } = await pool.query<{ actor: string | null; source_id: string | null; title: string | null; platform: string | null; entity_type: string; op: string; n: number; login: string | null; user_kind: string | null; key_name: string | null }>(
    `WITH counted AS (
       SELECT ev.actor, ev.source_id, ev.entity_type, ev.op, count(*)::int AS n
         FROM journal_event ev, school s
        WHERE s.id = $1 AND ev.school_id = $1
          AND ev.at >= ($2::date)::timestamp AT TIME ZONE s.time_zone AND ev.at < ($3::date + 1)::timestamp AT TIME ZONE s.time_zone
        GROUP BY ev.actor, ev.source_id, ev.entity_type, ev.op
     )
     SELECT c.actor, c.source_id::text, cn.title, cn.platform, c.entity_type, c.op, c.n, u.login, u.kind AS user_kind, k.name AS key_name
       FROM counted c LEFT JOIN connection cn ON cn.id = c.source_id
       LEFT JOIN app_user u ON c.actor ~ '^user:[0-9a-f-]{36}$' AND u.id = substring(c.actor FROM 6)::uuid
       LEFT JOIN api_key k ON c.actor ~ '^api:[0-9a-f-]{36}$' AND k.id = substring(c.actor FROM 5)::uuid
      ORDER BY c.actor NULLS FIRST, cn.title, c.entity_type, c.op`,
    [window.school.id, window.from, window.to],
  );
  return {
    rows: rows.map((r) => ({
      actor: r.actor, actorLabel: actorLabel(r), sourceId: r.source_id, source: r.title, platform: r.platform, entityType: r.entity_type, op: r.op, count: r.n,
    })),
  };
}

/** Staff by login, keys by name; a parent's account by its id only; a platform's own account only when it is a technical name (no person's name is printed). */
function actorLabel(r: { actor: string | null; login: string | null; user_kind: string | null; key_name: string | null; platform: string | null }): string {
  if (r.actor === null) return `синхронизация${r.platform ? ` (${r.platform})` : ''}`;
  if (r.actor.startsWith('user:')) return r.user_kind === 'staff' && r.login ? r.login : `учётная запись ${r.actor.slice(5, 13)}`;
  if (r.actor.startsWith('api:')) return `ключ API «${r.key_name ?? r.actor.slice(4, 12)}»`;
  return /^[A-Za-z0-9_.:@-]{1,64}$/.test(r.actor) ? r.actor : 'учётная запись платформы';
}

const OPS: Record<string, string> = { create: 'создание', update: 'изменение', delete: 'удаление' };
function userActivityTables(data: UserActivityData): ReportTable[] {
  return [{
    title: 'Активность пользователей в журнале',
    columns: [{ title: 'Кто', weight: 3 }, { title: 'Источник', weight: 2.5 }, { title: 'Платформа', weight: 1.5 }, { title: 'Что', weight: 1.5 }, { title: 'Действие', weight: 1.3 }, { title: 'Записей' }],
    rows: data.rows.map((r) => [r.actorLabel, r.source ?? '', r.platform ?? '', r.entityType, OPS[r.op] ?? r.op, r.count]),
  }];
}

// ---------- the definitions ----------

export interface ClassTeacherPeriodData { progress: ProgressData; attendance: AttendanceData }

export const DEFINITIONS: { [K in ReportKind]: Definition<unknown> } = {
  progress: def<ProgressData>({
    title: 'Отчёт об успеваемости',
    needsPeriod: true,
    read: async (ctx) => progressOf(await periodMarksOf(ctx)),
    tables: progressTables,
  }),
  attendance: def<AttendanceData>({ title: 'Отчёт о посещаемости', read: readAttendance, tables: attendanceTables }),
  class_teacher_period: def<ClassTeacherPeriodData>({
    title: 'Отчёт классного руководителя за период',
    needsPeriod: true,
    needsClass: true,
    read: async (ctx) => ({ progress: progressOf(await periodMarksOf(ctx)), attendance: await readAttendance(ctx) }),
    tables: (d) => [...progressTables(d.progress), ...attendanceTables(d.attendance)],
  }),
  missing_final_marks: def<MissingFinalMarksData>({
    title: 'Отсутствующие итоговые отметки',
    needsPeriod: true,
    read: readMissingFinalMarks,
    tables: (d) => [{
      title: d.periodEnded ? 'Не выставлены отметки за период' : 'Не выставлены отметки за период (период ещё не окончен)',
      columns: [{ title: 'Класс' }, { title: 'Предмет', weight: 3 }, { title: 'Обучающийся', weight: 4 }],
      rows: d.rows.map((r) => [r.className, r.subjectName, r.name]),
    }],
  }),
  journal_fill: def<JournalFillData>({ title: 'Заполнение журнала и накопляемость отметок', read: readJournalFill, tables: journalFillTables }),
  user_activity: def<UserActivityData>({ title: 'Активность пользователей в журнале', read: readUserActivity, tables: userActivityTables }),
};

function def<D>(d: Definition<D>): Definition<unknown> {
  return d as Definition<unknown>;
}

// ---------- the window ----------

/** The school, the class (of that school, else 404), and the dates the report covers. */
export async function windowOf(pool: Pool, request: ReportRequest, now: Date): Promise<ReportWindow> {
  const definition = DEFINITIONS[request.kind];
  const school = (await pool.query<{ id: string; name: string; time_zone: string }>('SELECT id::text, name, time_zone FROM school WHERE id = $1', [request.schoolId])).rows[0];
  if (!school) throw new NotFoundError(`school ${request.schoolId}`);
  let cls: ReportWindow['class'] = null;
  if (request.classId) {
    const row = (await pool.query<{ id: string; name: string }>('SELECT id::text, name FROM class_group WHERE id = $1 AND school_id = $2 AND deleted_at IS NULL', [request.classId, school.id])).rows[0];
    if (!row) throw new NotFoundError(`class ${request.classId}`);
    cls = row;
  } else if (definition.needsClass) {
    throw new ValidationError(`the ${request.kind} report is about one class: give "class"`);
  }
  if (request.subjectId) {
    const row = (await pool.query('SELECT 1 FROM subject WHERE id = $1 AND school_id = $2', [request.subjectId, school.id])).rows[0];
    if (!row) throw new NotFoundError(`subject ${request.subjectId}`);
  }
  const today = todayIn(school.time_zone, now);
  if ((request.from === undefined) !== (request.to === undefined)) throw new ValidationError('give both "from" and "to", or a period');
  if (request.from && request.to && request.from > request.to) throw new ValidationError('"from" is after "to"');
  type PeriodRow = { id: string; title: string; kind: string; academic_year_id: string; from: string; to: string };
  const periodSql = `SELECT id::text, title, kind, academic_year_id::text, start_date::text AS from, end_date::text AS to FROM period WHERE school_id = $1 AND deleted_at IS NULL`;
  let period: PeriodRow | undefined;
  if (request.periodId) {
    period = (await pool.query<PeriodRow>(`${periodSql} AND id = $2`, [school.id, request.periodId])).rows[0];
    if (!period) throw new NotFoundError(`period ${request.periodId}`);
  } else if (!request.from && (definition.needsPeriod || request.kind !== 'user_activity')) {
    // The period of today, else the last one that has ended.
    period = (await pool.query<PeriodRow>(`${periodSql} AND start_date <= $2 ORDER BY (end_date >= $2) DESC, end_date DESC, end_date - start_date LIMIT 1`, [school.id, today])).rows[0];
  }
  if (definition.needsPeriod && !period) throw new ValidationError(`the ${request.kind} report is about a period: give "period" (the school has none up to ${today})`);
  const from = period?.from ?? request.from ?? shiftDays(today, -6);
  const to = period?.to ?? request.to ?? today;
  return {
    school: { id: school.id, name: school.name }, class: cls,
    period: period ? { id: period.id, title: period.title, kind: period.kind, academicYearId: period.academic_year_id } : null,
    from, to, today,
  };
}

export async function reportData(pool: Pool, request: ReportRequest, now: Date): Promise<{ window: ReportWindow; data: unknown; document: ReportDocument }> {
  const window = await windowOf(pool, request, now);
  const ctx: ReportContext = { pool, window, request, now };
  const definition = DEFINITIONS[request.kind];
  const data = await definition.read(ctx);
  const dates = `${window.period ? `${window.period.title}, ` : ''}${window.from.split('-').reverse().join('.')} – ${window.to.split('-').reverse().join('.')}`;
  const document: ReportDocument = {
    title: definition.title,
    subtitle: [window.school.name, ...(window.class ? [`Класс ${window.class.name}`] : []), dates],
    date: now.toISOString(),
    tables: definition.tables(data, ctx),
  };
  return { window, data, document };
}
