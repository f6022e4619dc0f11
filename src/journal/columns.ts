/**
 * Column descriptions shared by the write path: how a value is cast for `unnest`, encoded for COPY,
 * read back in a canonical text form, and rendered into a history payload. Reading old rows and
 * building new ones through the same canonical form is what lets the journal tell "changed" from
 * "written differently" and keeps before/after of an event comparable.
 */

export type ColumnKind = 'uuid' | 'text' | 'int' | 'bigint' | 'date' | 'instant' | 'bool' | 'numeric';

export interface Column {
  name: string;
  kind: ColumnKind;
}

/** A row in canonical form: uuid/text/date as strings, instants as ISO UTC with ms, numbers as numbers. */
export type CanonicalValue = string | number | boolean | null;
export type CanonicalRow = Record<string, CanonicalValue>;

const SQL_TYPE: Record<ColumnKind, string> = {
  uuid: 'uuid',
  text: 'text',
  int: 'int4',
  bigint: 'int8',
  date: 'date',
  instant: 'timestamptz',
  bool: 'bool',
  numeric: 'numeric',
};

export function sqlType(kind: ColumnKind): string {
  return SQL_TYPE[kind];
}

/** A select expression giving the column of alias `t` in canonical form. */
export function canonicalSelect(column: Column, alias = 't', as = column.name): string {
  const ref = `${alias}."${column.name}"`;
  switch (column.kind) {
    case 'uuid':
    case 'date':
      return `${ref}::text AS "${as}"`;
    case 'instant':
      return `to_char(${ref} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "${as}"`;
    case 'numeric':
      return `${ref}::float8 AS "${as}"`;
    default:
      return `${ref} AS "${as}"`;
  }
}

/** Canonical form of a value coming from a source record (undefined/null → null). */
export function canonicalValue(kind: ColumnKind, value: unknown): CanonicalValue {
  if (value === undefined || value === null) return null;
  switch (kind) {
    case 'instant':
      return new Date(value as string).toISOString();
    case 'numeric':
    case 'int':
    case 'bigint':
      return Number(value);
    case 'bool':
      return Boolean(value);
    default:
      return String(value);
  }
}

/**
 * The history payload of a row: JSON of the given columns in order, nulls left out. Equal rows give
 * byte-equal payloads, which is how a change is detected.
 */
export function payloadOf(row: CanonicalRow, columns: readonly Column[]): string {
  const out: Record<string, CanonicalValue> = {};
  for (const column of columns) {
    const value = row[column.name];
    if (value !== null && value !== undefined) out[column.name] = value;
  }
  return JSON.stringify(out);
}

/** One COPY text-format field. */
export function copyField(value: CanonicalValue | undefined): string {
  if (value === null || value === undefined) return '\\N';
  if (typeof value === 'boolean') return value ? 't' : 'f';
  if (typeof value === 'number') return String(value);
  return /[\\\t\n\r]/.test(value) ? value.replace(/[\\\t\n\r]/g, escapeCopyChar) : value;
}

function escapeCopyChar(ch: string): string {
  switch (ch) {
    case '\\':
      return '\\\\';
    case '\t':
      return '\\t';
    case '\n':
      return '\\n';
    default:
      return '\\r';
  }
}

/** `unnest($1::uuid[], $2::text[] …) AS u("a", "b" …)` for the given columns, parameters from `first`. */
export function unnestFrom(columns: readonly Column[], first: number, alias = 'u'): string {
  const casts = columns.map((c, i) => `$${first + i}::${sqlType(c.kind)}[]`).join(', ');
  const names = columns.map((c) => `"${c.name}"`).join(', ');
  return `unnest(${casts}) AS ${alias}(${names})`;
}

/** Column-wise arrays of rows, parallel to `columns`, for `unnestFrom`. */
export function columnArrays(rows: readonly CanonicalRow[], columns: readonly Column[]): CanonicalValue[][] {
  return columns.map((c) => rows.map((row) => row[c.name] ?? null));
}

/**
 * A Postgres array literal of values that need no quoting (uuids, numbers): several times faster than
 * the driver's generic array encoding, which matters on the per-record paths.
 */
export function plainArray(values: ReadonlyArray<string | number>): string {
  return `{${values.join(',')}}`;
}
