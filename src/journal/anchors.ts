import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { existsSync } from 'node:fs';
import { appendFile, chmod, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Pool } from '../db/pool.js';

/**
 * Anchors of the history chains outside the database. Each school's chain head (school, seq, hash) is
 * appended, signed, to a file of the anchor directory (one file per month, `YYYY-MM.jsonl`, lines only
 * ever appended) at the end of every sync, periodically, and at shutdown. The signing key (Ed25519) lives
 * beside them in the data directory, never in the database: whoever can rewrite the database — its
 * superuser, a stolen owner password — can make the chain consistent again (recompute every hash, move
 * the head back, truncate), but cannot make it agree with heads anchored before, nor forge new anchors.
 * `journal verify` checks every chain against every anchor (verify.ts): a rewritten event, deleted tail
 * or truncated history no longer matches what was anchored.
 */
export interface Anchor {
  schoolId: string;
  seq: number;
  /** Hex of the chain hash after event `seq`. */
  hash: string;
  /** When it was anchored (ISO). */
  at: string;
}

export interface AnchorSet {
  /** Each school's anchors, by ascending seq. */
  bySchool: Map<string, Anchor[]>;
  /** Lines that are not valid anchors (edited, forged, cut short): any of them fails the verification. */
  problems: string[];
}

const KEY_FILE = 'anchor-signing.key';
const PUBLIC_KEY_FILE = 'anchor-signing.pub';

export class ChainAnchors {
  /** The head this process last anchored per school, so an unchanged head is not written again. */
  private readonly written = new Map<string, string>();

  private constructor(private readonly dir: string, private readonly key: KeyObject) {}

  /** Opens the anchor directory, creating it and its signing key on first use. */
  static async open(dir: string): Promise<ChainAnchors> {
    await mkdir(dir, { recursive: true });
    const keyFile = path.join(dir, KEY_FILE);
    if (!existsSync(keyFile)) {
      const { privateKey, publicKey } = generateKeyPairSync('ed25519');
      await writeFile(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' }).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'EEXIST') throw error; // another process of ours made it meanwhile
      });
      await chmod(keyFile, 0o600);
      await writeFile(path.join(dir, PUBLIC_KEY_FILE), publicKey.export({ type: 'spki', format: 'pem' }));
    }
    return new ChainAnchors(dir, createPrivateKey(await readFile(keyFile, 'utf8')));
  }

  /**
   * Appends the current heads (of the schools given, or of all) that moved since this process last
   * anchored them. Returns how many were written.
   */
  async write(pool: Pool, filter: { schoolId?: string; connectionId?: string } = {}): Promise<number> {
    const { rows } = await pool.query<{ school_id: string; seq: string; hash: Buffer }>(
      `SELECT h.school_id::text, h.seq, h.hash FROM journal_head h
        WHERE h.seq > 0 AND ($1::uuid IS NULL OR h.school_id = $1)
          AND ($2::uuid IS NULL OR h.school_id = (SELECT school_id FROM connection WHERE id = $2))`,
      [filter.schoolId ?? null, filter.connectionId ?? null],
    );
    const at = new Date().toISOString();
    const lines: string[] = [];
    const moved: Array<[string, string]> = [];
    for (const row of rows) {
      const anchor: Anchor = { schoolId: row.school_id, seq: Number(row.seq), hash: row.hash.toString('hex'), at };
      const mark = `${anchor.seq}:${anchor.hash}`;
      if (this.written.get(anchor.schoolId) === mark) continue;
      lines.push(`${JSON.stringify({ ...anchorFields(anchor), sig: sign(null, signedText(anchor), this.key).toString('base64') })}\n`);
      moved.push([anchor.schoolId, mark]);
    }
    if (lines.length === 0) return 0;
    // One append (O_APPEND) of whole lines: the writes of several processes never interleave within a line.
    await appendFile(path.join(this.dir, `${at.slice(0, 7)}.jsonl`), lines.join(''), { mode: 0o600 });
    for (const [schoolId, mark] of moved) this.written.set(schoolId, mark);
    return lines.length;
  }
}

/**
 * Reads and checks every anchor in the directory (optionally of one school only). A missing directory
 * is an empty set; anchors without the key that signed them cannot be trusted and are a problem.
 */
export async function readAnchors(dir: string, schoolId?: string): Promise<AnchorSet> {
  const set: AnchorSet = { bySchool: new Map(), problems: [] };
  if (!existsSync(dir)) return set;
  const files = (await readdir(dir)).filter((f) => /^\d{4}-\d{2}\.jsonl$/.test(f)).sort();
  if (files.length === 0) return set;
  let key: KeyObject;
  try {
    key = existsSync(path.join(dir, KEY_FILE))
      ? createPublicKey(createPrivateKey(await readFile(path.join(dir, KEY_FILE), 'utf8')))
      : createPublicKey(await readFile(path.join(dir, PUBLIC_KEY_FILE), 'utf8'));
  } catch {
    set.problems.push(`the anchors in ${dir} cannot be checked: their signing key (${KEY_FILE} or ${PUBLIC_KEY_FILE}) is missing or unreadable`);
    return set;
  }
  for (const file of files) {
    const lines = (await readFile(path.join(dir, file), 'utf8')).split('\n');
    lines.forEach((line, index) => {
      if (line === '') return;
      const anchor = parseAnchor(line, key);
      if (!anchor) set.problems.push(`anchor ${file}:${index + 1} is not a validly signed anchor (the file was edited or cut)`);
      else if (!schoolId || anchor.schoolId === schoolId) {
        const list = set.bySchool.get(anchor.schoolId) ?? [];
        list.push(anchor);
        set.bySchool.set(anchor.schoolId, list);
      }
    });
  }
  for (const list of set.bySchool.values()) list.sort((a, b) => a.seq - b.seq);
  return set;
}

function parseAnchor(line: string, key: KeyObject): Anchor | undefined {
  try {
    const value = JSON.parse(line) as { school?: unknown; seq?: unknown; hash?: unknown; at?: unknown; sig?: unknown };
    if (typeof value.school !== 'string' || typeof value.seq !== 'number' || typeof value.hash !== 'string' || typeof value.at !== 'string' || typeof value.sig !== 'string') return undefined;
    const anchor: Anchor = { schoolId: value.school, seq: value.seq, hash: value.hash, at: value.at };
    return verify(null, signedText(anchor), key, Buffer.from(value.sig, 'base64')) ? anchor : undefined;
  } catch {
    return undefined;
  }
}

function anchorFields(anchor: Anchor): Record<string, unknown> {
  return { school: anchor.schoolId, seq: anchor.seq, hash: anchor.hash, at: anchor.at };
}

function signedText(anchor: Anchor): Buffer {
  return Buffer.from(`journal-bridge anchor v1\n${anchor.schoolId}\n${anchor.seq}\n${anchor.hash}\n${anchor.at}`, 'utf8');
}
