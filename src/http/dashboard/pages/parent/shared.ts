import { ForbiddenError, NotFoundError } from '../../../../lib/errors.js';
import type { PageContext } from '../../context.js';
import { isMessageKey } from '../../messages/index.js';

/** The parent pages are a parent's own: staff have the journal's pages instead (403, as for a permission they lack). */
export function parentOf(ctx: PageContext): string {
  if (ctx.caller.kind !== 'parent') throw new ForbiddenError('the family pages are for parents');
  // A parent account not linked to a journal person has nothing of its own here.
  if (!ctx.grant.personId) throw new NotFoundError('person');
  return ctx.grant.personId;
}

/** The text of a value the service enumerates (a work category, an absence kind, a channel); the value itself if the catalogue has none. */
export function labelOf(ctx: PageContext, prefix: string, value: string): string {
  const key = `${prefix}.${value}`;
  return isMessageKey(key) ? ctx.t(key) : value;
}

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
