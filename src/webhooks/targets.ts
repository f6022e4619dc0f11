import { withTransaction, type Pool, type PoolClient } from '../db/pool.js';
import { ValidationError } from '../lib/errors.js';
import { parseTargetEntry, TargetRefusedError, type TargetPolicy } from '../lib/net-targets.js';

/**
 * Where a school's webhooks may go (reliability.md 12): the connections' TargetPolicy — public unicast
 * only, https unless allowed, checked at registration and again at every connection — extended with the
 * school's own allow-list of on-premises receivers (`webhook_allowed_target`: exact origins or CIDRs).
 */

/** Most entries one school's allow-list may have. */
export const MAX_ALLOWED_TARGETS = 50;

/** The school's allow-list entries, sorted. */
export async function readAllowedTargets(db: Pool | PoolClient, schoolId: string): Promise<string[]> {
  const { rows } = await db.query<{ entry: string }>('SELECT entry FROM webhook_allowed_target WHERE school_id = $1 ORDER BY entry', [schoolId]);
  return rows.map((r) => r.entry);
}

/** Replaces the school's allow-list; each entry must be an origin (`http://10.1.2.3:8080`) or a CIDR. */
export async function writeAllowedTargets(pool: Pool, schoolId: string, entries: readonly string[]): Promise<string[]> {
  const bad = entries.filter((e) => parseTargetEntry(e) === undefined);
  if (bad.length > 0) throw new ValidationError(`allow-list entries must be origins (http://host:port) or CIDRs (10.0.0.0/8): ${bad.join(', ')}`);
  if (entries.length > MAX_ALLOWED_TARGETS) throw new ValidationError(`an allow-list holds at most ${MAX_ALLOWED_TARGETS} entries`);
  const normalised = [...new Set(entries.map((e) => {
    const parsed = parseTargetEntry(e)!;
    return 'origin' in parsed ? parsed.origin : e;
  }))];
  await withTransaction(pool, async (client) => {
    await client.query('DELETE FROM webhook_allowed_target WHERE school_id = $1', [schoolId]);
    await client.query('INSERT INTO webhook_allowed_target (school_id, entry) SELECT $1, unnest($2::text[])', [schoolId, normalised]);
  });
  return normalised.sort();
}

/** The policy for one school's receivers: the process-wide one plus the school's allow-list. */
export async function schoolPolicy(db: Pool | PoolClient, base: TargetPolicy, schoolId: string): Promise<TargetPolicy> {
  return base.extendedWith(await readAllowedTargets(db, schoolId));
}

/** Checks a receiver URL now (DNS included); a refusal is a 400 that says how to allow a private receiver. */
export async function checkReceiver(policy: TargetPolicy, url: string): Promise<void> {
  try {
    await policy.check(url);
  } catch (error) {
    if (!(error instanceof TargetRefusedError)) throw error;
    throw new ValidationError(`${error.message.replace(/ ?\(?(or )?(ranges in |allow this origin in )?CONNECTION_ALLOWED_TARGETS\)?/, '')}; `
      + `a receiver on a private network must be on the school's webhook allow-list (PUT /v1/schools/{schoolId}/webhook-allowed-targets)`);
  }
}
