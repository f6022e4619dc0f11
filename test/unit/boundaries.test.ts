import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { ESLint } from 'eslint';

/**
 * The dependency rules of ARCHITECTURE.md, tried on deliberate violations through the project's real
 * ESLint configuration (eslint.config.js): each case is linted as if it were the file at `path`, and
 * must be refused (or allowed) by a zone rule. A rule that silently matched nothing would let every
 * case through; this catches it.
 */
const root = fileURLToPath(new URL('../../', import.meta.url));
const eslint = new ESLint({ cwd: root });

async function violations(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(`${code}\nexport {};\n`, { filePath: `${root}${path}` });
  return result!.messages.filter((m) => m.ruleId === 'boundaries/dependencies' || m.ruleId === 'no-restricted-properties').map((m) => m.ruleId!);
}

/** [file the code pretends to be, import, refused?] */
const CASES: Array<[string, string, boolean]> = [
  ['adapters/dnevnikru/extra.ts', "import { applyBatch } from '../../src/journal/apply-batch.js';", true],
  ['adapters/dnevnikru/extra.ts', "import { applyBatch } from '../netschool/../../src/journal/apply-batch.js';", true],
  ['adapters/dnevnikru/extra.ts', "import { netschool } from '../netschool/index.js';", true],
  ['adapters/dnevnikru/extra.ts', "import axios from 'axios';", true],
  ['adapters/dnevnikru/extra.ts', "import pg from 'pg';", true],
  ['adapters/dnevnikru/extra.ts', "import { PgBoss } from 'pg-boss';", true],
  ['adapters/dnevnikru/extra.ts', "import WebSocket from 'ws';", true],
  ['adapters/dnevnikru/extra.ts', "import express from 'express';", true],
  ['adapters/dnevnikru/extra.ts', "import { generateSchool } from '../../src/demo/generator.js';", true],
  ['adapters/dnevnikru/extra.ts', 'const key = process.env.SECRET;', true],
  ['adapters/dnevnikru/extra.ts', "import { AdapterError } from '../../src/ports/adapter.js';", false],
  ['adapters/dnevnikru/extra.ts', "import { classifyDnevnik } from './client.js';", false],
  ['adapters/dnevnikru/extra.ts', "import * as cheerio from 'cheerio';", false],
  ['adapters/dnevnikru/simulator-extra.ts', "import { generateSchool } from '../../src/demo/generator.js';", false],
  ['adapters/dnevnikru/simulator-extra.ts', "import express from 'express';", false],
  ['adapters/dnevnikru/simulator-extra.ts', "import { applyBatch } from '../../src/journal/apply-batch.js';", true],
  ['adapters/dnevnikru/simulator-extra.ts', "import { netschool } from '../netschool/index.js';", true],
  ['src/ports/extra.ts', "import { applyBatch } from '../journal/apply-batch.js';", true],
  ['src/ports/extra.ts', "import { dnevnikru } from '../../adapters/dnevnikru/index.js';", true],
  ['src/ports/extra.ts', "import axios from 'axios';", true],
  ['src/ports/extra.ts', "import { z } from 'zod';", false],
  ['src/http/extra.ts', "import pg from 'pg';", true],
  ['src/http/extra.ts', "import { PrismaClient } from '@prisma/client';", true],
  ['src/journal/extra.ts', "import { PrismaClient } from '../db/generated/prisma/client.js';", true],
  ['src/db/extra.ts', "import { PrismaClient } from './generated/prisma/client.js';", false],
  ['src/journal/extra.ts', 'const url = process.env.DATABASE_URL;', true],
];

describe('dependency zones (eslint.config.js)', () => {
  it.each(CASES)('%s: %s → refused %s', async (path, code, refused) => {
    const found = await violations(path, code);
    if (refused) expect(found.length).toBeGreaterThan(0);
    else expect(found).toEqual([]);
  }, 30_000);
});
