import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from './errors.js';

/**
 * Seals connection secrets (passwords, tokens) at rest with AES-256-GCM. A sealed value is
 * version (1 byte) ‖ IV (12) ‖ auth tag (16) ‖ ciphertext of the JSON; tampering or a wrong key fails to
 * open. The key comes from CONNECTION_SECRETS_KEY (base64, 32 bytes) or, for the embedded default, a key
 * file generated once under the data directory (mode 0600).
 */
export class SecretBox {
  private static readonly VERSION = 1;

  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error('the connection secrets key must be 32 bytes (base64 of 32 random bytes)');
  }

  seal(value: Record<string, unknown>): Buffer {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
    return Buffer.concat([Buffer.from([SecretBox.VERSION]), iv, cipher.getAuthTag(), body]);
  }

  /**
   * A key of its own for one purpose (`label`), derived from the box's key: the HMAC keys of API keys and
   * one-time codes, so that a database dump alone cannot test guesses against them.
   */
  derive(label: string): Buffer {
    return createHmac('sha256', this.key).update(`journal-bridge:${label}`).digest();
  }

  open(sealed: Buffer): Record<string, unknown> {
    if (sealed[0] !== SecretBox.VERSION || sealed.length < 29) throw new Error('sealed secrets have an unknown format');
    const decipher = createDecipheriv('aes-256-gcm', this.key, sealed.subarray(1, 13));
    decipher.setAuthTag(sealed.subarray(13, 29));
    let json: string;
    try {
      json = Buffer.concat([decipher.update(sealed.subarray(29)), decipher.final()]).toString('utf8');
    } catch {
      throw new Error('connection secrets cannot be opened: CONNECTION_SECRETS_KEY (or .data/connection-secrets.key) is not the key they were sealed with');
    }
    return JSON.parse(json) as Record<string, unknown>;
  }
}

/**
 * The configured key, or the data directory's key file (created on first use) — the latter only for the
 * embedded default: a deployment on its own Postgres (`external`) must be given the key, for a key file
 * generated beside the data would be lost with the container, or backed up with the secrets it seals.
 */
export async function loadSecretBox(configuredKey: string | undefined, dataDir: string, options: { external?: boolean } = {}): Promise<SecretBox> {
  if (configuredKey) return new SecretBox(Buffer.from(configuredKey, 'base64'));
  if (options.external) {
    throw new ConfigError(
      'CONNECTION_SECRETS_KEY is not set: with DATABASE_URL the key sealing connection secrets must be configured '
        + '(base64 of 32 random bytes, e.g. `openssl rand -base64 32`) and kept apart from the database and its backups',
      ['CONNECTION_SECRETS_KEY: required when DATABASE_URL is set'],
    );
  }
  const file = path.join(dataDir, 'connection-secrets.key');
  if (!existsSync(file)) {
    await mkdir(dataDir, { recursive: true });
    await writeFile(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
    await chmod(file, 0o600);
  }
  return new SecretBox(Buffer.from((await readFile(file, 'utf8')).trim(), 'base64'));
}
