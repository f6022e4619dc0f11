import type { Pool, PoolClient } from '../db/pool.js';
import type { Clock } from '../lib/clock.js';
import { NotFoundError, ValidationError } from '../lib/errors.js';
import type { TargetPolicy } from '../lib/net-targets.js';
import type { SecretBox } from '../lib/secret-box.js';
import { isEventTypePattern } from './events.js';
import { generateSecret, type SigningSecrets } from './signing.js';
import { checkReceiver, schoolPolicy } from './targets.js';

/**
 * Webhook endpoints of a school: a receiver URL (SSRF-checked when written), the event types it takes,
 * and its signing secrets, sealed at rest. The secret is shown once, when created or rotated.
 */
export interface EndpointView {
  id: string;
  schoolId: string;
  url: string;
  description: string | null;
  eventTypes: string[];
  status: 'enabled' | 'disabled';
  disabledReason: string | null;
  disabledAt: string | null;
  failingSince: string | null;
  /** Until when the previous secret still signs, after a rotation. */
  previousSecretUntil: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface EndpointInput {
  url: string;
  eventTypes: string[];
  description?: string | null;
}

export interface EndpointPatch {
  url?: string;
  eventTypes?: string[];
  description?: string | null;
  status?: 'enabled' | 'disabled';
}

interface Row {
  id: string; school_id: string; url: string; description: string | null; event_types: string[]; status: 'enabled' | 'disabled';
  disabled_reason: string | null; disabled_at: Date | null; failing_since: Date | null; secrets: Buffer; created_at: Date; updated_at: Date;
}

const COLUMNS = 'id::text, school_id::text, url, description, event_types, status, disabled_reason, disabled_at, failing_since, secrets, created_at, updated_at';

function viewOf(box: SecretBox, row: Row): EndpointView {
  const secrets = box.open(row.secrets) as unknown as SigningSecrets;
  return {
    id: row.id, schoolId: row.school_id, url: row.url, description: row.description, eventTypes: row.event_types, status: row.status,
    disabledReason: row.disabled_reason, disabledAt: row.disabled_at?.toISOString() ?? null, failingSince: row.failing_since?.toISOString() ?? null,
    previousSecretUntil: secrets.previousUntil ?? null, createdAt: row.created_at.toISOString(), updatedAt: row.updated_at.toISOString(),
  };
}

function checkEventTypes(types: readonly string[]): void {
  const bad = types.filter((t) => !isEventTypePattern(t));
  if (bad.length > 0) throw new ValidationError(`unknown event types: ${bad.join(', ')}`);
}

/** The school of an endpoint (for the caller's permission), or undefined for an unknown or deleted one. */
export async function schoolOfEndpoint(db: Pool | PoolClient, id: string): Promise<string | undefined> {
  const { rows } = await db.query<{ school_id: string }>('SELECT school_id::text FROM webhook_endpoint WHERE id = $1 AND deleted_at IS NULL', [id]);
  return rows[0]?.school_id;
}

/**
 * Registers an endpoint; returns it with its new secret (the only time it is shown). It takes the
 * journal's events from now on — not the school's history (a recover covers what it has been sent).
 */
export async function createEndpoint(pool: Pool, box: SecretBox, targets: TargetPolicy, schoolId: string, input: EndpointInput): Promise<EndpointView & { secret: string }> {
  checkEventTypes(input.eventTypes);
  await checkReceiver(await schoolPolicy(pool, targets, schoolId), input.url);
  const secret = generateSecret();
  const { rows } = await pool.query<Row>(
    `INSERT INTO webhook_endpoint (school_id, url, description, event_types, secrets, after_seq)
     VALUES ($1, $2, $3, $4, $5, coalesce((SELECT seq FROM journal_head WHERE school_id = $1), 0)) RETURNING ${COLUMNS}`,
    [schoolId, input.url, input.description ?? null, input.eventTypes, box.seal({ current: secret } satisfies SigningSecrets)]);
  return { ...viewOf(box, rows[0]!), secret };
}

/** A school's endpoints, oldest first, at most `limit` after the cursor (an endpoint id). */
export async function listEndpoints(pool: Pool, box: SecretBox, schoolId: string, limit: number, after?: string): Promise<{ items: EndpointView[]; next: string | null }> {
  const { rows } = await pool.query<Row>(
    `SELECT ${COLUMNS} FROM webhook_endpoint WHERE school_id = $1 AND deleted_at IS NULL AND ($2::uuid IS NULL OR id > $2) ORDER BY id LIMIT $3`,
    [schoolId, after ?? null, limit + 1]);
  const items = rows.slice(0, limit).map((r) => viewOf(box, r));
  return { items, next: rows.length > limit ? items[items.length - 1]!.id : null };
}

export async function getEndpoint(pool: Pool, box: SecretBox, id: string): Promise<EndpointView> {
  const { rows } = await pool.query<Row>(`SELECT ${COLUMNS} FROM webhook_endpoint WHERE id = $1 AND deleted_at IS NULL`, [id]);
  if (!rows[0]) throw new NotFoundError(`webhook ${id}`);
  return viewOf(box, rows[0]);
}

/** Changes an endpoint; a new URL is checked like a new endpoint's, and enabling it again clears its failure record. */
export async function updateEndpoint(pool: Pool, box: SecretBox, targets: TargetPolicy, id: string, patch: EndpointPatch): Promise<EndpointView> {
  const current = await getEndpoint(pool, box, id);
  if (patch.eventTypes) checkEventTypes(patch.eventTypes);
  if (patch.url !== undefined) await checkReceiver(await schoolPolicy(pool, targets, current.schoolId), patch.url);
  const enabling = patch.status === 'enabled' && current.status !== 'enabled';
  const disabling = patch.status === 'disabled' && current.status !== 'disabled';
  const { rows } = await pool.query<Row>(
    `UPDATE webhook_endpoint SET url = coalesce($3, url), event_types = coalesce($4, event_types),
            description = CASE WHEN $5::boolean THEN $6 ELSE description END, status = coalesce($7, status),
            disabled_reason = CASE WHEN $8 THEN NULL WHEN $9 THEN 'disabled by an administrator' ELSE disabled_reason END,
            disabled_at = CASE WHEN $8 THEN NULL WHEN $9 THEN now() ELSE disabled_at END,
            failing_since = CASE WHEN $8 THEN NULL ELSE failing_since END, updated_at = now()
      WHERE school_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
    [current.schoolId, id, patch.url ?? null, patch.eventTypes ?? null, patch.description !== undefined, patch.description ?? null,
      patch.status ?? null, enabling, disabling]);
  return viewOf(box, rows[0]!);
}

/** Deletes an endpoint: nothing more goes to it; its messages and attempts stay as a record. */
export async function deleteEndpoint(pool: Pool, id: string): Promise<void> {
  const { rowCount } = await pool.query(
    `UPDATE webhook_endpoint SET deleted_at = now(), status = 'disabled', disabled_reason = 'deleted', updated_at = now() WHERE id = $1 AND deleted_at IS NULL`, [id]);
  if (!rowCount) throw new NotFoundError(`webhook ${id}`);
}

/**
 * A new secret for an endpoint, shown once. The old one keeps signing beside it (both signatures in
 * `webhook-signature`) for `graceSeconds`, so that a receiver can switch without losing a delivery.
 */
export async function rotateSecret(pool: Pool, box: SecretBox, clock: Clock, id: string, graceSeconds: number): Promise<EndpointView & { secret: string }> {
  const { rows } = await pool.query<Row>(`SELECT ${COLUMNS} FROM webhook_endpoint WHERE id = $1 AND deleted_at IS NULL`, [id]);
  if (!rows[0]) throw new NotFoundError(`webhook ${id}`);
  const old = box.open(rows[0].secrets) as unknown as SigningSecrets;
  const secret = generateSecret();
  const next: SigningSecrets = { current: secret, previous: old.current, previousUntil: new Date(clock.now().getTime() + graceSeconds * 1000).toISOString() };
  const updated = await pool.query<Row>(`UPDATE webhook_endpoint SET secrets = $3, updated_at = now() WHERE school_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
    [rows[0].school_id, id, box.seal(next as unknown as Record<string, unknown>)]);
  return { ...viewOf(box, updated.rows[0]!), secret };
}
