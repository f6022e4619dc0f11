import { readFile } from 'node:fs/promises';
import { describe, expect, it } from '@jest/globals';
import openapiTS, { astToString, COMMENT_HEADER } from 'openapi-typescript';

describe('openapi/openapi.yaml', () => {
  it('is what src/http/openapi.ts was generated from (run `npm run gen:api` after editing it)', async () => {
    const spec = new URL('../../openapi/openapi.yaml', import.meta.url);
    const generated = COMMENT_HEADER + astToString(await openapiTS(spec));
    const committed = await readFile(new URL('../../src/http/openapi.ts', import.meta.url), 'utf8');
    expect(committed).toBe(generated);
  });
});
