import type { Rule, RuleContext, RuleInput } from '../types.js';
import { vocabularyOf } from '../projections/source-vocabulary.js';
import { MARK_TOKEN, pairValues } from './sources.js';

/**
 * Cross-source reconciliation, to the cell: every source is compared with the school's primary source
 * (sources.ts), marks and absences per pupil × lesson, period marks per pupil × subject × period, topics
 * and homework per lesson. Like is compared with like: mark values by kind and points (spelling alone is no
 * difference), weights on each source's own scale (divided by the source's smallest weight), work
 * categories only where both sources name one. A source is compared only over the days it covers for
 * that class and subject (its first to its last mark there), so a platform connected in October is not
 * "missing" September. One finding per cell and pair; `paper` when either side is paper.
 */

const KIND = `CASE WHEN $6::uuid = ANY($8::uuid[]) OR k.other = ANY($8::uuid[]) THEN 'paper' ELSE 'cross_source' END`;

/** An input's parameters: $6 primary, $7 the others (null: one source, nothing to compare). */
function inputValues(ctx: RuleContext): unknown[] | null {
  return pairValues(ctx)?.slice(0, 2) ?? null;
}

/**
 * What each compared source can say, from everything it ever wrote (a platform's vocabulary, not a
 * setting: the demo's own data shows the differences real platforms have): whether it writes a
 * teacher's +/− (NetSchool and Kundoluk do not), which kinds of mark it has («н» at a written work is a
 * mark on paper and in Дневник.ру, an absence only in edu.tatar.ru), which work categories it names
 * (edu.tatar.ru knows control, essay, lab and "oral" for the rest; Kundoluk no essays), and its smallest
 * weight (the unit its weights are divided by). Two sources are compared only in what both can say.
 */
const sourceVocabulary: RuleInput = {
  name: 'check_source_vocab',
  build: (ctx) => {
    const values = inputValues(ctx);
    // Kept by the checks consumer (projections/source-vocabulary.ts); a source it has not seen yet is read whole.
    return values && {
      values,
      text: `SELECT s.id AS source_id, COALESCE(v.modifiers, w.modifiers, false) AS modifiers, COALESCE(v.kinds, w.kinds, '{}') AS kinds,
                    COALESCE(v.categories, w.categories, '{}') AS categories, COALESCE(v.unit, w.unit) AS unit
               FROM unnest($7::uuid[] || $6::uuid) AS s(id)
               LEFT JOIN source_vocabulary v ON v.school_id = $1 AND v.source_id = s.id
               LEFT JOIN LATERAL (${vocabularyOf('v.source_id IS NULL AND m.school_id = $1 AND m.source_id = s.id AND m.deleted_at IS NULL')}) w ON true`,
    };
  },
};

/**
 * Per source, cell (pupil × lesson) and counterpart, its marks as that pair compares them: each side of
 * a pair (the primary $6 against each other source of $7, and each other against the primary) keeps the
 * marks of kinds its counterpart has («н» at a written work is a mark on paper, an absence only in
 * edu.tatar.ru) and drops the +/− unless both write them; `cats_ok` where every kept mark's work category
 * is one both name; the weights on the source's own unit when the profile compares them. What the
 * sources wrote is read for the findings only (`written`).
 */
