import { readFileSync } from 'node:fs';

/** The tables and columns a Prisma schema declares, read from schema.prisma (scalar fields only). */
export interface DeclaredColumn {
  table: string;
  column: string;
  /** information_schema.columns.data_type the column must have. */
  dataType: string;
  nullable: boolean;
}

const SCALARS: Record<string, string> = {
  String: 'text',
  Int: 'integer',
  BigInt: 'bigint',
  Boolean: 'boolean',
  DateTime: 'timestamp(3) without time zone',
  Decimal: 'numeric',
  Json: 'jsonb',
  Bytes: 'bytea',
  Float: 'double precision',
};

const NATIVE: Record<string, string> = {
  Uuid: 'uuid',
  SmallInt: 'smallint',
  Timestamptz: 'timestamp with time zone',
  Date: 'date',
  Json: 'json',
  Decimal: 'numeric',
};

export function readDeclaredColumns(schemaPath: string): DeclaredColumn[] {
  const source = readFileSync(schemaPath, 'utf8');
  const columns: DeclaredColumn[] = [];
  for (const match of source.matchAll(/^model (\w+) \{([\s\S]*?)^\}/gm)) {
    const [, model, body] = match as unknown as [string, string, string];
    const table = /@@map\("([^"]+)"\)/.exec(body)?.[1] ?? model;
    for (const line of body.split('\n')) {
      const field = /^\s+(\w+)\s+(\w+)(\??)(\[\])?\s*(.*)$/.exec(line);
      if (!field || line.trim().startsWith('//') || line.trim().startsWith('@@')) continue;
      const [, name, type, optional, list, attributes] = field as unknown as [string, string, string, string, string | undefined, string];
      if (!(type in SCALARS) || list) continue;
      const native = /@db\.(\w+)/.exec(attributes)?.[1];
      columns.push({
        table,
        column: /@map\("([^"]+)"\)/.exec(attributes)?.[1] ?? name,
        dataType: (native && NATIVE[native]) ?? SCALARS[type]!,
        nullable: optional === '?',
      });
    }
  }
  return columns;
}
