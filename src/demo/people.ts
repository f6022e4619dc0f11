import { base, en, Faker, ru } from '@faker-js/faker';
import { addDays } from '../ports/ranges.js';
import type { Random } from './prng.js';
import type { DemoGroup, DemoParent, DemoPersonBase, DemoPupil, DemoSex } from './types.js';

/**
 * Names and people: pupils of each class (sorted as a journal lists them), their parents with placeholder
 * contacts that reach nobody, and a few identity edge cases the identity matching must survive: two
 * pupils with one full name in different classes, and twins in one class.
 */

export type NameSource = Faker;

export function nameSource(seed: number): NameSource {
  const faker = new Faker({ locale: [ru, en, base] });
  faker.seed(seed);
  return faker;
}

export function personName(faker: NameSource, sex: DemoSex): Pick<DemoPersonBase, 'lastName' | 'firstName' | 'middleName' | 'sex'> {
  const s = sex === 'f' ? 'female' : 'male';
  return { lastName: faker.person.lastName(s), firstName: faker.person.firstName(s), middleName: faker.person.middleName(s), sex };
}

/** The surname of a relative of the other sex: Иванов ↔ Иванова, Покровский ↔ Покровская. */
export function surnameFor(lastName: string, sex: DemoSex): string {
  if (sex === 'f') {
    if (/(ов|ев|ёв|ин|ын)$/.test(lastName)) return `${lastName}а`;
    if (/(ский|цкий)$/.test(lastName)) return `${lastName.slice(0, -2)}ая`;
    return lastName;
  }
  if (/(ова|ева|ёва|ина|ына)$/.test(lastName)) return lastName.slice(0, -1);
  if (/(ская|цкая)$/.test(lastName)) return `${lastName.slice(0, -2)}ий`;
  return lastName;
}

export function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

const collator = new Intl.Collator('ru');

/** Pupils of the classes, ~`perClass` each, alphabetical within a class, split into the class's subgroups. */
export function generatePupils(faker: NameSource, rng: Random, classes: DemoGroup[], subgroups: DemoGroup[], perClass: number, start: string): DemoPupil[] {
  const pupils: DemoPupil[] = [];
  for (const cls of classes) {
    const size = Math.max(5, perClass + rng.int(-2, 2));
    const members = Array.from({ length: size }, () => {
      const name = personName(faker, rng.chance(0.5) ? 'f' : 'm');
      return { ...name, birthDate: birthDateFor(rng, cls.grade, start) };
    }).sort((a, b) => collator.compare(`${a.lastName} ${a.firstName}`, `${b.lastName} ${b.firstName}`));
    const splits = subgroups.filter((g) => g.parentId === cls.id);
    members.forEach((m, i) => {
      const half = i < size / 2 ? 1 : 2;
      pupils.push({
        id: `p-${pad(pupils.length + 1, 4)}`, ...m, classId: cls.id, enrolledFrom: start,
        subgroupIds: splits.filter((g) => g.name.endsWith(`гр. ${half}`)).map((g) => g.id),
      });
    });
  }
  addEdgeCases(pupils, classes);
  return pupils;
}

function birthDateFor(rng: Random, grade: number, start: string): string {
  // Grade g in a year starting in September of Y: born from September Y−7−g to August Y−6−g.
  const from = `${Number(start.slice(0, 4)) - 7 - grade}-09-01`;
  return addDays(from, rng.int(0, 364));
}

/** Twins in the first class of grade 3 or above; a namesake of a 5th-grader in an 8th grade. */
function addEdgeCases(pupils: DemoPupil[], classes: DemoGroup[]): void {
  const twinClass = classes.find((c) => c.grade >= 3);
  const inClass = pupils.filter((p) => p.classId === twinClass?.id);
  if (inClass.length >= 4) {
    const [a, b] = [inClass[1]!, inClass[2]!];
    Object.assign(b, { lastName: surnameFor(a.lastName, b.sex), birthDate: a.birthDate });
  }
  const source = pupils.find((p) => classes.find((c) => c.id === p.classId)?.grade === 5);
  const target = pupils.find((p) => classes.find((c) => c.id === p.classId)?.grade === 8);
  if (source && target) Object.assign(target, { lastName: source.lastName, firstName: source.firstName, middleName: source.middleName, sex: source.sex });
}

/** One or two parents per pupil (twins share theirs), with placeholder contacts. */
export function generateParents(faker: NameSource, rng: Random, pupils: DemoPupil[]): DemoParent[] {
  const parents: DemoParent[] = [];
  const byFamily = new Map<string, DemoParent[]>();
  for (const pupil of pupils) {
    const family = `${surnameFor(pupil.lastName, 'm')}|${pupil.classId}|${pupil.birthDate}`;
    const known = byFamily.get(family);
    if (known) {
      for (const parent of known) parent.pupilIds.push(pupil.id);
      continue;
    }
    const relations: Array<DemoParent['relation']> = [];
    if (rng.chance(0.88)) relations.push('mother');
    if (rng.chance(0.66)) relations.push('father');
    if (relations.length === 0) relations.push('guardian');
    const family_: DemoParent[] = relations.map((relation) => parentOf(faker, rng, pupil, relation, parents.length + 1 + relations.indexOf(relation)));
    parents.push(...family_);
    byFamily.set(family, family_);
  }
  return parents;
}

function parentOf(faker: NameSource, rng: Random, pupil: DemoPupil, relation: DemoParent['relation'], n: number): DemoParent {
  const sex: DemoSex = relation === 'father' ? 'm' : relation === 'mother' ? 'f' : rng.chance(0.7) ? 'f' : 'm';
  const name = personName(faker, sex);
  const lastName = relation === 'guardian' ? name.lastName : surnameFor(pupil.lastName, sex);
  const birthYear = Number(pupil.birthDate.slice(0, 4)) - rng.int(22, 42);
  return {
    id: `par-${pad(n, 4)}`, ...name, lastName, birthDate: `${birthYear}-${pad(rng.int(1, 12), 2)}-${pad(rng.int(1, 28), 2)}`,
    phone: `+7999${pad(n, 7)}`, email: `parent.${n}@example.org`, telegram: `@demo_parent_${n}`, relation, pupilIds: [pupil.id],
  };
}
