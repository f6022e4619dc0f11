import type { Pool } from '../db/pool.js';
import type { Clock } from '../lib/clock.js';
import { todayIn } from '../lib/dates.js';
import { AppError, describeError, NotFoundError, ValidationError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { originsOf, TargetRefusedError, targetsOf, type TargetPolicy } from '../lib/net-targets.js';
import type { SecretBox } from '../lib/secret-box.js';
import { AdapterError, type AdapterRegistry, type AnyAdapter } from '../ports/adapter.js';
import { credentialKey } from '../ports/session.js';
import { createPushConnection, PUSH_PLATFORM, refusePushSettings } from '../push/connection.js';
import { createAdapterContext } from './adapter-context.js';
import type { Limiters } from './host-limits.js';
import { validateSchedule } from './schedule-rule.js';

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

export interface PlatformView {
  id: string;
  title: string;
  secretKeys: string[];
  /** Public instances offered by name: `"instance": "<name>"` in a connection's config. */
  instances: Array<{ name: string; title: string; config: Record<string, unknown> }>;
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
  /** Where connections may point (public https, and CONNECTION_ALLOWED_TARGETS). */
  targets: TargetPolicy;
  /** One deadline for a whole connection check (CONNECTION_CHECK_TIMEOUT_SECONDS). */
  checkTimeoutMs: number;
  /** The shortest gap a schedule may leave between runs (SYNC_MIN_INTERVAL_SECONDS). */
  minIntervalSeconds: number;
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
    if (input.platform === PUSH_PLATFORM) return this.createInternal(input);
    const adapter = this.adapterOf(input.platform);
    const config = parseConfig(adapter, withInstance(adapter, input.config));
    const timeZone = await this.schoolTimeZone(input.schoolId);
    validateSchedule(input.schedule, this.deps.minIntervalSeconds, timeZone);
    await this.checkTargets(config);
    await this.refuseSecondAccount(input.schoolId, adapter, config);
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

  /** A push connection: an internal source, nothing to check or seal (src/push/connection.ts). */
  private async createInternal(input: ConnectionInput): Promise<ConnectionView> {
    refusePushSettings(input);
    const id = await createPushConnection(this.deps.pool, input);
    this.deps.logger.info({ connectionId: id, platform: input.platform }, 'connection created');
    return this.get(id);
  }

  /**
   * The platforms a connection can be made to, with their secret keys and known instances: the adapters.
   * Internal sources (paper, push) are not platforms read by a sync and are not listed; a push
   * connection is made with `platform: "push"` (openapi: POST /v1/connections/{id}/records).
   */
  platforms(): PlatformView[] {
    return [...this.deps.adapters.values()].map((a) => ({
      id: a.id, title: a.title, secretKeys: [...a.secretKeys], instances: (a.instances ?? []).map((i) => ({ name: i.name, title: i.title, config: i.config })),
    }));
  }

  /** The registered adapter of a platform (its config schema and secret keys draw the dashboard's form), if there is one. */
  adapterFor(platform: string): AnyAdapter | undefined {
    return this.deps.adapters.get(platform);
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

  /**
   * Everything is validated before anything is sent: the merged configuration, the schedule, where it
   * points and, when that changes (a base URL, an instance), that the patch brings every secret again —
   * stored secrets only ever go to the hosts they were entered for. Then the check, with those secrets.
   */
  async update(id: string, patch: ConnectionPatch): Promise<ConnectionView> {
    const row = await this.row(id);
    if (row.platform === PUSH_PLATFORM) return this.updateInternal(row, patch);
    const adapter = this.adapterOf(row.platform);
    const stored = this.fullConfig(row);
    const given = patch.config ? withInstance(adapter, patch.config) : {};
    const moved = patch.config !== undefined && originsOf({ ...stored, ...given }).join(' ') !== originsOf(stored).join(' ');
    if (moved) refuseStoredSecretsElsewhere(adapter, row, given, this.storedSecretKeys(row));
    // A moved connection keeps none of its stored secrets: what it needs must be in the patch.
    const config = parseConfig(adapter, moved ? { ...row.config, ...given } : { ...stored, ...given });
    if (patch.schedule !== undefined) validateSchedule(patch.schedule, this.deps.minIntervalSeconds, row.time_zone);
    if (patch.config) {
      await this.checkTargets(config);
      await this.refuseSecondAccount(row.school_id, adapter, config, id);
      await this.check(adapter, config, row.time_zone);
    }
    const { plain, secret } = split(adapter, config);
    await this.deps.pool.query(
      `UPDATE connection SET title = $2, config = $3, secrets = $4, schedule = $5, enabled = $6, updated_at = now() WHERE id = $1`,
      [id, patch.title ?? row.title, plain, this.deps.box.seal(secret), patch.schedule === undefined ? row.schedule : patch.schedule, patch.enabled ?? row.enabled],
    );
    return this.get(id);
  }

  /** A push connection's title and enabled flag; it has nothing else to change. */
  private async updateInternal(row: Row, patch: ConnectionPatch): Promise<ConnectionView> {
    refusePushSettings(patch);
    await this.deps.pool.query(
      `UPDATE connection SET title = $2, enabled = $3, updated_at = now() WHERE id = $1`,
      [row.id, patch.title ?? row.title, patch.enabled ?? row.enabled],
    );
    return this.get(row.id);
  }

  /**
   * Refuses a sync that must not run: a source with no adapter (the demo's generated school, paper) is
   * never synced — its runs could only fail into the dead letters — and a disabled connection is synced
   * only when forced.
   */
  async assertSyncable(id: string, options: { force?: boolean } = {}): Promise<ConnectionView> {
    const row = await this.row(id);
    if (!this.deps.adapters.has(row.platform)) {
      throw new AppError('not_syncable', `connection ${id} is an internal source (${row.platform}): it is not read from a platform, so it cannot be synced`, 409);
    }
    if (!row.enabled && !options.force) {
      throw new AppError('connection_disabled', `connection ${id} is disabled: enable it, or ask for this one run with force (API \`{"force": true}\`, CLI --force)`, 409);
    }
    return this.view(row);
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

  /** Every URL of the configuration must be a target the policy allows (resolved now; again at each connect). */
  private async checkTargets(config: Record<string, unknown>): Promise<void> {
    for (const url of targetsOf(config)) {
      try {
        await this.deps.targets.check(url);
      } catch (error) {
        if (error instanceof TargetRefusedError) throw new AppError('target_refused', `config.baseUrl: ${error.message}`, 422);
        throw error;
      }
    }
  }

  /**
   * Two connections of one school to one platform account would bring every mark twice: the second is
   * refused, naming the first. An account is the platform, the hosts and a login (or a token).
   */
  private async refuseSecondAccount(schoolId: string, adapter: AnyAdapter, config: Record<string, unknown>, self?: string): Promise<void> {
    const wanted = accountsOf(config);
    if (wanted.length === 0) return;
    const { rows } = await this.deps.pool.query<Row>(`${SELECT} WHERE c.school_id = $1 AND c.platform = $2 AND c.id <> coalesce($3::uuid, '00000000-0000-0000-0000-000000000000') ORDER BY c.created_at, c.id`, [schoolId, adapter.id, self ?? null]);
    for (const row of rows) {
      const theirs = new Set(accountsOf(this.fullConfig(row)));
      if (wanted.some((a) => theirs.has(a))) {
        throw new AppError('duplicate_account', `connection ${row.id} of this school already reads this ${adapter.title} account; a second one would bring every record twice`, 409, { connectionId: row.id });
      }
    }
  }

  /** The adapter's check, under one deadline; every failure is a 422 with its reason. */
  private async check(adapter: AnyAdapter, config: unknown, timeZone: string): Promise<void> {
    const today = todayIn(timeZone, this.deps.clock.now());
    const signal = AbortSignal.timeout(this.deps.checkTimeoutMs);
    const ctx = createAdapterContext({
      adapter, config, timeZone, range: { from: today, to: today }, signal,
      clock: this.deps.clock, logger: this.deps.logger, limiters: this.deps.limiters, targets: this.deps.targets,
    });
    try {
      await adapter.checkConnection(ctx);
    } catch (error) {
      if (error instanceof AdapterError) throw new AppError('connection_check_failed', `the platform refused the connection (${error.kind}): ${error.message}`, 422);
      if (signal.aborted) throw new AppError('connection_check_failed', `the platform did not complete the connection check within ${this.deps.checkTimeoutMs / 1000} s`, 422);
      this.deps.logger.warn({ adapter: adapter.id, error: describeError(error) }, 'connection check failed unexpectedly');
      throw new AppError('connection_check_failed', 'the connection check failed unexpectedly (the service log has the cause)', 422);
    }
  }

  private storedSecretKeys(row: Row): string[] {
    return Object.keys(row.secrets ? this.deps.box.open(row.secrets) : {});
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

/**
 * A known instance of the platform named in the configuration (`"instance": "kundelik.kz"`) becomes its
 * settings (the base URL, a scale); a `baseUrl` given beside it must be the instance's.
 */
function withInstance(adapter: AnyAdapter, config: Record<string, unknown>): Record<string, unknown> {
  if (!('instance' in config)) return config;
  const { instance: name, ...rest } = config;
  const instance = adapter.instances?.find((i) => i.name === name);
  if (!instance) {
    const known = adapter.instances?.map((i) => i.name).join(', ');
    throw new ValidationError(`config.instance: ${adapter.id} has no instance "${String(name)}"${known ? `; known: ${known}` : ' (give config.baseUrl)'}`);
  }
  if (rest.baseUrl !== undefined && originsOf({ baseUrl: rest.baseUrl }).join() !== originsOf(instance.config).join()) {
    throw new ValidationError(`config.baseUrl: ${String(rest.baseUrl)} is not the base URL of the instance "${instance.name}"; give one of them`);
  }
  return { ...instance.config, ...rest };
}

/** A patch that moves a connection to other hosts must bring every secret the connection has stored. */
function refuseStoredSecretsElsewhere(adapter: AnyAdapter, row: Row, given: Record<string, unknown>, storedKeys: string[]): void {
  const missing = storedKeys.filter((k) => given[k] === undefined).sort();
  if (missing.length === 0) return;
  const where = [...new Set(targetsOf(given))].join(', ') || 'another host';
  throw new AppError(
    'secrets_required',
    `changing where connection ${row.id} points (to ${where}) needs its secrets again in the same request (config.${missing.join(', config.')}): stored secrets are only sent to the host they were entered for`,
    422, { missing },
  );
}

/** The accounts a configuration signs in with: hosts and a login, user name or token each (compared as digests). */
function accountsOf(config: Record<string, unknown>): string[] {
  const hosts = originsOf(config).join(' ');
  const found: string[] = [];
  const visit = (value: unknown) => {
    if (!value || typeof value !== 'object') return;
    for (const [key, item] of Object.entries(value)) {
      if (ACCOUNT_KEYS.includes(key) && typeof item === 'string') found.push(credentialKey(hosts, key, item.trim().toLowerCase()));
      else visit(item);
    }
  };
  visit(config);
  return found;
}

/** Config fields that name an account, across the adapters (a partner app's clientId names no account). */
const ACCOUNT_KEYS = ['login', 'username', 'token'];
