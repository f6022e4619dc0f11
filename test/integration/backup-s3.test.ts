import { randomBytes } from 'node:crypto';
import { mkdtemp, open, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { runBackup, type BackupDeps } from '../../src/archive/backup.js';
import { restoreDrill } from '../../src/archive/backup-drill.js';
import { checkBackupTargets } from '../../src/archive/backup-jurisdiction.js';
import { S3Target } from '../../src/archive/backup-s3.js';
import { parseBackupTargets, type BackupTarget } from '../../src/archive/backup-targets.js';
import { DigestSink } from '../../src/archive/backup-streams.js';
import { recordedDigests, verifyTargets } from '../../src/archive/backup-verify.js';
import { startS3Simulator, type S3Simulator } from '../../src/archive/s3-simulator.js';
import { loadDemoSchool } from '../../src/demo/load.js';
import { fixedClock, type Clock } from '../../src/lib/clock.js';
import { createLogger } from '../../src/lib/logger.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { adminUrl, SERVER_ENV } from '../support/env.js';

/**
 * Backups to a directory and an S3-compatible bucket (the S3 simulator: SigV4 checked, aws-chunked refused):
 * both copies verify and the bucket holds the files and the `.complete` marker; a corrupted copy on either is
 * named by verify and the restore drill takes the other; a wrong secret makes the run partial, naming the
 * target and SignatureDoesNotMatch and never the secret; a large file goes up in parts; an aborted backup is
 * never listed; the SDK's default checksums are what a strict store refuses.
 */
const logger = createLogger('silent');
const PREFIX = 'jb/school-1';
let db: TestDatabase;
let dir: string;
let sim: S3Simulator;
let schoolId: string;

const at = (iso: string): Clock => fixedClock(new Date(iso));
const s3Env = (secret = sim.credentials.secretAccessKey) => ({
  BACKUP_S3_OFF_SITE_ENDPOINT: sim.endpoint, BACKUP_S3_OFF_SITE_ACCESS_KEY_ID: sim.credentials.accessKeyId, BACKUP_S3_OFF_SITE_SECRET_ACCESS_KEY: secret,
});
const settingsFor = (targets: string, env = s3Env()) => ({ BACKUP_TARGETS: parseBackupTargets(targets, env), BACKUP_REQUIRE_TWO: true, DATA_DIR: dir, BACKUP_METHOD: 'logical' as const });
const depsFor = (targets: string, clock: Clock, env = s3Env(), log = logger): BackupDeps => ({ pool: db.pool, url: db.url, clock, logger: log, settings: settingsFor(targets, env) });
const dirThenS3 = () => `a@RU=dir:${path.join(dir, 'a')},off-site@RU=s3://backups/${PREFIX}`;
const s3ThenDir = () => `off-site@RU=s3://backups/${PREFIX},a@RU=dir:${path.join(dir, 'a')}`;

async function liveCounts(tables: string[]): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const t of tables) counts[t] = Number((await db.pool.query<{ n: string }>(`SELECT count(*) AS n FROM "${t}"`)).rows[0]!.n);
  return counts;
}

function writeFile(stream: Writable, bytes: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.once('error', reject);
    stream.once('close', () => resolve());
    stream.end(bytes);
  });
}

function s3Target(secret = sim.credentials.secretAccessKey): BackupTarget {
  const [spec] = parseBackupTargets(`off-site@RU=s3://backups/${PREFIX}`, s3Env(secret));
  if (spec?.kind !== 's3') throw new Error('not an s3 spec');
  return new S3Target(spec.name, spec.region, spec.s3);
}

beforeAll(async () => {
  db = await createTestDatabase();
  dir = await mkdtemp(path.join(os.tmpdir(), 'jb-backup-s3-'));
  sim = await startS3Simulator({ buckets: ['backups'] });
  ({ schoolId } = await loadDemoSchool({ pool: db.pool, clock: at('2025-09-13T03:00:00+03:00'), logger }, { seed: 4, pupils: 30, year: 2025, until: '2025-09-12' }));
});

