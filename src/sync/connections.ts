import { validate as validateCron } from 'node-cron';
import type { Pool } from '../db/pool.js';
import type { Clock } from '../lib/clock.js';
import { todayIn } from '../lib/dates.js';
import { AppError, NotFoundError, ValidationError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import type { SecretBox } from '../lib/secret-box.js';
import { AdapterError, type AdapterRegistry, type AnyAdapter } from '../ports/adapter.js';
import { createAdapterContext } from './adapter-context.js';
import type { Limiters } from './host-limits.js';

/** A connection as the API and the CLI show it: never its secrets, only which secret keys are set. */
export interface ConnectionView {
  id: string;
  schoolId: string;
  platform: string;
  title: string;
  config: Record<string, unknown>;
  secretsSet: string[];
  schedule: string | null;
  enabled: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface ConnectionInput {
  schoolId: string;
  platform: string;
  title?: string;
  /** Settings and secrets together, as the adapter's configSchema describes them. */
  config: Record<string, unknown>;
  schedule?: string | null;
  enabled?: boolean;
}

export interface ConnectionPatch {
  title?: string;
  /** Merged into the stored config; secret keys left out keep their stored value. */
  config?: Record<string, unknown>;
  schedule?: string | null;
  enabled?: boolean;
}

export interface ConnectionDeps {
  pool: Pool;
  adapters: AdapterRegistry;
  box: SecretBox;
  clock: Clock;
  logger: Logger;
  limiters: Limiters;
}

interface Row {
  id: string;
  school_id: string;
  platform: string;
  title: string;
  config: Record<string, unknown>;
  secrets: Buffer | null;
  schedule: string | null;
  enabled: boolean;
  created_at: Date;
  updated_at: Date;
  time_zone: string;
}

const SELECT = `SELECT c.id::text, c.school_id::text, c.platform, c.title, c.config, c.secrets, c.schedule, c.enabled,
                       c.created_at, c.updated_at, s.time_zone FROM connection c JOIN school s ON s.id = c.school_id`;

/**
 * Connections of schools to platforms: configuration validated by the adapter on write and on load,
 * secrets sealed (SecretBox) apart from the plain settings, the adapter's checkConnection on create.
 */
export class ConnectionService {
  constructor(private readonly deps: ConnectionDeps) {}

  async create(input: ConnectionInput, options: { check?: boolean } = {}): Promise<ConnectionView> {
    const adapter = this.adapterOf(input.platform);
    const config = parseConfig(adapter, input.config);
    validateSchedule(input.schedule);
    const timeZone = await this.schoolTimeZone(input.schoolId);
    if (options.check !== false) await this.check(adapter, config, timeZone);
    const { plain, secret } = split(adapter, config);
    const { rows } = await this.deps.pool.query<{ id: string }>(
      `INSERT INTO connection (school_id, platform, title, config, secrets, schedule, enabled)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id::text`,
      [input.schoolId, adapter.id, input.title ?? adapter.title, plain, this.deps.box.seal(secret), input.schedule ?? null, input.enabled ?? true],
    );
    this.deps.logger.info({ connectionId: rows[0]!.id, platform: adapter.id }, 'connection created');
    return this.get(rows[0]!.id);
  }

  async list(filter: { schoolId?: string } = {}): Promise<ConnectionView[]> {
    const { rows } = await this.deps.pool.query<Row>(
      `${SELECT} WHERE ($1::uuid IS NULL OR c.school_id = $1) AND c.platform <> 'demo' ORDER BY c.created_at, c.id`,
      [filter.schoolId ?? null],
    );
    return rows.map((row) => this.view(row));
  }

  async get(id: string): Promise<ConnectionView> {
    return this.view(await this.row(id));
  }

  async update(id: string, patch: ConnectionPatch): Promise<ConnectionView> {
    const row = await this.row(id);
    const adapter = this.adapterOf(row.platform);
    const config = parseConfig(adapter, { ...this.fullConfig(row), ...(patch.config ?? {}) });
    if (patch.schedule !== undefined) validateSchedule(patch.schedule);
    if (patch.config) await this.check(adapter, config, row.time_zone);
    const { plain, secret } = split(adapter, config);
    await this.deps.pool.query(
      `UPDATE connection SET title = $2, config = $3, secrets = $4, schedule = $5, enabled = $6, updated_at = now() WHERE id = $1`,
      [id, patch.title ?? row.title, plain, this.deps.box.seal(secret), patch.schedule === undefined ? row.schedule : patch.schedule, patch.enabled ?? row.enabled],
    );
    return this.get(id);
  }

  /**
   * Removes a connection that never brought a record (with its runs, refs and cursors). One that did is
   * part of the journal's history: it can be disabled, not deleted.
   */
  async delete(id: string): Promise<void> {
    await this.row(id);
    const client = await this.deps.pool.connect();
    try {
      await client.query('BEGIN');
      for (const table of ['alert', 'sync_cursor', 'external_ref', 'sync_run']) await client.query(`DELETE FROM ${table} WHERE connection_id = $1`, [id]);
      await client.query('DELETE FROM connection WHERE id = $1', [id]);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK');
      if ((error as { code?: string }).code === '23001' || (error as { code?: string }).code === '23503') {
        throw new AppError('conflict', 'this connection brought records into the journal; disable it instead of deleting it', 409);
      }
      throw error;
    } finally {
      client.release();
    }
  }

  /** The whole configuration of a connection, secrets opened, validated again by its adapter. */
  async resolveConfig(id: string): Promise<{ adapter: AnyAdapter; config: unknown; timeZone: string; enabled: boolean }> {
    const row = await this.row(id);
    const adapter = this.adapterOf(row.platform);
    return { adapter, config: parseConfig(adapter, this.fullConfig(row)), timeZone: row.time_zone, enabled: row.enabled };
  }

  private fullConfig(row: Row): Record<string, unknown> {
    return { ...row.config, ...(row.secrets ? this.deps.box.open(row.secrets) : {}) };
  }

  private async check(adapter: AnyAdapter, config: unknown, timeZone: string): Promise<void> {
    const today = todayIn(timeZone, this.deps.clock.now());
    const ctx = createAdapterContext({
      adapter, config, timeZone, range: { from: today, to: today }, signal: AbortSignal.timeout(60_000),
      clock: this.deps.clock, logger: this.deps.logger, limiters: this.deps.limiters,
    });
    try {
      await adapter.checkConnection(ctx);
    } catch (error) {
      if (error instanceof AdapterError) throw new AppError('connection_check_failed', `the platform refused the connection (${error.kind}): ${error.message}`, 422);
      throw error;
    }
  }

  private adapterOf(platform: string): AnyAdapter {
    const adapter = this.deps.adapters.get(platform);
    if (!adapter) throw new ValidationError(`unknown platform "${platform}"; known: ${[...this.deps.adapters.keys()].join(', ')}`);
    return adapter;
  }

  private async schoolTimeZone(schoolId: string): Promise<string> {
    const { rows } = await this.deps.pool.query<{ time_zone: string }>('SELECT time_zone FROM school WHERE id = $1', [schoolId]);
    if (!rows[0]) throw new NotFoundError(`school ${schoolId}`);
    return rows[0].time_zone;
  }

  private async row(id: string): Promise<Row> {
    const { rows } = await this.deps.pool.query<Row>(`${SELECT} WHERE c.id = $1`, [id]);
    if (!rows[0]) throw new NotFoundError(`connection ${id}`);
    return rows[0];
  }

  private view(row: Row): ConnectionView {
    const secrets = row.secrets ? this.deps.box.open(row.secrets) : {};
    return {
      id: row.id, schoolId: row.school_id, platform: row.platform, title: row.title, config: row.config,
      secretsSet: Object.keys(secrets).sort(), schedule: row.schedule, enabled: row.enabled,
      createdAt: row.created_at.toISOString(), updatedAt: row.updated_at.toISOString(),
    };
  }
}

function parseConfig(adapter: AnyAdapter, config: unknown): Record<string, unknown> {
  const parsed = adapter.configSchema.safeParse(config);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `config.${i.path.join('.')}: ${i.message}`);
    throw new ValidationError(`invalid ${adapter.id} configuration: ${problems.join('; ')}`, problems);
  }
  return parsed.data as Record<string, unknown>;
}

function split(adapter: AnyAdapter, config: Record<string, unknown>): { plain: Record<string, unknown>; secret: Record<string, unknown> } {
  const plain: Record<string, unknown> = {};
  const secret: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) (adapter.secretKeys.includes(key) ? secret : plain)[key] = value;
  return { plain, secret };
}

function validateSchedule(schedule: string | null | undefined): void {
  if (schedule && !validateCron(schedule)) throw new ValidationError(`schedule "${schedule}" is not a cron expression`);
}
