import type { z } from 'zod';
import type { GoneId, SourceRecord } from './records.js';

/**
 * The adapter contract (ARCHITECTURE.md "The adapter contract"): one object per platform, stateless,
 * reading the platform through the context it is given and yielding source records in batches. It
 * never touches the database. The sync engine and the HTTP client it hands over arrive with the
 * adapter issues; this is the shape they plug into.
 */
export type StreamName = 'roster' | 'schedule' | 'marks' | 'attendance' | 'homework' | 'periodMarks';

export interface SourceBatch {
  records: SourceRecord[];
  goneIds?: GoneId[];
  nextCursor: unknown;
}

export interface AdapterContext<Config> {
  config: Config;
  signal: AbortSignal;
  now(): Date;
}

export interface AdapterStream<Config> {
  read(ctx: AdapterContext<Config>, cursor: unknown): AsyncIterable<SourceBatch>;
}

export interface Adapter<Config = unknown> {
  id: string;
  title: string;
  configSchema: z.ZodType<Config>;
  /** Config keys that are secrets: stored encrypted, never logged. */
  secretKeys: readonly string[];
  streams: Partial<Record<StreamName, AdapterStream<Config>>>;
  checkConnection(ctx: AdapterContext<Config>): Promise<void>;
}

export type AdapterRegistry = ReadonlyMap<string, Adapter>;
