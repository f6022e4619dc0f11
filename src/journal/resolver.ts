import type { BatchContext } from './context.js';

/** Thrown while building a row: the record is rejected alone, with this reason. */
export class RejectRecord extends Error {}

const WHAT: Record<string, string> = {
  person: 'person',
  class: 'class',
  subject: 'subject',
  lesson: 'lesson',
  period: 'period',
};

/**
 * Resolves a record's references to canonical ids through the batch's refs (loaded beforehand).
 * A required reference that does not resolve rejects the record; an optional one leaves the field
 * empty and marks the record `unresolved`, so it is looked at again on the next read instead of
 * being skipped as unchanged.
 */
export class Resolver {
  unresolved = false;

  constructor(private readonly ctx: BatchContext) {}

  required(entityType: string, externalId: string, role: string): string {
    const id = this.ctx.refs.resolve(entityType, externalId);
    if (!id) {
      throw new RejectRecord(`unknown ${role} "${externalId}": no ${WHAT[entityType] ?? entityType} with this id from this source yet`);
    }
    return id;
  }

  optional(entityType: string, externalId: string | undefined): string | undefined {
    if (externalId === undefined) return undefined;
    const id = this.ctx.refs.resolve(entityType, externalId);
    if (!id) this.unresolved = true;
    return id;
  }
}
