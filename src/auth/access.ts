import { LRUCache } from 'lru-cache';
import type { Pool } from '../db/pool.js';
import { NotFoundError } from '../lib/errors.js';
import { permit, seesWholeSchool, type Caller, type Permission, type SchoolGrant } from './caller.js';

/**
 * Object-level access: what a teacher or a parent may see inside their school, read from the journal
 * (staff_role, teaching_assignment, guardianship, enrollment) — one query per request, set-based. A
 * caller who may not see an object gets the same 404 as for an object that does not exist.
 */
export interface Scope {
  /** Classes seen whole (a class teacher's class and its subgroups). */
  classes: ReadonlySet<string>;
  /** `class:subject` pairs seen whole (a subject teacher's assignments, the subgroup's parent class too). */
  pairs: ReadonlySet<string>;
  /** A parent's children, and the classes (and parent classes) they are in. */
  children: ReadonlySet<string>;
  childClasses: ReadonlySet<string>;
  /** The person themselves (their own contacts, consents, notifications). */
  personId: string;
}

export type Visibility = { whole: true } | { whole: false; scope: Scope };

/** The scope of a grant: the whole school, or the person's own classes, lessons and children. */
export async function visibilityOf(pool: Pool, grant: SchoolGrant): Promise<Visibility> {
  if (seesWholeSchool(grant)) return { whole: true };
  const cache = cachesOf(pool).visibility;
  const key = `${grant.schoolId}|${grant.personId}|${[...grant.roles].sort().join(',')}`;
  const cached = cache.get(key);
  if (cached) return cached;
  const visibility = await readVisibility(pool, grant);
  cache.set(key, visibility);
  return visibility;
}

/**
 * Per pool (one database): a class's school (never changes), and a person's scope for SCOPE_TTL_MS — a
 * guardianship or an assignment the platforms change shows within it (the caller's grants too: grants.ts).
 */
const SCOPE_TTL_MS = 30_000;
const caches = new WeakMap<Pool, { classSchool: LRUCache<string, string>; visibility: LRUCache<string, Visibility> }>();
function cachesOf(pool: Pool) {
  let c = caches.get(pool);
  if (!c) caches.set(pool, (c = { classSchool: new LRUCache({ max: 100_000 }), visibility: new LRUCache({ max: 20_000, ttl: SCOPE_TTL_MS }) }));
  return c;
}

async function readVisibility(pool: Pool, grant: SchoolGrant): Promise<Visibility> {
  const personId = grant.personId!;
  const { rows } = await pool.query<{ classes: string[] | null; pairs: string[] | null; children: string[] | null; child_classes: string[] | null }>(
    `SELECT
       (SELECT array_agg(DISTINCT g.id::text) FROM staff_role s JOIN class_group g ON g.id = s.class_group_id OR g.parent_id = s.class_group_id
         WHERE s.person_id = $1 AND s.role = 'class_teacher' AND s.deleted_at IS NULL AND $3) AS classes,
       (SELECT array_agg(DISTINCT x.pair) FROM teaching_assignment t JOIN class_group g ON g.id = t.class_group_id
          CROSS JOIN LATERAL (VALUES (g.id::text || ':' || t.subject_id::text), (coalesce(g.parent_id, g.id)::text || ':' || t.subject_id::text)) AS x(pair)
         WHERE t.teacher_id = $1 AND t.deleted_at IS NULL AND $4) AS pairs,
       (SELECT array_agg(DISTINCT gu.pupil_id::text) FROM guardianship gu WHERE gu.guardian_id = $1 AND gu.deleted_at IS NULL AND $2) AS children,
       (SELECT array_agg(DISTINCT x.id) FROM guardianship gu JOIN enrollment e ON e.person_id = gu.pupil_id JOIN class_group g ON g.id = e.class_group_id
          CROSS JOIN LATERAL (VALUES (g.id::text), (coalesce(g.parent_id, g.id)::text)) AS x(id)
         WHERE gu.guardian_id = $1 AND gu.deleted_at IS NULL AND $2) AS child_classes`,
    [personId, grant.roles.includes('parent'), grant.roles.includes('class_teacher'), grant.roles.includes('subject_teacher')],
  );
  const row = rows[0]!;
  return {
    whole: false,
    scope: { classes: new Set(row.classes ?? []), pairs: new Set(row.pairs ?? []), children: new Set(row.children ?? []), childClasses: new Set(row.child_classes ?? []), personId },
  };
}

/** What of a class a caller may see: everything, one subject's pages, or their children's rows. */
export type ClassView = 'whole' | 'subjects' | 'children';

export interface ClassAccess { schoolId: string; grant: SchoolGrant; visibility: Visibility; view: ClassView }

