import { withTransaction, type Pool } from '../db/pool.js';
import type { Clock } from '../lib/clock.js';
import { writeOutbox, type Enqueue } from './outbox.js';
import { CHANNELS, type Channel } from './policy.js';
import { loadReach, route } from './reach.js';

/** Where a user may get a sign-in code: the journal person they are in a school. */
export interface CodeRecipient { schoolId: string; personId: string }

/**
 * Queues a one-time sign-in code to the first of the person's contact points (SMS, then e-mail, then
 * Telegram, or the person's own order) that they consented to receive messages on and the school has a
 * provider for. The send goes through the outbox like any message — the school's daily SMS budget, the
 * provider's limits and the delivery status apply — but waits for no quiet hours. Returns whether it
 * was queued (false: no school can reach the person; the caller says nothing about it to the asker).
 */
export async function sendSignInCode(pool: Pool, clock: Clock, enqueue: Enqueue, codeId: string, recipients: readonly CodeRecipient[], code: string): Promise<boolean> {
  for (const r of recipients) {
    const queued = await withTransaction(pool, async (client) => {
      const reach = await loadReach(client, r.schoolId, [r.personId]);
      const { rows } = await client.query<{ channel: Channel }>('SELECT channel FROM notify_provider WHERE school_id = $1 AND enabled', [r.schoolId]);
      const picked = route(reach, r.personId, 'sign_in', ORDER, new Set(rows.map((x) => x.channel)));
      if (picked.channel === 'none') return false;
      await writeOutbox(client, r.schoolId, [{
        eventKey: `sign_in:${codeId}`, recipientId: r.personId, kind: 'sign_in_code', purpose: 'sign_in', data: { code }, route: picked, notBefore: clock.now(),
      }], enqueue);
      return true;
    });
    if (queued) return true;
  }
  return false;
}

const ORDER: readonly Channel[] = ['sms', ...CHANNELS.filter((c) => c !== 'sms')];
