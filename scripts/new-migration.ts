import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/lib/logger.js';
import { startEmbeddedPostgres } from '../src/db/embedded.js';
import { MIGRATIONS_DIR } from '../src/db/migrate.js';

/**
 * `npm run db:diff -- <name>`: writes prisma/migrations/<timestamp>_<name>/migration.sql with the SQL
 * that takes the committed schema.prisma (git HEAD) to the working copy, through Prisma's WebAssembly
 * schema engine. The Prisma CLI wants a reachable database even for a schema-to-schema diff, so this
 * uses DATABASE_URL or the embedded Postgres. Review the SQL before committing it.
 */
async function main(): Promise<void> {
  const name = process.argv[2];
  if (!name || !/^[a-z0-9_]+$/.test(name)) throw new Error('usage: npm run db:diff -- <name in snake_case>');
  const config = loadConfig();
  const logger = createLogger('warn');
  const embedded = config.DATABASE_URL
    ? undefined
    : await startEmbeddedPostgres({ dataDir: config.DATA_DIR, port: 0, database: 'journal', logger });
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'jb-diff-'));
  try {
    const old = path.join(tmp, 'schema.prisma');
    await writeFile(old, execFileSync('git', ['show', 'HEAD:prisma/schema.prisma'], { encoding: 'utf8' }));
    const placeholder = path.resolve('prisma/.engine-placeholder');
    const sql = execFileSync('npx', ['prisma', 'migrate', 'diff', '--from-schema-datamodel', old, '--to-schema-datamodel', 'prisma/schema.prisma', '--script'], {
      encoding: 'utf8',
      env: {
        ...process.env, DATABASE_URL: config.DATABASE_URL ?? embedded!.url, CHECKPOINT_DISABLE: '1',
        PRISMA_SCHEMA_ENGINE_BINARY: placeholder, PRISMA_QUERY_ENGINE_LIBRARY: placeholder,
      },
    });
    if (!/\b(CREATE|ALTER|DROP)\b/.test(sql)) {
      process.stdout.write('schema.prisma has no changes since HEAD: nothing to write\n');
      return;
    }
    const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
    const dir = path.join(MIGRATIONS_DIR, `${stamp}_${name}`);
    await mkdir(dir);
    await writeFile(path.join(dir, 'migration.sql'), sql);
    process.stdout.write(`written ${path.relative(process.cwd(), dir)}/migration.sql\n`);
  } finally {
    await rm(tmp, { recursive: true, force: true });
    await embedded?.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
