import { leftTable, PaperFileError, type PaperPage, type Table } from './layout.js';
import { MAX_COLUMNS, MAX_ROWS } from './xlsx.js';

/**
 * The template as CSV: the left page's grid with the topic and homework rows under the pupils.
 * UTF-8 with a byte-order mark and «;» between fields, CRLF between rows: a Russian-locale Excel takes
 * «;» as its list separator (the decimal separator is «,») and reads a file as UTF-8 only when it starts
 * with the BOM — without them a double click shows one column of mojibake. On import «;» is expected,
 * and «,» or a tab are accepted when the first row has no «;» (a file re-saved elsewhere).
 */
export function writeCsv(page: PaperPage): Buffer {
  const lines = leftTable(page, true).map((row) => row.map(quote).join(';'));
  return Buffer.from(`\uFEFF${lines.join('\r\n')}\r\n`, 'utf8');
}

function quote(field: string): string {
  return /[;",\t\r\n]|^\s|\s$/.test(field) ? `"${field.replace(/"/g, '""')}"` : field;
}

/** The CSV's one table; a file that is not UTF-8 text is refused. */
export function readCsv(body: Buffer): Table {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    throw new PaperFileError('the file is not UTF-8 text: save it as «CSV UTF-8» and import again', 422, 'unreadable_file');
  }
  if (text.includes('\u0000')) throw new PaperFileError('the file is not text: a CSV was expected', 422, 'unreadable_file');
  if (text.startsWith('\uFEFF')) text = text.slice(1);
  const firstLine = text.slice(0, text.search(/\r?\n|$/));
  const separator = firstLine.includes(';') ? ';' : firstLine.includes('\t') ? '\t' : ',';
  const rows = parseFields(text, separator);
  if (rows.length > MAX_ROWS || rows.some((r) => r.length > MAX_COLUMNS)) {
    throw new PaperFileError('the file is larger than any class\'s page');
  }
  return { rows: rows.map((r) => r.map((f) => f.trim())), problems: new Map() };
}

/** RFC 4180 fields («""» is a quote inside a quoted field), any of CRLF / LF between rows. */
function parseFields(text: string, separator: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch !== '"') field += ch;
      else if (text[i + 1] === '"') {
        field += '"';
        i++;
      } else quoted = false;
    } else if (ch === '"' && field.length === 0) quoted = true;
    else if (ch === separator) {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  if (quoted) throw new PaperFileError('the CSV ends inside a quoted field', 422, 'unreadable_file');
  if (field.length > 0 || row.length > 0) rows.push([...row, field]);
  return rows;
}
