import type { Rule } from '../types.js';
import { pairValues } from './sources.js';

/**
 * Roster reconciliation: each other source of the school against its primary (sources.ts). Persons,
 * classes and enrollments are shared rows, so what a source says of them is its external refs: a live
 * ref of an enrollment (the source lists the pupil in that class), a gone one (the source stopped listing
 * it: for that source the pupil left), none (the source never listed it). Classes only (not subgroups,
 * which platforms keep differently), and only classes both sources list. One finding per pupil and pair,
 * naming both sources; the class teacher fixes it. Ambiguous identity matches (identity_conflict) are
 * findings of their own source.
 *
 * Parameters after the engine's five: $6 the primary source, $7 the others.
 */

const COMMON = `'warning' AS severity, ARRAY[]::bigint[] AS evidence, 'class_teacher' AS assignee, NULL::uuid AS subject_id,
  NULL::uuid AS lesson_id, NULL::uuid AS period_id, NULL::date AS day`;

/**
 * `er`: every enrollment ref of the compared sources in a class (kind `class`) — source, enrollment, pupil,
 * class, academic year, gone or not; `cl`: the classes each source lists (a live class ref).
 */
const REFS = `
  er AS MATERIALIZED (
    SELECT r.connection_id AS source_id, e.id AS enrollment_id, e.person_id, e.class_group_id, g.name AS class_name, g.academic_year_id,
           r.gone_at IS NOT NULL AS gone
      FROM external_ref r
      JOIN enrollment e ON e.id = r.canonical_id AND e.school_id = $1
      JOIN class_group g ON g.id = e.class_group_id AND g.kind = 'class' AND g.deleted_at IS NULL
     WHERE r.entity_type = 'enrollment' AND r.connection_id = ANY($7::uuid[] || $6::uuid)),
  cl AS (
    SELECT DISTINCT r.connection_id AS source_id, r.canonical_id AS class_id
      FROM external_ref r WHERE r.entity_type = 'class' AND r.gone_at IS NULL AND r.connection_id = ANY($7::uuid[] || $6::uuid))`;

/**
 * A pupil listed in a class by one source only: the other lists the class, has never listed this
 * enrollment (gone is "left", another rule) and does not list the pupil in another class that year
 * (that is "different classes").
 */
const ENROLLED_IN_ONE_SQL = `WITH ${REFS},
  pairs AS (SELECT o.other, s.source_id, s.enrollment_id, s.person_id, s.class_group_id, s.class_name, s.academic_year_id
              FROM er s CROSS JOIN unnest($7::uuid[]) AS o(other)
             WHERE NOT s.gone AND s.source_id IN ($6::uuid, o.other)),
  k AS (
    SELECT p.* FROM pairs p
     WHERE EXISTS (SELECT 1 FROM cl WHERE cl.source_id = (CASE WHEN p.source_id = $6::uuid THEN p.other ELSE $6::uuid END) AND cl.class_id = p.class_group_id)
       AND EXISTS (SELECT 1 FROM cl WHERE cl.source_id = p.source_id AND cl.class_id = p.class_group_id)
       AND NOT EXISTS (SELECT 1 FROM er x WHERE x.source_id = (CASE WHEN p.source_id = $6::uuid THEN p.other ELSE $6::uuid END)
                          AND x.person_id = p.person_id AND x.academic_year_id = p.academic_year_id
                          AND (x.enrollment_id = p.enrollment_id OR NOT x.gone)))
  SELECT k.class_group_id || ':' || k.person_id || ':' || k.other AS key, ${COMMON}, k.class_group_id, k.person_id AS pupil_id,
         ARRAY[$6::uuid, k.other] AS source_ids,
         jsonb_build_object('class', k.class_name, 'enrolled', k.source_id = $6::uuid) AS expected,
         jsonb_build_object('class', k.class_name, 'enrolled', k.source_id = k.other) AS found
    FROM k`;

