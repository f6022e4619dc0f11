import { AdapterError, type AdapterStream } from '../../src/ports/adapter.js';
import { mapLimit } from '../../src/ports/concurrency.js';
import type { SourceRecord } from '../../src/ports/records.js';
import { DnevnikClient, type DnevnikConfig } from './client.js';
import { CLASS_TEACHER, PERSONS, RELATIVES, SUBJECTS, TEACHERS, USER, USERS_MANY } from './endpoints.js';
import {
  classRecord, enrollmentRecord, guardianRecord, guardianshipRecord, idOf, periodRecord, personIdOf, pupilRecord, subjectRecord, teacherRecords,
  yearPeriodRecord,
} from './mapping.js';
import { pickId, type Person, type Relative, type Teacher, type User } from './schemas.js';
import { reportingPeriods, school, type Ctx, type Group } from './school.js';
import { onTurn } from './turns.js';

/**
 * The roster: classes and subgroups, subjects, staff with their roles and classes, pupils with their
 * enrollments, their parents with contacts, and the periods.
 */

/** Groups, pupils and users read at once (the host's limiter still applies). */
const PARALLEL = 3;
/** User ids per `POST users/many` [I: no client says how many it takes]. */
const USERS_PER_REQUEST = 100;

interface GroupAnswer {
  group: Group;
  persons: Person[];
  classTeacher?: Person;
}

/** A class's or subgroup's members; for a class on its turn (turns.ts) also its class teacher, when any teacher is one (`HouseMaster`). */
async function readGroup(ctx: Ctx, group: Group, askClassTeacher: boolean): Promise<GroupAnswer> {
  const client = DnevnikClient.of(ctx);
  const persons = await client.get(PERSONS, `edu-groups/${group.id}/persons`);
  if (!group.isClass || !askClassTeacher) return { group, persons };
  const classTeacher = await client.get(CLASS_TEACHER, `edu-groups/${group.id}/classteacher`).catch((error: unknown) => {
    // How a class without a class teacher answers is not public: a missing resource is taken as none [I].
    if (error instanceof AdapterError && error.kind === 'not_found') return undefined;
    throw error;
  });
  return { group, persons, classTeacher };
}

/** Profiles by user id: `POST users/many` in chunks; one `users/{id}` each for an id JSON cannot carry, or where `users/many` is missing. */
async function readUsers(ctx: Ctx, ids: readonly string[]): Promise<Map<string, User>> {
  const client = DnevnikClient.of(ctx);
  const users = new Map<string, User>();
  const one = async (id: string) => users.set(id, await client.get(USER, `users/${id}`));
  const exact = ids.filter((id) => Number.isSafeInteger(Number(id)));
  const chunks: string[][] = [];
  for (let i = 0; i < exact.length; i += USERS_PER_REQUEST) chunks.push(exact.slice(i, i + USERS_PER_REQUEST));
  await mapLimit(chunks, ctx.parallelism(PARALLEL), async (chunk) => {
    try {
      for (const user of await client.post(USERS_MANY, 'users/many', chunk.map(Number))) users.set(idOf(user.id_str, user.id), user);
    } catch (error) {
      if (!(error instanceof AdapterError) || error.kind !== 'not_found') throw error;
      await mapLimit(chunk, ctx.parallelism(PARALLEL), one);
    }
  });
  await mapLimit(ids.filter((id) => !Number.isSafeInteger(Number(id))), ctx.parallelism(PARALLEL), one);
  return users;
}

const userIdOf = (p: Person): string | undefined => pickId(p.userId_str, p.userId);
const nameless = (p: Person) => !p.lastName || !p.firstName;

/** Each pupil's relatives (`users/{userId}/relatives`, pupils without a user have none to read). */
async function readRelatives(ctx: Ctx, pupils: readonly Person[]): Promise<Map<string, Relative[]>> {
  const client = DnevnikClient.of(ctx);
  const withUser = pupils.filter((p) => userIdOf(p) !== undefined);
  const answers = await mapLimit(withUser, ctx.parallelism(PARALLEL), (p) => client.get(RELATIVES, `users/${userIdOf(p)!}/relatives`));
  // In the pupils' order, whatever order the answers came in: the users/many bodies that follow are then reproducible.
  return new Map(withUser.map((p, i) => [personIdOf(p), answers[i]!]));
}

