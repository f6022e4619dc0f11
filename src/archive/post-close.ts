import type { PoolClient } from '../db/pool.js';
import type { FeedEvent } from '../journal/feed.js';

/**
 * Changes to a locked period (src/archive/close.ts lock): the platforms stay the source of truth, so a
 * change after the lock is still written to the journal, but each is recorded here — projected from the
 * history by the checks consumer, batch by batch, in the batch's transaction — and the
 * `post_close_change` rule (src/checks/rules/period-close.ts) reports it to the deputy.
 *
 * A fact belongs to a period by its day (a mark's, an absence's, a lesson's date; a period mark by its
 * period). A lesson counts only when something printed changed (date, slot, topic, homework, status, its
 * group or subject). An event at or before the lock's history position is part of what was locked.
 */

const FACTS = new Set(['mark', 'attendance', 'lesson', 'period_mark']);
const PRINTED_LESSON_FIELDS = ['date', 'slot', 'topic', 'homework', 'status', 'class_group_id', 'subject_id'] as const;

interface Lock {
  close_id: string;
  period_id: string;
  lock_seq: string;
  start_date: string;
  end_date: string;
}

interface Change {
  seq: number;
  close: Lock;
  entityType: string;
  entityId: string;
  op: string;
  day: string;
  subjectId: string | null;
  pupilId: string | null;
  lessonId: string | null;
  classGroupId: string | null;
  sourceId: string | null;
}

const str = (v: unknown): string | null => (v === undefined || v === null ? null : String(v));

export async function projectPostCloseChanges(client: PoolClient, schoolId: string, events: readonly FeedEvent[]): Promise<void> {
  if (!events.some((e) => FACTS.has(e.entityType))) return;
  const { rows: locks } = await client.query<Lock>(
    `SELECT pc.id::text AS close_id, pc.period_id::text, pc.lock_seq::text, p.start_date::text, p.end_date::text
       FROM period_close pc JOIN period p ON p.id = pc.period_id
      WHERE pc.school_id = $1 AND pc.status <> 'open' AND pc.lock_seq IS NOT NULL`,
    [schoolId],
  );
  if (locks.length === 0) return;
  const changes: Change[] = [];
  for (const event of events) {
    if (!FACTS.has(event.entityType)) continue;
    const before = event.before as Record<string, unknown> | null;
    const after = event.after as Record<string, unknown> | null;
    if (event.entityType === 'lesson' && event.op === 'update' && PRINTED_LESSON_FIELDS.every((f) => str(before?.[f]) === str(after?.[f]))) continue;
    const latest = after ?? before ?? {};
    for (const lock of locks) {
      if (event.seq <= Number(lock.lock_seq)) continue;
      let day: string | null = null;
      if (event.entityType === 'period_mark') {
        if (str(after?.period_id) === lock.period_id || str(before?.period_id) === lock.period_id) day = lock.end_date;
      } else {
        day = [str(after?.date), str(before?.date)].find((d) => d !== null && d >= lock.start_date && d <= lock.end_date) ?? null;
      }
      if (day === null) continue;
      changes.push({
        seq: event.seq, close: lock, entityType: event.entityType, entityId: event.entityId, op: event.op, day,
        subjectId: str(latest.subject_id), pupilId: str(latest.pupil_id),
        lessonId: event.entityType === 'lesson' ? event.entityId : str(latest.lesson_id),
        classGroupId: event.entityType === 'lesson' ? str(latest.class_group_id) : null,
        sourceId: event.sourceId,
      });
      break;
    }
  }
  if (changes.length === 0) return;
  // The class: a lesson's group (its class when a subgroup's); a mark's or absence's by its lesson; a period
  // mark's the class the pupil was enrolled in during the period.
  await client.query(
    `INSERT INTO post_close_change (school_id, seq, close_id, period_id, entity_type, entity_id, op, day, class_group_id, subject_id, pupil_id, lesson_id, source_id)
     SELECT $1, u.seq, u.close_id, u.period_id, u.entity_type, u.entity_id, u.op, u.day,
            COALESCE((SELECT COALESCE(g.parent_id, g.id) FROM class_group g WHERE g.id = COALESCE(u.class_group_id, l.class_group_id)),
                     (SELECT e.class_group_id FROM enrollment e JOIN class_group c ON c.id = e.class_group_id AND c.kind = 'class'
                       WHERE e.person_id = u.pupil_id AND (e.start_date IS NULL OR e.start_date <= u.day) AND (e.end_date IS NULL OR e.end_date >= u.day)
                       ORDER BY e.start_date DESC NULLS LAST LIMIT 1)),
            COALESCE(u.subject_id, l.subject_id), u.pupil_id, u.lesson_id, u.source_id
       FROM unnest($2::bigint[], $3::uuid[], $4::uuid[], $5::text[], $6::uuid[], $7::text[], $8::date[], $9::uuid[], $10::uuid[], $11::uuid[], $12::uuid[], $13::uuid[])
            AS u(seq, close_id, period_id, entity_type, entity_id, op, day, class_group_id, subject_id, pupil_id, lesson_id, source_id)
       LEFT JOIN lesson l ON l.id = u.lesson_id
     ON CONFLICT (school_id, seq) DO NOTHING`,
    [schoolId, changes.map((c) => c.seq), changes.map((c) => c.close.close_id), changes.map((c) => c.close.period_id), changes.map((c) => c.entityType),
      changes.map((c) => c.entityId), changes.map((c) => c.op), changes.map((c) => c.day), changes.map((c) => c.classGroupId), changes.map((c) => c.subjectId),
      changes.map((c) => c.pupilId), changes.map((c) => c.lessonId), changes.map((c) => c.sourceId)],
  );
}