/** A pupil both sources list (live) in a class of the same year, in different classes. */
const DIFFERENT_CLASS_SQL = `WITH ${REFS},
  live AS (SELECT * FROM er WHERE NOT gone)
  SELECT p.person_id || ':' || p.academic_year_id || ':' || o.source_id AS key, ${COMMON},
         p.class_group_id, p.person_id AS pupil_id, ARRAY[$6::uuid, o.source_id] AS source_ids,
         jsonb_build_object('class', p.class_name) AS expected, jsonb_build_object('class', o.class_name) AS found
    FROM live p JOIN live o ON o.person_id = p.person_id AND o.academic_year_id = p.academic_year_id
                           AND o.source_id <> $6::uuid AND o.class_group_id <> p.class_group_id
   WHERE p.source_id = $6::uuid
     AND NOT EXISTS (SELECT 1 FROM live x WHERE x.source_id = o.source_id AND x.person_id = p.person_id AND x.class_group_id = p.class_group_id)
     AND NOT EXISTS (SELECT 1 FROM live y WHERE y.source_id = $6::uuid AND y.person_id = p.person_id AND y.class_group_id = o.class_group_id)`;

/** An enrollment both sources listed that one of them no longer lists, with no other class that year (the pupil left in that source only). */
const LEFT_IN_ONE_SQL = `WITH ${REFS}
  SELECT p.class_group_id || ':' || p.person_id || ':' || o.source_id AS key, ${COMMON},
         p.class_group_id, p.person_id AS pupil_id, ARRAY[$6::uuid, o.source_id] AS source_ids,
         jsonb_build_object('class', p.class_name, 'left', p.gone) AS expected,
         jsonb_build_object('class', o.class_name, 'left', o.gone) AS found
    FROM er p JOIN er o ON o.enrollment_id = p.enrollment_id AND o.source_id <> $6::uuid
   WHERE p.source_id = $6::uuid AND p.gone <> o.gone
     -- The side that stopped listing it lists the pupil in another class that year: a move (roster_different_class).
     AND NOT EXISTS (SELECT 1 FROM er x WHERE x.source_id = (CASE WHEN p.gone THEN p.source_id ELSE o.source_id END)
                        AND x.person_id = p.person_id AND x.academic_year_id = p.academic_year_id AND NOT x.gone
                        AND x.enrollment_id <> p.enrollment_id)`;

/**
 * Every open ambiguous identity match of the school's sources (identity_conflict, journal/conflicts.ts):
 * a record applyBatch would not guess between candidates; open until the record is linked. Names its
 * source (there is no second one) and the candidates.
 */
const AMBIGUOUS_IDENTITY_SQL = `SELECT ic.connection_id || ':' || ic.entity_type || ':' || ic.external_id AS key, ${COMMON},
         -- The class of the candidates (a pupil's conflict is scoped to the class its record names), for its class teacher.
         (SELECT e.class_group_id FROM enrollment e JOIN class_group g ON g.id = e.class_group_id AND g.kind = 'class'
           WHERE e.school_id = $1 AND e.person_id = ANY(ic.candidate_ids) ORDER BY e.end_date DESC NULLS FIRST, e.id LIMIT 1) AS class_group_id,
         NULL::uuid AS pupil_id, ARRAY[ic.connection_id] AS source_ids,
         jsonb_build_object('candidates', to_jsonb(ic.candidate_ids)) AS expected,
         jsonb_build_object('entityType', ic.entity_type, 'externalId', ic.external_id, 'reason', ic.reason) AS found
    FROM identity_conflict ic
   WHERE ic.school_id = $1 AND ic.resolved_at IS NULL
     AND ic.connection_id IN (SELECT c.id FROM connection c WHERE c.school_id = $1)`;

function rosterRule(id: string, title: string, sql: string, pairwise = true): Rule {
  return {
    id, kind: 'roster', title, clauses: ['004 §1.6', '001 Инструкция 5.2'], scope: 'school', incremental: true,
    query: (ctx) => {
      if (!pairwise) return { text: sql };
      const values = pairValues(ctx)?.slice(0, 2);
      return values ? { text: sql, values } : null;
    },
  };
}

export const ROSTER_RULES: readonly Rule[] = [
  rosterRule('roster_enrolled_in_one_source', 'Ученик в списке класса только в одном источнике', ENROLLED_IN_ONE_SQL),
  rosterRule('roster_different_class', 'Ученик в разных классах в разных источниках', DIFFERENT_CLASS_SQL),
  rosterRule('roster_left_in_one_source', 'Ученик выбыл только в одном источнике', LEFT_IN_ONE_SQL),
  rosterRule('roster_ambiguous_identity', 'Неоднозначное сопоставление ученика', AMBIGUOUS_IDENTITY_SQL, false),
];
