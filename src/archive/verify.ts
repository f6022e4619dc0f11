import type { Pool } from '../db/pool.js';
import { NotFoundError } from '../lib/errors.js';
import type { PageContent } from '../reports/types.js';
import { readPageContent, readPeriod, readPeriodClasses } from './content.js';
import { diffPages, normalizeCode, pageDigest, titleDigest, type PageChange, type TitleContent } from './digest.js';
import { NIL_UUID } from './seal.js';

/**
 * Does a printout still match the journal? A page's code finds its sealed content; the page is read
 * again from the journal now, with the source that was printed, and compared: equal digests — it matches;
 * otherwise every cell, period mark and lesson line that differs, each with the history events after the
 * seal that touched it (who, which source, when, from what to what). A title page matches when every
 * page of its class still does. `printedDigest` (the QR's `d`) tells a printout that is not what was sealed.
 */

export interface HistoryEventView {
  seq: string;
  at: string;
  entityType: string;
  entityId: string;
  op: string;
  sourceId: string | null;
  actor: string | null;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
}

export type LocatedChange = PageChange & { events: HistoryEventView[] };

export interface PageVerdict {
  code: string;
  kind: 'page' | 'title';
  status: 'matches' | 'changed' | 'not_this_printout';
  schoolId: string;
  sealId: string;
  sealCode: string;
  sealedAt: string;
  chainSeq: string;
  period: { id: string; title: string };
  class: { id: string; name: string };
  subject: { id: string; name: string } | null;
  digest: { sealed: string; now: string; printed: string | null };
  changes: LocatedChange[];
  /** For a title page: the class's subject pages that no longer match. */
  changedPages: Array<{ code: string; subject: { id: string; name: string } }>;
}

interface SealedRow {
  school_id: string;
  seal_id: string;
  seal_code: string;
  sealed_at: string;
  chain_seq: string;
  period_id: string;
  class_group_id: string;
  subject_id: string;
  code: string;
  digest: string;
  content: PageContent | TitleContent;
}

/** The sealed page a code names (a page's or a title page's). */
async function readSealedPage(pool: Pool, code: string): Promise<SealedRow> {
  const normal = normalizeCode(code);
  if (!normal) throw new NotFoundError(`seal ${code}`);
  const { rows } = await pool.query<SealedRow>(
    `SELECT sp.school_id::text, sp.seal_id::text, s.code AS seal_code, to_char(s.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS sealed_at,
            s.chain_seq::text, s.period_id::text, sp.class_group_id::text, sp.subject_id::text, sp.code, sp.digest, sp.content
       FROM seal_page sp JOIN seal s ON s.school_id = sp.school_id AND s.id = sp.seal_id
      WHERE sp.code = $1`,
    [normal],
  );
  if (!rows[0]) throw new NotFoundError(`seal ${code}`);
  return rows[0];
}

/** The school and class a code belongs to (for the caller's access check before anything else is read). */
export async function sealOwner(pool: Pool, code: string): Promise<{ schoolId: string; classId: string }> {
  const row = await readSealedPage(pool, code);
  return { schoolId: row.school_id, classId: row.class_group_id };
}