/** Guardian and guardianship records of the pupils' relatives, with the contacts of their profiles. */
function guardianRecords(relatives: ReadonlyMap<string, Relative[]>, users: ReadonlyMap<string, User>): SourceRecord[] {
  const guardians = new Map<string, { person: Person; children: string[] }>();
  const links: SourceRecord[] = [];
  for (const [pupilId, list] of relatives) {
    for (const relative of list) {
      const id = personIdOf(relative.person);
      if (id === pupilId) continue;
      const entry = guardians.get(id) ?? { person: relative.person, children: [] };
      if (!entry.children.includes(pupilId)) entry.children.push(pupilId);
      guardians.set(id, entry);
      links.push(guardianshipRecord(id, pupilId, relative.type));
    }
  }
  const people = [...guardians.values()].map(({ person, children }) => guardianRecord(person, children, users.get(userIdOf(person) ?? '')));
  return [...people, ...links];
}

/** Staff records; class teachers are the persons the classes' `classteacher` named. */
function staffRecords(teachers: readonly Teacher[], answers: readonly GroupAnswer[]): SourceRecord[] {
  const classesOf = new Map<string, string[]>();
  for (const a of answers) {
    if (!a.classTeacher) continue;
    const id = personIdOf(a.classTeacher);
    classesOf.set(id, [...(classesOf.get(id) ?? []), a.group.id]);
  }
  return teachers.flatMap((t) => teacherRecords(t, classesOf.get(idOf(t.IdStr, t.Id))));
}

/** Pupils (from the classes' members), every member's enrollment, and the pupils found. */
function memberRecords(answers: readonly GroupAnswer[], users: ReadonlyMap<string, User>): SourceRecord[] {
  const records: SourceRecord[] = [];
  for (const { group, persons } of answers) {
    for (const p of persons) {
      if (group.isClass) records.push(pupilRecord(p, group.id, nameless(p) ? users.get(userIdOf(p) ?? '') : undefined));
      records.push(enrollmentRecord(personIdOf(p), group.id));
    }
  }
  return records;
}

async function periodRecords(ctx: Ctx, classes: readonly Group[], startYear: number): Promise<SourceRecord[]> {
  const periods = (await mapLimit(classes, ctx.parallelism(PARALLEL), (c) => reportingPeriods(ctx, c))).flat();
  const unique = new Map(periods.map((p) => [idOf(p.id_str, p.id), p]));
  const year = yearPeriodRecord(startYear, [...unique.values()]);
  return [...[...unique.values()].map(periodRecord), ...(year ? [year] : [])];
}

export const roster: AdapterStream<DnevnikConfig> = {
  granularity: 'school',
  async *read(ctx) {
    const client = DnevnikClient.of(ctx);
    const { schoolId, groups, classes, startYear } = await school(ctx);
    const subjects = await client.get(SUBJECTS, `schools/${schoolId}/subjects`);
    const teachers = await client.get(TEACHERS, `schools/${schoolId}/teachers`);
    const anyClassTeacher = teachers.some((t) => t.HouseMaster === true);
    const classTeacherTurn = onTurn(ctx, 'rotate');
    const answers = await mapLimit(groups, ctx.parallelism(PARALLEL), (g) => readGroup(ctx, g, anyClassTeacher && classTeacherTurn(g.id)));
    const pupils = new Map(answers.filter((a) => a.group.isClass).flatMap((a) => a.persons.map((p) => [personIdOf(p), p] as const)));
    const relativesTurn = onTurn(ctx, ctx.config.relatives);
    const relatives = await readRelatives(ctx, [...pupils.values()].filter((p) => relativesTurn(personIdOf(p))));
    const wanted = [...[...relatives.values()].flat().map((r) => r.person), ...[...pupils.values()].filter(nameless)];
    const users = await readUsers(ctx, [...new Set(wanted.map(userIdOf).filter((id): id is string => id !== undefined))]);
    yield {
      records: [
        ...groups.map((g) => classRecord(g.raw)), ...subjects.map(subjectRecord), ...staffRecords(teachers, answers),
        ...memberRecords(answers, users), ...guardianRecords(relatives, users), ...(await periodRecords(ctx, classes, startYear)),
      ],
    };
  },
};
