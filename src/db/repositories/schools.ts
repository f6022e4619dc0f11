import type { PrismaClient } from '../prisma.js';

/** What the API shows of a school and its classes; Prisma's types stay inside the data layer. */
export interface SchoolSummary {
  id: string;
  name: string;
  shortName: string | null;
  region: string;
  timeZone: string;
  regulationProfile: string;
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

export async function listSchools(prisma: PrismaClient): Promise<SchoolSummary[]> {
  const schools = await prisma.school.findMany({ orderBy: [{ name: 'asc' }, { id: 'asc' }] });
  return schools.map(({ id, name, shortName, region, timeZone, regulationProfile }) => ({
    id, name, shortName, region, timeZone, regulationProfile,
  }));
}

export async function findSchool(prisma: PrismaClient, id: string): Promise<SchoolSummary | null> {
  const school = await prisma.school.findUnique({ where: { id } });
  if (!school) return null;
  const { name, shortName, region, timeZone, regulationProfile } = school;
  return { id, name, shortName, region, timeZone, regulationProfile };
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
}

export function createSchoolRepository(prisma: PrismaClient): SchoolRepository {
  return {
    list: () => listSchools(prisma),
    find: (id) => findSchool(prisma, id),
    classes: (schoolId) => listClasses(prisma, schoolId),
  };
}