const markCells: RuleInput = {
  name: 'check_mark_cell',
  build: (ctx) => {
    const values = inputValues(ctx);
    const weights = compareWeights(ctx)
      ? `string_agg(t.w::text, ' ') AS weights, bool_and(t.w IS NOT NULL)::int AS weighted`
      : 'NULL::text AS weights, 0 AS weighted';
    // The aggregates read each cell's marks in the subquery's order (sorted by the group, then by the
    // compared value and the category: two cells are the same multiset of (value, category) pairs when
    // both lists are equal): one sort, and no per-group sort of ordered aggregates.
    return values && {
      values,
      text: `WITH pairs AS (
          SELECT $6::uuid AS source_id, o.other, o.other AS counterpart FROM unnest($7::uuid[]) AS o(other)
          UNION ALL SELECT o.other, o.other, $6::uuid FROM unnest($7::uuid[]) AS o(other))
        SELECT g.*, l.class_group_id, l.subject_id, l.date FROM (
          SELECT t.source_id, t.other, t.lesson_id, t.pupil_id,
                 string_agg(t.cmp, ' ') FILTER (WHERE t.kept) AS vals,
                 string_agg(t.work_category, ' ') FILTER (WHERE t.kept) AS kept_cats,
                 COALESCE(bool_and(t.cat_ok) FILTER (WHERE t.kept), true) AS cats_ok,
                 ${weights}
            FROM (SELECT m.source_id, pr.other, m.lesson_id, m.pupil_id, m.work_category,
                         CASE WHEN vs.modifiers AND vc.modifiers THEN t0.token ELSE rtrim(t0.token, '+-') END AS cmp,
                         split_part(t0.token, ':', 1) = ANY(vc.kinds) AS kept,
                         (m.work_category <> 'other' AND m.work_category = ANY(vs.categories) AND m.work_category = ANY(vc.categories)) IS TRUE AS cat_ok,
                         round(m.weight / NULLIF(vs.unit, 0), 2) AS w
                    FROM mark m
                    JOIN pairs pr ON pr.source_id = m.source_id
                    JOIN check_source_vocab vs ON vs.source_id = m.source_id
                    JOIN check_source_vocab vc ON vc.source_id = pr.counterpart
                    CROSS JOIN LATERAL (SELECT ${MARK_TOKEN} AS token) t0
                   WHERE m.school_id = $1 AND m.date BETWEEN $2 AND $3 AND m.deleted_at IS NULL AND m.lesson_id IS NOT NULL
                     AND m.source_id = ANY($7::uuid[] || $6::uuid)
                   ORDER BY m.source_id, pr.other, m.lesson_id, m.pupil_id, 6, m.work_category, m.raw, 9) t
           GROUP BY t.source_id, t.other, t.lesson_id, t.pupil_id) g
        JOIN lesson l ON l.id = g.lesson_id`,
    };
  },
};

/** Per source, class and subject, the days it covers: its first to its last mark there in the window. */
const markCover: RuleInput = {
  name: 'check_mark_cover',
  build: (ctx) => inputValues(ctx) && {
    text: 'SELECT source_id, class_group_id, subject_id, min(date) AS lo, max(date) AS hi FROM check_mark_cell GROUP BY 1, 2, 3',
  },
};

/**
 * The cells of the primary source ($6) and of each other one ($7) side by side, matched by pupil and
 * lesson (a hash full join: a cell of one side alone has nulls on the other), over the days both cover.
 * `p` and `q` are the two sides' rows of `table` (source_id, lesson_id, pupil_id, class_group_id,
 * subject_id, date and `columns`), `p` already one row per other source (`other`), or not (`perOther`).
 */
const pairedCells = (table: string, columns: readonly string[], perOther: boolean) => `
  SELECT k.* FROM (
    SELECT COALESCE(p.other, q.other) AS other, COALESCE(p.lesson_id, q.lesson_id) AS lesson_id, COALESCE(p.pupil_id, q.pupil_id) AS pupil_id,
           COALESCE(p.class_group_id, q.class_group_id) AS class_group_id, COALESCE(p.subject_id, q.subject_id) AS subject_id,
           COALESCE(p.date, q.date) AS date, ${columns.map((c) => `p.${c} AS p_${c}, q.${c} AS q_${c}`).join(', ')}
      FROM (${perOther ? `SELECT c.* FROM ${table} c WHERE c.source_id = $6`
        : `SELECT c.*, o.other FROM ${table} c CROSS JOIN unnest($7::uuid[]) AS o(other) WHERE c.source_id = $6`}) p
      FULL JOIN (SELECT c.*${perOther ? '' : ', c.source_id AS other'} FROM ${table} c WHERE c.source_id = ANY($7::uuid[])) q
        ON q.other = p.other AND q.lesson_id = p.lesson_id AND q.pupil_id = p.pupil_id) k
  JOIN check_mark_cover cp ON cp.source_id = $6 AND cp.class_group_id = k.class_group_id AND cp.subject_id = k.subject_id AND k.date BETWEEN cp.lo AND cp.hi
  JOIN check_mark_cover co ON co.source_id = k.other AND co.class_group_id = k.class_group_id AND co.subject_id = k.subject_id AND k.date BETWEEN co.lo AND co.hi`;

