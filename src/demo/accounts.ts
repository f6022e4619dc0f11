import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Role } from '../auth/caller.js';
import type { Users } from '../auth/users.js';
import type { Pool } from '../db/pool.js';

/** One demo sign-in: a role's login and password (the demo's only; a real school's users are created by its administrator). */
export interface DemoAccount { role: string; login: string; password: string; personId: string | null }

/**
 * The demo school's accounts, one per kind of user: the IT administrator, the deputy director, a class
 * teacher, a subject teacher and a parent, each linked to the journal person they are. Created once;
 * their passwords are kept in `<DATA_DIR>/demo-accounts.json` (mode 0600) so every start can print them.
 */
export async function ensureDemoAccounts(pool: Pool, users: Users, schoolId: string | undefined, dataDir: string): Promise<DemoAccount[]> {
  const file = path.join(dataDir, 'demo-accounts.json');
  if (existsSync(file)) return JSON.parse(await readFile(file, 'utf8')) as DemoAccount[];
  if (!schoolId) return [];
  const people = await pickPeople(pool, schoolId);
  const wanted: Array<{ role: string; login: string; roles: Role[]; kind: 'staff' | 'parent'; personId: string | null }> = [
    { role: 'IT administrator', login: 'admin', roles: ['it_admin'], kind: 'staff', personId: null },
    { role: 'deputy director', login: 'deputy', roles: ['deputy'], kind: 'staff', personId: people.deputy },
    { role: 'class teacher', login: 'class-teacher', roles: [], kind: 'staff', personId: people.classTeacher },
    { role: 'subject teacher', login: 'teacher', roles: [], kind: 'staff', personId: people.teacher },
    { role: 'parent', login: 'parent', roles: [], kind: 'parent', personId: people.parent },
  ];
  const accounts: DemoAccount[] = [];
  for (const w of wanted) {
    if (w.roles.length === 0 && !w.personId) continue;
    const password = randomBytes(9).toString('base64url');
    // The journal gives teachers and parents their roles (grants.ts); the membership links the person.
    await users.create({ kind: w.kind, login: w.login, password, memberships: [{ schoolId, roles: w.roles, personId: w.personId }] }, 'demo');
    accounts.push({ role: w.role, login: w.login, password, personId: w.personId });
  }
  await writeFile(file, JSON.stringify(accounts, null, 2), { mode: 0o600 });
  await chmod(file, 0o600);
  return accounts;
}

async function pickPeople(pool: Pool, schoolId: string): Promise<{ deputy: string | null; classTeacher: string | null; teacher: string | null; parent: string | null }> {
  const one = async (sql: string) => (await pool.query<{ id: string }>(sql, [schoolId])).rows[0]?.id ?? null;
  return {
    deputy: await one(`SELECT person_id::text AS id FROM staff_role WHERE school_id = $1 AND role IN ('deputy', 'director') AND deleted_at IS NULL ORDER BY role DESC, created_at LIMIT 1`),
    classTeacher: await one(`SELECT person_id::text AS id FROM staff_role WHERE school_id = $1 AND role = 'class_teacher' AND deleted_at IS NULL ORDER BY created_at, id LIMIT 1`),
    teacher: await one(`SELECT t.teacher_id::text AS id FROM teaching_assignment t WHERE t.school_id = $1 AND t.deleted_at IS NULL
                         AND NOT EXISTS (SELECT 1 FROM staff_role s WHERE s.person_id = t.teacher_id AND s.role = 'class_teacher') ORDER BY t.created_at, t.id LIMIT 1`),
    parent: await one(`SELECT guardian_id::text AS id FROM guardianship WHERE school_id = $1 AND deleted_at IS NULL ORDER BY created_at, id LIMIT 1`),
  };
}
