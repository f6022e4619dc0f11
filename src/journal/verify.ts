import type { Pool } from '../db/pool.js';
import type { Anchor, AnchorSet } from './anchors.js';
import { chainHash, eventText, GENESIS_HASH, type EventOp } from './history.js';

export interface ChainBreak {
  seq: number;
  reason: string;
}

export interface SchoolChainReport {
  schoolId: string;
  checked: number;
  ok: boolean;
  /** The first event whose stored hash or numbering does not follow from the events before it, or that differs from its anchor. */
  firstBreak?: ChainBreak;
  /** Anchors (outside the database) this chain was checked against. */
  anchors: number;
}

interface EventRow {
  seq: string;
  entity_type: string;
  entity_id: string;
  op: EventOp;
  source_id: string | null;
  actor: string | null;
  at: string;
  before: string | null;
  after: string | null;
  hash: Buffer;
}

const PAGE = 5000;

/**
 * Recomputes each school's hash chain from the stored events (in pages, so memory stays flat), checks
 * that the head matches the last event and that every anchor written outside the database (anchors.ts)
 * still matches the chain: an event rewritten with recomputed hashes, a deleted tail or a truncated
 * history each break an anchor. Schools that were anchored but are gone from the database are
 * reported too. Stops a school at its first broken link.
 */
export async function verifyChains(pool: Pool, schoolIds?: string[], anchors?: AnchorSet): Promise<SchoolChainReport[]> {
  const known = new Set((await pool.query<{ id: string }>('SELECT id::text FROM school ORDER BY created_at, id')).rows.map((r) => r.id));
  const ids = schoolIds ?? [...new Set([...known, ...(anchors?.bySchool.keys() ?? [])])];
  const reports: SchoolChainReport[] = [];
  for (const schoolId of ids) {
    const anchored = anchors?.bySchool.get(schoolId) ?? [];
    if (!known.has(schoolId) && anchored.length === 0) {
      reports.push({ ...broken(schoolId, 0, 0, 'no such school in the database'), anchors: 0 });
    } else if (!known.has(schoolId)) {
      const last = anchored[anchored.length - 1]!;
      reports.push({ ...broken(schoolId, 0, last.seq, `the school is gone from the database, but its history was anchored up to event ${last.seq} at ${last.at}`), anchors: anchored.length });
    } else {
      reports.push(await verifySchool(pool, schoolId, anchored));
    }
  }
  return reports;
}

async function verifySchool(pool: Pool, schoolId: string, anchors: readonly Anchor[]): Promise<SchoolChainReport> {
  const report = await walkChain(pool, schoolId, anchors);
  return { ...report, anchors: anchors.length };
}

async function walkChain(pool: Pool, schoolId: string, anchors: readonly Anchor[]): Promise<Omit<SchoolChainReport, 'anchors'>> {
  let previous: Buffer = GENESIS_HASH;
  let expectedSeq = 1;
  let checked = 0;
  let next = 0; // the next anchor to meet
  for (;;) {
    const rows = await readPage(pool, schoolId, expectedSeq - 1);
    for (const row of rows) {
      const seq = Number(row.seq);
      if (seq !== expectedSeq) {
        return broken(schoolId, checked, expectedSeq, `event ${expectedSeq} is missing (next stored is ${seq})`);
      }
      const text = eventText(seq, { sourceId: row.source_id, actor: row.actor, at: row.at }, {
        entityType: row.entity_type, entityId: row.entity_id, op: row.op, before: row.before, after: row.after,
      });
      const hash = chainHash(previous, text);
      if (!hash.equals(row.hash)) {
        return broken(schoolId, checked, seq, `event ${seq} (${row.op} ${row.entity_type} ${row.entity_id}) does not match its hash: altered, or an earlier event was`);
      }
      for (; next < anchors.length && anchors[next]!.seq <= seq; next += 1) {
        const anchor = anchors[next]!;
        if (anchor.seq === seq && anchor.hash !== hash.toString('hex')) {
          return broken(schoolId, checked, seq, `event ${seq} differs from the chain head anchored at ${anchor.at}: the history up to it was rewritten (its hashes recomputed)`);
        }
      }
      previous = hash;
      expectedSeq += 1;
      checked += 1;
    }
    if (rows.length < PAGE) break;
  }
  const last = anchors[anchors.length - 1];
  if (last && last.seq > checked) {
    const what = checked === 0
      ? `the history is empty (truncated), but it was anchored up to event ${last.seq} at ${last.at}`
      : `the history ends at event ${checked}, but it was anchored up to event ${last.seq} at ${last.at}: events after ${checked} were deleted`;
    return broken(schoolId, checked, checked + 1, what);
  }
  return checkHead(pool, schoolId, checked, previous);
}

async function checkHead(pool: Pool, schoolId: string, checked: number, last: Buffer): Promise<Omit<SchoolChainReport, 'anchors'>> {
  const { rows } = await pool.query<{ seq: string; hash: Buffer }>('SELECT seq, hash FROM journal_head WHERE school_id = $1', [schoolId]);
  const head = rows[0];
  if (head && (Number(head.seq) !== checked || !head.hash.equals(last))) {
    return broken(schoolId, checked, Number(head.seq), `the chain head (seq ${head.seq}) does not match the last stored event (seq ${checked})`);
  }
  return { schoolId, checked, ok: true };
}

function broken(schoolId: string, checked: number, seq: number, reason: string): Omit<SchoolChainReport, 'anchors'> {
  return { schoolId, checked, ok: false, firstBreak: { seq, reason } };
}

async function readPage(pool: Pool, schoolId: string, afterSeq: number): Promise<EventRow[]> {
  const { rows } = await pool.query<EventRow>(
    `SELECT seq, entity_type, entity_id::text, op, source_id::text, actor,
            to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at,
            before::text AS before, after::text AS after, hash
       FROM journal_event WHERE school_id = $1 AND seq > $2 ORDER BY seq LIMIT ${PAGE}`,
    [schoolId, afterSeq],
  );
  return rows;
}

/** One line for people: "school …: OK, 123 events checked" or where and why the chain breaks. */
export function formatChainReport(report: SchoolChainReport): string {
  const anchors = report.anchors > 0 ? ` against ${report.anchors} anchors` : ', no anchors';
  if (report.ok) return `school ${report.schoolId}: OK, ${report.checked} events checked${anchors}`;
  return `school ${report.schoolId}: BROKEN at event ${report.firstBreak?.seq}: ${report.firstBreak?.reason} (the ${report.checked} events before it are intact)`;
}
