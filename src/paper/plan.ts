import type { GoneId, SourceRecord } from '../ports/records.js';
import type { PageLesson, SourceCell } from './page.js';
import type { PaperFile } from './read-file.js';
import { readCell, sameToken, sameTokens } from './tokens.js';

/** What an import found per cell: covered (read), and how each covered cell changed. */
export interface CellCounts {
  read: number;
  created: number;
  changed: number;
  removed: number;
  unchanged: number;
  rejected: number;
}

export interface CellRejection {
  cell: string;
  reason: string;
}

/** The records and gone ids that make the paper source say what the file says, and the cells' counts. */
export interface PaperPlan {
  records: SourceRecord[];
  goneIds: GoneId[];
  /** The cell each record was made for (its address), by record index: applyBatch's rejections name it. */
  addresses: string[];
  /** How each written cell changed, by address. */
  statuses: Map<string, 'created' | 'changed' | 'removed'>;
  counts: CellCounts;
  rejections: CellRejection[];
}

const EMPTY: SourceCell = { marks: [], absences: [] };

/**
 * The file is the paper's truth for the cells it covers. Per cell, the paper source's records (whatever
 * their ids: the demo's carry the generator's) are compared with the file's tokens in order: equal ones
 * are left alone, a differing one is rewritten under its existing id, new ones get
 * `paper:<lesson>:<pupil>:<n>`, and the surplus is gone. A bad cell is rejected alone and left as it was.
 */
export function planImport(file: PaperFile, existing: Map<string, SourceCell>, lessons: Map<string, PageLesson>): PaperPlan {
  const plan: PaperPlan = { records: [], goneIds: [], addresses: [], statuses: new Map(), counts: { read: 0, created: 0, changed: 0, removed: 0, unchanged: 0, rejected: 0 }, rejections: [] };
  for (const cell of file.cells) {
    plan.counts.read++;
    const reading = cell.problem ? { ok: false as const, reason: cell.problem } : readCell(cell.text);
    if (!reading.ok) {
      plan.counts.rejected++;
      plan.rejections.push({ cell: cell.address, reason: `${cell.address}: ${reading.reason}` });
      continue;
    }
    const before = existing.get(`${cell.pupilId}|${cell.lessonId}`) ?? EMPTY;
    const { marks, absence } = reading.tokens;
    const wanted = absence === null ? [] : [absence];
    const had = before.marks.length + before.absences.length > 0;
    const has = marks.length + wanted.length > 0;
    if (sameTokens(before.marks.map((m) => m.raw), marks) && sameTokens(before.absences.map((a) => a.raw), wanted)) {
      if (had) plan.counts.unchanged++;
      continue;
    }
    const status = !had ? 'created' : has ? 'changed' : 'removed';
    plan.counts[status]++;
    plan.statuses.set(cell.address, status);
    const ids = { pupilExternalId: cell.pupilId, lessonExternalId: cell.lessonId };
    const used = new Set([...before.marks, ...before.absences].map((r) => r.externalId));
    const fresh = freshIds(`paper:${cell.lessonId}:${cell.pupilId}:`, used);
    const add = (record: SourceRecord) => {
      plan.records.push(record);
      plan.addresses.push(cell.address);
    };
    rewrite(before.marks, marks, fresh, plan, 'mark', (externalId, value) => add({ type: 'mark', externalId, ...ids, value }));
    rewrite(before.absences, wanted, fresh, plan, 'attendance', (externalId, code) => add({ type: 'attendance', externalId, ...ids, code }));
  }
  planLessonTexts(file, lessons, plan);
  return plan;
}

/** Position by position: equal tokens stay, differing ones reuse the existing id, extra ones get new ids, surplus ids go. */
function rewrite(
  before: SourceCell['marks'], tokens: string[], fresh: () => string, plan: PaperPlan, type: 'mark' | 'attendance',
  write: (externalId: string, token: string) => void,
): void {
  tokens.forEach((token, i) => {
    const old = before[i];
    if (old && sameToken(old.raw, token)) return;
    write(old?.externalId ?? fresh(), token);
  });
  for (const old of before.slice(tokens.length)) plan.goneIds.push({ type, externalId: old.externalId });
}

function freshIds(prefix: string, used: Set<string>): () => string {
  let n = 0;
  return () => {
    do n++;
    while (used.has(`${prefix}${n}`));
    used.add(`${prefix}${n}`);
    return `${prefix}${n}`;
  };
}

/** Topic and homework the page writes and the journal does not have yet: a lesson record of the paper source. */
function planLessonTexts(file: PaperFile, lessons: Map<string, PageLesson>, plan: PaperPlan): void {
  for (const [lessonId, texts] of file.lessonTexts) {
    const lesson = lessons.get(lessonId)!;
    const topic = texts.topic !== '' && texts.topic !== (lesson.topic ?? '').trim() ? texts.topic : undefined;
    const homework = texts.homework !== '' && texts.homework !== (lesson.homework ?? '').trim() ? texts.homework : undefined;
    if (topic === undefined && homework === undefined) continue;
    plan.records.push({
      type: 'lesson', externalId: lessonId, classExternalId: lesson.groupId, subjectExternalId: file.subjectId, date: lesson.date, slot: lesson.slot,
      ...(topic === undefined ? {} : { topic }), ...(homework === undefined ? {} : { homework }),
    });
    plan.addresses.push(`lesson ${lessonId}`);
  }
}