/** The class's school, the caller's permit there, and how much of the class it may see; 404 when none of it. */
export async function accessClass(pool: Pool, caller: Caller, classId: string, permission: Permission, schoolId?: string): Promise<ClassAccess> {
  const what = `class ${classId}`;
  const classSchool = await schoolOfClass(pool, classId);
  if (!classSchool || (schoolId !== undefined && classSchool !== schoolId)) throw new NotFoundError(what);
  const grant = permit(caller, classSchool, permission, what);
  const visibility = await visibilityOf(pool, grant);
  const view = classViewOf(visibility, classId);
  if (!view) throw new NotFoundError(what);
  return { schoolId: classSchool, grant, visibility, view };
}

async function schoolOfClass(pool: Pool, classId: string): Promise<string | undefined> {
  const cache = cachesOf(pool).classSchool;
  const cached = cache.get(classId);
  if (cached) return cached;
  const { rows } = await pool.query<{ school_id: string }>('SELECT school_id::text FROM class_group WHERE id = $1', [classId]);
  if (rows[0]) cache.set(classId, rows[0].school_id);
  return rows[0]?.school_id;
}

function classViewOf(visibility: Visibility, classId: string): ClassView | undefined {
  if (visibility.whole) return 'whole';
  const { scope } = visibility;
  if (scope.classes.has(classId)) return 'whole';
  if ([...scope.pairs].some((p) => p.startsWith(`${classId}:`))) return 'subjects';
  if (scope.childClasses.has(classId)) return 'children';
  return undefined;
}

/** Whether a (class, subject) page is the caller's to see under `access`. */
export function seesSubject(access: ClassAccess, classId: string, subjectId: string): boolean {
  if (access.view !== 'subjects') return true;
  return access.visibility.whole || access.visibility.scope.pairs.has(`${classId}:${subjectId}`);
}

/** The school of a person and the caller's permit to act on them: the whole school's staff, or the person themselves. */
export async function accessPerson(pool: Pool, caller: Caller, personId: string, permission: Permission): Promise<{ schoolId: string; grant: SchoolGrant }> {
  const what = `person ${personId}`;
  const { rows } = await pool.query<{ school_id: string }>('SELECT school_id::text FROM person WHERE id = $1 AND deleted_at IS NULL', [personId]);
  if (!rows[0]) throw new NotFoundError(what);
  const grant = permit(caller, rows[0].school_id, permission, what);
  if (!seesWholeSchool(grant) && grant.personId !== personId) throw new NotFoundError(what);
  return { schoolId: rows[0].school_id, grant };
}

/** Which of the classes a caller sees at all (a list of a school's classes, filtered). */
export function visibleClass(visibility: Visibility, classId: string): boolean {
  return classViewOf(visibility, classId) !== undefined;
}

/** What a scope check needs to know of one fact (a mark, an absence, a lesson, a discrepancy). */
export interface FactPlace { pupilId?: string | null; classId: string | null; subjectId: string | null; assigneeId?: string | null }

/**
 * Whether a scope covers one fact: the whole school; a fact assigned to the person; one of their
 * children's (or a lesson of a child's class); one of a class teacher's classes or a subject teacher's
 * class × subject.
 */
export function seesFact(visibility: Visibility, f: FactPlace): boolean {
  if (visibility.whole) return true;
  const { scope } = visibility;
  if (f.assigneeId && f.assigneeId === scope.personId) return true;
  if (f.pupilId && scope.children.has(f.pupilId)) return true;
  if (!f.pupilId && f.classId && scope.childClasses.has(f.classId)) return true;
  return f.classId !== null && (scope.classes.has(f.classId) || scope.pairs.has(`${f.classId}:${f.subjectId}`));
}

/**
 * A pupil's school and the caller's permit to read the pupil's own record (a diary week): the whole
 * school's staff, the pupil's parent, the class teacher of a class the pupil is in; anyone else — and a
 * person who is no pupil of the caller's — gets the 404 of an unknown person.
 */
export async function accessPupil(pool: Pool, caller: Caller, pupilId: string, permission: Permission): Promise<{ schoolId: string; grant: SchoolGrant }> {
  const what = `pupil ${pupilId}`;
  const { rows } = await pool.query<{ school_id: string; classes: string[] }>(
    `SELECT p.school_id::text, ARRAY(SELECT e.class_group_id::text FROM enrollment e WHERE e.school_id = p.school_id AND e.person_id = p.id) AS classes
       FROM person p WHERE p.id = $1 AND p.deleted_at IS NULL`, [pupilId]);
  const row = rows[0];
  if (!row) throw new NotFoundError(what);
  const grant = permit(caller, row.school_id, permission, what);
  const visibility = await visibilityOf(pool, grant);
  if (visibility.whole) {
    if (row.classes.length === 0) throw new NotFoundError(what);
    return { schoolId: row.school_id, grant };
  }
  const { scope } = visibility;
  if (!scope.children.has(pupilId) && !row.classes.some((c) => scope.classes.has(c))) throw new NotFoundError(what);
  return { schoolId: row.school_id, grant };
}
