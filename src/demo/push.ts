import type { Pool } from '../db/pool.js';
import type { Clock } from '../lib/clock.js';
import { todayIn } from '../lib/dates.js';
import type { Logger } from '../lib/logger.js';
import type { SourceRecord } from '../ports/records.js';
import { createPushConnection } from '../push/connection.js';
import { pushRecords } from '../push/service.js';

export const DEMO_PUSH_TITLE = 'Кружок робототехники (демо)';

interface Pupil {
  id: string;
  last_name: string;
  first_name: string;
  birth_date: string | null;
}

/**
 * The demo's push connection: another school system (the robotics club's register) sends its roster
 * slice and a lesson's marks, as the push API takes them. Its pupils are the school's (matched by class,
 * name and birth date); its lessons are after the last bell, so they meet no timetable lesson.
 */
export async function pushDemoClub(deps: { pool: Pool; clock: Clock; logger: Logger }, schoolId: string): Promise<void> {
  const { rows: classes } = await deps.pool.query<{ id: string; name: string; grade: number; letter: string | null; year: number; time_zone: string }>(
    `SELECT g.id::text, g.name, g.grade, g.letter, y.start_year AS year, s.time_zone
       FROM class_group g JOIN academic_year y ON y.id = g.academic_year_id JOIN school s ON s.id = g.school_id
      WHERE g.school_id = $1 AND g.parent_id IS NULL AND g.deleted_at IS NULL ORDER BY g.grade DESC, g.name LIMIT 1`,
    [schoolId],
  );
  const group = classes[0];
  if (!group) return;
  const { rows: pupils } = await deps.pool.query<Pupil>(
    `SELECT p.id::text, p.last_name, p.first_name, p.birth_date FROM enrollment e JOIN person p ON p.id = e.person_id
      WHERE e.class_group_id = $1 AND e.end_date IS NULL ORDER BY p.name_key LIMIT 6`,
    [group.id],
  );
  const connectionId = await createPushConnection(deps.pool, { schoolId, title: DEMO_PUSH_TITLE });
  const today = todayIn(group.time_zone, deps.clock.now());
  const records: SourceRecord[] = [
    { type: 'class', externalId: 'club-class', year: group.year, name: group.name, grade: group.grade, ...(group.letter ? { letter: group.letter } : {}) },
    { type: 'subject', externalId: 'robotics', name: 'Робототехника' },
    ...pupils.map((p, i): SourceRecord => ({
      type: 'person', externalId: `member-${i + 1}`, role: 'pupil', lastName: p.last_name, firstName: p.first_name,
      ...(p.birth_date ? { birthDate: p.birth_date } : {}), classExternalId: 'club-class',
    })),
    { type: 'lesson', externalId: 'session-1', classExternalId: 'club-class', subjectExternalId: 'robotics', date: today, slot: 9, status: 'held', topic: 'Датчики расстояния' },
    ...pupils.map((_, i): SourceRecord => ({
      type: 'mark', externalId: `score-${i + 1}`, pupilExternalId: `member-${i + 1}`, lessonExternalId: 'session-1', value: String(5 - (i % 2)), workCategory: 'practical',
    })),
  ];
  const outcome = await pushRecords(deps, {
    connection: { id: connectionId, schoolId, enabled: true }, key: 'demo-club-1', body: { records }, actor: 'demo',
  });
  const answer = JSON.parse(outcome.json) as { created: number; rejected: unknown[] };
  deps.logger.info({ connectionId, created: answer.created, rejected: answer.rejected.length }, 'demo: the robotics club pushed its first batch');
}
