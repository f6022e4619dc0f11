import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Express } from 'express';
import type { BackupSettings } from '../../src/archive/backup.js';
import { checkBackupTargets } from '../../src/archive/backup-jurisdiction.js';
import { NightlyBackups } from '../../src/archive/backup-nightly.js';
import { parseBackupTargets } from '../../src/archive/backup-targets.js';
import type { BackupsRouterDeps } from '../../src/http/routes/backups.js';
import { adminUrl, SERVER_ENV } from './env.js';
import { createApp } from '../../src/http/app.js';
import type { Auth } from '../../src/auth/index.js';
import { createSchoolRepository } from '../../src/db/repositories/schools.js';
import { createPrisma } from '../../src/db/prisma.js';
import { loadDemoSchool } from '../../src/demo/load.js';
import type { Clock } from '../../src/lib/clock.js';
import { createLogger } from '../../src/lib/logger.js';
import type { SecretBox } from '../../src/lib/secret-box.js';
import type { SyncService } from '../../src/sync/service.js';
import { createTestDatabase, type TestDatabase } from './db.js';
import { startTestEngine } from './sync-engine.js';
import { createAuth } from '../../src/auth/index.js';
import { createEndpoint } from '../../src/webhooks/endpoints.js';
import { TargetPolicy } from '../../src/lib/net-targets.js';
import { keyFor } from './api.js';
import { fileInArchive, jsonBytes } from '../../src/archive/store.js';
import { printerOf } from '../../src/archive/printouts.js';

/** What one school of the access tests holds: ids of each kind of object, and the people who stand for each role. */
export interface SchoolFixture {
  schoolId: string;
  /** A class with a pupil of family 1, and another class with a pupil of family 2. */
  classId: string;
  otherClassId: string;
  subjectId: string;
  connectionId: string;
  runId: string;
  discrepancyId: string;
  parentId: string;
  otherParentId: string;
  childId: string;
  classTeacherId: string;
  teacherId: string;
  teacherPair: { classId: string; subjectId: string };
  deputyId: string;
  webhookId: string;
  /** A mark and an absence of family 1's child, a mark of family 2's, and a lesson of family 1's class. */
  markId: string;
  attendanceId: string;
  otherMarkId: string;
  lessonId: string;
  /** The school's first quarter, and an item of its archive. */
  periodId: string;
  archiveId: string;
}

