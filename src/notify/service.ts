import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { withTransaction, type Pool } from '../db/pool.js';
import type { Clock } from '../lib/clock.js';
import { AppError, NotFoundError, ValidationError } from '../lib/errors.js';
import type { SecretBox } from '../lib/secret-box.js';
import { TargetRefusedError, type TargetPolicy } from '../lib/net-targets.js';
import { PROVIDERS } from './channels/index.js';
import { countryOf, maskAddress, normalizeAddress } from './contacts.js';
import { writeOutbox, type Enqueue } from './outbox.js';
import { CHANNELS, NotifyPolicySchema, PURPOSES, parsePolicy, type Channel, type NotifyPolicy } from './policy.js';
import { loadReach, route } from './reach.js';

/**
 * What the API and the CLI do with notifications: the outbox as a list (what was sent, to whom, why,
 * its delivery status) and one message's path (its attempts and fallbacks), a school's policy and
 * providers (secrets write-only), a person's contacts, consents and preferences, and a test message.
 * Addresses in outbox lists are masked; a person's own contacts are shown whole to the school.
 */
export const STATUSES = ['held', 'queued', 'sending', 'sent', 'delivered', 'failed', 'skipped', 'cancelled', 'digested'] as const;

export interface NotificationView {
  id: string; schoolId: string; eventKey: string; kind: string; purpose: string; channel: string; recipientId: string; pupilId: string | null;
  to: string | null; status: string; reason: string | null; attempts: number; parts: number | null; provider: string | null;
  providerMessageId: string | null; providerStatus: string | null; fallbackOf: string | null; digestId: string | null; text: string | null;
  notBefore: string | null; createdAt: string; sentAt: string | null; deliveredAt: string | null;
}

const VIEW = `SELECT n.id::text, n.school_id::text, n.event_key, n.kind, n.purpose, n.channel, n.recipient_id::text, n.pupil_id::text, c.address,
  n.status, n.reason, n.attempts, n.parts, n.provider, n.provider_message_id, n.provider_status, n.fallback_of::text, n.digest_id::text, n.body,
  n.not_before, n.created_at, n.sent_at, n.delivered_at
  FROM notification n LEFT JOIN contact_point c ON c.school_id = n.school_id AND c.id = n.contact_id`;

interface ViewRow {
  id: string; school_id: string; event_key: string; kind: string; purpose: string; channel: Channel | 'none'; recipient_id: string; pupil_id: string | null;
  address: string | null; status: string; reason: string | null; attempts: number; parts: number | null; provider: string | null; provider_message_id: string | null;
  provider_status: string | null; fallback_of: string | null; digest_id: string | null; body: string | null; not_before: Date | null; created_at: Date;
  sent_at: Date | null; delivered_at: Date | null;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);
function view(r: ViewRow): NotificationView {
  return {
    id: r.id, schoolId: r.school_id, eventKey: r.event_key, kind: r.kind, purpose: r.purpose, channel: r.channel, recipientId: r.recipient_id, pupilId: r.pupil_id,
    to: maskAddress(r.channel, r.address), status: r.status, reason: r.reason, attempts: r.attempts, parts: r.parts, provider: r.provider,
    // A sign-in code is its recipient's alone: never shown back through the outbox.
    providerMessageId: r.provider_message_id, providerStatus: r.provider_status, fallbackOf: r.fallback_of, digestId: r.digest_id, text: r.kind === 'sign_in_code' && r.body ? '[sign-in code withheld]' : r.body,
    notBefore: iso(r.not_before), createdAt: r.created_at.toISOString(), sentAt: iso(r.sent_at), deliveredAt: iso(r.delivered_at),
  };
}

export interface NotificationFilter {
  schoolId?: string; personId?: string; status?: string[]; channel?: string; kind?: string; limit: number; cursor?: string;
  /** Only these schools' (the caller's); and, for a parent, only messages to them (`recipientId`). */
  schoolIds?: string[]; recipientId?: string;
}

