import { hash } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';

/**
 * Ids of canonical rows.
 *
 * Shared entities (persons, classes, lessons …) get time-ordered UUIDv7 ids: rows created together sit
 * together in the primary key and in indexes that cite them (mark.lesson_id), so appends stay cheap.
 *
 * Source-owned facts (marks, attendance, period marks) get name-based ids — RFC 9562 version 3
 * (MD5) of the name `<type>/<external id>` in the namespace of the source connection's id. The id is a
 * function of the natural key, so the primary key doubles as the unique (source, external id) index
 * and a replayed batch finds its rows without a second index.
 */
export function newId(): string {
  return uuidv7();
}

const namespaces = new Map<string, Buffer>();

function namespaceBytes(sourceId: string): Buffer {
  let bytes = namespaces.get(sourceId);
  if (!bytes) {
    bytes = Buffer.from(sourceId.replace(/-/g, ''), 'hex');
    if (bytes.length !== 16) throw new Error(`not a uuid: ${sourceId}`);
    if (namespaces.size > 10_000) namespaces.clear();
    namespaces.set(sourceId, bytes);
  }
  return bytes;
}

/** The id of the fact `externalId` of record type `type` from source `sourceId`. */
export function factId(sourceId: string, type: string, externalId: string): string {
  const digest = hash('md5', Buffer.concat([namespaceBytes(sourceId), Buffer.from(`${type}/${externalId}`, 'utf8')]), 'buffer');
  digest[6] = (digest[6]! & 0x0f) | 0x30;
  digest[8] = (digest[8]! & 0x3f) | 0x80;
  const hex = digest.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * Bumped when the mapping of records to rows changes (value tables, normalization), so that the next
 * full re-read maps every record again instead of skipping it as unchanged.
 */
const MAPPING_VERSION = 1;

/**
 * A 53-bit digest of a source record (cyrb53): equal records give equal digests, so an unchanged record
 * is recognised without being validated, mapped or written. Not a security hash: it only decides
 * whether to look closer, and a collision costs one missed update until the record changes again.
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