/** Loads a small demo school, runs its checks, and finds one of everything. */
export async function loadSchoolFixture(db: TestDatabase, clock: Clock, seed: number, box: SecretBox): Promise<SchoolFixture> {
  const loaded = await loadDemoSchool({ pool: db.pool, clock, logger: createLogger('silent') }, { seed, pupils: 50, year: 2025, until: '2025-10-31' });
  const schoolId = loaded.schoolId;
  const one = async (sql: string, params: unknown[] = [schoolId]) => {
    const row = (await db.pool.query<{ id: string }>(sql, params)).rows[0];
    if (!row) throw new Error(`fixture: nothing for ${sql}`);
    return row.id;
  };
  const family = await db.pool.query<{ guardian: string; pupil: string; class_id: string }>(
    `SELECT DISTINCT ON (e.class_group_id) g.guardian_id::text AS guardian, g.pupil_id::text AS pupil, e.class_group_id::text AS class_id
       FROM guardianship g JOIN enrollment e ON e.person_id = g.pupil_id JOIN class_group c ON c.id = e.class_group_id AND c.parent_id IS NULL
      WHERE g.school_id = $1 AND g.deleted_at IS NULL AND EXISTS (SELECT 1 FROM mark m WHERE m.school_id = g.school_id AND m.pupil_id = g.pupil_id)
        AND EXISTS (SELECT 1 FROM attendance a WHERE a.school_id = g.school_id AND a.pupil_id = g.pupil_id)
      ORDER BY e.class_group_id, g.guardian_id LIMIT 2`,
    [schoolId],
  );
  const [f1, f2] = family.rows;
  if (!f1 || !f2) throw new Error('fixture: two families in two classes expected');
  const pair = (await db.pool.query<{ teacher: string; class_id: string; subject_id: string }>(
    `SELECT t.teacher_id::text AS teacher, t.class_group_id::text AS class_id, t.subject_id::text AS subject_id FROM teaching_assignment t
      WHERE t.school_id = $1 AND t.deleted_at IS NULL AND NOT EXISTS (SELECT 1 FROM staff_role s WHERE s.person_id = t.teacher_id AND s.role = 'class_teacher')
      ORDER BY t.created_at, t.id LIMIT 1`, [schoolId],
  )).rows[0]!;
  const connectionId = loaded.connectionId;
  // A receiver on the school's premises (allow-listed); nothing listens there, and nothing is sent in these tests.
  const hook = await createEndpoint(db.pool, box, new TargetPolicy(['http://127.0.0.1:9']), schoolId, { url: 'http://127.0.0.1:9/hook', eventTypes: ['mark.created'] });
  return {
    webhookId: hook.id,
    markId: await one('SELECT id::text FROM mark WHERE school_id = $1 AND pupil_id = $2 ORDER BY date LIMIT 1', [schoolId, f1.pupil]),
    attendanceId: await one('SELECT id::text FROM attendance WHERE school_id = $1 AND pupil_id = $2 ORDER BY date LIMIT 1', [schoolId, f1.pupil]),
    otherMarkId: await one('SELECT id::text FROM mark WHERE school_id = $1 AND pupil_id = $2 ORDER BY date LIMIT 1', [schoolId, f2.pupil]),
    lessonId: await one('SELECT id::text FROM lesson WHERE school_id = $1 AND class_group_id = $2 ORDER BY date LIMIT 1', [schoolId, f1.class_id]),
    schoolId, classId: f1.class_id, otherClassId: f2.class_id, parentId: f1.guardian, otherParentId: f2.guardian, childId: f1.pupil,
    subjectId: await one('SELECT id::text FROM subject WHERE school_id = $1 ORDER BY name LIMIT 1'),
    connectionId,
    runId: await one(`INSERT INTO sync_run (connection_id, trigger, mode, status) VALUES ($1, 'manual', 'incremental', 'failed') RETURNING id::text`, [connectionId]),
    // A finding of the class of family 1 and no one's (the checks may find nothing in a small school).
    discrepancyId: await one(
      `INSERT INTO discrepancy (school_id, key, rule, kind, severity, class_group_id, subject_id, day, fingerprint)
       VALUES ($1, 'test:' || gen_random_uuid(), 'lesson_without_topic', 'regulation', 'warning', $2, NULL, '2025-10-01', 'x') RETURNING id::text`,
      [schoolId, f1.class_id]),
    classTeacherId: await one(`SELECT person_id::text AS id FROM staff_role WHERE school_id = $1 AND role = 'class_teacher' AND class_group_id = $2`, [schoolId, f1.class_id]),
    teacherId: pair.teacher,
    teacherPair: { classId: pair.class_id, subjectId: pair.subject_id },
    deputyId: await one(`SELECT person_id::text AS id FROM staff_role WHERE school_id = $1 AND role IN ('deputy', 'director') ORDER BY role LIMIT 1`),
    periodId: await one(`SELECT id::text FROM period WHERE school_id = $1 AND kind <> 'year' ORDER BY start_date LIMIT 1`),
    archiveId: (await fileInArchive(db.pool, clock, {
      schoolId, kind: 'report', title: 'test', filename: 'test.json', mediaType: 'application/json', bytes: jsonBytes({ test: true }), actor: 'test',
    })).id,
  };
}

/** The callers of a school: a key with every scope, and a session per role (users linked to the fixture's people). */
export interface SchoolCallers {
  key: string;
  admin: string;
  deputy: string;
  classTeacher: string;
  teacher: string;
  parent: string;
  otherParent: string;
}

