import ExcelJS from 'exceljs';
import type { Content, TableCell } from 'pdfmake/interfaces.js';
import { CONTENT_WIDTH, renderPdf } from './pdf.js';

/**
 * A report's one description, rendered to both formats: tables of cells with a title, their columns
 * (with an optional group heading spanning neighbouring columns: a subject over its periods). The PDF
 * is for people (A4 landscape, wide tables split into column slices that repeat the leading columns),
 * the XLSX for further work (one sheet per table, numbers as numbers).
 */

export type CellValue = string | number | null;

export interface TableColumn {
  title: string;
  /** A heading over this column and its neighbours with the same group. */
  group?: string;
  /** Relative width in the PDF: 1 a narrow number column, 3 a name. */
  weight?: number;
  /** Shares (0…1) printed as percents. */
  percent?: boolean;
}

export interface ReportTable {
  title: string;
  columns: TableColumn[];
  rows: CellValue[][];
  /** Leading columns repeated on every column slice of the PDF (names). */
  keyColumns?: number;
}

export interface ReportDocument {
  title: string;
  /** Lines under the title: the school, the class, the period or dates. */
  subtitle: string[];
  /** The document's own date (ISO): the PDF's creation date. */
  date: string;
  tables: ReportTable[];
}

/** Columns that fit one A4 landscape width beside the key columns. */
const MAX_PDF_COLUMNS = 28;

export async function renderTablesPdf(doc: ReportDocument): Promise<Buffer> {
  const content: Content[] = [
    { text: doc.title, style: 'h1' },
    ...doc.subtitle.map((line): Content => ({ text: line, margin: [0, 0, 0, 2] })),
  ];
  for (const table of doc.tables) {
    for (const [s, slice] of slices(table).entries()) {
      content.push({ text: s === 0 ? table.title : `${table.title} (продолжение)`, style: 'h2', margin: [0, 10, 0, 4] });
      content.push(pdfTable(slice));
    }
  }
  return renderPdf(content, { title: doc.title, date: doc.date, pageNumbers: true });
}

/** A wide table as column slices, each repeating the key columns. */
function slices(table: ReportTable): ReportTable[] {
  const keys = table.keyColumns ?? 0;
  const rest = table.columns.length - keys;
  if (table.columns.length <= MAX_PDF_COLUMNS || rest <= 0) return [table];
  const per = MAX_PDF_COLUMNS - keys;
  const out: ReportTable[] = [];
  for (let start = keys; start < table.columns.length; start += per) {
    let end = Math.min(start + per, table.columns.length);
    // Keep a group whole on one slice where it fits.
    const group = table.columns[end - 1]?.group;
    if (end < table.columns.length && group && table.columns[end]?.group === group) {
      let back = end;
      while (back > start && table.columns[back - 1]?.group === group) back--;
      if (back > start) end = back;
    }
    const pick = <T>(list: T[]) => [...list.slice(0, keys), ...list.slice(start, end)];
    out.push({ ...table, columns: pick(table.columns), rows: table.rows.map(pick) });
    start = end - per;
  }
  return out;
}

function pdfTable(table: ReportTable): Content {
  const grouped = table.columns.some((c) => c.group);
  const header: TableCell[] = table.columns.map((c) => ({ text: c.title, bold: true, fontSize: 7, alignment: 'center' }));
  const body: TableCell[][] = [];
  if (grouped) body.push(groupRow(table.columns));
  body.push(header);
  for (const row of table.rows) {
    body.push(row.map((value, i) => ({
      text: formatted(value, table.columns[i]!),
      fontSize: 7.5,
      alignment: typeof value === 'number' || table.columns[i]!.percent ? 'right' : typeof value === 'string' && value.length <= 4 ? 'center' : 'left',
    })));
  }
  if (table.rows.length === 0) body.push(table.columns.map((_, i) => ({ text: i === 0 ? 'нет данных' : '', fontSize: 7.5, italics: true })));
  return {
    table: { headerRows: grouped ? 2 : 1, dontBreakRows: true, widths: widthsOf(table.columns), body },
    layout: { hLineWidth: () => 0.5, vLineWidth: () => 0.5, paddingLeft: () => 2, paddingRight: () => 2, paddingTop: () => 1.5, paddingBottom: () => 1.5 },
  };
}

/** The page's width shared by the columns' weights, less each cell's padding (2 + 2) and rule (0.5). */
function widthsOf(columns: TableColumn[]): number[] {
  const total = columns.reduce((sum, c) => sum + (c.weight ?? 1), 0);
  const free = CONTENT_WIDTH - columns.length * 4.5 - 1;
  return columns.map((c) => Math.floor((free * (c.weight ?? 1) / total) * 10) / 10);
}

function groupRow(columns: TableColumn[]): TableCell[] {
  const row: TableCell[] = [];
  for (let i = 0; i < columns.length;) {
    const group = columns[i]!.group;
    let span = 1;
    while (group && columns[i + span]?.group === group) span++;
    row.push({ text: group ?? '', colSpan: span, bold: true, fontSize: 7, alignment: 'center' });
    for (let k = 1; k < span; k++) row.push({ text: '' });
    i += span;
  }
  return row;
}

export function formatted(value: CellValue, column: TableColumn): string {
  if (value === null) return '';
  if (typeof value === 'number' && column.percent) return `${(value * 100).toFixed(1).replace(/\.0$/, '')} %`;
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : value.toFixed(2);
  return value;
}

export async function renderTablesXlsx(doc: ReportDocument): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  workbook.creator = 'Journal Bridge';
  workbook.created = new Date(doc.date);
  const names = new Set<string>();
  for (const table of doc.tables) {
    const sheet = workbook.addWorksheet(uniqueSheetName(table.title, names));
    sheet.addRow([doc.title]).font = { bold: true, size: 13 };
    for (const line of doc.subtitle) sheet.addRow([line]);
    sheet.addRow([table.title]).font = { bold: true };
    const grouped = table.columns.some((c) => c.group);
    if (grouped) {
      const groupRowNumber = sheet.addRow(table.columns.map((c) => c.group ?? '')).number;
      mergeGroups(sheet, groupRowNumber, table.columns);
      sheet.getRow(groupRowNumber).font = { bold: true };
    }
    sheet.addRow(table.columns.map((c) => c.title)).font = { bold: true };
    for (const row of table.rows) sheet.addRow(row.map((v) => v ?? ''));
    table.columns.forEach((c, i) => {
      const column = sheet.getColumn(i + 1);
      column.width = Math.min(40, 6 + (c.weight ?? 1) * 6);
      if (c.percent) column.numFmt = '0.0%';
    });
  }
  return Buffer.from(await workbook.xlsx.writeBuffer());
}

function mergeGroups(sheet: ExcelJS.Worksheet, row: number, columns: TableColumn[]): void {
  for (let i = 0; i < columns.length;) {
    const group = columns[i]!.group;
    let span = 1;
    while (group && columns[i + span]?.group === group) span++;
    if (span > 1) sheet.mergeCells(row, i + 1, row, i + span);
    i += span;
  }
}

/** Excel's sheet names: ≤ 31 characters, none of []:*?/\, unique. */
function uniqueSheetName(title: string, taken: Set<string>): string {
  const base = title.replace(/[[\]:*?/\\]/g, ' ').slice(0, 28).trim() || 'Лист';
  let name = base;
  for (let n = 2; taken.has(name.toLowerCase()); n++) name = `${base} ${n}`;
  taken.add(name.toLowerCase());
  return name;
}
