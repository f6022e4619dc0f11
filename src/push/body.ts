import { z } from 'zod';
import { describeIssues } from '../journal/facts.js';
import { RECORD_TYPES, SourceRecordSchemas, type GoneId, type RecordType } from '../ports/records.js';

/**
 * The most records (and gone ids) one push takes: about 1 MB of marks, the API's JSON body limit, so
 * one request stays one short transaction. A sender with more splits its batch.
 */
export const MAX_PUSH_RECORDS = 5000;

const GoneSchema = z.object({
  entityType: z.enum(RECORD_TYPES as [RecordType, ...RecordType[]]),
  externalId: z.string().min(1).max(200),
}).strict();

/**
 * The body of a push. Records are only checked to be an array here: each is validated on its own
 * (checkRecords), so one bad record is rejected with its index while the others are applied.
 */
export const PushBodySchema = z.object({
  records: z.array(z.unknown()),
  gone: z.array(GoneSchema).optional(),
}).strict();
export type PushBody = z.infer<typeof PushBodySchema>;

/** A record the push refused, by its index in the request's `records`. */
export interface PushRejection {
  index: number;
  type?: string;
  externalId?: string;
  reason: string;
}

export interface CheckedRecords {
  /** The records that passed, as sent (applyBatch hashes what it is given). */
  valid: unknown[];
  /** valid[i] is records[positions[i]] of the request. */
  positions: number[];
  rejected: PushRejection[];
}

/** Validates each record against the source-record schema of its `type`; a failure names the zod path and message. */
export function checkRecords(records: readonly unknown[]): CheckedRecords {
  const out: CheckedRecords = { valid: [], positions: [], rejected: [] };
  records.forEach((record, index) => {
    const reason = problemOf(record);
    if (reason === undefined) {
      out.valid.push(record);
      out.positions.push(index);
      return;
    }
    const shape = (typeof record === 'object' && record !== null ? record : {}) as { type?: unknown; externalId?: unknown };
    out.rejected.push({
      index,
      ...(typeof shape.type === 'string' ? { type: shape.type } : {}),
      ...(typeof shape.externalId === 'string' ? { externalId: shape.externalId } : {}),
      reason,
    });
  });
  return out;
}

function problemOf(record: unknown): string | undefined {
  const type = (record as { type?: unknown } | null)?.type;
  if (typeof record !== 'object' || record === null || Array.isArray(record) || typeof type !== 'string' || !RECORD_TYPES.includes(type as RecordType)) {
    return `type: expected an object whose "type" is one of ${RECORD_TYPES.join(', ')}`;
  }
  const parsed = SourceRecordSchemas[type as RecordType].safeParse(record);
  return parsed.success ? undefined : describeIssues(parsed.error);
}

/** The request's gone list in applyBatch's terms. */
export function goneIdsOf(body: PushBody): GoneId[] {
  return (body.gone ?? []).map((g) => ({ type: g.entityType, externalId: g.externalId }));
}
