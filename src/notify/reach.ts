import type { Pool, PoolClient } from '../db/pool.js';
import type { Channel, Purpose } from './policy.js';

/**
 * Who can be reached how: a person's usable contact points, their active consents and their own
 * preferences, read set-based for a batch of people, and the one rule that picks a message's channel:
 * the person's channel order (or the school's), the first channel with a usable contact, an active consent
 * for the message's purpose (staff work alerts need none) and a provider the school has. When no channel
 * qualifies the outbox keeps a `skipped` row that says why, channel by channel.
 */
export interface Contact { id: string; channel: Channel; address: string }
export interface Preference { channels: Channel[]; marks: 'instant' | 'digest' | 'off' | null; language: 'ru' | 'ky' | null }

export interface Reach {
  contacts: Map<string, Contact[]>;
  consents: Set<string>;
  preferences: Map<string, Preference>;
}

const consentKey = (personId: string, channel: string, purpose: string) => `${personId}|${channel}|${purpose}`;

export async function loadReach(db: Pool | PoolClient, schoolId: string, personIds: readonly string[]): Promise<Reach> {
  const ids = [...new Set(personIds)];
  const reach: Reach = { contacts: new Map(), consents: new Set(), preferences: new Map() };
  if (ids.length === 0) return reach;
  // One after the other: `db` may be a transaction's client.
  const contacts = await db.query<{ id: string; person_id: string; channel: Channel; address: string }>(
    `SELECT id::text, person_id::text, channel, address FROM contact_point
      WHERE school_id = $1 AND person_id = ANY($2::uuid[]) AND usable ORDER BY origin = 'school' DESC, updated_at DESC`, [schoolId, ids]);
  const consents = await db.query<{ person_id: string; channel: string; purpose: string }>(
    `SELECT person_id::text, channel, purpose FROM consent WHERE school_id = $1 AND person_id = ANY($2::uuid[]) AND withdrawn_at IS NULL`, [schoolId, ids]);
  const prefs = await db.query<{ person_id: string; channels: Channel[]; marks: Preference['marks']; language: Preference['language'] }>(
    `SELECT person_id::text, channels, marks, language FROM notify_preference WHERE school_id = $1 AND person_id = ANY($2::uuid[])`, [schoolId, ids]);
  for (const c of contacts.rows) {
    const list = reach.contacts.get(c.person_id) ?? [];
    list.push({ id: c.id, channel: c.channel, address: c.address });
    reach.contacts.set(c.person_id, list);
  }
  for (const c of consents.rows) reach.consents.add(consentKey(c.person_id, c.channel, c.purpose));
  for (const p of prefs.rows) reach.preferences.set(p.person_id, { channels: p.channels, marks: p.marks, language: p.language });
  return reach;
}

export type Route = { channel: Channel; contact: Contact } | { channel: 'none'; reason: string };

export function hasConsent(reach: Reach, personId: string, channel: Channel, purpose: Purpose): boolean {
  if (purpose === 'discrepancies') return true;
  if (purpose === 'sign_in') return [...reach.consents].some((k) => k.startsWith(`${personId}|${channel}|`));
  return reach.consents.has(consentKey(personId, channel, purpose));
}

/** The channel a message to `personId` goes by, skipping `tried` (channels that failed for it already). */
export function route(
  reach: Reach, personId: string, purpose: Purpose, defaults: readonly Channel[], providers: ReadonlySet<Channel>, tried: ReadonlySet<string> = new Set(),
): Route {
  const own = reach.preferences.get(personId)?.channels;
  const order = own && own.length > 0 ? own : defaults;
  const why: string[] = [];
  if (own && own.length === 0) return { channel: 'none', reason: 'the person turned notifications off' };
  for (const channel of order) {
    if (tried.has(channel)) { why.push(`${channel}: failed`); continue; }
    if (!providers.has(channel)) { why.push(`${channel}: the school has no provider`); continue; }
    const contact = reach.contacts.get(personId)?.find((c) => c.channel === channel);
    if (!contact) { why.push(`${channel}: ${channel === 'telegram' ? 'no linked chat' : 'no usable contact'}`); continue; }
    if (!hasConsent(reach, personId, channel, purpose)) { why.push(`${channel}: no consent for ${purpose}`); continue; }
    return { channel, contact };
  }
  return { channel: 'none', reason: why.length > 0 ? `no channel: ${why.join('; ')}` : 'no channel' };
}
