/**
 * Publishes the source-record schemas of src/ports/records.ts in openapi/openapi.yaml (see
 * record-schemas.ts): the generated block at the head of `components.schemas`, replaced on every run.
 * Run it after changing records.ts, then `npm run gen:api`:  node --import tsx scripts/gen-record-schemas.ts
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { BEGIN, END, recordSchemasBlock } from './record-schemas.js';

const SPEC = new URL('../openapi/openapi.yaml', import.meta.url);
const spec = readFileSync(SPEC, 'utf8');
const start = spec.indexOf(`${BEGIN}\n`);
let next: string;
if (start >= 0) {
  const end = spec.indexOf(`${END}\n`, start);
  next = spec.slice(0, start) + recordSchemasBlock() + spec.slice(end + END.length);
} else {
  const at = spec.indexOf('\n  schemas:\n', spec.indexOf('\ncomponents:\n'));
  if (at < 0) throw new Error('openapi.yaml has no components.schemas');
  const insert = at + '\n  schemas:\n'.length;
  next = `${spec.slice(0, insert)}${recordSchemasBlock()}\n${spec.slice(insert)}`;
}
writeFileSync(SPEC, next);
console.log(`source-record schemas written to ${SPEC.pathname}`);
