import type { PoolClient } from '../../db/pool.js';
import type { FeedEvent } from '../../journal/feed.js';
import type { Rule } from '../types.js';

/**
 * Every rule the checks evaluate, in evaluation order. One line per rule family; a rule is one file
 * (or one entry of a family's file) with its clauses, its scope and its set-based query.
 */
export const RULES: readonly Rule[] = [];

/** Tables the rules read that the checks consumer keeps up to date from the event feed, batch by batch. */
export type Projection = (client: PoolClient, schoolId: string, events: readonly FeedEvent[]) => Promise<void>;
export const PROJECTIONS: readonly Projection[] = [];
