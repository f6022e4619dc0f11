import { describe, expect, it } from '@jest/globals';
import { claimsOf } from '../../src/checks/projections/lesson-claims.js';
import type { FeedEvent } from '../../src/journal/feed.js';

const at = new Date('2025-09-08T10:00:00Z');
const lesson = { class_group_id: 'c', subject_id: 's', date: '2025-09-08', slot: 2 };
let seq = 0;
const event = (op: FeedEvent['op'], sourceId: string | null, before: Record<string, unknown> | null, after: Record<string, unknown> | null, entityId = 'l1'): FeedEvent =>
  ({ seq: ++seq, entityType: 'lesson', entityId, op, sourceId, actor: null, runId: null, at, before: before as never, after: after as never });

describe('lesson claims', () => {
  it('a source claims the topic or homework it set or changed; a create without one claims nothing', () => {
    const claims = claimsOf([
      event('create', 'a', null, { ...lesson, topic: 'Сложение' }),
      event('create', 'b', null, lesson, 'l2'),
      event('update', 'b', { ...lesson, topic: 'Сложение' }, { ...lesson, topic: 'Вычитание', homework: '№ 1' }),
    ]);
    expect(claims.map(({ lessonId, sourceId, field, value }) => [lessonId, sourceId, field, value])).toEqual([
      ['l1', 'a', 'topic', 'Сложение'], ['l1', 'b', 'topic', 'Вычитание'], ['l1', 'b', 'homework', '№ 1'],
    ]);
  });

  it('clearing a field (payloads leave nulls out) claims null; the last change of a batch wins; deletes and source-less events claim nothing', () => {
    const claims = claimsOf([
      event('update', 'b', { homework: '№ 1' }, {}),
      event('update', 'a', { ...lesson, topic: 'x' }, { ...lesson, topic: 'y' }),
      event('update', 'a', { ...lesson, topic: 'y' }, { ...lesson, topic: 'z' }),
      event('update', null, { ...lesson, topic: 'z' }, { ...lesson, topic: 'w' }),
      event('delete', 'a', { ...lesson, topic: 'z' }, null),
    ]);
    expect(claims.map(({ sourceId, field, value }) => [sourceId, field, value])).toEqual([['b', 'homework', null], ['a', 'topic', 'z']]);
  });
});