afterAll(async () => {
  await sim.close();
  await db.drop();
  await rm(dir, { recursive: true, force: true });
});

describe('backups to a directory and an S3 bucket', () => {
  let first: string;

  it('writes the backup to both; both verify; the bucket holds its files and the marker', async () => {
    const result = await runBackup(depsFor(dirThenS3(), at('2025-09-13T03:00:00Z')), { reason: 'manual' });
    expect(result).toMatchObject({ status: 'succeeded', targets: [{ name: 'a', ok: true }, { name: 'off-site', ok: true, location: `s3://backups/${PREFIX} (${new URL(sim.endpoint).host})` }] });
    first = result.name;
    const keys = sim.keys('backups');
    expect(keys).toEqual(expect.arrayContaining([`${PREFIX}/${first}/.complete`, `${PREFIX}/${first}/manifest.json`, `${PREFIX}/${first}/manifest.sha256`, `${PREFIX}/${first}/mark.copy.gz`]));
    expect(keys.every((k) => k.startsWith(`${PREFIX}/${first}/`))).toBe(true);

    const targets = await checkBackupTargets(settingsFor(dirThenS3()), db.pool, logger);
    const reports = await verifyTargets(targets, { recorded: await recordedDigests(db.pool) });
    expect(reports.map((r) => [r.target, r.backup, r.ok, r.problems])).toEqual([['a', first, true, []], ['off-site', first, true, []]]);
    expect([...(await targets[1]!.files(first)).keys()].sort()).toEqual([...(await targets[0]!.files(first)).keys()].sort());
  });

  it('the S3 copy corrupted: verify names the target and file, the drill takes the directory\'s copy', async () => {
    sim.corrupt('backups', `${PREFIX}/${first}/mark.copy.gz`);
    const targets = await checkBackupTargets(settingsFor(s3ThenDir()), db.pool, logger);
    const reports = await verifyTargets(targets, { backup: first, recorded: await recordedDigests(db.pool) });
    expect(reports.map((r) => [r.target, r.ok])).toEqual([['off-site', false], ['a', true]]);
    expect(reports[0]!.problems).toEqual(['mark.copy.gz: SHA-256 differs from the manifest (the file is corrupted)']);

    const drill = await restoreDrill({ pool: db.pool, targets, adminUrl: adminUrl(process.env[SERVER_ENV]!), logger });
    expect(drill.mismatches).toEqual([]);
    expect(drill).toMatchObject({ ok: true, backup: first, target: 'a' });
    expect(drill.skipped).toEqual([{ target: 'off-site', backup: first, problems: [expect.stringContaining('mark.copy.gz')] }]);
  });

  it('the directory\'s copy corrupted: the drill restores from S3 and its counts and chain equal the source', async () => {
    const result = await runBackup(depsFor(dirThenS3(), at('2025-09-14T03:00:00Z')), { reason: 'nightly' });
    expect(result.status).toBe('succeeded');
    const file = await open(path.join(dir, 'a', result.name, 'mark.copy.gz'), 'r+');
    const { size } = await file.stat();
    const byte = Buffer.alloc(1);
    await file.read(byte, 0, 1, Math.floor(size / 2));
    await file.write(Buffer.from([byte[0]! ^ 0xff]), 0, 1, Math.floor(size / 2));
    await file.close();

    const targets = await checkBackupTargets(settingsFor(dirThenS3()), db.pool, logger);
    // Two reads from the bucket lose their connection part-way: each resumes where it stopped.
    sim.dropNext(2, 100);
    const drill = await restoreDrill({ pool: db.pool, targets, adminUrl: adminUrl(process.env[SERVER_ENV]!), logger });
    expect(drill.mismatches).toEqual([]);
    expect(drill).toMatchObject({ ok: true, backup: result.name, target: 'off-site', kept: false });
    expect(drill.skipped).toEqual([{ target: 'a', backup: result.name, problems: [expect.stringContaining('mark.copy.gz')] }]);
    const restored = Object.fromEntries(drill.tables.map((t) => [t.table, t.restored]));
    expect(restored).toEqual(await liveCounts(drill.tables.map((t) => t.table)));
    expect(restored.mark).toBeGreaterThan(100);
    const head = (await db.pool.query<{ seq: string }>('SELECT seq::text FROM journal_head WHERE school_id = $1', [schoolId])).rows[0]!;
    expect(drill.chains).toEqual([{ schoolId, ok: true, events: Number(head.seq), headSeq: head.seq, expectedSeq: head.seq, headMatches: true }]);
  });

  it('a wrong secret: the run is partial, names the target and SignatureDoesNotMatch, and the secret appears nowhere', async () => {
    const secret = `wrong-${randomBytes(12).toString('hex')}`;
    const lines: string[] = [];
    const log = createLogger('debug', { write: (line: string) => { lines.push(line); } });
    const before = sim.keys('backups').length;
    const result = await runBackup(depsFor(dirThenS3(), at('2025-09-15T03:00:00Z'), s3Env(secret), log), { reason: 'manual' });
    expect(result.status).toBe('partial');
    expect(result.targets).toEqual([
      expect.objectContaining({ name: 'a', ok: true }),
      expect.objectContaining({ name: 'off-site', ok: false, error: expect.stringMatching(/^S3 target "off-site" .*SignatureDoesNotMatch \(HTTP 403\)$/) }),
    ]);
    const run = (await db.pool.query('SELECT status, error, targets FROM backup_run WHERE id = $1', [result.runId])).rows[0];
    expect(run).toMatchObject({ status: 'partial', error: expect.stringContaining('SignatureDoesNotMatch') });
    expect(lines.join('\n')).toContain('SignatureDoesNotMatch');
    for (const text of [JSON.stringify(result), JSON.stringify(run), lines.join('\n')]) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain(sim.credentials.secretAccessKey);
    }
    expect(sim.keys('backups').length).toBe(before);
  });

  it('two S3 targets on one bucket are one place; a bucket and a directory are two', async () => {
    const env = { ...s3Env(), BACKUP_S3_OTHER_ENDPOINT: sim.endpoint, BACKUP_S3_OTHER_ACCESS_KEY_ID: 'k', BACKUP_S3_OTHER_SECRET_ACCESS_KEY: 's' };
    await expect(checkBackupTargets(settingsFor(`off-site@RU=s3://backups/one,other@RU=s3://backups/two`, env), db.pool, logger)).rejects.toThrow('backups go to 1 place(s)');
    await expect(checkBackupTargets(settingsFor(dirThenS3()), db.pool, logger)).resolves.toHaveLength(2);
  });
});

