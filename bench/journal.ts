import { createReadStream, createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import copyStreams from 'pg-copy-streams';
import type { Pool } from '../src/db/pool.js';
import type { PrismaClient } from '../src/db/prisma.js';
import { generateLessons, generateSchool } from '../src/demo/generator.js';
import { lessonWithFacts, rosterRecords } from '../src/demo/records.js';
import type { DemoSchool } from '../src/demo/types.js';
import { applyBatch, type ApplyBatchInput } from '../src/journal/apply-batch.js';
import { systemClock } from '../src/lib/clock.js';
import type { SourceRecord } from '../src/ports/records.js';
import type { Metric } from './metrics.js';

const BATCH = 10_000;
const NAIVE_SAMPLE = 20_000;

export interface JournalBenchOptions {
  pool: Pool;
  prisma: PrismaClient;
  pupils: number;
  tmpDir: string;
  log(message: string): void;
}

interface Tally {
  seconds: number;
  records: number;
  created: number;
  updated: number;
  unchanged: number;
  rejected: number;
}

/**
 * The journal's write path on a generated full year: applyBatch against raw COPY (the physical limit)
 * and against per-row Prisma upserts (what a first attempt would be), plus re-applying unchanged and
 * 1 %-changed data. Only the database calls are timed, not the generation of the data.
 */
export async function benchJournal(o: JournalBenchOptions): Promise<Metric[]> {
  const school = generateSchool({ seed: 1, pupils: o.pupils, year: 2025 });
  const { schoolId, connectionId } = await createTenant(o.pool, school, 'demo');
  const setup = await applyAll(o.pool, [{ connectionId, stream: 'roster', records: rosterRecords(school) }, ...scheduleInputs(school, connectionId)]);
  o.log(`roster, lessons and absences: ${setup.created} rows in ${setup.seconds.toFixed(1)} s`);
  const load = await applyAll(o.pool, markInputs(school, connectionId, () => undefined));
  o.log(`applyBatch initial load: ${load.created} marks in ${load.seconds.toFixed(1)} s (${load.rejected} rejected)`);
  const copy = await copyBaseline(o.pool, o.tmpDir);
  o.log(`raw COPY: ${copy.rows} marks in ${copy.seconds.toFixed(1)} s`);
  const schemaCopy = await schemaCopyBaseline(o.pool, o.tmpDir);
  o.log(`COPY into the journal's own tables (indexes, reference checks, history rows): ${schemaCopy.rows} marks in ${schemaCopy.seconds.toFixed(1)} s`);
  const noop = await applyAll(o.pool, markInputs(school, connectionId, () => undefined));
  o.log(`no-op re-apply: ${noop.unchanged} unchanged, ${noop.created + noop.updated} changed in ${noop.seconds.toFixed(2)} s`);
  let n = 0;
  const onePercent = await applyAll(o.pool, markInputs(school, connectionId, () => (++n % 100 === 0 ? '2' : undefined)));
  o.log(`1 % changed: ${onePercent.updated} updated in ${onePercent.seconds.toFixed(2)} s`);
  const naive = await naiveUpserts(o.pool, o.prisma, schoolId);
  o.log(`per-row Prisma upsert: ${naive.rows} marks in ${naive.seconds.toFixed(1)} s`);
  const applyRate = load.created / load.seconds;
  const copyRate = copy.rows / copy.seconds;
  const naiveRate = naive.rows / naive.seconds;
  return [
    { name: 'journal.marks', value: load.created, unit: 'rows' },
    { name: 'journal.copy_rows_per_s', value: Math.round(copyRate), unit: 'rows/s' },
    { name: 'journal.apply_rows_per_s', value: Math.round(applyRate), unit: 'rows/s' },
    { name: 'journal.naive_rows_per_s', value: Math.round(naiveRate), unit: 'rows/s' },
    { name: 'journal.apply_vs_copy', value: round(applyRate / copyRate, 3), unit: 'ratio' },
    { name: 'journal.apply_vs_naive', value: round(applyRate / naiveRate, 1), unit: 'ratio' },
    { name: 'journal.schema_copy_rows_per_s', value: Math.round(schemaCopy.rows / schemaCopy.seconds), unit: 'rows/s' },
    { name: 'journal.apply_vs_schema_copy', value: round(applyRate / (schemaCopy.rows / schemaCopy.seconds), 3), unit: 'ratio' },
    { name: 'journal.noop_reapply_s', value: round(noop.seconds, 2), unit: 's' },
    { name: 'journal.noop_reapply_changes', value: noop.created + noop.updated + noop.rejected, unit: 'rows' },
    { name: 'journal.one_percent_change_s', value: round(onePercent.seconds, 2), unit: 's' },
    { name: 'journal.one_percent_change_updated', value: onePercent.updated, unit: 'rows' },
    { name: 'journal.setup_rows_per_s', value: Math.round(setup.created / setup.seconds), unit: 'rows/s' },
  ];
}

function round(value: number, digits: number): number {
  return Number(value.toFixed(digits));
}

async function applyAll(pool: Pool, inputs: Iterable<ApplyBatchInput>): Promise<Tally> {
  const tally: Tally = { seconds: 0, records: 0, created: 0, updated: 0, unchanged: 0, rejected: 0 };
  for (const input of inputs) {
    const started = performance.now();
    const result = await applyBatch(pool, systemClock, input);
    tally.seconds += (performance.now() - started) / 1000;
    tally.records += input.records.length;
    tally.created += result.created;
    tally.updated += result.updated;
    tally.unchanged += result.unchanged;
    tally.rejected += result.rejected.length;
  }
  return tally;
}

function* scheduleInputs(school: DemoSchool, connectionId: string): Generator<ApplyBatchInput> {
  let batch: SourceRecord[] = [];
  for (const lesson of generateLessons(school)) {
    batch.push(...lessonWithFacts(school, lesson).filter((r) => r.type !== 'mark'));
    if (batch.length >= BATCH) {
      yield { connectionId, stream: 'schedule', records: batch };
      batch = [];
    }
  }
  yield { connectionId, stream: 'schedule', records: batch };
}

/** The year's marks in batches of 10,000; `alter` may replace a mark's value (to simulate edits). */
function* markInputs(school: DemoSchool, connectionId: string, alter: () => string | undefined): Generator<ApplyBatchInput> {
  let batch: SourceRecord[] = [];
  for (const lesson of generateLessons(school)) {
    for (const record of lessonWithFacts(school, lesson)) {
      if (record.type !== 'mark') continue;
      const value = alter();
      batch.push(value && value !== record.value ? { ...record, value } : record);
      if (batch.length >= BATCH) {
        yield { connectionId, stream: 'marks', records: batch };
        batch = [];
      }
    }
  }
  yield { connectionId, stream: 'marks', records: batch };
}

/** The same marks, as stored, COPYed into a table with the same columns and nothing else. */
async function copyBaseline(pool: Pool, tmpDir: string): Promise<{ rows: number; seconds: number }> {
  const file = `${tmpDir}/marks.copy`;
  const client = await pool.connect();
  try {
    await pipeline(client.query(copyStreams.to('COPY mark TO STDOUT')), createWriteStream(file));
    await client.query('CREATE TABLE mark_bare (LIKE mark)');
    const started = performance.now();
    await pipeline(createReadStream(file), client.query(copyStreams.from('COPY mark_bare FROM STDIN')));
    const seconds = (performance.now() - started) / 1000;
    const { rows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM mark_bare');
    await client.query('DROP TABLE mark_bare');
    return { rows: rows[0]!.n, seconds };
  } finally {
    client.release();
  }
}

/**
 * The physical limit of this schema: the same marks COPYed into a table like `mark` with its indexes
 * and reference trigger, and their history events into a table like `journal_event` — everything
 * applyBatch must write, without any of its work (matching, validation, digests, hashing).
 */
async function schemaCopyBaseline(pool: Pool, tmpDir: string): Promise<{ rows: number; seconds: number }> {
  const marks = `${tmpDir}/marks.copy`;
  const events = `${tmpDir}/events.copy`;
  const client = await pool.connect();
  try {
    await pipeline(client.query(copyStreams.to(`COPY (SELECT * FROM journal_event WHERE entity_type = 'mark') TO STDOUT`)), createWriteStream(events));
    await client.query(`CREATE TABLE mark_schema (LIKE mark INCLUDING ALL);
      CREATE TRIGGER mark_schema_references AFTER INSERT ON mark_schema REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT
        EXECUTE FUNCTION journal_check_references('school_id', 'school', 'source_id', 'connection', 'pupil_id', 'person', 'lesson_id', 'lesson', 'subject_id', 'subject');
      CREATE TABLE event_schema (LIKE journal_event INCLUDING ALL)`);
    const started = performance.now();
    await pipeline(createReadStream(marks), client.query(copyStreams.from('COPY mark_schema FROM STDIN')));
    await pipeline(createReadStream(events), client.query(copyStreams.from('COPY event_schema FROM STDIN')));
    const seconds = (performance.now() - started) / 1000;
    const { rows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM mark_schema');
    await client.query('DROP TABLE mark_schema; DROP TABLE event_schema');
    return { rows: rows[0]!.n, seconds };
  } finally {
    client.release();
  }
}

/**
 * What a first attempt would do: one Prisma upsert per mark (references already resolved, no history),
 * for a 20,000-mark sample written by a second source, so every upsert inserts.
 */
async function naiveUpserts(pool: Pool, prisma: PrismaClient, schoolId: string): Promise<{ rows: number; seconds: number }> {
  const sourceId = (await createConnection(pool, schoolId, 'naive')).connectionId;
  const { rows: sample } = await pool.query(
    `SELECT pupil_id, lesson_id, subject_id, date, raw, kind, numeric, scale, weight, work_category, work_title, entered_at, external_id
       FROM mark ORDER BY id LIMIT $1`,
    [NAIVE_SAMPLE],
  );
  const started = performance.now();
  for (const m of sample) {
    const data = {
      schoolId, sourceId, externalId: m.external_id, payloadHash: 0n, pupilId: m.pupil_id, lessonId: m.lesson_id,
      subjectId: m.subject_id, date: new Date(`${m.date}T00:00:00Z`), raw: m.raw, kind: m.kind, numeric: m.numeric,
      scale: m.scale, weight: m.weight, workCategory: m.work_category, workTitle: m.work_title, enteredAt: m.entered_at,
    };
    const id = crypto.randomUUID();
    await prisma.mark.upsert({ where: { id }, create: { id, ...data }, update: data });
  }
  return { rows: sample.length, seconds: (performance.now() - started) / 1000 };
}

export async function createTenant(pool: Pool, school: DemoSchool, platform: string): Promise<{ schoolId: string; connectionId: string }> {
  const { rows } = await pool.query<{ id: string }>(
    'INSERT INTO school (name, region, time_zone) VALUES ($1, $2, $3) RETURNING id::text',
    [school.school.name, school.school.region, school.school.timeZone],
  );
  return createConnection(pool, rows[0]!.id, platform);
}

async function createConnection(pool: Pool, schoolId: string, platform: string): Promise<{ schoolId: string; connectionId: string }> {
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO connection (school_id, platform, title) VALUES ($1, $2, $2) RETURNING id::text`,
    [schoolId, platform],
  );
  return { schoolId, connectionId: rows[0]!.id };
}
