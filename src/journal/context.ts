import type { PoolClient } from '../db/pool.js';
import { todayIn } from '../lib/dates.js';
import type { RecordType, SourceRecord } from '../ports/records.js';
import type { Vocabulary } from '../ports/values.js';
import type { PendingEvent } from './history.js';
import { RefStore } from './refs.js';

/** The connection a batch comes from, with what the write path needs of its school. */
export interface SourceInfo {
  id: string;
  schoolId: string;
  platform: string;
  timeZone: string;
}

export interface LessonInfo {
  id: string;
  subjectId: string;
  date: string;
}

/** One input record on its way through the write path. */
export interface Entry<R extends SourceRecord = SourceRecord> {
  /** Position in the batch, reported with a rejection. */
  index: number;
  record: R;
  /** payloadHash of the record as received. */
  hash: number;
}

export interface Rejection {
  index: number;
  type?: string;
  externalId?: string;
  reason: string;
}

export interface Counts {
  created: number;
  updated: number;
  unchanged: number;
  deleted: number;
  rejected: number;
}

/** An ambiguous identity, as applyBatch stores it. */
export interface IdentityConflictNote {
  entityType: string;
  externalId: string;
  reason: string;
  candidateIds: string[];
}

export const emptyCounts = (): Counts => ({ created: 0, updated: 0, unchanged: 0, deleted: 0, rejected: 0 });

/** State of one applyBatch call: its transaction, its source, what it changed and what it refused. */
export class BatchContext {
  readonly events: PendingEvent[] = [];
  readonly rejected: Rejection[] = [];
  /** Records refused because their identity was ambiguous: kept as durable records (identity_conflict). */
  readonly conflicts: IdentityConflictNote[] = [];
  readonly counts = new Map<RecordType, Counts>();
  readonly refs: RefStore;
  readonly vocabulary: Vocabulary;
  /** Academic years of this batch's records: start year → canonical id (see academic-years.ts). */
  readonly academicYears = new Map<number, string>();
  /** Lessons of this source cited by facts: external id → what a mark inherits from its lesson. */
  readonly lessons = new Map<string, LessonInfo | null>();

  constructor(
    readonly client: PoolClient,
    readonly source: SourceInfo,
    readonly now: Date,
    vocabulary: Vocabulary = {},
  ) {
    this.refs = new RefStore(client, source.id);
    this.vocabulary = vocabulary;
  }

  count(type: RecordType, what: keyof Counts, n = 1): void {
    let counts = this.counts.get(type);
    if (!counts) {
      counts = emptyCounts();
      this.counts.set(type, counts);
    }
    counts[what] += n;
  }

  reject(entry: Pick<Entry, 'index'> & { record: unknown }, reason: string): void {
    const record = (entry.record ?? {}) as { type?: unknown; externalId?: unknown };
    const type = typeof record.type === 'string' ? record.type : undefined;
    const externalId = typeof record.externalId === 'string' ? record.externalId : undefined;
    this.rejected.push({ index: entry.index, type, externalId, reason });
    if (type && isRecordType(type)) this.count(type, 'rejected');
  }

  /** Rejects a record whose identity is ambiguous and keeps it for the checks (identity_conflict). */
  conflict(entry: Pick<Entry, 'index'> & { record: { type: RecordType; externalId: string } }, reason: string, candidateIds: string[]): void {
    this.reject(entry, reason);
    this.conflicts.push({ entityType: entry.record.type, externalId: entry.record.externalId, reason, candidateIds });
  }

  /** The school-local calendar day of this batch (enrollment end dates, "today" rules). */
  today(): string {
    return todayIn(this.source.timeZone, this.now);
  }
}

const TYPES = new Set<string>([
  'period', 'class', 'subject', 'person', 'enrollment', 'guardianship', 'staff_role',
  'teaching_assignment', 'lesson', 'homework', 'mark', 'attendance', 'period_mark',
]);

export function isRecordType(type: string): type is RecordType {
  return TYPES.has(type);
}