/** Newest first; `cursor` is the last item's (created_at, id) of the previous page. */
export async function listNotifications(pool: Pool, f: NotificationFilter): Promise<{ items: NotificationView[]; nextCursor: string | null }> {
  const where: string[] = [];
  const values: unknown[] = [];
  const add = (sql: string, value: unknown) => { values.push(value); where.push(sql.replace('?', `$${values.length}`)); };
  if (f.schoolId) add('n.school_id = ?', f.schoolId);
  if (f.schoolIds) add('n.school_id = ANY(?::uuid[])', f.schoolIds);
  if (f.recipientId) add('n.recipient_id = ?', f.recipientId);
  if (f.personId) add('?::uuid IN (n.recipient_id, n.pupil_id)', f.personId);
  if (f.status?.length) add('n.status = ANY(?::text[])', f.status);
  if (f.channel) add('n.channel = ?', f.channel);
  if (f.kind) add('n.kind = ?', f.kind);
  if (f.cursor) {
    const [at, id] = Buffer.from(f.cursor, 'base64url').toString('utf8').split('|');
    if (!at || !id || Number.isNaN(Date.parse(at)) || !z.uuid().safeParse(id).success) throw new ValidationError('cursor is not one this API gave');
    values.push(at, id);
    where.push(`(n.created_at, n.id) < ($${values.length - 1}::timestamptz, $${values.length}::uuid)`);
  }
  values.push(f.limit + 1);
  const { rows } = await pool.query<ViewRow>(
    `${VIEW} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY n.created_at DESC, n.id DESC LIMIT $${values.length}`, values);
  const items = rows.slice(0, f.limit).map(view);
  const last = rows.length > f.limit ? rows[f.limit - 1]! : undefined;
  return { items, nextCursor: last ? Buffer.from(`${last.created_at.toISOString()}|${last.id}`).toString('base64url') : null };
}

/** One message and its path: every row of its event for its recipient (the first channel, fallbacks, the digest it went in). */
export async function getNotification(pool: Pool, id: string): Promise<NotificationView & { path: NotificationView[] }> {
  const { rows } = await pool.query<ViewRow>(`${VIEW} WHERE n.id = $1`, [id]);
  const row = rows[0];
  if (!row) throw new NotFoundError('notification');
  const path = await pool.query<ViewRow>(
    `${VIEW} WHERE n.school_id = $1 AND ((n.event_key = $2 AND n.recipient_id = $3) OR n.id = $4::uuid OR n.digest_id = $5::uuid) ORDER BY n.created_at, n.id`,
    [row.school_id, row.event_key, row.recipient_id, row.digest_id ?? row.id, row.id]);
  return { ...view(row), path: path.rows.map(view) };
}

