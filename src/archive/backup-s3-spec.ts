import { inspect } from 'node:util';

/**
 * An S3-compatible bucket as a backup target: `name@REGION=s3://bucket/optional/prefix` in BACKUP_TARGETS
 * (REGION is the ISO 3166 jurisdiction tag, never the AWS region), and per target from the environment
 * `BACKUP_S3_<NAME>_ENDPOINT` (unset: AWS), `_REGION` (the signing region, default us-east-1),
 * `_ACCESS_KEY_ID`, `_SECRET_ACCESS_KEY` (both required), `_FORCE_PATH_STYLE` (default true with an endpoint).
 * Kept apart from backup-s3.ts so that parsing the configuration does not load the AWS SDK.
 */
export interface S3Settings {
  bucket: string;
  /** Without leading or trailing slashes; '' = the bucket's root. */
  prefix: string;
  endpoint?: string;
  signingRegion: string;
  accessKeyId: string;
  secretAccessKey: Secret;
  forcePathStyle: boolean;
}

/** A value that prints, logs and serializes as `[redacted]`; only `reveal()` gives it. */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return '[redacted]';
  }

  toJSON(): string {
    return '[redacted]';
  }

  [inspect.custom](): string {
    return '[redacted]';
  }
}

type Env = Record<string, string | undefined>;

/** The environment variables' stem of a target: BACKUP_S3_<NAME>_ (NAME upper-cased, `-` → `_`). */
export function s3EnvPrefix(name: string): string {
  return `BACKUP_S3_${name.toUpperCase().replace(/-/g, '_')}_`;
}

/** Parses `s3://bucket/prefix` and the target's variables; throws naming the entry or the missing variable. */
export function parseS3Settings(name: string, location: string, env: Env): S3Settings {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(location);
  if (!match) throw new Error(`backup target "${name}": the location must be s3://bucket/optional/prefix (bucket: 3–63 lower-case letters, digits, dots, hyphens)`);
  const prefix = (match[2] ?? '').replace(/^\/+|\/+$/g, '');
  if (prefix !== '' && !/^[A-Za-z0-9._-]+(?:\/[A-Za-z0-9._-]+)*$/.test(prefix)) throw new Error(`backup target "${name}": the prefix may hold letters, digits, . _ - and single slashes`);
  const stem = s3EnvPrefix(name);
  const read = (key: string) => (env[stem + key] === '' ? undefined : env[stem + key]);
  const required = (key: string) => {
    const value = read(key);
    if (value === undefined) throw new Error(`backup target "${name}": ${stem}${key} is not set (the bucket's credentials are required)`);
    return value;
  };
  const endpoint = read('ENDPOINT');
  if (endpoint !== undefined && !/^https?:\/\/[^/\s]+\/?$/.test(endpoint)) throw new Error(`backup target "${name}": ${stem}ENDPOINT must be an http(s)://host[:port] URL`);
  const pathStyle = read('FORCE_PATH_STYLE');
  if (pathStyle !== undefined && pathStyle !== 'true' && pathStyle !== 'false') throw new Error(`backup target "${name}": ${stem}FORCE_PATH_STYLE must be true or false`);
  return {
    bucket: match[1]!, prefix, endpoint: endpoint?.replace(/\/$/, ''), signingRegion: read('REGION') ?? 'us-east-1',
    accessKeyId: required('ACCESS_KEY_ID'), secretAccessKey: new Secret(required('SECRET_ACCESS_KEY')),
    forcePathStyle: pathStyle === undefined ? endpoint !== undefined : pathStyle === 'true',
  };
}

/** One bucket is one place, whatever the prefixes: two targets are the same place only on one endpoint and bucket. */
export function s3PlaceOf(settings: Pick<S3Settings, 'endpoint' | 'bucket'>): string {
  return `s3:${settings.endpoint ?? 'aws'}/${settings.bucket}`;
}

/** `s3://bucket/prefix` and the endpoint's host, for reports (never credentials). */
export function describeS3(settings: Pick<S3Settings, 'endpoint' | 'bucket' | 'prefix'>): string {
  const where = `s3://${settings.bucket}${settings.prefix ? `/${settings.prefix}` : ''}`;
  return `${where} (${settings.endpoint ? new URL(settings.endpoint).host : 'AWS'})`;
}