export async function signInCallers(auth: Auth, f: SchoolFixture, tag: string): Promise<SchoolCallers> {
  const user = async (login: string, kind: 'staff' | 'parent', roles: Array<'it_admin' | 'deputy'>, personId: string | null) => {
    const created = await auth.users.create({ kind, login: `${login}-${tag}`, password: 'correct horse battery', memberships: [{ schoolId: f.schoolId, roles, personId }] }, 'test');
    return (await auth.sessions.create(created.id, 'bearer')).token;
  };
  return {
    key: await keyFor(auth, [f.schoolId]),
    admin: await user('admin', 'staff', ['it_admin'], null),
    deputy: await user('deputy', 'staff', ['deputy'], f.deputyId),
    classTeacher: await user('class-teacher', 'staff', [], f.classTeacherId),
    teacher: await user('teacher', 'staff', [], f.teacherId),
    parent: await user('parent', 'parent', [], f.parentId),
    otherParent: await user('other-parent', 'parent', [], f.otherParentId),
  };
}

/** The API as the service mounts it, on the test database, with the sync and notification routes. */
export function accessApp(db: TestDatabase, auth: Auth, clock: Clock, engine: SyncService, box: SecretBox, backups: BackupsRouterDeps['jobs'], backupTargets: BackupSettings): { app: Express; close(): Promise<void> } {
  const prisma = createPrisma(db.url, 2);
  const app = createApp({
    auth, rates: { perCallerPerMinute: 1_000_000, perAddressPerMinute: 1_000_000 }, pool: db.pool, schools: createSchoolRepository(prisma), logger: createLogger('silent'), embedded: false, demoStatus: () => ({ status: 'off' }), clock,
    sync: { connections: engine.connections, queue: engine.queue }, notify: { box },
    // Deliveries are not taken here (no webhook worker): a replay's job only waits in the queue.
    webhooks: { box, targets: new TargetPolicy(['http://127.0.0.1:9']), enqueue: async () => undefined, rotationGraceSeconds: 3600 },
    archive: { box, print: printerOf({ pool: db.pool, clock, publicUrl: () => 'https://journal.school.test' }) },
    backups: { jobs: backups, targets: () => checkBackupTargets(backupTargets, db.pool) },
  });
  return { app, close: () => prisma.$disconnect() };
}

/** One test file's whole set-up: a database with a fixture school per seed, an API-only sync engine, the app, one Auth. */
export interface AccessRig {
  db: TestDatabase; auth: Auth; app: Express; schools: SchoolFixture[];
  /** The backup queue (two directory targets under `backupDir`); nothing works it until a test calls `backupJobs.work()`. */
  backupJobs: NightlyBackups;
  backupDir: string;
  close(): Promise<void>;
}

export async function startAccessRig(clock: Clock, box: SecretBox, seeds: number[]): Promise<AccessRig> {
  const db = await createTestDatabase({ poolSize: 8 });
  const schools: SchoolFixture[] = [];
  for (const seed of seeds) schools.push(await loadSchoolFixture(db, clock, seed, box));
  const engine = await startTestEngine(db, clock, { ROLES: 'api' });
  const auth = createAuth(db.pool, box, clock, { sessionTtlSeconds: 3600 });
  const backupDir = await mkdtemp(path.join(os.tmpdir(), 'jb-rig-backups-'));
  const settings: BackupSettings = {
    BACKUP_TARGETS: parseBackupTargets(`a@RU=dir:${path.join(backupDir, 'a')},b@RU=dir:${path.join(backupDir, 'b')}`, {}), BACKUP_REQUIRE_TWO: false, DATA_DIR: backupDir, BACKUP_METHOD: 'logical',
  };
  const logger = createLogger('silent');
  const backupJobs = await NightlyBackups.start({ pool: db.pool, url: db.url, clock, logger, settings }, undefined, { adminUrl: adminUrl(process.env[SERVER_ENV]!) });
  const { app, close } = accessApp(db, auth, clock, engine, box, backupJobs, settings);
  return {
    db, auth, app, schools, backupJobs, backupDir,
    close: async () => {
      await backupJobs.stop();
      await rm(backupDir, { recursive: true, force: true });
      await engine.stop();
      await close();
      await db.drop();
    },
  };
}
