import type { Rule, RuleContext } from '../types.js';
import { electronicSources } from './sources.js';
import { daysByGrade, endOfDay, provenEntry, setting } from './settings.js';

/**
 * Entry rules of the regulations (regulations.md, «Entry deadlines»), on the electronic sources' facts:
 * each rule one set-based query over the lesson days of the window. Parameters after the engine's five:
 * $6 the electronic sources, $7 the school's time zone.
 */
const base = (ctx: RuleContext) => [electronicSources(ctx), ctx.timeZone];
const TODAY = `($4::timestamptz AT TIME ZONE $7::text)::date`;

const markColumns = (key: string, severity: string, expected: string, found: string, assignee = 'subject_teacher') => `
  SELECT ${key} AS key, ${severity} AS severity, l.class_group_id, l.subject_id, m.pupil_id, m.lesson_id, NULL::uuid AS period_id,
         m.date AS day, ARRAY[m.source_id] AS source_ids, ${expected} AS expected, ${found} AS found,
         ARRAY[]::bigint[] AS evidence, '${assignee}' AS assignee`;

const MARKS = `FROM mark m JOIN lesson l ON l.id = m.lesson_id JOIN class_group cg ON cg.id = l.class_group_id
  WHERE m.school_id = $1 AND m.date BETWEEN $2 AND $3 AND m.deleted_at IS NULL AND m.source_id = ANY($6::uuid[])`;

const WRITTEN = `('written', 'test', 'control', 'lab', 'essay')`;

export const grade1Mark: Rule = {
  id: 'grade1_mark', kind: 'regulation', title: 'Отметка в 1 классе', clauses: ['003 §3.7'], scope: 'window', incremental: true,
  query: (ctx) => ({
    values: base(ctx),
    text: `${markColumns(`'mark:' || m.id`, `'warning'`, `jsonb_build_object('rule', 'no marks in grade 1')`, `jsonb_build_object('value', m.raw)`)}
      ${MARKS} AND cg.grade = 1 AND m.kind IN ('mark', 'pass', 'fail') AND $7::text IS NOT NULL`,
  }),
};

/** Written works graded within N days (by grade), essays by grade band; the entry time is the platform's or a proven first sight. */
export const markLate: Rule = {
  id: 'mark_late', kind: 'regulation', title: 'Письменная работа проверена позже срока', clauses: ['000 §3.9', '001 §2.4', '003 Регламент §1.2', '004 §3.3'],
  scope: 'window', incremental: true,
  query: (ctx) => {
    const written = daysByGrade(setting(ctx, 'mark_late', 'writtenDaysByGrade', {}), setting(ctx, 'mark_late', 'writtenDays', 7));
    const essays = daysByGrade(setting(ctx, 'mark_late', 'essayDaysByGrade', { '1-4': 2, '5-9': 7, '10-11': 10 }), 7);
    const allowed = `(CASE WHEN m.work_category = 'essay' THEN ${essays} ELSE ${written} END)`;
    const entered = provenEntry('m', endOfDay(`(m.date + ${allowed})`, '$7::text'));
    return {
      values: base(ctx),
      text: `SELECT * FROM (${markColumns(`'mark:' || m.id`, `'warning'`, `jsonb_build_object('withinDays', ${allowed})`,
        `jsonb_build_object('value', m.raw, 'enteredAt', ${entered}, 'basis', CASE WHEN m.entered_at IS NULL THEN 'first_seen' ELSE 'platform' END,
          'days', ((${entered}) AT TIME ZONE $7::text)::date - m.date)`)}, ${entered} AS entered, ${allowed} AS allowed
        ${MARKS} AND m.work_category IN ${WRITTEN}) x
        WHERE (x.entered AT TIME ZONE $7::text)::date > x.day + x.allowed`,
    };
  },
};

