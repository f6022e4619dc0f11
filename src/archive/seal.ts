import { createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto';
import { withTransaction, type Pool, type PoolClient } from '../db/pool.js';
import type { Clock } from '../lib/clock.js';
import type { SecretBox } from '../lib/secret-box.js';
import type { PageContent } from '../reports/types.js';
import { readPageContent, readPeriod, readPeriodClasses, readPrintedSource, type PeriodInfo } from './content.js';
import { canonicalJson, pageDigest, rootDigest, sealCode, sha256Hex, titleDigest, type TitleContent } from './digest.js';

/**
 * A seal commits to the journal as it stood (001 §3.6–3.7; 003 Регламент §4.2): read in one
 * REPEATABLE READ snapshot, the school's history position and hash, and per class × subject of the
 * period the content of its printed page and that content's digest, plus each class's title page
 * (over its pages' digests). Pages keep their content, so a later check can name the cells that changed.
 * The seal's manifest is signed with the deployment's Ed25519 key (derived from its secret key), so a
 * printout's manifest can be checked without trusting the database it came from.
 */

export const NIL_UUID = '00000000-0000-0000-0000-000000000000';

export interface SealedPage {
  classId: string;
  className: string;
  /** NIL_UUID: the class's title page. */
  subjectId: string;
  subjectName: string | null;
  code: string;
  digest: string;
  content: PageContent | TitleContent;
}

export interface SealRecord {
  id: string;
  schoolId: string;
  closeId: string;
  periodId: string;
  code: string;
  chainSeq: string;
  chainHash: string;
  digest: string;
  pages: number;
  createdBy: string;
  createdAt: string;
}

export interface SealManifest {
  format: 'journal-bridge/seal-manifest@1';
  seal: { id: string; code: string; createdAt: string; createdBy: string };
  school: { id: string; name: string };
  period: { id: string; title: string; from: string; to: string };
  chain: { seq: string; hash: string };
  source: { id: string; title: string } | null;
  pages: Array<{ classId: string; className: string; subjectId: string; subjectName: string | null; code: string; digest: string }>;
  digest: string;
}

/** The deployment's seal-signing key pair (Ed25519 from a 32-byte seed derived from the secret box). */
export function sealSigningKey(box: SecretBox): { privateKey: KeyObject; publicKey: string } {
  const seed = box.derive('seal-signing').subarray(0, 32);
  // PKCS#8 wrapping of a raw Ed25519 seed (RFC 8410).
  const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]);
  const privateKey = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  const publicKey = createPublicKey(privateKey).export({ format: 'der', type: 'spki' }).subarray(-32).toString('base64url');
  return { privateKey, publicKey };
}

export function signManifest(box: SecretBox, manifest: SealManifest): { sha256: string; signature: string; publicKey: string } {
  const bytes = Buffer.from(canonicalJson(manifest), 'utf8');
  const { privateKey, publicKey } = sealSigningKey(box);
  return { sha256: sha256Hex(bytes), signature: sign(null, bytes, privateKey).toString('base64url'), publicKey };
}

export interface CreateSeal {
  schoolId: string;
  closeId: string;
  periodId: string;
  actor: string;
  /** Only these classes (all of the period's by default). */
  classIds?: readonly string[];
}

/** Seals the period: one snapshot for the chain position and every page; the rows are inserted in the same transaction. */
export async function createSeal(pool: Pool, clock: Clock, request: CreateSeal): Promise<{ seal: SealRecord; pages: SealedPage[]; period: PeriodInfo }> {
  return withTransaction(pool, (client) => sealIn(client, clock, request), 'repeatable read');
}