/** A body checked against its schema: a 400 naming every bad field. */
function validated<T extends z.ZodType>(schema: T, value: unknown, what: string): z.infer<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${[what, ...i.path].join('.')}: ${i.message}`);
  throw new ValidationError(problems.join('; '), problems);
}

async function schoolExists(pool: Pool, schoolId: string): Promise<void> {
  const { rowCount } = await pool.query('SELECT 1 FROM school WHERE id = $1', [schoolId]);
  if (!rowCount) throw new NotFoundError('school');
}

export async function getPolicy(pool: Pool, schoolId: string): Promise<NotifyPolicy> {
  await schoolExists(pool, schoolId);
  const { rows } = await pool.query<{ policy: unknown }>('SELECT policy FROM notify_settings WHERE school_id = $1', [schoolId]);
  return parsePolicy(rows[0]?.policy);
}

/** Replaces the school's policy (fields left out take their defaults). */
export async function putPolicy(pool: Pool, schoolId: string, body: unknown): Promise<NotifyPolicy> {
  await schoolExists(pool, schoolId);
  const parsed = { data: validated(NotifyPolicySchema.strict(), body ?? {}, 'body') };
  await pool.query(
    `INSERT INTO notify_settings (school_id, policy) VALUES ($1, $2) ON CONFLICT (school_id) DO UPDATE SET policy = excluded.policy, updated_at = now()`,
    [schoolId, JSON.stringify(parsed.data)]);
  return parsed.data;
}

export const ProviderBodySchema = z.strictObject({
  provider: z.string().min(1).max(40),
  title: z.string().trim().min(1).max(200).optional(),
  config: z.record(z.string(), z.unknown()).default({}),
  secrets: z.record(z.string(), z.string().max(10_000)).optional(),
  enabled: z.boolean().default(true),
});

export interface ProviderView {
  id: string; channel: Channel; provider: string; title: string; config: Record<string, unknown>; secretKeys: string[]; enabled: boolean;
  pausedUntil: string | null; pausedReason: string | null;
}

export async function listProviders(pool: Pool, schoolId: string): Promise<ProviderView[]> {
  await schoolExists(pool, schoolId);
  const { rows } = await pool.query<{ id: string; channel: Channel; provider: string; title: string; config: Record<string, unknown>; secrets: Buffer | null; enabled: boolean; paused_until: Date | null; paused_reason: string | null }>(
    `SELECT id::text, channel, provider, title, config, secrets, enabled, paused_until, paused_reason FROM notify_provider WHERE school_id = $1 ORDER BY channel`, [schoolId]);
  return rows.map((r) => ({
    id: r.id, channel: r.channel, provider: r.provider, title: r.title, config: r.config, secretKeys: [...(PROVIDERS.get(r.provider)?.secretKeys ?? [])],
    enabled: r.enabled, pausedUntil: iso(r.paused_until), pausedReason: r.paused_reason,
  }));
}

/**
 * Sets the school's provider for one channel (one per channel). The config is checked against the
 * provider's schema; secrets are sealed and never returned; leaving `secrets` out keeps the stored ones
 * only while the provider stays the same. Saving it lifts a pause (the admin fixed the account).
 */
export async function putProvider(pool: Pool, box: SecretBox, schoolId: string, channel: Channel, body: unknown, targets?: TargetPolicy): Promise<ProviderView> {
  await schoolExists(pool, schoolId);
  const b = validated(ProviderBodySchema, body, 'body');
  const provider = PROVIDERS.get(b.provider);
  if (!provider || provider.channel !== channel) {
    throw new ValidationError(`provider must be one of ${[...PROVIDERS.values()].filter((p) => p.channel === channel).map((p) => p.id).join(', ')} for ${channel}`);
  }
  const config = provider.configSchema.safeParse(b.config);
  if (!config.success) throw new ValidationError(`the ${provider.id} settings are not valid`, config.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })));
  if (targets) await checkTargets(targets, b.config);
  const unknown = Object.keys(b.secrets ?? {}).filter((k) => !provider.secretKeys.includes(k));
  if (unknown.length > 0) throw new ValidationError(`unknown secrets ${unknown.join(', ')}; ${provider.id} takes ${provider.secretKeys.join(', ') || 'none'}`);
  const existing = await pool.query<{ provider: string }>('SELECT provider FROM notify_provider WHERE school_id = $1 AND channel = $2', [schoolId, channel]);
  if (!b.secrets && existing.rows[0] && existing.rows[0].provider !== b.provider && provider.secretKeys.length > 0) {
    throw new ValidationError('a different provider needs its secrets again');
  }
  const sealed = b.secrets ? box.seal(b.secrets) : null;
  await pool.query(
    `INSERT INTO notify_provider (school_id, channel, provider, title, config, secrets, enabled) VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (school_id, channel) DO UPDATE SET provider = excluded.provider, title = excluded.title, config = excluded.config,
       secrets = coalesce(excluded.secrets, notify_provider.secrets), enabled = excluded.enabled, paused_until = NULL, paused_reason = NULL, updated_at = now()`,
    [schoolId, channel, provider.id, b.title ?? provider.title, JSON.stringify(b.config), sealed, b.enabled]);
  return (await listProviders(pool, schoolId)).find((p) => p.channel === channel)!;
}

/**
 * Where a provider may point (src/lib/net-targets.ts, as for connections): its API root / base URL, and an
 * SMTP server's host, on a public address (https for the HTTP ones) unless CONNECTION_ALLOWED_TARGETS or the
 * demo allows it — a school's gateway setting cannot be turned into a request to the service's own network.
 */
async function checkTargets(targets: TargetPolicy, config: Record<string, unknown>): Promise<void> {
  try {
    for (const key of ['apiRoot', 'baseUrl'] as const) if (typeof config[key] === 'string') await targets.check(config[key]);
    if (typeof config.host === 'string') {
      const port = typeof config.port === 'number' ? config.port : 587;
      await targets.check(`https://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`);
    }
  } catch (error) {
    if (error instanceof TargetRefusedError) throw new ValidationError(`the provider may not point there: ${error.message}`);
    throw error;
  }
}

async function personOf(pool: Pool, personId: string): Promise<{ schoolId: string; region: string; timeZone: string }> {
  const { rows } = await pool.query<{ school_id: string; region: string; time_zone: string }>(
    `SELECT p.school_id::text, s.region, s.time_zone FROM person p JOIN school s ON s.id = p.school_id WHERE p.id = $1 AND p.deleted_at IS NULL`, [personId]);
  if (!rows[0]) throw new NotFoundError('person');
  return { schoolId: rows[0].school_id, region: rows[0].region, timeZone: rows[0].time_zone };
}

