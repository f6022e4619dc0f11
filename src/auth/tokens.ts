import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Token formats. Each carries a prefix that says what it is (and lets secret scanners find a leaked one):
 * - API key: `jbk_<lookup>_<secret>` — lookup 16 base32 characters, secret 32 random bytes (base64url);
 *   kept as HMAC-SHA256(server key, secret), so a database dump alone cannot be used or tested offline;
 * - session: `jbs_<43 characters>` (32 random bytes), kept as its SHA-256.
 */
export const API_KEY_PREFIX = 'jbk_';
export const SESSION_PREFIX = 'jbs_';
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** 16 characters of base32 from 10 random bytes (80 bits): the public half of an API key. */
export function newLookup(): string {
  const bytes = randomBytes(10);
  let bits = 0; let value = 0; let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte; bits += 8;
    while (bits >= 5) { out += BASE32[(value >>> (bits - 5)) & 31]; bits -= 5; }
  }
  return out;
}

export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** Splits `jbk_<lookup>_<secret>`; undefined when it is not one. */
export function parseApiKey(token: string): { lookup: string; secret: string } | undefined {
  const match = /^jbk_([a-z2-7]{16})_([A-Za-z0-9_-]{43})$/.exec(token);
  return match ? { lookup: match[1]!, secret: match[2]! } : undefined;
}

export function isSessionToken(token: string): boolean {
  return /^jbs_[A-Za-z0-9_-]{43}$/.test(token);
}

export function hmacOf(key: Buffer, value: string): Buffer {
  return createHmac('sha256', key).update(value).digest();
}

export function sha256(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** Constant-time comparison of two digests. */
export function sameDigest(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