async function sealIn(client: PoolClient, clock: Clock, request: CreateSeal): Promise<{ seal: SealRecord; pages: SealedPage[]; period: PeriodInfo }> {
  const period = await readPeriod(client, request.schoolId, request.periodId);
  const head = await client.query<{ seq: string; hash: string }>(`SELECT seq::text, encode(hash, 'hex') AS hash FROM journal_head WHERE school_id = $1`, [request.schoolId]);
  const chain = head.rows[0] ?? { seq: '0', hash: '' };
  const source = await readPrintedSource(client, request.schoolId);
  const classes = await readPeriodClasses(client, period, request.classIds);
  const pages: SealedPage[] = [];
  const codes = new Set<string>();
  const code = () => {
    let c = sealCode();
    while (codes.has(c)) c = sealCode();
    codes.add(c);
    return c;
  };
  for (const cls of classes) {
    const subjectPages: SealedPage[] = [];
    for (const subject of cls.subjects) {
      const content = await readPageContent(client, { period, classId: cls.id, subjectId: subject.id, source });
      subjectPages.push({ classId: cls.id, className: cls.name, subjectId: subject.id, subjectName: subject.name, code: code(), digest: pageDigest(content), content });
    }
    const title: TitleContent = {
      classId: cls.id, className: cls.name, periodId: period.id, periodTitle: period.title, classTeacher: cls.classTeacher,
      pages: subjectPages.map((p) => ({ subjectId: p.subjectId, subjectName: p.subjectName!, digest: p.digest })),
    };
    pages.push({ classId: cls.id, className: cls.name, subjectId: NIL_UUID, subjectName: null, code: code(), digest: titleDigest(title), content: title }, ...subjectPages);
  }
  const digest = rootDigest(chain, pages);
  const sealCodeValue = code();
  const { rows } = await client.query<SealRecord>(
    `INSERT INTO seal (school_id, close_id, period_id, code, chain_seq, chain_hash, digest, pages, created_by, created_at)
     VALUES ($1, $2, $3, $4, $5, decode($6, 'hex'), $7, $8, $9, $10)
     RETURNING id::text, school_id::text AS "schoolId", close_id::text AS "closeId", period_id::text AS "periodId", code, chain_seq::text AS "chainSeq",
               encode(chain_hash, 'hex') AS "chainHash", digest, pages, created_by AS "createdBy",
               to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "createdAt"`,
    [request.schoolId, request.closeId, request.periodId, sealCodeValue, chain.seq, chain.hash, digest, pages.length, request.actor, clock.now()],
  );
  const seal = rows[0]!;
  for (let i = 0; i < pages.length; i += 200) {
    const chunk = pages.slice(i, i + 200);
    await client.query(
      `INSERT INTO seal_page (school_id, seal_id, class_group_id, subject_id, position, code, digest, content)
       SELECT $1, $2, u.class_id, u.subject_id, $8::int + u.n::int - 1, u.code, u.digest, u.content
         FROM unnest($3::uuid[], $4::uuid[], $5::text[], $6::text[], $7::jsonb[]) WITH ORDINALITY AS u(class_id, subject_id, code, digest, content, n)`,
      [request.schoolId, seal.id, chunk.map((p) => p.classId), chunk.map((p) => p.subjectId), chunk.map((p) => p.code), chunk.map((p) => p.digest),
        chunk.map((p) => JSON.stringify(p.content)), i],
    );
  }
  return { seal, pages, period };
}

/** The seal's manifest, rebuilt from what was sealed: the same seal gives the same bytes (and hash) every time. */
export async function readSealManifest(db: Pool | PoolClient, schoolId: string, sealId: string): Promise<SealManifest> {
  const { rows } = await db.query<SealRecord & { school_name: string; period_title: string; start_date: string; end_date: string }>(
    `SELECT s.id::text, s.code, s.chain_seq::text AS "chainSeq", encode(s.chain_hash, 'hex') AS "chainHash", s.digest, s.created_by AS "createdBy",
            to_char(s.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "createdAt", s.period_id::text AS "periodId",
            sc.name AS school_name, p.title AS period_title, p.start_date::text, p.end_date::text
       FROM seal s JOIN school sc ON sc.id = s.school_id JOIN period p ON p.id = s.period_id
      WHERE s.school_id = $1 AND s.id = $2`,
    [schoolId, sealId],
  );
  const seal = rows[0];
  if (!seal) throw new Error(`seal ${sealId} not found`);
  const pages = await db.query<{ classId: string; className: string; subjectId: string; subjectName: string | null; code: string; digest: string; source: { id: string; title: string } | null }>(
    `SELECT sp.class_group_id::text AS "classId", sp.content ->> 'className' AS "className", sp.subject_id::text AS "subjectId",
            sp.content ->> 'subjectName' AS "subjectName", sp.code, sp.digest, sp.content -> 'source' AS source
       FROM seal_page sp
      WHERE sp.school_id = $1 AND sp.seal_id = $2
      ORDER BY sp.position`,
    [schoolId, sealId],
  );
  return {
    format: 'journal-bridge/seal-manifest@1',
    seal: { id: seal.id, code: seal.code, createdAt: seal.createdAt, createdBy: seal.createdBy },
    school: { id: schoolId, name: seal.school_name },
    period: { id: seal.periodId, title: seal.period_title, from: seal.start_date, to: seal.end_date },
    chain: { seq: seal.chainSeq, hash: seal.chainHash },
    source: pages.rows.find((p) => p.source)?.source ?? null,
    pages: pages.rows.map(({ source: _s, ...p }) => p),
    digest: seal.digest,
  };
}