/** The mark cells of the primary and each other source side by side: what both mark rules read. */
const markPairs: RuleInput = {
  name: 'check_mark_pair',
  build: (ctx) => {
    const values = inputValues(ctx);
    return values && { values, text: pairedCells('check_mark_cell', ['vals', 'kept_cats', 'cats_ok', 'weights', 'weighted'], true) };
  },
};

const MARK_INPUTS = [sourceVocabulary, markCells, markCover, markPairs] as const;

/** Whether the school's profile compares weights (`mark_differs.compareWeights`). */
const compareWeights = (ctx: RuleContext) => ctx.profile.rules.mark_differs?.compareWeights === true;

/** What one source wrote in a finding's cell: its marks' raw values, weights (on its unit) and categories. */
const written = (source: string) => `(
  SELECT jsonb_build_object('values', COALESCE(array_agg(m.raw ORDER BY m.raw, m.work_category), '{}'),
                            'weights', string_agg(round(m.weight / NULLIF(v.unit, 0), 2)::text, ' ' ORDER BY m.raw, m.work_category),
                            'categories', string_agg(m.work_category, ' ' ORDER BY m.raw, m.work_category))
    FROM mark m LEFT JOIN check_source_vocab v ON v.source_id = m.source_id
   WHERE m.lesson_id = k.lesson_id AND m.pupil_id = k.pupil_id AND m.source_id = ${source} AND m.deleted_at IS NULL)`;

const markRule = (id: 'mark_differs' | 'mark_only_in_one', title: string, condition: string): Rule => ({
  id, kind: 'cross_source', dynamicKind: true, title, clauses: ['004 §1.6', '003 Регламент §0.2'], scope: 'window', incremental: true,
  inputs: MARK_INPUTS,
  query: (ctx) => {
    const pair = pairValues(ctx);
    if (!pair) return null;
    return {
      values: [...pair, compareWeights(ctx)],
      text: `SELECT 'mark:' || k.lesson_id || ':' || k.pupil_id || ':' || k.other AS key, 'warning' AS severity, ${KIND} AS kind,
               k.class_group_id, k.subject_id, k.pupil_id, k.lesson_id, NULL::uuid AS period_id, k.date AS day,
               ARRAY[$6::uuid, k.other] AS source_ids, ${written('$6::uuid')} AS expected, ${written('k.other')} AS found,
               ARRAY[]::bigint[] AS evidence, 'subject_teacher' AS assignee
          FROM check_mark_pair k
         WHERE $7::uuid[] IS NOT NULL -- (the others, read by the inputs: typed here too)
           AND ${condition}`,
    };
  },
});

/**
 * Weights are compared only where the school's profile asks (`compareWeights`): platforms derive them
 * from the work type on scales of their own that are not one factor apart (the demo's Дневник.ру gives
 * a written work 2 where paper notes 1.5), so by default a weight alone is no finding.
 */
export const markDiffers = markRule('mark_differs', 'Отметка расходится с основным источником', `k.p_vals IS NOT NULL AND k.q_vals IS NOT NULL AND (
  k.p_vals <> k.q_vals
  OR ($9::boolean AND k.p_weighted = 1 AND k.q_weighted = 1 AND k.p_weights <> k.q_weights)
  OR (k.p_cats_ok AND k.q_cats_ok AND k.p_kept_cats <> k.q_kept_cats))`);

export const markOnlyInOne = markRule('mark_only_in_one', 'Отметка есть только в одном источнике', '(k.p_vals IS NULL) <> (k.q_vals IS NULL) AND $9::boolean IS NOT NULL');

