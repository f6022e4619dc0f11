import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { S3Target } from './backup-s3.js';
import { parseS3Settings, type S3Settings } from './backup-s3-spec.js';

/**
 * Where backups go. Each target is one medium in one place (001 §3.4: archives on at least two media kept in
 * different rooms) and carries the ISO 3166 region it lies in, so the jurisdiction check can refuse a target
 * outside a school's allowed regions (backup-jurisdiction.ts). A target is a local directory or mount
 * (`dir:/path`) or an S3-compatible bucket (`s3://bucket/prefix`, backup-s3.ts).
 *
 * A backup on a directory target is a directory `<root>/<backup name>/` with its data files and `manifest.json`;
 * it is written under `<name>.partial/` and renamed when complete, so a reader never sees half a backup (a
 * bucket has no rename: a `.complete` marker written last plays that part). Removal is the same in reverse:
 * renamed to `<name>.deleting/` first, so a removal cut short leaves nothing that is listed as complete.
 */
export type BackupTargetSpec = DirTargetSpec | S3TargetSpec;

interface TargetSpecBase {
  name: string;
  /** ISO 3166-1 alpha-2, or -2 subdivision (RU, RU-MOW, KG); 'auto' = the schools' own (the default targets). */
  region: string;
}

export interface DirTargetSpec extends TargetSpecBase {
  kind: 'dir';
  /** The directory. */
  location: string;
}

export interface S3TargetSpec extends TargetSpecBase {
  kind: 's3';
  /** `s3://bucket/prefix` as configured. */
  location: string;
  s3: S3Settings;
}

/** A target's spec in BACKUP_TARGETS: `name@REGION=dir:/path` or `name@REGION=s3://bucket/prefix`, entries separated by commas. */
const ENTRY = /^([a-z0-9][a-z0-9_-]{0,31})@([A-Z]{2}(?:-[A-Z0-9]{1,3})?)=(.+)$/;

/**
 * Parses BACKUP_TARGETS; throws an Error whose message names the bad entry (or the missing variable of an S3
 * target's settings, read from `env`). An empty value → [].
 */
export function parseBackupTargets(value: string, env: Record<string, string | undefined> = {}): BackupTargetSpec[] {
  const entries = value.split(',').map((e) => e.trim()).filter(Boolean);
  const specs = entries.map((entry): BackupTargetSpec => {
    const match = ENTRY.exec(entry);
    if (!match) throw new Error(`backup target "${entry}" is not name@REGION=dir:/path or name@REGION=s3://bucket/prefix (REGION: ISO 3166, e.g. RU, RU-MOW, KG)`);
    const [, name, region, location] = match as unknown as [string, string, string, string];
    if (location.startsWith('s3://')) return { name, region, kind: 's3', location, s3: parseS3Settings(name, location, env) };
    if (!location.startsWith('dir:') || location.length <= 4) throw new Error(`backup target "${name}": the location must be dir:/path or s3://bucket/prefix`);
    return { name, region, kind: 'dir', location: location.slice(4) };
  });
  const names = specs.map((s) => s.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice) throw new Error(`backup target name "${twice}" is used twice`);
  return specs;
}

/**
 * The configured targets, or the default when none are: two directories under DATA_DIR (`backups/a`,
 * `backups/b`) tagged 'auto' (the region the schools' data already lives in: the same host as the database).
 * They are one medium in one room: fine for a first `npm start`, never for production (README).
 */
export function backupTargetSpecs(config: { BACKUP_TARGETS: BackupTargetSpec[]; DATA_DIR: string }): BackupTargetSpec[] {
  if (config.BACKUP_TARGETS.length > 0) return config.BACKUP_TARGETS;
  return ['a', 'b'].map((name): DirTargetSpec => ({ name, region: 'auto', kind: 'dir', location: path.join(config.DATA_DIR, 'backups', name) }));
}

/** One backup being written to one target. */
export interface TargetWriter {
  /** A stream for one file of the backup. */
  file(name: string): Writable;
  /** Makes the backup visible (all files written). */
  commit(): Promise<void>;
  /** Removes what was written. */
  abort(): Promise<void>;
}

