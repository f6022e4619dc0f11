import type { Pool } from '../src/db/pool.js';
import { loadDemoSchool } from '../src/demo/load.js';
import { systemClock } from '../src/lib/clock.js';
import { createLogger } from '../src/lib/logger.js';
import { importPaper } from '../src/paper/import.js';
import { readPaperPage } from '../src/paper/page.js';
import { readXlsx, writeXlsx } from '../src/paper/xlsx.js';
import type { Metric } from './metrics.js';

export interface PaperBenchOptions {
  pool: Pool;
  log(message: string): void;
}

/**
 * A class's year on paper in one file: the generated school's class and subject whose year has about
 * 140 lessons, its template prefilled from the demo source (every mark and absence of the year), imported
 * into the paper source (every cell written), then imported again (every cell compared, nothing written).
 * cells/s = pupils × lessons / seconds of the import (reading the XLSX included).
 */
export async function benchPaper(o: PaperBenchOptions): Promise<Metric[]> {
  const logger = createLogger('warn');
  const demo = await loadDemoSchool({ pool: o.pool, clock: systemClock, logger }, { seed: 7, pupils: 300, year: 2025 });
  const { rows } = await o.pool.query<{ class_id: string; subject_id: string; lessons: number }>(
    `SELECT l.class_group_id::text AS class_id, l.subject_id::text AS subject_id, count(*)::int AS lessons
       FROM lesson l JOIN class_group c ON c.id = l.class_group_id
      WHERE l.school_id = $1 AND c.parent_id IS NULL AND l.deleted_at IS NULL
      GROUP BY 1, 2 ORDER BY abs(count(*) - 140), 1, 2 LIMIT 1`,
    [demo.schoolId],
  );
  const target = rows[0]!;
  const page = await readPaperPage(o.pool, { classId: target.class_id, subjectId: target.subject_id, prefill: demo.connectionId });
  const body = await writeXlsx(page);
  const cells = page.pupils.length * page.lessons.length;
  const filled = page.cells.flat().filter((c) => c !== '').length;
  o.log(`${page.pupils.length} pupils × ${page.lessons.length} lessons = ${cells} cells (${filled} filled), ${(body.length / 1024).toFixed(0)} KB XLSX`);
  const input = { classId: target.class_id, subjectId: target.subject_id, format: 'xlsx' as const, body, actor: 'bench' };
  let started = performance.now();
  const first = await importPaper({ pool: o.pool, clock: systemClock }, input);
  const firstSeconds = (performance.now() - started) / 1000;
  started = performance.now();
  const again = await importPaper({ pool: o.pool, clock: systemClock }, input);
  const againSeconds = (performance.now() - started) / 1000;
  if (first.cells.created !== filled || first.cells.rejected !== 0 || again.events !== 0) throw new Error(`paper bench: unexpected import ${JSON.stringify({ first: first.cells, again: again.events })}`);
  started = performance.now();
  await readXlsx(body, page.subjectName);
  o.log(`reading the XLSX alone: ${((performance.now() - started) / 1000).toFixed(2)} s`);
  o.log(`import ${firstSeconds.toFixed(2)} s (${first.events} events), re-import ${againSeconds.toFixed(2)} s (0 events)`);
  return [
    { name: 'paper.import_cells', value: cells, unit: 'cells' },
    { name: 'paper.import_cells_per_s', value: Math.round(cells / firstSeconds), unit: 'cells/s' },
    { name: 'paper.reimport_cells_per_s', value: Math.round(cells / againSeconds), unit: 'cells/s' },
  ];
}
