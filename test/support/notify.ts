import { randomBytes } from 'node:crypto';
import type { Pool } from '../../src/db/pool.js';
import { applyBatch } from '../../src/journal/apply-batch.js';
import type { Clock } from '../../src/lib/clock.js';
import { SecretBox } from '../../src/lib/secret-box.js';
import { DEFAULT_SENDER, type SenderSettings } from '../../src/notify/sender.js';
import type { NotifySettings } from '../../src/notify/engine.js';
import type { SourceRecord } from '../../src/ports/records.js';
import { createConnection, createSchool } from './fixtures.js';

/** A secret box with a fresh key (what the service loads from CONNECTION_SECRETS_KEY). */
export const testBox = () => new SecretBox(randomBytes(32));

/** Shrunk timings for tests: quick retries and leases, no Telegram polling, the clocked work only when a test runs it. */
export function testNotifySettings(over: Partial<NotifySettings> = {}, sender: Partial<SenderSettings> = {}): NotifySettings {
  return {
    sender: { ...DEFAULT_SENDER, leaseSeconds: 30, timeoutMs: 5000, pauseSeconds: 3600, ...sender },
    concurrency: 4, retryLimit: 3, retryDelaySeconds: 1, tickSeconds: 3600, telegramPolling: false, ...over,
  };
}

export interface NotifySchoolFixture {
  schoolId: string;
  sourceId: string;
  /** Person ids by external id (p1, p2 pupils; g1, g2, g3 guardians; t1 teacher). */
  people: Record<string, string>;
  /** Applies marks of the school's source (lesson l1 unless said). */
  marks(marks: Array<{ id: string; pupil: string; value: string; lesson?: string }>): Promise<void>;
}

/**
 * A small school as a platform would send it: 5А with two pupils, Алгебра with two lessons on `day`,
 * guardians g1 (of p1, phone and e-mail), g2 (of p2, phone and e-mail), g3 (of p1 and p2, e-mail only),
 * a teacher t1 with a work e-mail. The guardians' contacts arrive as the platform gives them.
 */
export async function notifySchool(pool: Pool, clock: Clock, options: { day: string; timeZone?: string; emails?: Record<string, string> }): Promise<NotifySchoolFixture> {
  const schoolId = await createSchool(pool, { timeZone: options.timeZone ?? 'Europe/Moscow' });
  const sourceId = await createConnection(pool, schoolId, 'demo');
  await pool.query('UPDATE school SET primary_source_id = $2 WHERE id = $1', [schoolId, sourceId]);
  const email = (id: string) => options.emails?.[id] ?? `${id}@parents.example.org`;
  const records: SourceRecord[] = [
    { type: 'class', externalId: 'c5a', year: 2025, name: '5А', grade: 5, letter: 'А' },
    { type: 'subject', externalId: 'alg', name: 'Алгебра', altNames: { ky: 'Алгебра (кырг.)' } },
    { type: 'person', externalId: 'p1', role: 'pupil', lastName: 'Иванов', firstName: 'Иван', classExternalId: 'c5a' },
    { type: 'person', externalId: 'p2', role: 'pupil', lastName: 'Петрова', firstName: 'Анна', classExternalId: 'c5a' },
    { type: 'person', externalId: 'g1', role: 'guardian', lastName: 'Иванова', firstName: 'Мария', phone: '8 (999) 100-00-01', email: email('g1'), pupilExternalIds: ['p1'] },
    { type: 'person', externalId: 'g2', role: 'guardian', lastName: 'Петров', firstName: 'Олег', phone: '+7 999 100-00-02', email: email('g2'), pupilExternalIds: ['p2'] },
    { type: 'person', externalId: 'g3', role: 'guardian', lastName: 'Сидорова', firstName: 'Ольга', email: email('g3'), pupilExternalIds: ['p1', 'p2'] },
    { type: 'person', externalId: 't1', role: 'staff', lastName: 'Учителева', firstName: 'Нина', email: 'teacher@school.example.org' },
    { type: 'enrollment', externalId: 'e1', pupilExternalId: 'p1', classExternalId: 'c5a' },
    { type: 'enrollment', externalId: 'e2', pupilExternalId: 'p2', classExternalId: 'c5a' },
    { type: 'guardianship', externalId: 'gp1', guardianExternalId: 'g1', pupilExternalId: 'p1' },
    { type: 'guardianship', externalId: 'gp2', guardianExternalId: 'g2', pupilExternalId: 'p2' },
    { type: 'guardianship', externalId: 'gp3', guardianExternalId: 'g3', pupilExternalId: 'p1' },
    { type: 'guardianship', externalId: 'gp4', guardianExternalId: 'g3', pupilExternalId: 'p2' },
    { type: 'staff_role', externalId: 'r1', personExternalId: 't1', role: 'teacher' },
    { type: 'lesson', externalId: 'l1', classExternalId: 'c5a', subjectExternalId: 'alg', date: options.day, slot: 1, teacherExternalId: 't1' },
    { type: 'lesson', externalId: 'l2', classExternalId: 'c5a', subjectExternalId: 'alg', date: options.day, slot: 2, teacherExternalId: 't1' },
  ];
  await applyBatch(pool, clock, { connectionId: sourceId, stream: 'roster', records });
  const { rows } = await pool.query<{ external_id: string; canonical_id: string }>(
    `SELECT external_id, canonical_id::text FROM external_ref WHERE connection_id = $1 AND entity_type = 'person'`, [sourceId]);
  const people = Object.fromEntries(rows.map((r) => [r.external_id, r.canonical_id]));
  return {
    schoolId, sourceId, people,
    marks: async (marks) => {
      await applyBatch(pool, clock, {
        connectionId: sourceId, stream: 'marks',
        records: marks.map((m) => ({ type: 'mark', externalId: m.id, pupilExternalId: m.pupil, lessonExternalId: m.lesson ?? 'l1', value: m.value })),
      });
    },
  };
}

/** Consent of a person for purposes on a channel, as the school records a paper form. */
export async function consent(pool: Pool, schoolId: string, personId: string, channel: string, purposes: string[] = ['marks', 'attendance', 'reports']): Promise<void> {
  for (const purpose of purposes) {
    await pool.query(
      `INSERT INTO consent (school_id, person_id, channel, purpose, granted_at, method, evidence, granted_by) VALUES ($1, $2, $3, $4, now(), 'paper_form', '№ 12', 'test')`,
      [schoolId, personId, channel, purpose]);
  }
}