/** Marks for a lesson belong in it on the lesson day (oral answers by 24:00); later = back-dated («задним числом»). */
export const markBackdated: Rule = {
  id: 'mark_backdated', kind: 'regulation', title: 'Отметка выставлена задним числом', clauses: ['000 §3.8', '001 §2.4', '001 Инструкция 5.2 ж', '004 §3.3'],
  scope: 'window', incremental: true,
  query: (ctx) => {
    const grace = Math.trunc(setting(ctx, 'mark_backdated', 'graceDays', 0));
    const entered = provenEntry('m', endOfDay(`(m.date + ${grace})`, '$7::text'));
    return {
      values: base(ctx),
      text: `SELECT * FROM (${markColumns(`'mark:' || m.id`, `'severe'`, `jsonb_build_object('enteredBy', m.date + ${grace})`,
        `jsonb_build_object('value', m.raw, 'enteredAt', ${entered}, 'basis', CASE WHEN m.entered_at IS NULL THEN 'first_seen' ELSE 'platform' END)`)},
        ${entered} AS entered
        ${MARKS} AND m.work_category NOT IN ${WRITTEN}) x
        WHERE (x.entered AT TIME ZONE $7::text)::date > x.day + ${grace}`,
    };
  },
};

/** A mark changed or deleted after it was entered, with no justification attached (000 §4.1, §4.3; 001 Инструкция 5.2 ж). */
export const silentCorrection: Rule = {
  id: 'mark_silent_correction', kind: 'regulation', title: 'Исправление отметки без обоснования', clauses: ['000 §4.1', '000 §4.3', '001 Инструкция 5.2 ж'],
  scope: 'window', incremental: true,
  query: (ctx) => ({
    values: base(ctx),
    text: `SELECT 'event:' || e.seq AS key, 'severe' AS severity, l.class_group_id, (COALESCE(e.before, e.after)::jsonb ->> 'subject_id')::uuid AS subject_id,
             (e.before::jsonb ->> 'pupil_id')::uuid AS pupil_id, l.id AS lesson_id, NULL::uuid AS period_id, (e.before::jsonb ->> 'date')::date AS day,
             ARRAY[e.source_id] AS source_ids, jsonb_build_object('value', e.before::jsonb ->> 'raw') AS expected,
             jsonb_build_object('value', e.after::jsonb ->> 'raw', 'op', e.op, 'at', e.at) AS found, ARRAY[e.seq] AS evidence, 'subject_teacher' AS assignee
        FROM journal_event e
        LEFT JOIN lesson l ON l.id = (e.before::jsonb ->> 'lesson_id')::uuid
       WHERE e.school_id = $1 AND e.entity_type = 'mark' AND e.op IN ('update', 'delete') AND e.source_id = ANY($6::uuid[])
         AND (e.op = 'delete' OR e.before::jsonb ->> 'raw' IS DISTINCT FROM e.after::jsonb ->> 'raw')
         -- ISO days compare as text: the expression of journal_event_mark_change_days_idx.
         AND (e.before::jsonb ->> 'date') BETWEEN to_char($2::date, 'YYYY-MM-DD') AND to_char($3::date, 'YYYY-MM-DD') AND $7::text IS NOT NULL
         AND NOT EXISTS (SELECT 1 FROM discrepancy d WHERE d.school_id = $1 AND d.key = 'mark_silent_correction:event:' || e.seq AND d.justification IS NOT NULL)`,
  }),
};

const lessonColumns = (rule: string, found: string) => `
  SELECT 'lesson:' || l.id AS key, 'warning' AS severity, l.class_group_id, l.subject_id, NULL::uuid AS pupil_id, l.id AS lesson_id,
         NULL::uuid AS period_id, l.date AS day, ARRAY[]::uuid[] AS source_ids, jsonb_build_object('rule', '${rule}') AS expected,
         ${found} AS found, ARRAY[]::bigint[] AS evidence, 'subject_teacher' AS assignee
    FROM lesson l JOIN class_group cg ON cg.id = l.class_group_id
   WHERE l.school_id = $1 AND l.date BETWEEN $2 AND $3 AND l.deleted_at IS NULL AND l.status <> 'cancelled' AND l.date < ${TODAY}
     AND ($6::uuid[] IS NOT NULL)`;

/** The lesson's topic by the end of the lesson day (000 §3.6; 001 §2.1; 002 §3.4.2; 003 Регламент §1.1). */
export const topicMissing: Rule = {
  id: 'topic_missing', kind: 'regulation', title: 'Не записана тема урока', clauses: ['000 §3.6', '001 §2.1', '002 §3.4.2', '003 Регламент §1.1'],
  scope: 'window', incremental: true,
  query: (ctx) => ({ values: base(ctx), text: `${lessonColumns('topic by the end of the lesson day', `jsonb_build_object('topic', NULL)`)} AND NULLIF(btrim(l.topic), '') IS NULL` }),
};

