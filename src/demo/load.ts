import type { Pool } from '../db/pool.js';
import { applyBatch, type ApplyBatchInput, type ApplyBatchResult } from '../journal/apply-batch.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import type { SourceRecord } from '../ports/records.js';
import { generateSchool } from './generator.js';
import { plantDiscrepancies } from './plants.js';
import { periodMarkRecords, rosterRecords, scheduleBatches } from './records.js';
import type { DemoOptions, DemoSchool } from './types.js';

export interface DemoLoadResult {
  schoolId: string;
  connectionId: string;
  created: number;
  rejected: number;
  batches: number;
}

export interface DemoLoadDeps {
  pool: Pool;
  clock: Clock;
  logger: Logger;
}

/**
 * Loads a generated school into the journal through the one write path, as the `demo` source: the
 * school and its demo connection, then the roster, the lessons with their marks and absences in date
 * order, and the period marks.
 */
export async function loadDemoSchool(
  deps: DemoLoadDeps,
  options: DemoOptions,
  { batchSize = 5000, signal }: { batchSize?: number; signal?: AbortSignal } = {},
): Promise<DemoLoadResult> {
  // The paper journal: the generated school with the plants every source shares (plants.ts).
  const school = plantDiscrepancies(generateSchool(options)).paper;
  const { schoolId, connectionId } = await createDemoTenant(deps.pool, school);
  const result: DemoLoadResult = { schoolId, connectionId, created: 0, rejected: 0, batches: 0 };
  const inputs = demoInputs(school, connectionId, batchSize);
  await applyInOrder(deps, inputs, (outcome) => {
    result.created += outcome.created;
    result.rejected += outcome.rejected.length;
    result.batches += 1;
  }, signal);
  if (result.rejected > 0) deps.logger.warn({ rejected: result.rejected }, 'the demo school had rejected records');
  // A bulk load: fresh statistics for the planner and for /health's estimates (src/journal/counts.ts).
  await deps.pool.query('ANALYZE school, class_group, enrollment, lesson, mark, attendance, journal_event');
  return result;
}

function* demoInputs(school: DemoSchool, connectionId: string, batchSize: number): Generator<ApplyBatchInput> {
  yield { connectionId, stream: 'roster', records: rosterRecords(school), cursor: { complete: true } };
  for (const batch of scheduleBatches(school, batchSize)) {
    yield { connectionId, stream: 'schedule', records: batch.records, cursor: { until: batch.until } };
  }
  let records: SourceRecord[] = [];
  for (const record of periodMarkRecords(school)) {
    records.push(record);
    if (records.length >= batchSize) {
      yield { connectionId, stream: 'period_marks', records };
      records = [];
    }
  }
  yield { connectionId, stream: 'period_marks', records, cursor: { complete: true } };
}

/**
 * Applies batches one after another, producing the next batch while the database works on the current
 * one: the two cores of a small server each get a share.
 */
export async function applyInOrder(
  deps: Pick<DemoLoadDeps, 'pool' | 'clock'>,
  inputs: Iterable<ApplyBatchInput>,
  onResult: (result: ApplyBatchResult, input: ApplyBatchInput) => void,
  signal?: AbortSignal,
): Promise<void> {
  let inFlight: Promise<void> = Promise.resolve();
  try {
    for (const input of inputs) {
      await inFlight;
      signal?.throwIfAborted();
      inFlight = applyBatch(deps.pool, deps.clock, input).then((result) => onResult(result, input));
    }
  } finally {
    await inFlight;
  }
}

async function createDemoTenant(pool: Pool, school: DemoSchool): Promise<{ schoolId: string; connectionId: string }> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const created = await client.query<{ id: string }>(
      `INSERT INTO school (name, short_name, region, time_zone) VALUES ($1, $2, $3, $4) RETURNING id::text`,
      [school.school.name, school.school.shortName, school.school.region, school.school.timeZone],
    );
    const schoolId = created.rows[0]!.id;
    const connection = await client.query<{ id: string }>(
      `INSERT INTO connection (school_id, platform, title, config, enabled) VALUES ($1, 'demo', $2, $3, false) RETURNING id::text`,
      [schoolId, 'Generated demo school', JSON.stringify(school.options)],
    );
    // The demo's own source is its paper journal, and the school's legal record: the others are compared with it.
    await client.query('UPDATE school SET primary_source_id = $2 WHERE id = $1', [schoolId, connection.rows[0]!.id]);
    await client.query('COMMIT');
    return { schoolId, connectionId: connection.rows[0]!.id };
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  } finally {
    client.release();
  }
}

/** Whether the journal has any school yet (the demo loads into an empty journal only). */
export async function hasSchools(pool: Pool): Promise<boolean> {
  const { rows } = await pool.query('SELECT 1 FROM school LIMIT 1');
  return rows.length > 0;
}
