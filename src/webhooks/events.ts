import type { FeedEvent } from '../journal/feed.js';

/**
 * Webhook event types and their thin payloads. A journal event of a mark, an attendance entry, a lesson
 * or a period mark becomes `<entity>.created|updated|deleted`; other modules emit the rest (outbox.ts
 * emitWebhookEvent). A payload carries ids and kinds only — never a name, phone or e-mail — and a `fetch`
 * path for the rest, so what a receiver holds is no more than it can read through the API anyway.
 */

const JOURNAL_ENTITIES = { mark: 'mark', attendance: 'attendance', lesson: 'lesson', period_mark: 'period_mark' } as const;
type JournalEntity = keyof typeof JOURNAL_ENTITIES;
const OPS = { create: 'created', update: 'updated', delete: 'deleted' } as const;

/** Events other modules emit inside their own transactions. */
export const EMITTED_EVENT_TYPES = ['discrepancy.opened', 'discrepancy.resolved', 'sync_run.failed', 'period.closed'] as const;
export type EmittedEventType = (typeof EMITTED_EVENT_TYPES)[number];

/** Every event type an endpoint may subscribe to. */
export const EVENT_TYPES: readonly string[] = [
  ...Object.keys(JOURNAL_ENTITIES).flatMap((entity) => Object.values(OPS).map((op) => `${entity}.${op}`)),
  ...EMITTED_EVENT_TYPES,
];

/** What a subscription may name: an event type, `<entity>.*`, or `*` for all. */
export function isEventTypePattern(pattern: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('.*')) return EVENT_TYPES.some((t) => t.startsWith(pattern.slice(0, -1)));
  return EVENT_TYPES.includes(pattern);
}

/** Whether a subscription's patterns take an event type. */
export function subscribes(patterns: readonly string[], type: string): boolean {
  return patterns.some((p) => p === '*' || p === type || (p.endsWith('.*') && type.startsWith(p.slice(0, -1))));
}

/** The webhook event of a journal event, or undefined for entities that have none (people, classes …). */
export function eventTypeOf(event: Pick<FeedEvent, 'entityType' | 'op'>): string | undefined {
  if (!(event.entityType in JOURNAL_ENTITIES)) return undefined;
  return `${event.entityType}.${OPS[event.op]}`;
}

/** Payload columns that may go out: references and the day, never values about a person beyond ids. */
const ID_COLUMNS: Readonly<Record<string, string>> = {
  pupil_id: 'pupilId', subject_id: 'subjectId', lesson_id: 'lessonId', class_group_id: 'classGroupId', period_id: 'periodId',
  teacher_id: 'teacherId', date: 'date', slot: 'slot', kind: 'kind',
};

const COLLECTION: Readonly<Record<JournalEntity, string>> = { mark: 'marks', attendance: 'attendance', lesson: 'lessons', period_mark: 'period-marks' };

/** A webhook event before it is serialised: the Standard Webhooks envelope. */
export interface WebhookEvent {
  type: string;
  timestamp: string;
  data: Record<string, unknown> & { id: string; schoolId: string };
}

/** The thin webhook event of a journal event (eventTypeOf must have given it a type). */
export function journalEventOf(schoolId: string, event: FeedEvent): WebhookEvent {
  const entity = event.entityType as JournalEntity;
  const row = event.after ?? event.before ?? {};
  const data: WebhookEvent['data'] = { id: event.entityId, schoolId, entity, op: event.op, seq: event.seq };
  for (const [column, key] of Object.entries(ID_COLUMNS)) {
    const value = row[column];
    if (value !== undefined && value !== null) data[key] = value;
  }
  data.fetch = `/v1/schools/${schoolId}/${COLLECTION[entity]}/${event.entityId}`;
  return { type: eventTypeOf(event)!, timestamp: event.at.toISOString(), data };
}

/** Serialises an event once: these bytes are stored, signed and sent, on every attempt. */
export function serialise(event: WebhookEvent): string {
  return JSON.stringify(event);
}
