import { hash } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';

/**
 * Ids of canonical rows.
 *
 * Shared entities (persons, classes, lessons …) get time-ordered UUIDv7 ids: rows created together sit
 * together in the primary key and in indexes that cite them (mark.lesson_id), so appends stay cheap.
 *
 * Source-owned facts (marks, attendance, period marks) get name-based ids derived from their natural
 * key (source connection, record type, the source's id). The primary key then doubles as the unique
 * (source, external id) index, and a replayed batch finds its rows without a second index.
 */
export function newId(): string {
  return uuidv7();
}

/**
 * The id of the fact `externalId` of record type `type` from source `sourceId`: an RFC 9562 version 8
 * (custom) UUID holding the MD5 of `<source id> US <type> US <external id>`.
 */
export function factId(sourceId: string, type: string, externalId: string): string {
  const h = hash('md5', `${sourceId}\u001f${type}\u001f${externalId}`, 'hex');
  const variant = ((Number.parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * Bumped when the mapping of records to rows changes (value tables, normalization), so that the next
 * full re-read maps every record again instead of skipping it as unchanged.
 */
const MAPPING_VERSION = 1;

/**
 * A 53-bit digest of a source record (cyrb53 over its JSON): equal records give equal digests, so an
 * unchanged record is recognised without being validated, mapped or written. Not a security hash: it
 * only decides whether to look closer, and a collision costs one missed update until the record
 * changes again. (Walking the record instead of its JSON, and MD5, both measured slower here.)
 */
export function payloadHash(record: unknown): number {
  const text = JSON.stringify(record);
  let h1 = 0xdeadbeef ^ MAPPING_VERSION;
  let h2 = 0x41c6ce57 ^ MAPPING_VERSION;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** Stored instead of a digest when a record had references that did not resolve yet: never "unchanged". */
export const UNRESOLVED_HASH = 0;
