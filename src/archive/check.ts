import type { Pool } from '../db/pool.js';
import type { AnchorSet } from '../journal/anchors.js';
import { verifyChains, type SchoolChainReport } from '../journal/verify.js';
import type { PageContent } from '../reports/types.js';
import { pageDigest, rootDigest, titleDigest, type TitleContent } from './digest.js';
import { NIL_UUID } from './seal.js';
import { verifyArchiveItems, type ArchiveCheck } from './store.js';

/**
 * `archive verify`: everything the archive holds still is what it was filed as. Every filed item's sha256
 * is recomputed; the school's history chain is recomputed from its first event (journal/verify.ts) and
 * each seal's chain position must still hold the hash the seal recorded (a history rewritten below a seal
 * breaks it even where the chain was re-hashed consistently); every sealed page's digest is recomputed
 * from its stored content, and each seal's root from its pages.
 */

export interface SealCheck {
  id: string;
  code: string;
  chainSeq: string;
  /** The event at the seal's position still has the hash the seal recorded. */
  chainMatches: boolean;
  pages: number;
  /** Pages whose stored content no longer has the digest sealed with it. */
  corruptPages: string[];
  rootMatches: boolean;
}

export interface ArchiveReport {
  schoolId: string;
  ok: boolean;
  items: ArchiveCheck;
  chain: SchoolChainReport;
  seals: SealCheck[];
}

export async function verifyArchive(pool: Pool, schoolId: string, anchors?: AnchorSet): Promise<ArchiveReport> {
  const [items, chains, seals] = await Promise.all([
    verifyArchiveItems(pool, schoolId),
    verifyChains(pool, [schoolId], anchors),
    pool.query<{ id: string; code: string; chain_seq: string; chain_hash: string; digest: string; event_hash: string | null }>(
      `SELECT s.id::text, s.code, s.chain_seq::text, encode(s.chain_hash, 'hex') AS chain_hash, s.digest,
              (SELECT encode(e.hash, 'hex') FROM journal_event e WHERE e.school_id = s.school_id AND e.seq = s.chain_seq) AS event_hash
         FROM seal s WHERE s.school_id = $1 ORDER BY s.created_at, s.id`,
      [schoolId]),
  ]);
  const checks: SealCheck[] = [];
  for (const seal of seals.rows) {
    const pages = await pool.query<{ class_group_id: string; subject_id: string; code: string; digest: string; content: PageContent | TitleContent }>(
      'SELECT class_group_id::text, subject_id::text, code, digest, content FROM seal_page WHERE school_id = $1 AND seal_id = $2 ORDER BY position',
      [schoolId, seal.id],
    );
    const corruptPages = pages.rows.filter((p) => (p.subject_id === NIL_UUID ? titleDigest(p.content as TitleContent) : pageDigest(p.content as PageContent)) !== p.digest).map((p) => p.code);
    const root = rootDigest({ seq: seal.chain_seq, hash: seal.chain_hash }, pages.rows.map((p) => ({ classId: p.class_group_id, subjectId: p.subject_id, digest: p.digest })));
    checks.push({
      id: seal.id, code: seal.code, chainSeq: seal.chain_seq,
      chainMatches: seal.chain_seq === '0' ? true : seal.event_hash === seal.chain_hash,
      pages: pages.rows.length, corruptPages, rootMatches: root === seal.digest,
    });
  }
  const chain = chains.find((c) => c.schoolId === schoolId) ?? { schoolId, checked: 0, ok: true, anchors: 0 };
  return {
    schoolId, items, chain, seals: checks,
    ok: items.corrupt.length === 0 && chain.ok && checks.every((s) => s.chainMatches && s.rootMatches && s.corruptPages.length === 0),
  };
}