export const attendanceDiffers: Rule = {
  id: 'attendance_differs', kind: 'cross_source', dynamicKind: true, title: 'Пропуск расходится с основным источником',
  clauses: ['004 §1.6', '001 Инструкция 5.2 а'], scope: 'window', incremental: true,
  inputs: [sourceVocabulary, markCells, markCover],
  query: (ctx) => {
    const values = pairValues(ctx);
    if (!values) return null;
    return {
      values,
      text: `WITH absences AS (
          SELECT a.source_id, a.lesson_id, a.pupil_id, l.class_group_id, l.subject_id, l.date, min(a.kind) AS kind, min(a.raw) AS raw
            FROM attendance a JOIN lesson l ON l.id = a.lesson_id
           WHERE a.school_id = $1 AND a.date BETWEEN $2 AND $3 AND a.deleted_at IS NULL AND a.source_id = ANY($7::uuid[] || $6::uuid)
           GROUP BY 1, 2, 3, 4, 5, 6),
        k AS (${pairedCells('absences', ['kind', 'raw'], false)})
        SELECT 'attendance:' || k.lesson_id || ':' || k.pupil_id || ':' || k.other AS key, 'warning' AS severity, ${KIND} AS kind,
               k.class_group_id, k.subject_id, k.pupil_id, k.lesson_id, NULL::uuid AS period_id, k.date AS day,
               ARRAY[$6::uuid, k.other] AS source_ids,
               jsonb_build_object('code', k.p_raw, 'kind', COALESCE(k.p_kind, 'present')) AS expected,
               jsonb_build_object('code', k.q_raw, 'kind', COALESCE(k.q_kind, 'present')) AS found,
               ARRAY[]::bigint[] AS evidence, 'class_teacher' AS assignee
          FROM k
         -- Absent in one source only; or both absent for different reasons, where both give one (Kundoluk
         -- gives none: its «unknown» is no difference from paper's «Б»).
         WHERE (k.p_kind IS NULL) <> (k.q_kind IS NULL)
            OR (k.p_kind <> k.q_kind AND k.p_kind <> 'unknown' AND k.q_kind <> 'unknown')`,
    };
  },
};

export const periodMarkDiffers: Rule = {
  id: 'period_mark_differs', kind: 'cross_source', dynamicKind: true, title: 'Итоговая отметка расходится с основным источником',
  clauses: ['004 §1.6', '001 Инструкция §4.1'], scope: 'school', incremental: true,
  query: (ctx) => {
    const values = pairValues(ctx);
    if (!values) return null;
    const token = MARK_TOKEN;
    return {
      values,
      text: `WITH pm AS (
          SELECT m.source_id, m.pupil_id, m.subject_id, m.period_id, min(${token}) AS val, min(m.raw) AS raw
            FROM period_mark m WHERE m.school_id = $1 AND m.deleted_at IS NULL AND m.source_id = ANY($7::uuid[] || $6::uuid)
           GROUP BY 1, 2, 3, 4),
        given AS (SELECT DISTINCT source_id, subject_id, period_id FROM pm),
        -- Side by side as the mark cells are (a hash full join), where both sources give that subject's marks of that period.
        k AS (
          SELECT COALESCE(p.other, q.other) AS other, COALESCE(p.pupil_id, q.pupil_id) AS pupil_id, COALESCE(p.subject_id, q.subject_id) AS subject_id,
                 COALESCE(p.period_id, q.period_id) AS period_id, p.val AS p_val, q.val AS q_val, p.raw AS p_raw, q.raw AS q_raw
            FROM (SELECT pm.*, o.other FROM pm CROSS JOIN unnest($7::uuid[]) AS o(other) WHERE pm.source_id = $6) p
            FULL JOIN (SELECT pm.*, pm.source_id AS other FROM pm WHERE pm.source_id = ANY($7::uuid[])) q
              ON q.other = p.other AND q.pupil_id = p.pupil_id AND q.subject_id = p.subject_id AND q.period_id = p.period_id)
        SELECT 'period_mark:' || k.period_id || ':' || k.subject_id || ':' || k.pupil_id || ':' || k.other AS key, 'warning' AS severity, ${KIND} AS kind,
               (SELECT e.class_group_id FROM enrollment e JOIN class_group c ON c.id = e.class_group_id AND c.kind = 'class'
                 WHERE e.person_id = k.pupil_id ORDER BY e.end_date DESC NULLS FIRST LIMIT 1) AS class_group_id,
               k.subject_id, k.pupil_id, NULL::uuid AS lesson_id, k.period_id, per.end_date AS day,
               ARRAY[$6::uuid, k.other] AS source_ids, jsonb_build_object('value', k.p_raw) AS expected, jsonb_build_object('value', k.q_raw) AS found,
               ARRAY[]::bigint[] AS evidence, 'subject_teacher' AS assignee
          FROM k JOIN period per ON per.id = k.period_id
          JOIN given gp ON gp.source_id = $6 AND gp.subject_id = k.subject_id AND gp.period_id = k.period_id
          JOIN given go ON go.source_id = k.other AND go.subject_id = k.subject_id AND go.period_id = k.period_id
         WHERE k.p_val IS DISTINCT FROM k.q_val`,
    };
  },
};

