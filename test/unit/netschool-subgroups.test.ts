import { describe, expect, it } from '@jest/globals';
import { SUBGROUP_SHARE, inferSubgroups, type SeenLesson } from '../../adapters/netschool/subgroups.js';

/** The subgroup inference: which of a class's lessons a week's diaries show to part of the class only. */
const ROSTER = ['p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7', 'p8'];
const week = (lessons: SeenLesson[], roster = ROSTER) => inferSubgroups({ classId: '105042', className: '10Б', roster, lessons });
const lesson = (id: string, subject: string, pupils: string[], date = '2022-01-13'): SeenLesson => ({ id, subject, date, pupils });

describe('NetSchool «Сетевой Город. Образование» subgroups', () => {
  it('gives a lesson the whole class sees to the class', () => {
    const { groupOf, subgroups } = week([lesson('m1', 'Математика', ROSTER), lesson('m2', 'Математика', ROSTER.slice(0, 7))]);
    expect(groupOf).toEqual(new Map([['m1', '105042'], ['m2', '105042']]));
    expect(subgroups.size).toBe(0);
    // Seven of eight is above the share: an absent pupil's diary still lists the lesson, a left pupil's does not.
    // The share itself is the boundary: a lesson seen by exactly that share is the class's, one pupil fewer a subgroup's.
    const atShare = Math.ceil(SUBGROUP_SHARE * ROSTER.length);
    const boundary = week([lesson('all', 'Физика', ROSTER), lesson('at', 'Химия', ROSTER.slice(0, atShare)), lesson('below', 'Химия', ROSTER.slice(-(atShare - 1)))]);
    expect([boundary.groupOf.get('at'), boundary.groupOf.get('below')]).toEqual(['105042', '105042/Химия/2']);
  });

  it('numbers the halves of a split subject by the roster: the group with the first pupil is 1', () => {
    const { groupOf, subgroups } = week([
      lesson('all', 'Физика', ROSTER),
      lesson('e2', 'Английский язык', ['p5', 'p6', 'p7', 'p8']),
      lesson('e1', 'Английский язык', ['p4', 'p1', 'p2', 'p3']),
    ]);
    expect(groupOf.get('e1')).toBe('105042/Английский язык/1');
    expect(groupOf.get('e2')).toBe('105042/Английский язык/2');
    expect(subgroups.get('105042/Английский язык/1')).toEqual({ externalId: '105042/Английский язык/1', name: '10Б Английский язык гр. 1', subject: 'Английский язык', number: 1 });
    expect(subgroups.get('105042/Английский язык/2')?.name).toBe('10Б Английский язык гр. 2');
  });

  it('keeps the numbers on a day when only the second group has the lesson', () => {
    const { groupOf } = week([lesson('all', 'Физика', ROSTER, '2022-01-14'), lesson('e2', 'Английский язык', ['p5', 'p6', 'p7', 'p8'], '2022-01-14')]);
    expect(groupOf.get('e2')).toBe('105042/Английский язык/2');
  });

  it('numbers three groups by their first pupils, and decides «first» among the pupils who had lessons that day', () => {
    const { groupOf } = week([
      lesson('all', 'Физика', ['p2', 'p3', 'p4', 'p5', 'p6', 'p7', 'p8']),
      lesson('c', 'Информатика', ['p7', 'p8']),
      lesson('b', 'Информатика', ['p4', 'p5', 'p6']),
      lesson('a', 'Информатика', ['p2', 'p3']),
    ]);
    expect([groupOf.get('a'), groupOf.get('b'), groupOf.get('c')]).toEqual(['105042/Информатика/1', '105042/Информатика/2', '105042/Информатика/3']);
  });

  it('judges each day by the pupils of that day and puts pupils missing from the roster last', () => {
    const { groupOf } = week([
      lesson('mon', 'История', ['p1', 'p2', 'p3', 'p4', 'p5', 'p6'], '2022-01-10'),
      lesson('tue', 'История', ['x9', 'p8'], '2022-01-11'),
      lesson('tue-all', 'Химия', ['p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7', 'p8', 'x9'], '2022-01-11'),
    ]);
    expect(groupOf.get('mon')).toBe('105042');
    expect(groupOf.get('tue')).toBe('105042/История/2');
  });
});
