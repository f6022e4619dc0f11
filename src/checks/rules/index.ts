import type { PoolClient } from '../../db/pool.js';
import type { FeedEvent } from '../../journal/feed.js';
import { projectLessonClaims } from '../projections/lesson-claims.js';
import { projectSourceVocabulary } from '../projections/source-vocabulary.js';
import type { Rule } from '../types.js';
import { CROSS_SOURCE_RULES } from './cross-source.js';
import { ENTRY_RULES } from './regulation-entries.js';
import { PERIOD_RULES } from './regulation-periods.js';
import { ROSTER_RULES } from './roster.js';
import { PERIOD_CLOSE_RULES } from './period-close.js';
import { projectPostCloseChanges } from '../../archive/post-close.js';

/**
 * Every rule the checks evaluate, in evaluation order. One line per rule family; a rule is one entry of
 * its family's file with its clauses, its scope and its set-based query.
 */
export const RULES: readonly Rule[] = [...CROSS_SOURCE_RULES, ...ROSTER_RULES, ...ENTRY_RULES, ...PERIOD_RULES, ...PERIOD_CLOSE_RULES];

/** Tables the rules read that the checks consumer keeps up to date from the event feed, batch by batch. */
export type Projection = (client: PoolClient, schoolId: string, events: readonly FeedEvent[]) => Promise<void>;
export const PROJECTIONS: readonly Projection[] = [projectLessonClaims, projectSourceVocabulary, projectPostCloseChanges];
