import { describe, expect, it } from '@jest/globals';
import { maskAddress, normalizeAddress, countryOf } from '../../src/notify/contacts.js';
import { isLowMark } from '../../src/notify/fanout.js';
import { quietUntil, sendableAt } from '../../src/notify/quiet.js';
import { route, type Reach } from '../../src/notify/reach.js';
import { isReportDay, yearAnchor } from '../../src/notify/scheduled.js';

const quiet = { from: '21:00', to: '08:00' };

describe('quiet hours (school-local)', () => {
  it('23:10 in Bishkek waits for 08:00 there; 07:59 too; 08:00 and noon go at once', () => {
    expect(sendableAt(new Date('2025-09-15T17:10:00Z'), 'Asia/Bishkek', quiet).toISOString()).toBe('2025-09-16T02:00:00.000Z');
    expect(sendableAt(new Date('2025-09-16T01:59:00Z'), 'Asia/Bishkek', quiet).toISOString()).toBe('2025-09-16T02:00:00.000Z');
    expect(quietUntil(new Date('2025-09-16T02:00:00Z'), 'Asia/Bishkek', quiet)).toBeUndefined();
    expect(quietUntil(new Date('2025-09-16T06:00:00Z'), 'Asia/Bishkek', quiet)).toBeUndefined();
  });
  it('21:00 Moscow starts them; a window inside the day (13:00–14:00) and none at all (equal times)', () => {
    expect(sendableAt(new Date('2025-09-15T18:00:00Z'), 'Europe/Moscow', quiet).toISOString()).toBe('2025-09-16T05:00:00.000Z');
    expect(quietUntil(new Date('2025-09-15T17:59:00Z'), 'Europe/Moscow', quiet)).toBeUndefined();
    expect(sendableAt(new Date('2025-09-15T10:30:00Z'), 'Europe/Moscow', { from: '13:00', to: '14:00' }).toISOString()).toBe('2025-09-15T11:00:00.000Z');
    expect(quietUntil(new Date('2025-09-15T20:00:00Z'), 'Europe/Moscow', { from: '00:00', to: '00:00' })).toBeUndefined();
  });
});

describe('contacts', () => {
  it('normalises phones to E.164 by the school’s country, e-mails to lower case; refuses what is neither', () => {
    expect(normalizeAddress('sms', '8 (912) 345-67-89', 'RU')).toBe('+79123456789');
    expect(normalizeAddress('sms', '0555 123 456', countryOf('г. Бишкек'))).toBe('+996555123456');
    expect(normalizeAddress('sms', '12345', 'RU')).toBeUndefined();
    expect(normalizeAddress('email', ' Parent.One@Example.ORG ')).toBe('parent.one@example.org');
    expect(normalizeAddress('email', 'not an address')).toBeUndefined();
    expect(normalizeAddress('telegram', '123456789')).toBe('123456789');
  });
  it('masks addresses in outbox lists', () => {
    expect(maskAddress('sms', '+79123456789')).toBe('+791*****89');
    expect(maskAddress('email', 'parent@example.org')).toBe('p***@example.org');
    expect(maskAddress('telegram', '123456789')).toBe('chat …789');
  });
});

describe('routing', () => {
  const reach: Reach = {
    contacts: new Map([['a', [{ id: 'c1', channel: 'email', address: 'a@x.org' }, { id: 'c2', channel: 'sms', address: '+79990000001' }]]]),
    consents: new Set(['a|sms|marks', 'a|email|reports']),
    preferences: new Map(),
  };
  it('takes the first channel with a contact, consent and provider; says why each other one could not', () => {
    expect(route(reach, 'a', 'marks', ['telegram', 'email', 'sms'], new Set(['telegram', 'email', 'sms']))).toMatchObject({ channel: 'sms', contact: { id: 'c2' } });
    expect(route(reach, 'a', 'reports', ['telegram', 'email', 'sms'], new Set(['email']))).toMatchObject({ channel: 'email' });
    const none = route(reach, 'a', 'attendance', ['telegram', 'email', 'sms'], new Set(['telegram', 'email']));
    expect(none).toEqual({ channel: 'none', reason: 'no channel: telegram: no linked chat; email: no consent for attendance; sms: the school has no provider' });
    expect(route(reach, 'a', 'marks', ['sms', 'email'], new Set(['sms', 'email']), new Set(['sms']))).toMatchObject({ channel: 'none' });
  });
  it('a person’s own order wins; an empty one turns everything off; staff alerts need no consent', () => {
    const own: Reach = { ...reach, preferences: new Map([['a', { channels: [], marks: null, language: null }]]) };
    expect(route(own, 'a', 'marks', ['sms'], new Set(['sms']))).toEqual({ channel: 'none', reason: 'the person turned notifications off' });
    expect(route(reach, 'a', 'discrepancies', ['email'], new Set(['email']))).toMatchObject({ channel: 'email' });
  });
});

describe('what is news', () => {
  it('a 2, a 1 and «н/а» are low marks; a 3, «зч» and a 2 of ten are not', () => {
    expect(isLowMark({ raw: '2', kind: 'mark', numeric: 2 })).toBe(true);
    expect(isLowMark({ raw: '1', kind: 'mark', numeric: 1 })).toBe(true);
    expect(isLowMark({ raw: 'н/а', kind: 'other' })).toBe(true);
    expect(isLowMark({ raw: '3', kind: 'mark', numeric: 3 })).toBe(false);
    expect(isLowMark({ raw: 'зч', kind: 'pass' })).toBe(false);
    expect(isLowMark({ raw: '2', kind: 'mark', numeric: 2, scale: 10 })).toBe(false);
  });
  it('the fortnightly report goes on the report weekday of every second week from the year’s first Monday', () => {
    expect(yearAnchor('2025-10-10')).toBe('2025-09-01');
    expect(yearAnchor('2026-09-05')).toBe('2026-09-07');
    expect(isReportDay('2025-09-05', 5, 14)).toBe(false);
    expect(isReportDay('2025-09-12', 5, 14)).toBe(true);
    expect(isReportDay('2025-09-19', 5, 14)).toBe(false);
    expect(isReportDay('2025-09-26', 5, 14)).toBe(true);
    expect(isReportDay('2025-09-25', 5, 14)).toBe(false);
  });
});
