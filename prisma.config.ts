// Prisma CLI configuration for machines that cannot reach Prisma's binary host: the schema engine runs
// as WebAssembly ("js" engine) through @prisma/adapter-pg. The CLI is used for `generate` and for
// writing migration SQL with `migrate diff`; migrations are applied by src/db/migrate.ts.
import path from 'node:path';
import { defineConfig } from 'prisma/config';
import { PrismaPg } from '@prisma/adapter-pg';

export default defineConfig({
  schema: path.join('prisma', 'schema.prisma'),
  experimental: { adapter: true },
  engine: 'js',
  adapter: async () =>
    new PrismaPg({ connectionString: process.env.DATABASE_URL ?? 'postgresql://localhost/postgres' }),
});
