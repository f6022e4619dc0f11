import { z } from 'zod';
import { ExternalIdSchema, RECORD_TYPES, type GoneId, type RecordType } from '../ports/records.js';

/**
 * The most records (and gone ids) one push takes: about 1 MB of marks, the API's JSON body limit, so
 * one request stays one short transaction. A sender with more splits its batch.
 */
export const MAX_PUSH_RECORDS = 5000;

const GoneSchema = z.object({
  entityType: z.enum(RECORD_TYPES as [RecordType, ...RecordType[]]),
  externalId: ExternalIdSchema,
}).strict();

/**
 * The body of a push. Records are only checked to be an array here: each is validated on its own by
 * applyBatch against the source-record schemas (src/ports/records.ts), so one bad record is rejected with
 * its index and the zod path and message while the others are applied — once, in the write path, rather
 * than a second time here (a batch of 1,000 marks spends 4–9 ms in zod).
 */
export const PushBodySchema = z.object({
  records: z.array(z.unknown()),
  gone: z.array(GoneSchema).optional(),
}).strict();
export type PushBody = z.infer<typeof PushBodySchema>;

/** The request's gone list in applyBatch's terms. */
export function goneIdsOf(body: PushBody): GoneId[] {
  return (body.gone ?? []).map((g) => ({ type: g.entityType, externalId: g.externalId }));
}
