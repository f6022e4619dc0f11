import { createHash } from 'node:crypto';
import { z } from 'zod';

/**
 * A backup's checksum manifest (`manifest.json` beside its files; its own SHA-256 in `manifest.sha256` and in
 * `backup_run.manifest_sha256`): per file its size and SHA-256 (of the bytes on the target), per table its
 * columns and row count, the history chain heads per school, the applied migrations (the schema's version),
 * the sequences, and when. Everything a verify or a restore drill compares against.
 */
export const MANIFEST_FORMAT = 'journal-bridge-backup/1';
export const MANIFEST_FILE = 'manifest.json';
export const MANIFEST_DIGEST_FILE = 'manifest.sha256';

export const ManifestSchema = z.object({
  format: z.literal(MANIFEST_FORMAT),
  name: z.string(),
  method: z.enum(['logical', 'pg_dump']),
  reason: z.enum(['nightly', 'period_close', 'manual']),
  createdAt: z.string(),
  serverVersion: z.string(),
  migrations: z.array(z.object({ name: z.string(), checksum: z.string() })),
  files: z.array(z.object({ file: z.string(), bytes: z.number().int().nonnegative(), sha256: z.string().regex(/^[0-9a-f]{64}$/) })),
  tables: z.array(z.object({ table: z.string(), file: z.string().optional(), columns: z.array(z.string()), rows: z.number().int().nonnegative() })),
  sequences: z.array(z.object({ name: z.string(), value: z.string(), isCalled: z.boolean() })),
  heads: z.array(z.object({ schoolId: z.string(), seq: z.string(), hash: z.string() })),
});

export type Manifest = z.infer<typeof ManifestSchema>;

/** The manifest's bytes as written (stable key order: the object is built in schema order). */
export function manifestBytes(manifest: Manifest): Buffer {
  return Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
}

export function sha256Hex(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Parses a manifest read back from a target; throws with what is wrong. */
export function parseManifest(text: string): Manifest {
  const parsed = ManifestSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`the manifest is not valid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

/** A backup's name: its UTC time (so names sort by age) and a short random tail. */
export function backupName(at: Date, tail: string): string {
  return `${at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${tail}`;
}

/** backupName's shape as runBackup makes it (3 random bytes in hex): a name not of this shape is none of ours. */
const BACKUP_NAME = /^\d{8}T\d{6}Z-[0-9a-f]{6}$/;

export function isBackupName(name: string): boolean {
  return BACKUP_NAME.test(name);
}
