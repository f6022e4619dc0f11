import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { adapters } from '../../adapters/index.js';
import { rebuildLessonClaims } from '../../src/checks/projections/lesson-claims.js';
import { runChecks } from '../../src/checks/service.js';
import { generateSchool } from '../../src/demo/generator.js';
import { loadDemoSchool } from '../../src/demo/load.js';
import { withTransaction } from '../../src/db/pool.js';
import { correctionDays, plantDiscrepancies, serveCorrections, type PlantedItem } from '../../src/demo/plants.js';
import { fixedClock } from '../../src/lib/clock.js';
import { createLogger } from '../../src/lib/logger.js';
import { Limiters } from '../../src/sync/host-limits.js';
import { syncStreams } from '../../src/sync/run-streams.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { createConnection } from '../support/fixtures.js';

/**
 * The demo's planted discrepancies: the demo school's paper journal loaded as the demo does it, its
 * Дневник.ру simulator serving the platform's side, one full sync, the platform's silent corrections and a
 * re-read of their days, every check — and what was found is exactly what was planted: every planted item
 * found, nothing found that was not planted.
 */
const OPTIONS = { seed: 3, pupils: 60, year: 2025, until: '2025-12-05' };
const clock = fixedClock(new Date('2025-12-05T17:00:00Z'));
let db: TestDatabase;
let schoolId: string;
let planted: PlantedItem[];

beforeAll(async () => {
  db = await createTestDatabase();
  const logger = createLogger('silent');
  const loaded = await loadDemoSchool({ pool: db.pool, clock, logger }, OPTIONS);
  schoolId = loaded.schoolId;
  const plants = plantDiscrepancies(generateSchool(OPTIONS));
  planted = plants.planted;
  const adapter = adapters.get('dnevnikru')!;
  const sim = await (await adapter.simulator()).start(plants.electronic);
  const limiters = new Limiters();
  try {
    const connectionId = await createConnection(db.pool, schoolId, 'dnevnikru', 'Дневник.ру');
    const deps = { pool: db.pool, clock, logger, limiters, adapters };
    await syncStreams(deps, { connectionId, config: sim.connectionConfig(), range: { from: '2025-09-01', to: OPTIONS.until } });
    // The platform's silent corrections, after its first sync has seen the original values; a re-read of their days.
    serveCorrections(plants.electronic);
    const days = correctionDays(plants.electronic);
    await syncStreams(deps, { connectionId, config: sim.connectionConfig(), range: { from: days[0]!, to: days.at(-1)! } });
  } finally {
    await limiters.stop();
    await sim.close();
  }
}, 240_000);
afterAll(async () => {
  await db.drop();
});

interface Found {
  rule: string;
  lesson: string | null;
  pupil: string | null;
  period: string | null;
  subject: string | null;
}

/** The discrepancies in the generator's ids (the demo source's external ids of the canonical rows). */
async function found(): Promise<Found[]> {
  const { rows } = await db.pool.query<Found>(
    `SELECT d.rule,
            (SELECT r.external_id FROM external_ref r JOIN connection c ON c.id = r.connection_id AND c.platform = 'demo'
              WHERE r.entity_type = 'lesson' AND r.canonical_id = d.lesson_id LIMIT 1) AS lesson,
            (SELECT r.external_id FROM external_ref r JOIN connection c ON c.id = r.connection_id AND c.platform = 'demo'
              WHERE r.entity_type = 'person' AND r.canonical_id = d.pupil_id LIMIT 1) AS pupil,
            (SELECT r.external_id FROM external_ref r JOIN connection c ON c.id = r.connection_id AND c.platform = 'demo'
              WHERE r.entity_type = 'period' AND r.canonical_id = d.period_id LIMIT 1) AS period,
            (SELECT r.external_id FROM external_ref r JOIN connection c ON c.id = r.connection_id AND c.platform = 'demo'
              WHERE r.entity_type = 'subject' AND r.canonical_id = d.subject_id LIMIT 1) AS subject
       FROM discrepancy d WHERE d.school_id = $1 AND d.status = 'open' ORDER BY d.rule, d.key`,
    [schoolId],
  );
  return rows;
}

const matches = (item: PlantedItem, f: Found) => f.rule === item.rule
  && (item.lessonId === undefined || f.lesson === item.lessonId)
  && (item.pupilId === undefined || f.pupil === item.pupilId)
  && (item.periodId === undefined || f.period === item.periodId)
  && (item.subjectId === undefined || f.subject === item.subjectId);

describe('the demo school', () => {
  it('plants one of each kind of difference', () => {
    expect(new Set(planted.map((p) => p.rule))).toEqual(new Set([
      'mark_differs', 'mark_only_in_one', 'mark_backdated', 'mark_late', 'attendance_differs', 'topic_missing', 'grade1_mark',
      'period_mark_missing', 'period_mark_differs', 'final_mark_not_visible', 'substitute_missing', 'mark_silent_correction',
    ]));
  });

  it('shows exactly its planted discrepancies after a sync and the checks', async () => {
    // What each source said of topics and homework, as the checks consumer projects it from the feed.
    await withTransaction(db.pool, (client) => rebuildLessonClaims(client, schoolId));
    await runChecks(db.pool, clock, { schoolId });
    const all = await found();
    const missing = planted.filter((item) => !all.some((f) => matches(item, f)));
    const unplanted = all.filter((f) => !planted.some((item) => matches(item, f)));
    expect({ missing, unplanted: unplanted.slice(0, 20), unplantedCount: unplanted.length }).toEqual({ missing: [], unplanted: [], unplantedCount: 0 });
  });
});
