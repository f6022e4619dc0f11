import ExcelJS from 'exceljs';
import { FIRST_CELL_COLUMN, HEADER_ROWS, leftTable, PaperFileError, RIGHT_SHEET, rightTable, sheetNameOf, type PaperPage, type Table } from './layout.js';

/** The largest page read: a class (≤ 1,000 rows) × a subject's year (≤ 1,000 lessons); larger is not a page. */
export const MAX_ROWS = 1000;
export const MAX_COLUMNS = 1000;

/**
 * The template as an XLSX workbook: the left page named for the subject (ids in a hidden row and a
 * hidden column, the grid's cells formatted as text so that «5/4» or «4-» stay as written), and the
 * right page.
 */
export async function writeXlsx(page: PaperPage): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  workbook.creator = 'Journal Bridge';
  const left = workbook.addWorksheet(sheetNameOf(page.subjectName), { views: [{ state: 'frozen', xSplit: FIRST_CELL_COLUMN, ySplit: HEADER_ROWS }] });
  left.addRows(leftTable(page, false));
  left.getRow(1).hidden = true;
  left.getColumn(1).hidden = true;
  left.getColumn(2).width = 34;
  for (let c = FIRST_CELL_COLUMN + 1; c <= FIRST_CELL_COLUMN + page.lessons.length; c++) {
    const column = left.getColumn(c);
    column.width = 7;
    column.numFmt = '@';
  }
  left.getRow(2).font = { bold: true };
  const right = workbook.addWorksheet(RIGHT_SHEET, { views: [{ state: 'frozen', ySplit: 1 }] });
  right.addRows(rightTable(page));
  right.getColumn(1).hidden = true;
  right.getRow(1).font = { bold: true };
  for (const [c, width] of [[2, 12], [3, 8], [4, 50], [5, 50]] as const) {
    right.getColumn(c).width = width;
    right.getColumn(c).numFmt = '@';
  }
  return Buffer.from(await workbook.xlsx.writeBuffer());
}

/** The left page (the sheet named for the subject) and the right page, if there is one, as tables. */
export async function readXlsx(body: Buffer, subjectName: string): Promise<{ left: Table; right: Table | null; sheet: string }> {
  const workbook = new ExcelJS.Workbook();
  try {
    await workbook.xlsx.load(body as unknown as ArrayBuffer);
  } catch {
    throw new PaperFileError('the file cannot be read as an XLSX workbook', 422, 'unreadable_file');
  }
  const sheet = sheetNameOf(subjectName);
  const left = workbook.getWorksheet(sheet);
  if (!left) {
    const names = workbook.worksheets.map((w) => `«${w.name}»`).join(', ') || 'none';
    throw new PaperFileError(`not the paper template of this subject: no sheet «${sheet}» (the workbook has ${names})`);
  }
  const right = workbook.getWorksheet(RIGHT_SHEET);
  return { left: readSheet(left), right: right ? readSheet(right) : null, sheet };
}

/** A sheet's texts. Formulas and merged cells have no place in a page: the whole file is refused. */
function readSheet(sheet: ExcelJS.Worksheet): Table {
  if (sheet.rowCount > MAX_ROWS || sheet.columnCount > MAX_COLUMNS) {
    throw new PaperFileError(`sheet «${sheet.name}» has ${sheet.rowCount} rows and ${sheet.columnCount} columns: larger than any class's page`);
  }
  const table: Table = { rows: [], problems: new Map() };
  sheet.eachRow({ includeEmpty: false }, (row, r) => {
    const texts: string[] = [];
    row.eachCell({ includeEmpty: false }, (cell, c) => {
      texts[c - 1] = cellText(sheet.name, cell, (problem) => table.problems.set(`${r - 1}:${c - 1}`, problem));
    });
    table.rows[r - 1] = Array.from(texts, (t) => t ?? '');
  });
  table.rows = Array.from(table.rows, (r) => r ?? []);
  return table;
}

function cellText(sheet: string, cell: ExcelJS.Cell, problem: (reason: string) => void): string {
  if (cell.isMerged) throw new PaperFileError(`${sheet}!${cell.address} is a merged cell: a page has one value per cell; unmerge and import again`);
  const value = cell.value;
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value.trim();
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value instanceof Date) {
    problem(`a date, not a mark (Excel reads «5/4» as a date: format the cell as text)`);
    return '';
  }
  if ('formula' in value || 'sharedFormula' in value) {
    throw new PaperFileError(`${sheet}!${cell.address} holds a formula: a page holds values as written; paste values and import again`);
  }
  if ('richText' in value) return value.richText.map((t) => t.text).join('').trim();
  if ('text' in value && typeof value.text === 'string') return value.text.trim();
  if ('error' in value) {
    problem(`an Excel error value (${String(value.error)})`);
    return '';
  }
  return String(cell.text ?? '').trim();
}
