import type { Rule, RuleContext } from '../types.js';
import { electronicSources, paperSources } from './sources.js';
import { endOfDay, setting } from './settings.js';

/**
 * Period rules: period marks complete at the end of each period (000 §3.10; 001 Инструкция §4.1;
 * 004 §3.2), and accumulation — pupils with no marks and with one mark in a subject over a period
 * (001 Инструкция §3.5, 5.2 д; 003 §3.8; 004 §3.4). Over the periods that have ended by the evaluation's
 * day (school-local). Which pupils owe a period mark: the members of the class (or its subgroup) that had
 * lessons of the subject in the period and were enrolled at its end, in a class the source gives that
 * period's marks to (so a class on half-years is not asked for quarter marks). $6 the electronic sources,
 * $7 the time zone, $8 grades exempt (no marks in grade 1).
 */
const TODAY = `($4::timestamptz AT TIME ZONE $7::text)::date`;

const OWED = `
  used AS (
    SELECT DISTINCT pm.source_id, pm.period_id, e.class_group_id
      FROM period_mark pm JOIN enrollment e ON e.person_id = pm.pupil_id JOIN class_group c ON c.id = e.class_group_id AND c.kind = 'class'
     WHERE pm.school_id = $1 AND pm.deleted_at IS NULL AND pm.source_id = ANY($6::uuid[])),
  taught AS (
    SELECT DISTINCT p.id AS period_id, l.class_group_id, l.subject_id
      FROM period p JOIN lesson l ON l.school_id = p.school_id AND l.date BETWEEN p.start_date AND p.end_date
     WHERE p.school_id = $1 AND p.deleted_at IS NULL AND p.end_date < ${TODAY} AND l.deleted_at IS NULL AND l.status <> 'cancelled'),
  owed AS (
    SELECT DISTINCT u.source_id, u.period_id, t.subject_id, e.person_id AS pupil_id, u.class_group_id, p.start_date, p.end_date
      FROM used u JOIN period p ON p.id = u.period_id
      JOIN class_group g ON (g.id = u.class_group_id OR g.parent_id = u.class_group_id)
      JOIN taught t ON t.period_id = u.period_id AND t.class_group_id = g.id
      JOIN enrollment e ON e.class_group_id = g.id AND (e.start_date IS NULL OR e.start_date <= p.end_date) AND (e.end_date IS NULL OR e.end_date > p.end_date)
      JOIN class_group cls ON cls.id = u.class_group_id
     WHERE NOT (cls.grade = ANY($8::int[])))`;

const exempt = (ctx: RuleContext, rule: string) => setting<number[]>(ctx, rule, 'exemptGrades', [1]).map((g) => Math.trunc(g));

export const periodMarkMissing: Rule = {
  id: 'period_mark_missing', kind: 'regulation', title: 'Не выставлена итоговая отметка', clauses: ['000 §3.10', '001 Инструкция §4.1', '004 §3.2'],
  scope: 'school', incremental: false,
  query: (ctx) => ({
    values: [electronicSources(ctx), ctx.timeZone, exempt(ctx, 'period_mark_missing')],
    text: `WITH ${OWED}
      SELECT 'period_mark:' || o.period_id || ':' || o.subject_id || ':' || o.pupil_id || ':' || o.source_id AS key, 'warning' AS severity,
             o.class_group_id, o.subject_id, o.pupil_id, NULL::uuid AS lesson_id, o.period_id, o.end_date AS day, ARRAY[o.source_id] AS source_ids,
             jsonb_build_object('by', o.end_date + 1) AS expected, jsonb_build_object('value', NULL) AS found, ARRAY[]::bigint[] AS evidence,
             'subject_teacher' AS assignee
        FROM owed o
       WHERE NOT EXISTS (SELECT 1 FROM period_mark pm WHERE pm.school_id = $1 AND pm.source_id = o.source_id AND pm.period_id = o.period_id
                           AND pm.subject_id = o.subject_id AND pm.pupil_id = o.pupil_id AND pm.deleted_at IS NULL)`,
  }),
};

