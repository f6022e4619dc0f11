import type { Pool } from '../src/db/pool.js';
import { checksConsumer } from '../src/checks/consumer.js';
import { runChecks } from '../src/checks/service.js';
import { rebuildLessonClaims } from '../src/checks/projections/lesson-claims.js';
import { rebuildSourceVocabulary } from '../src/checks/projections/source-vocabulary.js';
import { RULES } from '../src/checks/rules/index.js';
import { loadDemoSchool } from '../src/demo/load.js';
import { applyBatch } from '../src/journal/apply-batch.js';
import { drainConsumer, lockCursor, advanceCursor } from '../src/journal/feed.js';
import { withTransaction } from '../src/db/pool.js';
import { fixedClock } from '../src/lib/clock.js';
import { createLogger } from '../src/lib/logger.js';
import type { SourceRecord } from '../src/ports/records.js';
import type { Metric } from './metrics.js';
import type { z } from 'zod';
import type { WorkCategorySchema } from '../src/ports/records.js';

type WorkCategory = z.infer<typeof WorkCategorySchema>;

export interface ChecksBenchOptions {
  pool: Pool;
  pupils: number;
  log(message: string): void;
}

/** The first term of the generated year, and the evaluation's "now" just after it. */
const TERM = { from: '2025-09-01', to: '2025-10-24' };
const clock = fixedClock(new Date('2025-10-25T20:00:00Z'));

/**
 * The checks on a generated school with two sources over one term: the demo's source (paper) and an
 * electronic copy of it with 0.5 % of its marks changed. Figures: all rules and cross-source over the
 * term; the same divided by one sequential scan of the term's marks, lessons and absences (the floor);
 * the incremental evaluation after a daily sync's events.
 */
export async function benchChecks(o: ChecksBenchOptions): Promise<Metric[]> {
  const loaded = await loadDemoSchool({ pool: o.pool, clock, logger: createLogger('warn') }, { seed: 7, pupils: o.pupils, year: 2025, until: TERM.to });
  const schoolId = loaded.schoolId;
  await o.pool.query(`UPDATE connection SET platform = 'paper' WHERE id = $1`, [loaded.connectionId]);
  const second = await copySource(o.pool, schoolId, loaded.connectionId);
  const marks = await o.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM mark WHERE school_id = $1', [schoolId]);
  o.log(`two sources, ${marks.rows[0]!.n} marks over ${TERM.from} … ${TERM.to}`);
  // The consumer starts at the head: the incremental figure is about one day's events only. Its projections
  // hold what it would have made of the events before (the lesson claims, each source's vocabulary).
  await withTransaction(o.pool, async (client) => {
    await rebuildLessonClaims(client, schoolId);
    await rebuildSourceVocabulary(client, schoolId);
    await lockCursor(client, 'checks', schoolId);
    const head = await client.query<{ seq: string }>('SELECT seq::text FROM journal_head WHERE school_id = $1', [schoolId]);
    await advanceCursor(client, 'checks', schoolId, Number(head.rows[0]!.seq));
  });
  // Warm (plans, caches), one rule at a time so that a slow one shows itself.
  for (const rule of RULES) {
    const t0 = performance.now();
    const one = await runChecks(o.pool, clock, { schoolId, ...TERM, rules: [rule.id] });
    o.log(`  warm ${rule.id}: ${one.found} in ${Math.round(performance.now() - t0)} ms`);
  }
  const started = performance.now();
  const full = await runChecks(o.pool, clock, { schoolId, ...TERM });
  const fullS = (performance.now() - started) / 1000;
  for (const input of full.inputs) o.log(`  ${input.name.padEnd(30)}        input ${String(input.ms).padStart(6)} ms`);
  for (const rule of full.rules) o.log(`  ${rule.rule.padEnd(30)} ${String(rule.found).padStart(6)} found ${String(rule.ms).padStart(6)} ms`);
  o.log(`  merge ${full.mergeMs} ms, resolve ${full.resolveMs} ms`);
  o.log(`full term: ${full.found} found in ${fullS.toFixed(2)} s`);
  const scanS = await scanTerm(o.pool, schoolId);
  o.log(`one sequential scan of the term's marks, lessons and absences: ${scanS.toFixed(3)} s`);
  const daily = await dailySync(o.pool, second, schoolId);
  const t = performance.now();
  const handled = await drainConsumer(o.pool, checksConsumer(clock), schoolId);
  const incS = (performance.now() - t) / 1000;
  o.log(`incremental after a daily sync (${daily} records, ${handled} events): ${incS.toFixed(3)} s`);
  return [
    { name: 'checks.full_term_s', value: round(fullS), unit: 's' },
    { name: 'checks.term_scan_s', value: round(scanS), unit: 's' },
    { name: 'checks.full_term_vs_scan', value: round(fullS / scanS), unit: 'ratio' },
    { name: 'checks.incremental_s', value: round(incS), unit: 's' },
    { name: 'checks.full_term_findings', value: full.found, unit: 'findings' },
  ];
}

const round = (x: number) => Number(x.toFixed(3));