/** Homework on the lesson day where the school requires it for every lesson (off by default: not every lesson sets homework). */
export const homeworkMissing: Rule = {
  id: 'homework_missing', kind: 'regulation', title: 'Не записано домашнее задание', clauses: ['000 §3.7', '001 §2.2–2.3'],
  scope: 'window', incremental: true, enabled: (p) => p.rules.homework_missing?.enabled === true,
  query: (ctx) => ({ values: base(ctx), text: `${lessonColumns('homework on the lesson day', `jsonb_build_object('homework', NULL)`)} AND NULLIF(btrim(l.homework), '') IS NULL AND cg.grade > 1` }),
};

/** The lesson's teacher is not the one assigned to the class and subject, and no substitute is recorded. */
export const substituteMissing: Rule = {
  id: 'substitute_missing', kind: 'regulation', title: 'Не отмечена замена учителя', clauses: ['000 §4.3', '001 §2.1', '004 §3.3'],
  scope: 'window', incremental: true,
  query: (ctx) => ({
    values: base(ctx),
    text: `${lessonColumns('substitute recorded', `jsonb_build_object('teacherId', l.teacher_id)`)}
      AND l.teacher_id IS NOT NULL AND l.substitute_id IS NULL
      AND EXISTS (SELECT 1 FROM teaching_assignment t WHERE t.school_id = $1 AND t.deleted_at IS NULL AND t.subject_id = l.subject_id AND t.class_group_id IN (cg.id, cg.parent_id))
      AND NOT EXISTS (SELECT 1 FROM teaching_assignment t WHERE t.school_id = $1 AND t.deleted_at IS NULL AND t.subject_id = l.subject_id
                        AND t.class_group_id IN (cg.id, cg.parent_id) AND t.teacher_id = l.teacher_id)`,
  }),
};

/** An absence whose reason kind is still unknown N days after the lesson (001 Инструкция 5.2 а: Б, У, Н, О). */
export const absenceReasonMissing: Rule = {
  id: 'absence_reason_missing', kind: 'regulation', title: 'Не указана причина пропуска', clauses: ['001 Инструкция 5.2 а'],
  scope: 'window', incremental: true,
  query: (ctx) => ({
    values: [...base(ctx), Math.trunc(setting(ctx, 'absence_reason_missing', 'days', 3))],
    text: `SELECT 'attendance:' || a.id AS key, 'warning' AS severity, l.class_group_id, l.subject_id, a.pupil_id, a.lesson_id, NULL::uuid AS period_id,
             a.date AS day, ARRAY[a.source_id] AS source_ids, jsonb_build_object('withinDays', $8::int) AS expected,
             jsonb_build_object('code', a.raw, 'kind', a.kind) AS found, ARRAY[]::bigint[] AS evidence, 'class_teacher' AS assignee
        FROM attendance a JOIN lesson l ON l.id = a.lesson_id
       WHERE a.school_id = $1 AND a.date BETWEEN $2 AND $3 AND a.deleted_at IS NULL AND a.source_id = ANY($6::uuid[])
         AND a.kind = 'unknown' AND a.date + $8::int < ${TODAY}
         -- Only where the source can record a reason (it has recorded one: Kundoluk never does) and no
         -- other source of the school gives one for this pupil and lesson.
         AND a.source_id IN (SELECT DISTINCT r.source_id FROM attendance r
                              WHERE r.school_id = $1 AND r.source_id = ANY($6::uuid[]) AND r.kind <> 'unknown' AND r.deleted_at IS NULL)
         AND NOT EXISTS (SELECT 1 FROM attendance o WHERE o.school_id = $1 AND o.lesson_id = a.lesson_id AND o.pupil_id = a.pupil_id
                            AND o.kind <> 'unknown' AND o.deleted_at IS NULL)`,
  }),
};

export const ENTRY_RULES: readonly Rule[] = [
  grade1Mark, markLate, markBackdated, silentCorrection, topicMissing, homeworkMissing, substituteMissing, absenceReasonMissing,
];
