import { primarySourceOf } from '../../checks/rules/sources.js';
import { ValidationError } from '../../lib/errors.js';
import type { PrismaClient } from '../prisma.js';

/** What the API shows of a school and its classes; Prisma's types stay inside the data layer. */
export interface SchoolSummary {
  id: string;
  name: string;
  shortName: string | null;
  region: string;
  timeZone: string;
  regulationProfile: string;
  /** The connection the school named as its legal record; null: none named (the default applies). */
  primarySourceId: string | null;
  /** The source the journal page shows and the cross-source rules compare with: the named one, else primarySourceOf's default. */
  effectivePrimarySourceId: string | null;
  /** The dashboard's language. */
  uiLocale: 'ru' | 'ky';
}

export interface ClassSummary {
  id: string;
  name: string;
  grade: number;
  letter: string | null;
  kind: 'class' | 'subgroup';
  parentId: string | null;
  academicYear: string;
  pupils: number;
}

type SchoolRow = Awaited<ReturnType<PrismaClient['school']['findMany']>>[number];
type SourceRow = { id: string; schoolId: string; platform: string; title: string; enabled: boolean };

/** The sources in the order the checks read them (service.ts ruleContext: created_at, id). */
const SOURCE_ORDER = [{ createdAt: 'asc' as const }, { id: 'asc' as const }];
const SOURCE_FIELDS = { id: true, schoolId: true, platform: true, title: true, enabled: true } as const;

function summary(school: SchoolRow, sources: readonly SourceRow[]): SchoolSummary {
  const { id, name, shortName, region, timeZone, regulationProfile, primarySourceId } = school;
  const effective = primarySourceOf(sources.filter((s) => s.schoolId === id), primarySourceId);
  const uiLocale = school.uiLocale === 'ky' ? 'ky' : 'ru';
  return { id, name, shortName, region, timeZone, regulationProfile, primarySourceId, effectivePrimarySourceId: effective?.id ?? null, uiLocale };
}

export async function listSchools(prisma: PrismaClient): Promise<SchoolSummary[]> {
  const schools = await prisma.school.findMany({ orderBy: [{ name: 'asc' }, { id: 'asc' }] });
  const sources = await prisma.connection.findMany({ select: SOURCE_FIELDS, orderBy: SOURCE_ORDER });
  return schools.map((school) => summary(school, sources));
}

export async function findSchool(prisma: PrismaClient, id: string): Promise<SchoolSummary | null> {
  const school = await prisma.school.findUnique({ where: { id } });
  if (!school) return null;
  return summary(school, await prisma.connection.findMany({ where: { schoolId: id }, select: SOURCE_FIELDS, orderBy: SOURCE_ORDER }));
}

/**
 * Names the school's primary source (null: back to primarySourceOf's default). Null when the school does
 * not exist; a ValidationError when the id is not a connection of this school (one of another school
 * answers the same as an unknown one).
 */
export async function setPrimarySource(prisma: PrismaClient, id: string, primarySourceId: string | null): Promise<SchoolSummary | null> {
  if (!(await prisma.school.findUnique({ where: { id }, select: { id: true } }))) return null;
  if (primarySourceId !== null && !(await prisma.connection.findFirst({ where: { id: primarySourceId, schoolId: id }, select: { id: true } }))) {
    throw new ValidationError(`body.primarySourceId: ${primarySourceId} is not a connection of this school`, { primarySourceId });
  }
  await prisma.school.update({ where: { id }, data: { primarySourceId, updatedAt: new Date() } });
  return findSchool(prisma, id);
}

/** Sets the dashboard's language of a school; null when the school does not exist. */
export async function setUiLocale(prisma: PrismaClient, id: string, uiLocale: 'ru' | 'ky'): Promise<SchoolSummary | null> {
  if (!(await prisma.school.findUnique({ where: { id }, select: { id: true } }))) return null;
  await prisma.school.update({ where: { id }, data: { uiLocale, updatedAt: new Date() } });
  return findSchool(prisma, id);
}

/** The school's classes and subgroups, latest academic year first, then by grade and name. */
export async function listClasses(prisma: PrismaClient, schoolId: string): Promise<ClassSummary[]> {
  const classes = await prisma.classGroup.findMany({
    where: { schoolId, deletedAt: null },
    include: { academicYear: true, _count: { select: { enrollments: { where: { endDate: null } } } } },
  });
  return classes
    .sort((a, b) => b.academicYear.startYear - a.academicYear.startYear || a.grade - b.grade || a.name.localeCompare(b.name, 'ru'))
    .map((c) => ({
      id: c.id,
      name: c.name,
      grade: c.grade,
      letter: c.letter,
      kind: c.kind === 'subgroup' ? 'subgroup' : 'class',
      parentId: c.parentId,
      academicYear: c.academicYear.title,
      pupils: c._count.enrollments,
    }));
}

/** The school reads the API needs, bound to a client. */
export interface SchoolRepository {
  list(): Promise<SchoolSummary[]>;
  find(id: string): Promise<SchoolSummary | null>;
  classes(schoolId: string): Promise<ClassSummary[]>;
  setPrimarySource(id: string, primarySourceId: string | null): Promise<SchoolSummary | null>;
  setUiLocale(id: string, uiLocale: 'ru' | 'ky'): Promise<SchoolSummary | null>;
}

export function createSchoolRepository(prisma: PrismaClient): SchoolRepository {
  return {
    list: () => listSchools(prisma),
    find: (id) => findSchool(prisma, id),
    classes: (schoolId) => listClasses(prisma, schoolId),
    setPrimarySource: (id, primarySourceId) => setPrimarySource(prisma, id, primarySourceId),
    setUiLocale: (id, uiLocale) => setUiLocale(prisma, id, uiLocale),
  };
}
