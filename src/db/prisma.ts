import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from './generated/prisma/client.js';

export type { PrismaClient };

/**
 * The Prisma client, on the driver adapter (no native query engine, nothing to download). It keeps its
 * own small pool: Prisma serves the low-volume reads and admin writes; the journal's hot path uses `pg`.
 */
export function createPrisma(connectionString: string, max = 5): PrismaClient {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString, max }) });
}