export interface ContactView { id: string; channel: Channel; address: string; origin: string; usable: boolean; unusableReason: string | null; updatedAt: string }

export async function listContacts(pool: Pool, personId: string): Promise<ContactView[]> {
  const person = await personOf(pool, personId);
  const { rows } = await pool.query<{ id: string; channel: Channel; address: string; origin: string; usable: boolean; unusable_reason: string | null; updated_at: Date }>(
    `SELECT id::text, channel, address, origin, usable, unusable_reason, updated_at FROM contact_point WHERE school_id = $1 AND person_id = $2 ORDER BY channel, updated_at DESC`,
    [person.schoolId, personId]);
  return rows.map((r) => ({ id: r.id, channel: r.channel, address: r.address, origin: r.origin, usable: r.usable, unusableReason: r.unusable_reason, updatedAt: r.updated_at.toISOString() }));
}

export const ContactBodySchema = z.strictObject({ channel: z.enum(['sms', 'email']), address: z.string().trim().min(3).max(254) });

/** A contact the school enters (a phone from the paper form, an e-mail): normalised, usable again if it was suppressed. */
export async function addContact(pool: Pool, personId: string, body: unknown): Promise<ContactView> {
  const person = await personOf(pool, personId);
  const b = validated(ContactBodySchema, body, 'body');
  const address = normalizeAddress(b.channel, b.address, countryOf(person.region, person.timeZone));
  if (!address) throw new ValidationError(b.channel === 'sms' ? 'address is not a valid phone number' : 'address is not a valid e-mail address');
  await pool.query(
    `INSERT INTO contact_point (school_id, person_id, channel, address, origin) VALUES ($1, $2, $3, $4, 'school')
     ON CONFLICT (school_id, person_id, channel, address) DO UPDATE SET origin = 'school', usable = true, unusable_reason = NULL, unusable_at = NULL, updated_at = now()`,
    [person.schoolId, personId, b.channel, address]);
  return (await listContacts(pool, personId)).find((c) => c.channel === b.channel && c.address === address)!;
}

export const ConsentBodySchema = z.strictObject({
  channel: z.enum(CHANNELS),
  purposes: z.array(z.enum(PURPOSES)).min(1).max(PURPOSES.length),
  method: z.enum(['paper_form', 'web_form', 'api']),
  evidence: z.string().trim().max(200).optional(),
  grantedBy: z.string().trim().min(1).max(200),
  grantedAt: z.iso.datetime({ offset: true }).optional(),
});

export interface ConsentView {
  id: string; channel: string; purpose: string; grantedAt: string; method: string; evidence: string | null; grantedBy: string;
  withdrawnAt: string | null; withdrawnBy: string | null;
}

export async function listConsents(pool: Pool, personId: string): Promise<ConsentView[]> {
  const person = await personOf(pool, personId);
  const { rows } = await pool.query<{ id: string; channel: string; purpose: string; granted_at: Date; method: string; evidence: string | null; granted_by: string; withdrawn_at: Date | null; withdrawn_by: string | null }>(
    `SELECT id::text, channel, purpose, granted_at, method, evidence, granted_by, withdrawn_at, withdrawn_by FROM consent
      WHERE school_id = $1 AND person_id = $2 ORDER BY granted_at DESC, id`, [person.schoolId, personId]);
  return rows.map((r) => ({
    id: r.id, channel: r.channel, purpose: r.purpose, grantedAt: r.granted_at.toISOString(), method: r.method, evidence: r.evidence, grantedBy: r.granted_by,
    withdrawnAt: iso(r.withdrawn_at), withdrawnBy: r.withdrawn_by,
  }));
}

/** Records consent for each purpose on a channel (a purpose already consented to is left as it is). */
export async function grantConsent(pool: Pool, clock: Clock, personId: string, body: unknown): Promise<ConsentView[]> {
  const person = await personOf(pool, personId);
  const b = validated(ConsentBodySchema, body, 'body');
  for (const purpose of b.purposes) {
    await pool.query(
      `INSERT INTO consent (school_id, person_id, channel, purpose, granted_at, method, evidence, granted_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (school_id, person_id, channel, purpose) WHERE withdrawn_at IS NULL DO NOTHING`,
      [person.schoolId, personId, b.channel, purpose, b.grantedAt ?? clock.now().toISOString(), b.method, b.evidence ?? null, b.grantedBy]);
  }
  return listConsents(pool, personId);
}