/** A place backups are written to and read from. */
export interface BackupTarget {
  readonly name: string;
  readonly region: string;
  /** Where it is, for reports (a path, or a bucket and its endpoint's host; never credentials). */
  readonly describe: string;
  begin(backupName: string): Promise<TargetWriter>;
  /** Complete backups' names, newest first. */
  list(): Promise<string[]>;
  read(backupName: string, file: string): Readable;
  readText(backupName: string, file: string): Promise<string>;
  /** Files of a backup with their sizes (what is there, whatever the manifest says). */
  files(backupName: string): Promise<Map<string, number>>;
  /** Deletes the leftovers of removals cut short, where the target can tell them apart from work in progress; their names. */
  sweep?(): Promise<string[]>;
  /** Deletes a backup (retention, backup-retention.ts): it stops being listed before any of its files goes. */
  remove(backupName: string): Promise<void>;
}

/** A local directory or mount. */
export class DirTarget implements BackupTarget {
  readonly describe: string;

  constructor(readonly name: string, readonly region: string, private readonly root: string) {
    this.describe = path.resolve(root);
  }

  async begin(backupName: string): Promise<TargetWriter> {
    const partial = path.join(this.root, `${backupName}.partial`);
    await rm(partial, { recursive: true, force: true });
    await mkdir(partial, { recursive: true });
    return {
      file: (name) => createWriteStream(path.join(partial, safe(name))),
      commit: async () => {
        await writeFile(path.join(partial, '.complete'), '');
        await rename(partial, path.join(this.root, backupName));
      },
      abort: () => rm(partial, { recursive: true, force: true }),
    };
  }

  async list(): Promise<string[]> {
    const entries = await readdir(this.root, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [];
      throw error;
    });
    return entries.filter((e) => e.isDirectory() && !e.name.endsWith('.partial') && !e.name.endsWith('.deleting')).map((e) => e.name).sort().reverse();
  }

  read(backupName: string, file: string): Readable {
    return createReadStream(path.join(this.root, safe(backupName), safe(file)));
  }

  readText(backupName: string, file: string): Promise<string> {
    return readFile(path.join(this.root, safe(backupName), safe(file)), 'utf8');
  }

  async files(backupName: string): Promise<Map<string, number>> {
    const dir = path.join(this.root, safe(backupName));
    const names = (await readdir(dir)).filter((n) => !n.startsWith('.'));
    return new Map(await Promise.all(names.map(async (n) => [n, (await stat(path.join(dir, n))).size] as [string, number])));
  }

  /** Deletes what removals cut short left behind (`<name>.deleting/`); never a `.partial` one, which may be a backup being written. */
  async sweep(): Promise<string[]> {
    const entries = await readdir(this.root, { withFileTypes: true }).catch(() => []);
    const left = entries.filter((e) => e.isDirectory() && e.name.endsWith('.deleting') && /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(e.name)).map((e) => e.name);
    for (const name of left) await rm(path.join(this.root, name), { recursive: true, force: true });
    return left;
  }

  /** Renamed to `<name>.deleting` (one atomic step: no longer listed), then deleted; a leftover of a removal cut short goes first. */
  async remove(backupName: string): Promise<void> {
    const dir = path.join(this.root, safe(backupName));
    const deleting = path.join(this.root, `${backupName}.deleting`);
    try {
      await rm(deleting, { recursive: true, force: true });
      await rename(dir, deleting);
      await rm(deleting, { recursive: true, force: true });
    } catch (error) {
      throw new Error(`backup target "${this.name}" (${this.describe}): removing ${backupName} failed: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  }
}

/** A file or backup name never leaves its directory (or its key prefix). */
export function safe(name: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) throw new Error(`not a backup file name: ${JSON.stringify(name)}`);
  return name;
}

/** The targets of specs whose regions are resolved (backup-jurisdiction.ts). */
export function openTargets(specs: readonly BackupTargetSpec[]): BackupTarget[] {
  return specs.map((s) => (s.kind === 's3' ? new S3Target(s.name, s.region, s.s3) : new DirTarget(s.name, s.region, s.location)));
}
