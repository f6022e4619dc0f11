import { pipeline } from 'node:stream/promises';
import type { Pool } from '../db/pool.js';
import { describeError } from '../lib/errors.js';
import { MANIFEST_DIGEST_FILE, MANIFEST_FILE, parseManifest, sha256Hex, type Manifest } from './backup-manifest.js';
import { DigestSink } from './backup-streams.js';
import type { BackupTarget } from './backup-targets.js';

/**
 * `backup verify`: every file of a backup on a target is read back and checked against the manifest (size and
 * SHA-256), and the manifest against its own digest (beside it, and as recorded in `backup_run` when this
 * database made it). A flipped byte, a truncated or missing file, or an edited manifest names the target.
 */
export interface VerifyReport {
  target: string;
  backup: string;
  ok: boolean;
  problems: string[];
  manifest?: Manifest;
}

/** Checks one backup on one target. */
export async function verifyBackup(target: BackupTarget, backup: string, recordedDigest?: string): Promise<VerifyReport> {
  const report: VerifyReport = { target: target.name, backup, ok: false, problems: [] };
  let manifest: Manifest;
  try {
    const text = await target.readText(backup, MANIFEST_FILE);
    const digest = sha256Hex(text);
    const beside = (await target.readText(backup, MANIFEST_DIGEST_FILE).catch(() => '')).split(/\s+/)[0];
    if (beside !== digest) report.problems.push(`${MANIFEST_FILE}: its SHA-256 ${digest} differs from ${MANIFEST_DIGEST_FILE} (${beside || 'missing'})`);
    if (recordedDigest && recordedDigest !== digest) report.problems.push(`${MANIFEST_FILE}: its SHA-256 differs from the one recorded when the backup was made (${recordedDigest})`);
    manifest = parseManifest(text);
  } catch (error) {
    report.problems.push(`${MANIFEST_FILE}: ${describeError(error)}`);
    return report;
  }
  report.manifest = manifest;
  const present = await target.files(backup);
  for (const file of manifest.files) {
    const size = present.get(file.file);
    if (size === undefined) {
      report.problems.push(`${file.file}: missing`);
      continue;
    }
    if (size !== file.bytes) report.problems.push(`${file.file}: ${size} bytes, the manifest says ${file.bytes}`);
    const sink = new DigestSink();
    try {
      await pipeline(target.read(backup, file.file), sink);
      if (sink.hex() !== file.sha256) report.problems.push(`${file.file}: SHA-256 differs from the manifest (the file is corrupted)`);
    } catch (error) {
      report.problems.push(`${file.file}: ${describeError(error)}`);
    }
  }
  report.ok = report.problems.length === 0;
  return report;
}

/** Manifest digests this database recorded, by backup name. */
export async function recordedDigests(pool: Pool): Promise<Map<string, string>> {
  const { rows } = await pool.query<{ name: string; manifest_sha256: string }>(
    'SELECT name, manifest_sha256 FROM backup_run WHERE name IS NOT NULL AND manifest_sha256 IS NOT NULL');
  return new Map(rows.map((r) => [r.name, r.manifest_sha256]));
}

/** Verifies each target's newest backup (or the one named, or all of them). */
export async function verifyTargets(targets: BackupTarget[], options: { backup?: string; all?: boolean; recorded?: Map<string, string> } = {}): Promise<VerifyReport[]> {
  const reports: VerifyReport[] = [];
  for (const target of targets) {
    let names: string[];
    try {
      names = await target.list();
    } catch (error) {
      reports.push({ target: target.name, backup: options.backup ?? '', ok: false, problems: [`cannot list the target: ${describeError(error)}`] });
      continue;
    }
    const chosen = options.backup ? [options.backup] : options.all ? names : names.slice(0, 1);
    if (options.backup && !names.includes(options.backup)) {
      reports.push({ target: target.name, backup: options.backup, ok: false, problems: ['no such backup on this target'] });
      continue;
    }
    if (chosen.length === 0) reports.push({ target: target.name, backup: '', ok: false, problems: ['the target holds no backup'] });
    for (const name of chosen) reports.push(await verifyBackup(target, name, options.recorded?.get(name)));
  }
  return reports;
}
