import { readFile } from 'node:fs/promises';
import { describe, expect, it } from '@jest/globals';
import { recordSchemasBlock } from '../../scripts/record-schemas.js';

describe('the source-record schemas of openapi/openapi.yaml', () => {
  it('are what the zod schemas of src/ports/records.ts say (run `node --import tsx scripts/gen-record-schemas.ts`)', async () => {
    const spec = await readFile(new URL('../../openapi/openapi.yaml', import.meta.url), 'utf8');
    expect(spec).toContain(`\n  schemas:\n${recordSchemasBlock()}\n`);
  });
});
