import type { CountryCode } from 'libphonenumber-js';
import type { Pool, PoolClient } from '../db/pool.js';
import { countryOf } from './contacts.js';
import { parsePolicy, type Channel, type NotifyPolicy } from './policy.js';

/** What the notify side needs of a school: its zone and country, policy, channels it has a provider for, and the source whose changes are news. */
export interface NotifySchool {
  id: string;
  name: string;
  timeZone: string;
  country: CountryCode;
  policy: NotifyPolicy;
  providers: Set<Channel>;
  /**
   * The source parents hear about: the school's primary (its legal record), else its paper journal, else
   * its first enabled connection (src/checks/rules/sources.ts primarySourceOf) — so a mark that two
   * platforms both carry is one message, not two.
   */
  newsSourceId: string | null;
}

export async function loadNotifySchool(db: Pool | PoolClient, schoolId: string): Promise<NotifySchool | undefined> {
  const { rows } = await db.query<{
    name: string; time_zone: string; region: string; policy: unknown; providers: Channel[] | null; news: string | null;
  }>(
    `SELECT s.name, s.time_zone, s.region, coalesce(ns.policy, '{}'::jsonb) AS policy,
            (SELECT array_agg(p.channel) FROM notify_provider p WHERE p.school_id = s.id AND p.enabled) AS providers,
            coalesce(s.primary_source_id::text,
              (SELECT c.id::text FROM connection c WHERE c.school_id = s.id
                ORDER BY c.platform = 'paper' DESC, c.enabled DESC, c.created_at, c.id LIMIT 1)) AS news
       FROM school s LEFT JOIN notify_settings ns ON ns.school_id = s.id WHERE s.id = $1`,
    [schoolId],
  );
  const row = rows[0];
  if (!row) return undefined;
  return {
    id: schoolId, name: row.name, timeZone: row.time_zone, country: countryOf(row.region, row.time_zone), policy: parsePolicy(row.policy),
    providers: new Set(row.providers ?? []), newsSourceId: row.news,
  };
}
