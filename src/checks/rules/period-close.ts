import type { Rule } from '../types.js';

/**
 * A change to a locked period after its lock (src/archive/post-close.ts projects them from the history):
 * one finding per changed fact, for the deputy, with the history events as evidence, what it was at the
 * first change (expected) and what it is now (found). It stays while the change is in the history — a
 * closed period's printout no longer matches — until the deputy acknowledges or dismisses it; a further
 * change reopens a dismissed one (its fingerprint changes). No silent corrections: a mark may be changed
 * after the fact only by the director on a written statement (000 §4.1, §4.3; 001 Инструкция 5.2 ж).
 */
const SHOWN = `ARRAY['raw', 'kind', 'date', 'slot', 'topic', 'homework', 'status', 'late_minutes', 'reason', 'work_category']`;
const subset = (column: string) => `(SELECT jsonb_object_agg(k, v) FROM jsonb_each(${column}::jsonb) AS j(k, v) WHERE k = ANY(${SHOWN}))`;

export const postCloseChange: Rule = {
  id: 'post_close_change', kind: 'regulation', title: 'Изменение в закрытом периоде', clauses: ['000 §4.1', '000 §4.3', '001 Инструкция §4', '001 Инструкция 5.2 ж'],
  scope: 'window', incremental: true,
  query: () => ({
    text: `WITH changed AS (
        SELECT entity_type, entity_id, min(seq) AS first_seq, max(seq) AS last_seq, array_agg(seq ORDER BY seq) AS seqs,
               COALESCE(array_agg(DISTINCT source_id) FILTER (WHERE source_id IS NOT NULL), ARRAY[]::uuid[]) AS source_ids
          FROM post_close_change WHERE school_id = $1 AND day BETWEEN $2 AND $3
         GROUP BY entity_type, entity_id)
      SELECT 'change:' || c.entity_type || ':' || c.entity_id AS key, 'warning' AS severity,
             p.class_group_id, p.subject_id, p.pupil_id, p.lesson_id, p.period_id, p.day, c.source_ids,
             jsonb_build_object('op', f.op, 'value', ${subset('f.before')}) AS expected,
             jsonb_build_object('op', p.op, 'value', ${subset('e.after')}, 'changes', cardinality(c.seqs)) AS found,
             c.seqs AS evidence, 'deputy' AS assignee
        FROM changed c
        JOIN post_close_change p ON p.school_id = $1 AND p.seq = c.last_seq
        JOIN journal_event e ON e.school_id = $1 AND e.seq = c.last_seq
        JOIN journal_event f ON f.school_id = $1 AND f.seq = c.first_seq`,
  }),
};

export const PERIOD_CLOSE_RULES: readonly Rule[] = [postCloseChange];