/** A second, electronic source holding the same facts (refs and marks, attendance, period marks), 0.5 % of marks changed. */
async function copySource(pool: Pool, schoolId: string, from: string): Promise<string> {
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO connection (school_id, platform, title, enabled) VALUES ($1, 'dnevnikru', 'Дневник.ру (копия)', false) RETURNING id::text`, [schoolId],
  );
  const to = rows[0]!.id;
  await pool.query(`INSERT INTO external_ref (connection_id, entity_type, external_id, canonical_id, payload_hash)
                    SELECT $2, entity_type, external_id, canonical_id, payload_hash FROM external_ref WHERE connection_id = $1`, [from, to]);
  const shared = 'school_id, external_id, payload_hash, pupil_id';
  // The copy's facts under the ids applyBatch derives for that source (src/journal/ids.ts factId), so a later sync of it finds them.
  const factId = (type: string) => `(SELECT (substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-8' || substr(h, 14, 3) || '-'
      || to_hex((('x' || substr(h, 17, 1))::bit(4)::int & 3) | 8) || substr(h, 18, 3) || '-' || substr(h, 21, 12))::uuid
      FROM md5(($2::uuid)::text || chr(31) || '${type}' || chr(31) || external_id) AS h)`;
  await pool.query(`INSERT INTO mark (id, source_id, ${shared}, lesson_id, subject_id, date, raw, kind, numeric, scale, weight, work_category, work_title, entered_at)
                    SELECT ${factId('mark')}, $2, ${shared}, lesson_id, subject_id, date,
                           CASE WHEN numeric IS NOT NULL AND row_number() OVER (ORDER BY id) % 200 = 0 THEN '2' ELSE raw END, kind,
                           CASE WHEN numeric IS NOT NULL AND row_number() OVER (ORDER BY id) % 200 = 0 THEN 2 ELSE numeric END, scale, weight * 10, work_category, work_title, entered_at
                      FROM mark WHERE source_id = $1`, [from, to]);
  await pool.query(`INSERT INTO attendance (id, source_id, ${shared}, lesson_id, date, raw, kind, late_minutes, reason)
                    SELECT ${factId('attendance')}, $2, ${shared}, lesson_id, date, raw, kind, late_minutes, reason FROM attendance WHERE source_id = $1`, [from, to]);
  await pool.query(`INSERT INTO period_mark (id, source_id, ${shared}, subject_id, period_id, raw, kind, numeric, scale, average, set_at)
                    SELECT ${factId('period_mark')}, $2, ${shared}, subject_id, period_id, raw, kind, numeric, scale, average, set_at FROM period_mark WHERE source_id = $1`, [from, to]);
  await pool.query('ANALYZE mark, attendance, period_mark, external_ref');
  return to;
}

/** The floor: reading every mark, lesson and absence of the term once. */
async function scanTerm(pool: Pool, schoolId: string): Promise<number> {
  const started = performance.now();
  await pool.query(`SELECT count(*), sum(length(raw)) FROM mark WHERE school_id = $1 AND date BETWEEN $2 AND $3`, [schoolId, TERM.from, TERM.to]);
  await pool.query(`SELECT count(*), sum(length(coalesce(topic, ''))) FROM lesson WHERE school_id = $1 AND date BETWEEN $2 AND $3`, [schoolId, TERM.from, TERM.to]);
  await pool.query(`SELECT count(*), sum(length(raw)) FROM attendance WHERE school_id = $1 AND date BETWEEN $2 AND $3`, [schoolId, TERM.from, TERM.to]);
  return (performance.now() - started) / 1000;
}

/** A daily sync of the electronic source: the last day's marks re-sent, 30 of them with new values. */
async function dailySync(pool: Pool, connectionId: string, schoolId: string): Promise<number> {
  const { rows } = await pool.query<{ external_id: string; pupil: string; lesson: string; raw: string; work_category: WorkCategory; weight: number | null }>(
    `SELECT m.external_id, rp.external_id AS pupil, rl.external_id AS lesson, m.raw, m.work_category, m.weight::float8 AS weight
       FROM mark m
       JOIN external_ref rp ON rp.connection_id = m.source_id AND rp.entity_type = 'person' AND rp.canonical_id = m.pupil_id
       JOIN external_ref rl ON rl.connection_id = m.source_id AND rl.entity_type = 'lesson' AND rl.canonical_id = m.lesson_id
      WHERE m.school_id = $1 AND m.source_id = $2 AND m.date = (SELECT max(date) FROM mark WHERE school_id = $1)
      ORDER BY m.external_id`,
    [schoolId, connectionId],
  );
  const records: SourceRecord[] = rows.map((r, i) => ({
    type: 'mark', externalId: r.external_id, pupilExternalId: r.pupil, lessonExternalId: r.lesson, value: i % 10 === 0 ? '3' : r.raw,
    workCategory: r.work_category, ...(r.weight === null ? {} : { weight: r.weight }),
  }));
  await applyBatch(pool, clock, { connectionId, stream: 'marks', records });
  return records.length;
}
