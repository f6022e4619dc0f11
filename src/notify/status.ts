import type { Pool } from '../db/pool.js';
import type { SecretBox } from '../lib/secret-box.js';
import type { ChannelProvider } from './channels/contract.js';

/**
 * Delivery status to the end: SMS that the gateway took (`sent`) are asked about (SMS.ru /sms/status,
 * SMSC status.php, Nikita /api/dr) until the gateway says they were delivered or failed for good, for up
 * to two days. Telegram's message id and the SMTP server's acceptance are final at send time.
 */
export async function pollDeliveries(pool: Pool, box: SecretBox, providers: ReadonlyMap<string, ChannelProvider>): Promise<number> {
  const { rows } = await pool.query<{ school_id: string; id: string; provider: string; provider_message_id: string | null; address: string; config: Record<string, unknown>; secrets: Buffer | null }>(
    `SELECT n.school_id::text, n.id::text, n.provider, n.provider_message_id, c.address, p.config, p.secrets
       FROM notification n JOIN contact_point c ON c.school_id = n.school_id AND c.id = n.contact_id
       JOIN notify_provider p ON p.school_id = n.school_id AND p.channel = n.channel AND p.provider = n.provider
      WHERE n.status = 'sent' AND n.channel = 'sms' AND n.sent_at > now() - interval '2 days' AND n.updated_at < now() - interval '20 seconds'
      ORDER BY n.updated_at LIMIT 200`);
  let changed = 0;
  for (const row of rows) {
    const provider = providers.get(row.provider);
    if (!provider?.status) continue;
    try {
      const secrets = row.secrets ? (box.open(row.secrets) as Record<string, string>) : {};
      const status = await provider.status(
        { config: provider.configSchema.parse(row.config) as Record<string, unknown>, secrets, signal: AbortSignal.timeout(15_000) },
        { clientId: row.id, providerMessageId: row.provider_message_id ?? undefined, to: row.address },
      );
      const next = status.state === 'delivered' ? 'delivered' : status.final && status.state === 'failed' ? 'failed' : 'sent';
      await pool.query(
        `UPDATE notification SET status = $3, provider_status = $4, delivered_at = CASE WHEN $3 = 'delivered' THEN now() ELSE delivered_at END,
                reason = CASE WHEN $3 = 'failed' THEN 'the gateway could not deliver it (' || $4 || ')' ELSE reason END, updated_at = now()
          WHERE school_id = $1 AND id = $2 AND status = 'sent'`, [row.school_id, row.id, next, status.raw]);
      if (next !== 'sent') changed++;
    } catch {
      await pool.query(`UPDATE notification SET updated_at = now() WHERE school_id = $1 AND id = $2`, [row.school_id, row.id]);
    }
  }
  return changed;
}