export async function verifyPageCode(pool: Pool, code: string, printedDigest?: string): Promise<PageVerdict> {
  const row = await readSealedPage(pool, code);
  const period = await readPeriod(pool, row.school_id, row.period_id);
  const base = {
    code: row.code, schoolId: row.school_id, sealId: row.seal_id, sealCode: row.seal_code, sealedAt: row.sealed_at, chainSeq: row.chain_seq,
    period: { id: period.id, title: period.title },
  };
  if (row.subject_id === NIL_UUID) {
    const title = row.content as TitleContent;
    const pages = await pool.query<{ code: string; subject_id: string; digest: string; content: PageContent }>(
      `SELECT code, subject_id::text, digest, content FROM seal_page WHERE school_id = $1 AND seal_id = $2 AND class_group_id = $3 AND subject_id <> $4`,
      [row.school_id, row.seal_id, row.class_group_id, NIL_UUID],
    );
    const changedPages: PageVerdict['changedPages'] = [];
    for (const page of pages.rows) {
      const now = await readPageContent(pool, { period, classId: row.class_group_id, subjectId: page.subject_id, source: page.content.source });
      if (pageDigest(now) !== page.digest) changedPages.push({ code: page.code, subject: { id: page.subject_id, name: page.content.subjectName } });
    }
    const classes = await readPeriodClasses(pool, period, [row.class_group_id]);
    const sealedSubjects = new Set(pages.rows.map((p) => p.subject_id));
    const added = (classes[0]?.subjects ?? []).filter((s) => !sealedSubjects.has(s.id));
    const nowDigest = changedPages.length === 0 && added.length === 0 && titleDigest(title) === row.digest ? row.digest : 'changed';
    return {
      ...base, kind: 'title', class: { id: row.class_group_id, name: title.className }, subject: null,
      status: printedDigest && printedDigest !== row.digest ? 'not_this_printout' : nowDigest === row.digest ? 'matches' : 'changed',
      digest: { sealed: row.digest, now: nowDigest, printed: printedDigest ?? null },
      changes: added.map((s) => ({ kind: 'header' as const, field: 'subject_added', sealed: null, now: s.name, events: [] })),
      changedPages,
    };
  }
  const sealed = row.content as PageContent;
  const now = await readPageContent(pool, { period, classId: row.class_group_id, subjectId: row.subject_id, source: sealed.source });
  const nowDigest = pageDigest(now);
  const changes = nowDigest === row.digest ? [] : diffPages(sealed, now);
  const located = await locate(pool, row, sealed, now, changes);
  return {
    ...base, kind: 'page', class: { id: row.class_group_id, name: sealed.className }, subject: { id: row.subject_id, name: sealed.subjectName },
    status: printedDigest && printedDigest !== row.digest ? 'not_this_printout' : nowDigest === row.digest ? 'matches' : 'changed',
    digest: { sealed: row.digest, now: nowDigest, printed: printedDigest ?? null },
    changes: located,
    changedPages: [],
  };
}

interface EventRow {
  seq: string; at: string; entity_type: string; entity_id: string; op: string; source_id: string | null; actor: string | null; before: string | null; after: string | null;
}

/** The history events after the seal behind each change: marks and absences of the cell, the lesson's own, the pupil's period mark. */
async function locate(pool: Pool, row: SealedRow, sealed: PageContent, now: PageContent, changes: PageChange[]): Promise<LocatedChange[]> {
  if (changes.length === 0) return [];
  const lessonIds = [...new Set([...sealed.lessons, ...now.lessons].map((l) => l.id))];
  const { rows } = await pool.query<EventRow>(
    `SELECT seq::text, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at, entity_type, entity_id::text, op, source_id::text, actor, before::text, after::text
       FROM journal_event
      WHERE school_id = $1 AND seq > $2 AND entity_type IN ('mark', 'attendance', 'lesson', 'period_mark')
        AND (entity_id = ANY($3::uuid[])
             OR COALESCE(after::jsonb ->> 'lesson_id', before::jsonb ->> 'lesson_id') = ANY($4::text[])
             OR (entity_type = 'period_mark' AND COALESCE(after::jsonb ->> 'period_id', before::jsonb ->> 'period_id') = $5
                 AND COALESCE(after::jsonb ->> 'subject_id', before::jsonb ->> 'subject_id') = $6))
      ORDER BY seq`,
    [row.school_id, row.chain_seq, lessonIds, lessonIds, row.period_id, row.subject_id],
  );
  const events = rows.map((e): HistoryEventView & { payload: Record<string, unknown> } => {
    const before = e.before === null ? null : (JSON.parse(e.before) as Record<string, unknown>);
    const after = e.after === null ? null : (JSON.parse(e.after) as Record<string, unknown>);
    return { seq: e.seq, at: e.at, entityType: e.entity_type, entityId: e.entity_id, op: e.op, sourceId: e.source_id, actor: e.actor, before, after, payload: after ?? before ?? {} };
  });
  const strip = ({ payload: _p, ...e }: (typeof events)[number]): HistoryEventView => e;
  return changes.map((change): LocatedChange => {
    let found: typeof events = [];
    if (change.kind === 'cell') {
      found = events.filter((e) => (e.entityType === 'mark' || e.entityType === 'attendance') && e.payload.lesson_id === change.lesson.id && e.payload.pupil_id === change.pupil.id);
    } else if (change.kind === 'period_mark') {
      found = events.filter((e) => e.entityType === 'period_mark' && e.payload.pupil_id === change.pupil.id);
    } else if (change.kind === 'lesson' || change.kind === 'lesson_added' || change.kind === 'lesson_removed') {
      found = events.filter((e) => e.entityType === 'lesson' && e.entityId === change.lesson.id);
    } else if (change.kind === 'pupil_added' || change.kind === 'pupil_removed') {
      found = events.filter((e) => e.payload.pupil_id === change.pupil.id);
    }
    return { ...change, events: found.map(strip) };
  });
}
