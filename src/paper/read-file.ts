import {
  cellAddress, FIRST_CELL_COLUMN, HEADER_ROWS, HOMEWORK_TAG, LESSON_TAG, PaperFileError, readMarker, RIGHT_SHEET, TOPIC_TAG, type Table,
} from './layout.js';

/** One pupil × lesson cell of an imported page. */
export interface PaperCell {
  pupilId: string;
  lessonId: string;
  /** «Алгебра!F12» */
  address: string;
  text: string;
  /** Set when the cell's value cannot be read as text at all (a date, an Excel error). */
  problem?: string;
}

/** What an imported file says, before it is checked against the journal. */
export interface PaperFile {
  classId: string;
  subjectId: string;
  lessonIds: string[];
  pupilIds: string[];
  cells: PaperCell[];
  /** Topic and homework as the right page (or the CSV's rows) writes them, for the lessons it lists. */
  lessonTexts: Map<string, { topic: string; homework: string }>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Reads the layout of src/paper/layout.ts from a file's tables. Anything that makes the file not a
 * template — no marker, ids missing or malformed, values in a row or column without an id — refuses it
 * whole; a cell's content is judged later, cell by cell.
 */
export function interpretTables(left: Table, right: Table | null, sheet: string): PaperFile {
  const rows = left.rows;
  if (rows.every((r) => r.every((t) => t === ''))) throw new PaperFileError('the file is empty', 422, 'empty_file');
  const marker = readMarker(rows[0]?.[0]);
  if (!marker) throw new PaperFileError(`not the paper template: ${sheet}!A1 (the hidden first row) does not name the page's class and subject`);
  const lessonIds = readLessonIds(rows, sheet);
  const pupilIds: string[] = [];
  const cells: PaperCell[] = [];
  const lessonTexts = new Map<string, { topic: string; homework: string }>();
  for (let r = HEADER_ROWS; r < rows.length; r++) {
    const row = rows[r] ?? [];
    const head = row[0] ?? '';
    const values = row.slice(FIRST_CELL_COLUMN);
    if (head === TOPIC_TAG || head === HOMEWORK_TAG) {
      lessonIds.forEach((id, i) => {
        const texts = lessonTexts.get(id) ?? { topic: '', homework: '' };
        texts[head === TOPIC_TAG ? 'topic' : 'homework'] = values[i] ?? '';
        lessonTexts.set(id, texts);
      });
      continue;
    }
    if (head === '') {
      if (values.some((v) => v !== '')) throw new PaperFileError(`not the paper template: row ${r + 1} has values but no pupil id (${sheet}!A${r + 1})`);
      continue;
    }
    if (!UUID.test(head)) throw new PaperFileError(`not the paper template: ${sheet}!A${r + 1} «${head.slice(0, 40)}» is not a pupil id`);
    const pupilId = head.toLowerCase();
    if (pupilIds.includes(pupilId)) throw new PaperFileError(`not the paper template: pupil ${pupilId} has two rows`);
    pupilIds.push(pupilId);
    lessonIds.forEach((lessonId, i) => {
      const c = FIRST_CELL_COLUMN + i;
      const problem = left.problems.get(`${r}:${c}`);
      cells.push({ pupilId, lessonId, address: `${sheet}!${cellAddress(r, c)}`, text: row[c] ?? '', ...(problem ? { problem } : {}) });
    });
  }
  if (pupilIds.length === 0) throw new PaperFileError('the file has no pupil rows', 422, 'empty_file');
  if (right) readRightPage(right, lessonIds, lessonTexts);
  return { ...marker, lessonIds, pupilIds, cells, lessonTexts };
}

function readLessonIds(rows: string[][], sheet: string): string[] {
  const ids = (rows[0] ?? []).slice(FIRST_CELL_COLUMN);
  while (ids.length > 0 && ids[ids.length - 1] === '') ids.pop();
  if (ids.length === 0) throw new PaperFileError('the file has no lesson columns', 422, 'empty_file');
  ids.forEach((id, i) => {
    if (!UUID.test(id)) throw new PaperFileError(`not the paper template: ${sheet}!${cellAddress(0, FIRST_CELL_COLUMN + i)} (the hidden row) is not a lesson id`);
  });
  const width = FIRST_CELL_COLUMN + ids.length;
  rows.forEach((row, r) => {
    if (r > 0 && row.slice(width).some((v) => v !== '')) {
      throw new PaperFileError(`not the paper template: row ${r + 1} has values right of the last lesson column (no lesson id above them)`);
    }
  });
  const lower = ids.map((id) => id.toLowerCase());
  if (new Set(lower).size !== lower.length) throw new PaperFileError('not the paper template: a lesson has two columns');
  return lower;
}

function readRightPage(right: Table, lessonIds: string[], texts: Map<string, { topic: string; homework: string }>): void {
  if ((right.rows[0]?.[0] ?? '') !== LESSON_TAG) {
    throw new PaperFileError(`not the paper template: sheet «${RIGHT_SHEET}» lacks its hidden lesson id column (A1 is not «${LESSON_TAG}»)`);
  }
  const known = new Set(lessonIds);
  right.rows.slice(1).forEach((row, i) => {
    const id = (row[0] ?? '').toLowerCase();
    if (id === '' && row.every((t) => t === '')) return;
    if (!known.has(id)) throw new PaperFileError(`not the paper template: ${RIGHT_SHEET}!A${i + 2} is not the id of a lesson of the left page`);
    texts.set(id, { topic: row[3] ?? '', homework: row[4] ?? '' });
  });
}