describe('the S3 target', () => {
  it('sends a file past one 5 MiB part as a multipart upload, and reads it back whole', async () => {
    const target = s3Target();
    const [created, parts, completed] = ['CreateMultipartUpload', 'UploadPart', 'CompleteMultipartUpload'].map((op) => sim.count(op));
    const big = randomBytes(5 * 1024 * 1024 + 4099);
    const writer = await target.begin('20300101T000000Z-big');
    await writeFile(writer.file('big.bin'), big);
    await writer.commit();
    expect(sim.count('CreateMultipartUpload') - created!).toBe(1);
    expect(sim.count('UploadPart') - parts!).toBe(2);
    expect(sim.count('CompleteMultipartUpload') - completed!).toBe(1);
    expect(await target.files('20300101T000000Z-big')).toEqual(new Map([['big.bin', big.length]]));
    const sink = new DigestSink();
    await pipeline(target.read('20300101T000000Z-big', 'big.bin'), sink);
    expect(sink.bytes).toBe(big.length);
    expect((await target.list())[0]).toBe('20300101T000000Z-big');
  });

  it('a read that loses its connection resumes from the byte it reached, with the object\'s ETag; too many in a row fail naming the target', async () => {
    const target = s3Target();
    const big = randomBytes(3 * 1024 * 1024 + 17);
    const writer = await target.begin('20300102T000000Z-drop');
    await writeFile(writer.file('big.bin'), big);
    await writer.commit();
    const whole = new DigestSink();
    await pipeline(target.read('20300102T000000Z-drop', 'big.bin'), whole);

    const reads = sim.count('GetObject');
    sim.dropNext(2, 1024 * 1024 + 5);
    const resumed = new DigestSink();
    await pipeline(target.read('20300102T000000Z-drop', 'big.bin'), resumed);
    expect([resumed.bytes, resumed.hex()]).toEqual([big.length, whole.hex()]);
    expect(sim.count('GetObject') - reads).toBe(3);

    sim.dropNext(5, 10);
    await expect(pipeline(target.read('20300102T000000Z-drop', 'big.bin'), new DigestSink())).rejects.toThrow(/^S3 target "off-site" \(s3:\/\/backups\/jb\/school-1 .*\): GetObject failed: (ECONNRESET|aborted|ERR_STREAM_PREMATURE_CLOSE)$/);
  });

  it('an unfinished backup is never listed, and an aborted one leaves nothing behind', async () => {
    const target = s3Target();
    const writer = await target.begin('20310101T000000Z-gone');
    await writeFile(writer.file('one.copy.gz'), randomBytes(1000));
    await writeFile(writer.file('two.copy.gz'), randomBytes(10));
    expect(sim.keys('backups').filter((k) => k.includes('20310101T000000Z-gone'))).toHaveLength(2);
    expect(await target.list()).not.toContain('20310101T000000Z-gone');
    await writer.abort();
    expect(sim.keys('backups').filter((k) => k.includes('20310101T000000Z-gone'))).toEqual([]);
    expect(await target.list()).not.toContain('20310101T000000Z-gone');
  });

  it('a missing object is a stream error naming the target and NoSuchKey; transient 503s are retried', async () => {
    const target = s3Target();
    await expect(pipeline(target.read('20300101T000000Z-big', 'nope.bin'), new DigestSink())).rejects.toThrow(/^S3 target "off-site" .*GetObject failed: NoSuchKey \(HTTP 404\)$/);
    sim.failNext(2, 503);
    expect(await target.list()).toContain('20300101T000000Z-big');
  });

  it('pages through ListObjectsV2 with continuation tokens', async () => {
    const target = s3Target();
    const names = Array.from({ length: 3 }, (_, i) => `20320101T00000${i}Z-page`);
    for (const name of names) {
      const writer = await target.begin(name);
      await writeFile(writer.file('f'), Buffer.from('x'));
      await writer.commit();
    }
    const client = new S3Client({ region: 'us-east-1', endpoint: sim.endpoint, forcePathStyle: true, credentials: sim.credentials, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
    const { ListObjectsV2Command } = await import('@aws-sdk/client-s3');
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(new ListObjectsV2Command({ Bucket: 'backups', Prefix: `${PREFIX}/`, Delimiter: '/', MaxKeys: 2, ContinuationToken: token }));
      expect(page.KeyCount).toBeLessThanOrEqual(2);
      seen.push(...(page.CommonPrefixes ?? []).map((p) => p.Prefix!));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    expect(seen).toEqual(expect.arrayContaining(names.map((n) => `${PREFIX}/${n}/`)));
    expect(new Set(seen).size).toBe(seen.length);
    expect(await target.list()).toEqual(expect.arrayContaining(names));
  });

  it('a client with the SDK\'s default checksums is refused by a strict store: why the target asks WHEN_REQUIRED', async () => {
    const client = new S3Client({ region: 'us-east-1', endpoint: sim.endpoint, forcePathStyle: true, credentials: sim.credentials });
    const upload = new Upload({ client, params: { Bucket: 'backups', Key: 'defaults/probe', Body: Buffer.from('probe') } });
    await expect(upload.done()).rejects.toMatchObject({ name: 'InvalidArgument', $metadata: { httpStatusCode: 400 } });
    expect(sim.keys('backups')).not.toContain('defaults/probe');
  });
});