export const WithdrawBodySchema = z.strictObject({
  channel: z.enum(CHANNELS), purposes: z.array(z.enum(PURPOSES)).min(1).optional(), withdrawnBy: z.string().trim().min(1).max(200),
});

/**
 * Withdraws consent (a channel's purposes, or all of them) at once: nothing more goes by that channel
 * for those purposes — a message already queued is cancelled when its sender takes it (and tried on the
 * person's next channel), held marks go into no digest on it.
 */
export async function withdrawConsent(pool: Pool, clock: Clock, personId: string, body: unknown): Promise<ConsentView[]> {
  const person = await personOf(pool, personId);
  const b = validated(WithdrawBodySchema, body, 'body');
  await pool.query(
    `UPDATE consent SET withdrawn_at = $5, withdrawn_by = $6 WHERE school_id = $1 AND person_id = $2 AND channel = $3 AND purpose = ANY($4::text[]) AND withdrawn_at IS NULL`,
    [person.schoolId, personId, b.channel, b.purposes ?? [...PURPOSES], clock.now(), b.withdrawnBy]);
  return listConsents(pool, personId);
}

export const PreferenceBodySchema = z.strictObject({
  channels: z.array(z.enum(CHANNELS)).max(3).refine((c) => new Set(c).size === c.length, 'each channel once').optional(),
  marks: z.enum(['instant', 'digest', 'off']).nullable().optional(),
  language: z.enum(['ru', 'ky']).nullable().optional(),
});

export async function getPreferences(pool: Pool, personId: string): Promise<{ channels: Channel[] | null; marks: string | null; language: string | null }> {
  const person = await personOf(pool, personId);
  const { rows } = await pool.query<{ channels: Channel[]; marks: string | null; language: string | null }>(
    'SELECT channels, marks, language FROM notify_preference WHERE school_id = $1 AND person_id = $2', [person.schoolId, personId]);
  return rows[0] ?? { channels: null, marks: null, language: null };
}

/** A person's own choices; `channels: []` turns every notification off. */
export async function putPreferences(pool: Pool, personId: string, body: unknown): Promise<{ channels: Channel[] | null; marks: string | null; language: string | null }> {
  const person = await personOf(pool, personId);
  const b = validated(PreferenceBodySchema, body, 'body');
  const current = await getPreferences(pool, personId);
  await pool.query(
    `INSERT INTO notify_preference (school_id, person_id, channels, marks, language) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (school_id, person_id) DO UPDATE SET channels = excluded.channels, marks = excluded.marks, language = excluded.language, updated_at = now()`,
    [person.schoolId, personId, b.channels ?? current.channels ?? [...CHANNELS], b.marks === undefined ? current.marks : b.marks, b.language === undefined ? current.language : b.language]);
  return getPreferences(pool, personId);
}

/**
 * A test message to one person on one channel (or their first), through the whole path: outbox row,
 * consent and quiet-hours checks aside (a test is sent at once and needs only a usable contact), the
 * provider's real call. Returns the row; its status follows as it is sent.
 */
export async function sendTest(pool: Pool, clock: Clock, enqueue: Enqueue, personId: string, channel?: Channel): Promise<NotificationView> {
  const person = await personOf(pool, personId);
  const id = randomUUID();
  await withTransaction(pool, async (client) => {
    const reach = await loadReach(client, person.schoolId, [personId]);
    const { rows } = await client.query<{ channel: Channel }>('SELECT channel FROM notify_provider WHERE school_id = $1 AND enabled', [person.schoolId]);
    const providers = new Set(rows.map((r) => r.channel));
    const order = channel ? [channel] : [...CHANNELS];
    const picked = route(reach, personId, 'discrepancies', order, providers);
    if (picked.channel === 'none') throw new AppError('not_reachable', `the person cannot be reached: ${picked.reason}`, 422);
    await writeOutbox(client, person.schoolId, [{
      eventKey: `test:${id}`, recipientId: personId, kind: 'test', purpose: 'discrepancies', data: {}, route: picked, notBefore: clock.now(),
    }], enqueue);
  });
  const { rows } = await pool.query<ViewRow>(`${VIEW} WHERE n.school_id = $1 AND n.event_key = $2`, [person.schoolId, `test:${id}`]);
  return view(rows[0]!);
}
