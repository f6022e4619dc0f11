import { createRequire } from 'node:module';
import { parsePhoneNumberFromString, type CountryCode, type MetadataJson } from 'libphonenumber-js/core';
import type { PoolClient } from '../db/pool.js';
import type { FeedEvent } from '../journal/feed.js';
import type { Channel } from './policy.js';

/**
 * Contact points: where a person can be reached on each channel. Platforms give phones and e-mails with
 * their people (Дневник.ру relatives' profiles, NetSchool and Kundoluk accounts, the demo generator):
 * they are kept as `platform` contacts, refreshed from the feed as the platform changes them. The school
 * enters others (API, CLI); a parent's Telegram chat comes only from linking (telegram.ts) — a platform's
 * "@username" is not something a bot can write to.
 */

// The metadata read as plain JSON (the package's own ESM entry imports it as a JSON module, which not every ESM loader takes).
const METADATA = createRequire(import.meta.url)('libphonenumber-js/metadata.min.json') as MetadataJson;

/** The country a bare national number belongs to: Kyrgyzstan for Bishkek's schools, else Russia. */
export function countryOf(region: string | null | undefined, timeZone?: string): CountryCode {
  return /бишкек|кыргыз|киргиз|bishkek|kyrgyz/i.test(region ?? '') || timeZone === 'Asia/Bishkek' ? 'KG' : 'RU';
}

/** An address in its canonical form (E.164 phone, lower-case e-mail, numeric chat id), or undefined when it is not one. */
export function normalizeAddress(channel: Channel, raw: string, country: CountryCode = 'RU'): string | undefined {
  const value = raw.trim();
  if (channel === 'sms') {
    const phone = parsePhoneNumberFromString(value, country, METADATA);
    return phone?.isValid() ? phone.number : undefined;
  }
  if (channel === 'email') {
    const email = value.toLowerCase();
    return /^[^\s@<>",;]+@[^\s@<>",;]+\.[a-z0-9-]{2,}$/i.test(email) && email.length <= 254 ? email : undefined;
  }
  return /^-?\d{1,20}$/.test(value) ? value : undefined;
}

/** A phone shown in lists and logs of the outbox: never the whole number (+7 999 ***-**-67). */
export function maskAddress(channel: Channel | 'none', address: string | null): string | null {
  if (!address) return null;
  if (channel === 'email') {
    const [local, domain] = address.split('@');
    return `${(local ?? '').slice(0, 1)}***@${domain ?? ''}`;
  }
  if (channel === 'sms') return `${address.slice(0, 4)}*****${address.slice(-2)}`;
  return `chat …${address.slice(-3)}`;
}

interface ContactRow { person_id: string; channel: Channel; address: string }

/**
 * The feed's person events → platform contacts: a phone or e-mail a platform gives is upserted (usable
 * again if it had been replaced); one the platform no longer gives is marked unusable ("replaced"), kept for
 * the outbox's history. Addresses that do not parse are skipped (the person still gets the other channels).
 */
export async function projectContacts(client: PoolClient, schoolId: string, events: readonly FeedEvent[], country: CountryCode): Promise<void> {
  const latest = new Map<string, { phone?: string; email?: string }>();
  for (const e of events) {
    if (e.entityType !== 'person' || !e.after || e.op === 'delete') continue;
    const after = e.after as Record<string, unknown>;
    latest.set(e.entityId, { phone: typeof after.phone === 'string' ? after.phone : undefined, email: typeof after.email === 'string' ? after.email : undefined });
  }
  if (latest.size === 0) return;
  const rows: ContactRow[] = [];
  for (const [personId, c] of latest) {
    const phone = c.phone ? normalizeAddress('sms', c.phone, country) : undefined;
    const email = c.email ? normalizeAddress('email', c.email) : undefined;
    if (phone) rows.push({ person_id: personId, channel: 'sms', address: phone });
    if (email) rows.push({ person_id: personId, channel: 'email', address: email });
  }
  await client.query(
    `UPDATE contact_point c SET usable = false, unusable_reason = 'replaced by the platform', unusable_at = now(), updated_at = now()
      WHERE c.school_id = $1 AND c.origin = 'platform' AND c.channel IN ('sms', 'email') AND c.person_id = ANY($2::uuid[]) AND c.usable
        AND NOT EXISTS (SELECT 1 FROM unnest($3::uuid[], $4::text[], $5::text[]) AS n(person_id, channel, address)
                         WHERE n.person_id = c.person_id AND n.channel = c.channel AND n.address = c.address)`,
    [schoolId, [...latest.keys()], rows.map((r) => r.person_id), rows.map((r) => r.channel), rows.map((r) => r.address)],
  );
  if (rows.length === 0) return;
  await client.query(
    `INSERT INTO contact_point (school_id, person_id, channel, address, origin)
     SELECT $1, n.person_id, n.channel, n.address, 'platform' FROM unnest($2::uuid[], $3::text[], $4::text[]) AS n(person_id, channel, address)
     ON CONFLICT (school_id, person_id, channel, address) DO UPDATE
        SET usable = true, unusable_reason = NULL, unusable_at = NULL, updated_at = now()
      WHERE contact_point.unusable_reason = 'replaced by the platform'`,
    [schoolId, rows.map((r) => r.person_id), rows.map((r) => r.channel), rows.map((r) => r.address)],
  );
}