/** Pupils with `marks` (0 or 1) marks in a subject over an ended period, in the best-filled electronic source. */
const accumulation = (id: 'accumulation_none' | 'accumulation_one', title: string, marks: number): Rule => ({
  id, kind: 'regulation', title, clauses: ['001 Инструкция §3.5', '001 Инструкция 5.2 д', '003 §3.8', '004 §3.4'], scope: 'school', incremental: false,
  query: (ctx) => ({
    values: [electronicSources(ctx), ctx.timeZone, exempt(ctx, id)],
    text: `WITH ${OWED},
      pupils AS (SELECT DISTINCT period_id, subject_id, pupil_id, class_group_id, start_date, end_date FROM owed),
      tally AS (
        SELECT p.period_id, m.source_id, m.pupil_id, m.subject_id, count(*) AS n
          FROM mark m JOIN (SELECT DISTINCT period_id, start_date, end_date FROM pupils) p ON m.date BETWEEN p.start_date AND p.end_date
         WHERE m.school_id = $1 AND m.deleted_at IS NULL AND m.source_id = ANY($6::uuid[]) AND m.kind IN ('mark', 'pass', 'fail')
         GROUP BY 1, 2, 3, 4),
      best AS (SELECT period_id, pupil_id, subject_id, max(n) AS n FROM tally GROUP BY 1, 2, 3),
      counted AS (
        SELECT p.*, COALESCE(b.n, 0) AS n FROM pupils p
          LEFT JOIN best b ON b.period_id = p.period_id AND b.pupil_id = p.pupil_id AND b.subject_id = p.subject_id)
      SELECT 'pupil:' || c.period_id || ':' || c.subject_id || ':' || c.pupil_id AS key, 'warning' AS severity, c.class_group_id, c.subject_id,
             c.pupil_id, NULL::uuid AS lesson_id, c.period_id, c.end_date AS day, ARRAY[]::uuid[] AS source_ids,
             jsonb_build_object('atLeast', 2) AS expected, jsonb_build_object('marks', c.n) AS found, ARRAY[]::bigint[] AS evidence, 'deputy' AS assignee
        FROM counted c WHERE c.n = ${marks}`,
  }),
});

export const accumulationNone = accumulation('accumulation_none', 'Нет ни одной отметки за период', 0);
export const accumulationOne = accumulation('accumulation_one', 'Одна отметка за период', 1);

/**
 * Final marks visible to pupils and parents no later than `visibleDays` (1) after they are set (003 Регламент
 * §2.2). What we can see of it: a platform shows what its source gives us, so a period mark of the paper
 * journal (the school's own record) that no electronic source has, once the end of the school-local day
 * `visibleDays` after it was set has passed, is not visible — set when the paper says (`set_at`), else
 * when the service first saw it. Only where the school has an electronic source at all. $6 the
 * electronic sources, $7 the time zone, $8 the days, $9 the paper sources.
 */
export const finalMarkNotVisible: Rule = {
  id: 'final_mark_not_visible', kind: 'regulation', title: 'Итоговая отметка не видна ученику и родителям', clauses: ['003 Регламент §2.2'],
  scope: 'school', incremental: false,
  query: (ctx) => ({
    values: [electronicSources(ctx), ctx.timeZone, Math.trunc(setting(ctx, 'final_mark_not_visible', 'visibleDays', 1)), paperSources(ctx)],
    text: `SELECT * FROM (
      SELECT 'period_mark:' || pm.id AS key, 'warning' AS severity, cls.class_group_id, pm.subject_id, pm.pupil_id, NULL::uuid AS lesson_id,
             pm.period_id, (COALESCE(pm.set_at, pm.created_at) AT TIME ZONE $7::text)::date AS day, ARRAY[pm.source_id] AS source_ids,
             jsonb_build_object('visibleWithinDays', $8::int, 'by', (COALESCE(pm.set_at, pm.created_at) AT TIME ZONE $7::text)::date + $8::int) AS expected,
             jsonb_build_object('value', pm.raw, 'setAt', COALESCE(pm.set_at, pm.created_at),
                                'basis', CASE WHEN pm.set_at IS NULL THEN 'first_seen' ELSE 'source' END, 'platforms', jsonb_build_array()) AS found,
             ARRAY[]::bigint[] AS evidence, 'subject_teacher' AS assignee,
             ${endOfDay(`((COALESCE(pm.set_at, pm.created_at) AT TIME ZONE $7::text)::date + $8::int)`, '$7::text')} AS deadline
        FROM period_mark pm
        JOIN period p ON p.id = pm.period_id
        LEFT JOIN LATERAL (
          SELECT e.class_group_id FROM enrollment e JOIN class_group c ON c.id = e.class_group_id AND c.kind = 'class'
           WHERE e.school_id = $1 AND e.person_id = pm.pupil_id AND (e.start_date IS NULL OR e.start_date <= p.end_date)
           ORDER BY e.start_date DESC NULLS LAST LIMIT 1) cls ON true
       WHERE pm.school_id = $1 AND pm.deleted_at IS NULL AND pm.source_id = ANY($9::uuid[]) AND cardinality($6::uuid[]) > 0
         AND NOT EXISTS (SELECT 1 FROM period_mark v WHERE v.school_id = $1 AND v.source_id = ANY($6::uuid[]) AND v.deleted_at IS NULL
                           AND v.pupil_id = pm.pupil_id AND v.subject_id = pm.subject_id AND v.period_id = pm.period_id)) x
      WHERE x.deadline < $4`,
  }),
};

export const PERIOD_RULES: readonly Rule[] = [periodMarkMissing, accumulationNone, accumulationOne, finalMarkNotVisible];
