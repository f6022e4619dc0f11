import path from 'node:path';
import { z } from 'zod';
import { ConfigError } from './lib/errors.js';

const postgresUrl = z
  .string()
  .regex(/^postgres(ql)?:\/\/.+/, 'must be a postgres:// or postgresql:// URL');

const intInRange = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/**
 * The environment, parsed once at boot. Nothing else in src/ reads process.env.
 * Empty strings count as unset, so `FOO= npm start` behaves like leaving FOO out.
 */
export const ConfigSchema = z.object({
  /** Postgres to use; when unset an embedded Postgres is started with its data under DATA_DIR. */
  DATABASE_URL: postgresUrl.optional(),
  /** Where local state lives: the embedded Postgres cluster, generated keys. */
  DATA_DIR: z.string().min(1).default('.data'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: intInRange(0, 65535).default(3000),
  /** Port of the embedded Postgres; 0 picks a free one at each start. */
  EMBEDDED_PG_PORT: intInRange(0, 65535).default(0),
  DB_POOL_MAX: intInRange(1, 200).default(10),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** auto: load the demo school when the database has no school; on: always ensure it; off: never. */
  DEMO: z.enum(['auto', 'on', 'off']).default('auto'),
  DEMO_SEED: intInRange(0, 2 ** 31 - 1).default(1),
  DEMO_PUPILS: intInRange(25, 5000).default(300),
});

export type Config = z.infer<typeof ConfigSchema>;

/**
 * Parses the environment; on failure throws one ConfigError that lists every bad key at once.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const known = Object.keys(ConfigSchema.shape);
  const input = Object.fromEntries(
    known.map((key) => [key, env[key] === '' ? undefined : env[key]]),
  );
  const result = ConfigSchema.safeParse(input);
  if (result.success) {
    return { ...result.data, DATA_DIR: path.resolve(result.data.DATA_DIR) };
  }
  const problems = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`, problems);
}
