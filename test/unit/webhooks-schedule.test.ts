import { describe, expect, it } from '@jest/globals';
import { Webhook } from 'standardwebhooks';
import {
  clampRetryAfter, JITTER, MAX_ATTEMPTS, nextDelayMs, parseRetryAfter, RETRY_DELAYS_MS, retryDelayMs, verdictOf,
} from '../../src/webhooks/schedule.js';
import { eventTypeOf, journalEventOf, serialise, subscribes } from '../../src/webhooks/events.js';
import { activeSecrets, generateSecret, signedHeaders, webhookIdOf } from '../../src/webhooks/signing.js';
import type { FeedEvent } from '../../src/journal/feed.js';

const S = 1000;
const M = 60 * S;
const H = 60 * M;

describe('the delivery schedule (Svix)', () => {
  it('is 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h after the first attempt: eight attempts in all', () => {
    expect(RETRY_DELAYS_MS).toEqual([5 * S, 5 * M, 30 * M, 2 * H, 5 * H, 10 * H, 10 * H]);
    expect(MAX_ATTEMPTS).toBe(8);
  });

  it('adds a jitter of at most JITTER of each delay, never less than the delay', () => {
    for (let attempt = 1; attempt < MAX_ATTEMPTS; attempt++) {
      const base = RETRY_DELAYS_MS[attempt - 1]!;
      expect(retryDelayMs(attempt, () => 0)).toBe(base);
      expect(retryDelayMs(attempt, () => 0.999999)).toBe(Math.round(base * (1 + JITTER * 0.999999)));
      expect(retryDelayMs(attempt, () => 0.5)).toBe(Math.round(base * (1 + JITTER / 2)));
    }
  });

  it('has no delay after the eighth attempt', () => {
    expect(retryDelayMs(MAX_ATTEMPTS, () => 0)).toBeUndefined();
    expect(nextDelayMs(MAX_ATTEMPTS, 'failure', undefined, () => 0)).toBeUndefined();
  });

  it.each([
    [200, 'success'], [204, 'success'], [299, 'success'],
    [301, 'failure'], [302, 'failure'], [307, 'failure'], [308, 'failure'],
    [400, 'failure'], [404, 'failure'], [410, 'disable'], [500, 'failure'],
    [429, 'throttled'], [502, 'throttled'], [503, 'throttled'], [504, 'throttled'],
  ] as Array<[number, string]>)('answers %i as %s', (status, verdict) => {
    expect(verdictOf(status)).toBe(verdict);
  });

  it('clamps Retry-After to [scheduled, 2 × scheduled]', () => {
    expect(clampRetryAfter(5 * M, undefined)).toBe(5 * M);
    expect(clampRetryAfter(5 * M, 1 * S)).toBe(5 * M);
    expect(clampRetryAfter(5 * M, 7 * M)).toBe(7 * M);
    expect(clampRetryAfter(5 * M, 3 * H)).toBe(10 * M);
    expect(clampRetryAfter(5 * M, Number.NaN)).toBe(5 * M);
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    const now = new Date('2030-01-01T00:00:00Z');
    expect(parseRetryAfter('120', now)).toBe(120 * S);
    expect(parseRetryAfter('Tue, 01 Jan 2030 00:01:00 GMT', now)).toBe(60 * S);
    expect(parseRetryAfter('Mon, 31 Dec 2029 00:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });

  it('applies Retry-After to throttling answers only', () => {
    expect(nextDelayMs(2, 'throttled', 20 * M, () => 0)).toBe(10 * M);
    expect(nextDelayMs(2, 'failure', 20 * M, () => 0)).toBe(5 * M);
    expect(nextDelayMs(1, 'throttled', 7 * S, () => 0)).toBe(7 * S);
  });
});

describe('signing', () => {
  it('makes whsec_ secrets of 32 random bytes, each new', () => {
    const a = generateSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(a.slice(6), 'base64')).toHaveLength(32);
    expect(generateSecret()).not.toBe(a);
  });

  it('signs what standardwebhooks verifies, with every active secret space-separated', () => {
    const [oldSecret, newSecret] = [generateSecret(), generateSecret()];
    const now = new Date();
    const body = '{"type":"mark.created"}';
    const headers = signedHeaders(webhookIdOf('0b9c1a5e-0000-4000-8000-000000000001'), now, body, [newSecret, oldSecret]);
    expect(headers['webhook-id']).toBe('msg_0b9c1a5e000040008000000000000001');
    expect(headers['webhook-signature']!.split(' ')).toHaveLength(2);
    expect(headers['webhook-signature']).toMatch(/^v1,\S+ v1,\S+$/);
    expect(new Webhook(newSecret).verify(body, headers)).toEqual({ type: 'mark.created' });
    expect(new Webhook(oldSecret).verify(body, headers)).toEqual({ type: 'mark.created' });
    expect(() => new Webhook(generateSecret()).verify(body, headers)).toThrow();
    expect(() => new Webhook(newSecret).verify(body.replace('mark', 'mork'), headers)).toThrow();
  });

  it('keeps the previous secret only within its grace period', () => {
    const now = new Date('2030-01-01T00:00:00Z');
    expect(activeSecrets({ current: 'a', previous: 'b', previousUntil: '2030-01-01T00:00:01Z' }, now)).toEqual(['a', 'b']);
    expect(activeSecrets({ current: 'a', previous: 'b', previousUntil: '2030-01-01T00:00:00Z' }, now)).toEqual(['a']);
    expect(activeSecrets({ current: 'a' }, now)).toEqual(['a']);
  });
});

describe('event mapping', () => {
  const mark: FeedEvent = {
    seq: 7, entityType: 'mark', entityId: 'm-1', op: 'update', sourceId: 's', actor: null, runId: null, at: new Date('2030-01-01T00:00:00Z'),
    before: { pupil_id: 'p-1', subject_id: 's-1', date: '2030-01-01', raw: '4', kind: 'mark', work_category: 'oral' },
    after: { pupil_id: 'p-1', subject_id: 's-1', date: '2030-01-01', raw: '5', kind: 'mark', work_category: 'oral', comment: 'Иванов молодец' },
  };

  it('names journal events <entity>.<op>ed and nothing for people or classes', () => {
    expect(eventTypeOf(mark)).toBe('mark.updated');
    expect(eventTypeOf({ entityType: 'attendance', op: 'create' })).toBe('attendance.created');
    expect(eventTypeOf({ entityType: 'period_mark', op: 'delete' })).toBe('period_mark.deleted');
    expect(eventTypeOf({ entityType: 'lesson', op: 'create' })).toBe('lesson.created');
    expect(eventTypeOf({ entityType: 'person', op: 'create' })).toBeUndefined();
    expect(eventTypeOf({ entityType: 'guardianship', op: 'create' })).toBeUndefined();
  });

  it('carries ids, kinds and a fetch path only', () => {
    const event = journalEventOf('sch-1', mark);
    expect(event).toEqual({
      type: 'mark.updated', timestamp: '2030-01-01T00:00:00.000Z',
      data: { id: 'm-1', schoolId: 'sch-1', entity: 'mark', op: 'update', seq: 7, pupilId: 'p-1', subjectId: 's-1', date: '2030-01-01', kind: 'mark', fetch: '/v1/schools/sch-1/marks/m-1' },
    });
    expect(serialise(event)).not.toContain('Иванов');
  });

  it('matches subscriptions exactly, by entity wildcard, or all', () => {
    expect(subscribes(['mark.created'], 'mark.created')).toBe(true);
    expect(subscribes(['mark.created'], 'mark.updated')).toBe(false);
    expect(subscribes(['mark.*'], 'mark.deleted')).toBe(true);
    expect(subscribes(['mark.*'], 'period_mark.deleted')).toBe(false);
    expect(subscribes(['*'], 'sync_run.failed')).toBe(true);
  });
});