/** Case, runs of spaces, «ё» and trailing punctuation are spelling, not content; an empty text is none. */
const NORMALISED_TEXT = (v: string) =>
  `NULLIF(regexp_replace(regexp_replace(replace(lower(btrim(COALESCE(${v}, ''))), 'ё', 'е'), '\\s+', ' ', 'g'), '[[:space:][:punct:]]+$', ''), '')`;

/**
 * A lesson's topic or homework, per lesson and pair: what each source last wrote of it (lesson_claim,
 * projected from the history by the checks consumer, projections/lesson-claims.ts — the lesson row holds
 * only the last writer's value). Compared where both sources have a claim; a claim of null (the source
 * cleared the field) against a text is "present in one only".
 */
const lessonTextRule = (field: 'topic' | 'homework', title: string, clauses: string[]): Rule => ({
  id: `${field}_differs`, kind: 'cross_source', dynamicKind: true, title, clauses, scope: 'window', incremental: true,
  query: (ctx) => {
    const values = pairValues(ctx);
    if (!values) return null;
    return {
      values: [...values, field],
      // Inlined on each side (NOT MATERIALIZED): the planner then knows the sides' sizes and hash-joins them.
      text: `WITH c AS NOT MATERIALIZED (
          SELECT c.lesson_id, c.source_id, c.value, c.seq, l.date, l.class_group_id, l.subject_id, ${NORMALISED_TEXT('c.value')} AS norm
            FROM lesson_claim c JOIN lesson l ON l.id = c.lesson_id AND l.deleted_at IS NULL AND l.date BETWEEN $2 AND $3
           WHERE c.school_id = $1 AND c.field = $9::text AND c.source_id = ANY($7::uuid[] || $6::uuid)),
        k AS (
          SELECT p.lesson_id, o.source_id AS other, p.date, p.class_group_id, p.subject_id, p.value AS p_value, o.value AS q_value,
                 p.seq AS p_seq, o.seq AS q_seq
            FROM c p JOIN c o ON o.lesson_id = p.lesson_id
           WHERE p.source_id = $6::uuid AND o.source_id = ANY($7::uuid[]) AND p.norm IS DISTINCT FROM o.norm)
        SELECT $9::text || ':' || k.lesson_id || ':' || k.other AS key, 'warning' AS severity, ${KIND} AS kind,
               k.class_group_id, k.subject_id, NULL::uuid AS pupil_id, k.lesson_id, NULL::uuid AS period_id, k.date AS day,
               ARRAY[$6::uuid, k.other] AS source_ids,
               jsonb_build_object($9::text, k.p_value) AS expected, jsonb_build_object($9::text, k.q_value) AS found,
               ARRAY[k.p_seq, k.q_seq]::bigint[] AS evidence, 'subject_teacher' AS assignee
          FROM k`,
    };
  },
});

export const topicDiffers = lessonTextRule('topic', 'Тема урока расходится с основным источником', ['004 §1.6', '000 §3.6']);
export const homeworkDiffers = lessonTextRule('homework', 'Домашнее задание расходится с основным источником', ['004 §1.6', '000 §3.7']);

export const CROSS_SOURCE_RULES: readonly Rule[] = [markDiffers, markOnlyInOne, attendanceDiffers, periodMarkDiffers, topicDiffers, homeworkDiffers];
