import { describe, expect, it } from '@jest/globals';
import { HOMEWORK, LOGIN, SCHEDULE, type Lesson } from '../../adapters/kundoluk/endpoints.js';
import { lessonDateOf, placeLesson, pupilOf, type Pupil } from '../../adapters/kundoluk/mapping.js';

/**
 * Kundoluk's accounts and lessons in every spelling the public clients read: the login answer's names
 * (snake_case, camelCase, `lastNameRu`, `middleName`, `birthDate`), the lesson's day (year/month/day,
 * else `lessonDay` in the school's zone) and its class or subgroup (`group` 0 / zero UUID = not split).
 */

const PUPIL: Pupil = { index: 0, id: 'p1', classId: '7А', grade: 7, letter: 'А', lastName: 'Асанов', firstName: 'Бакыт' };
const lesson = (fields: Record<string, unknown>): Lesson => SCHEDULE.parse([{ uid: 'l1', subject: { nameRu: 'Английский язык' }, ...fields }])[0]!;

describe('Kundoluk accounts', () => {
  it.each([
    ['snake_case (kundoluk-plus, the Python client)', { studentId: 's1', grade: 7, letter: 'а', last_name: 'Асанов', first_name: 'Бакыт', mid_name: 'Нурланович', birthdate: '2012-05-14T00:00:00' }],
    ['camelCase (react-kundoluk)', { studentId: 's1', grade: '7', letter: 'А', lastName: 'Асанов', firstName: 'Бакыт', middleName: 'Нурланович', birthDate: '2012-05-14T00:00:00' }],
    ['lastNameRu and midName (kundoluk-plus)', { student_id: 's1', grade: 7, letter: 'А', lastNameRu: 'Асанов', firstName: 'Бакыт', midName: 'Нурланович', birthdate: '2012-05-14' }],
  ])('reads %s', (_spelling, answer) => {
    expect(pupilOf(0, LOGIN.parse({ token: 't', ...answer }))).toEqual({
      index: 0, id: 's1', classId: '7А', grade: 7, letter: 'А', lastName: 'Асанов', firstName: 'Бакыт', middleName: 'Нурланович', birthDate: '2012-05-14',
    });
  });

  it('takes the user id only when there is no pupil id, skips the zero UUID and .NET\'s empty date, and reads an enveloped answer', () => {
    const account = LOGIN.parse({ actionResult: { token: 't', studentId: '00000000-0000-0000-0000-000000000000', userId: 'u1', grade: 7, last_name: 'Асанов', first_name: 'Бакыт', birthdate: '0001-01-01T00:00:00' } });
    expect(pupilOf(0, account)).toEqual({ index: 0, id: 'u1', classId: '7', grade: 7, lastName: 'Асанов', firstName: 'Бакыт' });
  });

  it('refuses an account that names no pupil, as permanent, by its position', () => {
    expect(() => pupilOf(2, LOGIN.parse({ token: 't', userId: 'u1' }))).toThrow('Kundoluk: account #3 is not a pupil\'s (no pupil id, class or name in its login answer)');
  });
});

describe('Kundoluk lessons', () => {
  it.each([
    [{ year: 2025, month: 9, day: 1, lessonDay: '2025-08-31T18:00:00Z' }, '2025-09-01'],
    [{ year: null, lessonDay: '2025-08-31T18:00:00Z' }, '2025-09-01'],
    [{ lessonDay: '2025-09-01T23:30:00+03:00' }, '2025-09-02'],
    [{ lessonDay: '2025-09-01T00:00:00' }, '2025-09-01'],
    [{ year: '2025', month: '9', day: '1' }, '2025-09-01'],
    [{ lessonDay: '0001-01-01T00:00:00' }, undefined],
    [{}, undefined],
  ])('dates %j as %s in Bishkek', (fields, date) => {
    expect(lessonDateOf(lesson(fields), 'Asia/Bishkek')).toBe(date);
  });

  it.each([
    [{ group: 0, groupId: null }, '7А', undefined],
    [{ group: 0, groupId: '00000000-0000-0000-0000-000000000000' }, '7А', undefined],
    [{ group: 0, groupId: 'g-1', subjectGroupName: '1 группа' }, '7А', undefined],
    [{ group: 1, groupId: '00000000-0000-0000-0000-000000000000', subjectGroupName: '1 группа' }, '7А', undefined],
    [{ group: 1, groupId: '' }, '7А', undefined],
    [{ group: 2, groupId: 'g-2', subjectGroupName: '2 группа' }, '7А/g-2', '7А Английский язык 2 группа'],
    [{ group: 1, groupId: 'g-1' }, '7А/g-1', '7А Английский язык 1 группа'],
    [{ group: 1, groupId: 'g-1', grade: 8, letter: 'б', subjectGroupName: '1 группа' }, '8Б/g-1', '8Б Английский язык 1 группа'],
  ])('places %j in %s', (fields, classId, name) => {
    const place = placeLesson(lesson(fields), PUPIL, 2025);
    expect(place.classId).toBe(classId);
    expect(place.subgroup?.name).toBe(name);
  });

  it('reads the homework list under `data` too, as react-kundoluk does', () => {
    expect(HOMEWORK.parse({ data: [{ uid: 'l1', task: { name: '№ 5' } }] })).toMatchObject([{ uid: 'l1', task: { name: '№ 5' } }]);
    expect(HOMEWORK.parse({ resultCode: 0, actionResult: null })).toEqual([]);
  });
});
