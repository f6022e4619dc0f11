import { describe, expect, it } from '@jest/globals';
import { TermsConfigSchema, termKindOf, termMeets, termOf } from '../../adapters/edutatar/calendar.js';
import { PUPILS } from '../../adapters/edutatar/endpoints.js';
import { nextPage } from '../../adapters/edutatar/journal.js';
import { loginOutcome, sessionEnded } from '../../adapters/edutatar/login.js';
import { Roster } from '../../adapters/edutatar/roster.js';
import { assignSlots, fdateOf, type Column } from '../../adapters/edutatar/timetable.js';
import { splitName, staffId } from '../../adapters/edutatar/mapping.js';

/**
 * edu.tatar.ru's page readers and the decisions made on what they read: `addUser(…)` lines, the
 * matching of journal rows to pupils by name, the pager, the term calendar, the lessons' slots, and
 * which landings are a login refused or a session ended.
 */

describe('edu.tatar.ru pupils page (addUser)', () => {
  it('takes the second integer as the id and the longest Cyrillic run as the name, wherever the calls stand', () => {
    const page = `<script>function addUser(a, b, c) {}
addUser(987654, 51234, 'Белова Анна Сергеевна', 'ученик');addUser(987654, 51235, "Ёлкин\\u0020Артём Ильдарович", 1);
  addUser(987654,51236,'Гыйззәтуллина Әлфия')</script>`;
    expect(PUPILS.parse(page).pupils).toEqual([
      { id: '51234', fullName: 'Белова Анна Сергеевна' }, { id: '51235', fullName: 'Ёлкин Артём Ильдарович' }, { id: '51236', fullName: 'Гыйззәтуллина Әлфия' },
    ]);
  });

  it('accepts an empty class, and names the call that lacks its id', () => {
    expect(PUPILS.parse('<html><body><p>Нет учеников</p></body></html>').pupils).toEqual([]);
    expect(() => PUPILS.parse("<script>addUser(51234, 'Белова Анна')</script>")).toThrow('edu.tatar.ru GET /school/academic_year/pupils: addUser(…)[0]: no pupil id (the call\'s second integer)');
  });
});

describe('edu.tatar.ru journal rows → pupils', () => {
  const roster = new Roster([
    { id: '1', fullName: 'Белова Анна Сергеевна' }, { id: '2', fullName: 'Ёлкин Артём Ильдарович' },
    { id: '3', fullName: 'Закиров Ильнур Рустемович' }, { id: '4', fullName: 'Закиров Ильнур Рустемович' },
    { id: '5', fullName: 'Сафина Алия Ринатовна' }, { id: '6', fullName: 'Сафина Алия Маратовна' },
  ]);

  it.each([
    ['Белова  Анна\u00a0Сергеевна', '1'], ['елкин артем ильдарович', '2'], ['Белова Анна', '1'],
    ['Закиров Ильнур Рустемович', undefined], ['Сафина Алия', undefined], ['Новикова Ольга Петровна', undefined], ['Белова', undefined],
  ])('«%s» → %s', (name, id) => {
    expect(roster.find(name)).toBe(id);
  });
});

describe('edu.tatar.ru pager', () => {
  it('goes to the next page shown, then through >> to the next window, and stops on the last page', () => {
    expect(nextPage({ pages: [1, 2, 11], next: 11 }, 1)).toBe(2);
    expect(nextPage({ pages: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], next: 11 }, 10)).toBe(11);
    expect(nextPage({ pages: [1, 10], next: 11 }, 10)).toBe(11);
    expect(nextPage({ pages: [1, 2] }, 2)).toBeUndefined();
    expect(nextPage({ pages: [] }, 1)).toBeUndefined();
  });
});

describe('edu.tatar.ru terms', () => {
  const DEFAULTS = TermsConfigSchema.parse(undefined);

  it('knows quarters and half-years by their text, or by the grade when the text says neither', () => {
    expect(termKindOf('1 четверть', 10)).toBe('quarter');
    expect(termKindOf('2 полугодие', 5)).toBe('half_year');
    expect(termKindOf('1', 11)).toBe('half_year');
    expect(termKindOf('1', 9)).toBe('quarter');
    expect(termKindOf('1 триместр', 5)).toBeUndefined();
  });

  it('dates a term by the calendar (spring in the next calendar year) and reads it near the range only', () => {
    const q3 = termOf(DEFAULTS, 2025, 'quarter', 3, '3')!;
    expect(q3).toMatchObject({ periodId: '2025/quarter-3', title: '3 четверть', startDate: '2026-01-01', endDate: '2026-03-31' });
    expect(termOf(DEFAULTS, 2025, 'half_year', 3, '3')).toBeUndefined();
    expect(termMeets(q3, { from: '2026-04-05', to: '2026-04-10' })).toBe(true);
    expect(termMeets(q3, { from: '2026-04-10', to: '2026-04-20' })).toBe(false);
  });
});

describe('edu.tatar.ru lesson slots', () => {
  const timetable = { days: [{ weekday: 1, rows: [{ slot: 2, subject: 'Математика' }, { slot: 3, subject: 'Математика' }, { slot: 5, subject: 'Английский язык' }] }] };
  const col = (groupId: string, subject: string, nth = 1, slot?: number): Column => ({ groupId, subject, date: '2025-09-01', nth, ...(slot ? { slot } : {}) });

  it('places the n-th lesson of a subject on the n-th row of that subject, groups on the same row', () => {
    expect(assignSlots([col('7Б', 'Математика'), col('7Б', 'Математика', 2), col('7Б/1', 'Английский язык'), col('7Б/2', 'английский  язык')], timetable))
      .toEqual({ slots: [2, 3, 5, 5], unplaced: 0 });
  });

  it('gives what the timetable does not place the first free slots of its group\'s day, never a taken one', () => {
    expect(assignSlots([col('7Б', 'Физика'), col('7Б', 'Математика'), col('7Б', 'Химия'), col('7Б', 'Математика', 3)], timetable))
      .toEqual({ slots: [1, 2, 3, 4], unplaced: 3 });
    expect(assignSlots([col('7Б', 'Математика'), col('7Б', 'Русский язык')], undefined)).toEqual({ slots: [1, 2], unplaced: 2 });
  });

  it('prefers a lesson number the journal gives itself (none in the evidence)', () => {
    expect(assignSlots([col('7Б', 'Математика', 1, 6)], timetable)).toEqual({ slots: [6], unplaced: 0 });
  });

  it('asks for the week by the epoch seconds of its Monday (UTC midnight), as the client does', () => {
    expect(fdateOf('2022-09-26')).toBe(1664150400);
  });
});

describe('edu.tatar.ru landings', () => {
  it('tells an ended session from a page', () => {
    expect(sessionEnded({ path: '/login/', html: '' })).toBe('redirected to /login/');
    expect(sessionEnded({ path: '/message', html: '' })).toBe('redirected to /message');
    expect(sessionEnded({ path: '/school', html: '<h2>Выберите дальнейшее действие</h2>' })).toBe('«Выберите дальнейшее действие»');
    expect(sessionEnded({ path: '/school', html: '<a class="cabinet">Личный кабинет</a><td>Пользователь не найден в списке</td>' })).toBeUndefined();
    expect(sessionEnded({ path: '/school', html: '<h3>2025/2026</h3>' })).toBeUndefined();
  });

  it('accepts the cabinet, refuses the rest', () => {
    expect(loginOutcome({ path: '/user/anketa', html: '<table class="tableEx"></table>' })).toBeUndefined();
    expect(loginOutcome({ path: '/start', html: '<a class="cabinet">Личный кабинет</a>' })).toBeUndefined();
    expect(loginOutcome({ path: '/login/', html: '<form><input name="main_login2"></form> Личный кабинет' })).toMatchObject({ kind: 'auth' });
    expect(loginOutcome({ path: '/message', html: '<div class="alert alert-danger">Сервис недоступен</div>' })).toMatchObject({ kind: 'auth', message: expect.not.stringContaining('Сервис') });
  });
});

describe('edu.tatar.ru staff by name', () => {
  it('gives one id per name however it is spelled, with no name in it', () => {
    expect(staffId('Закирова  Гульнара Рифатовна')).toBe(staffId('закирова гульнара рифатовна'));
    expect(staffId('Закирова Гульнара Рифатовна')).toMatch(/^staff:[0-9a-f]{16}$/);
    expect(staffId('Закирова Гульнара Рифатовна')).not.toBe(staffId('Закирова Гульнара Ринатовна'));
    expect(splitName('Алиев Рамиль Эльдар оглы')).toEqual({ lastName: 'Алиев', firstName: 'Рамиль', middleName: 'Эльдар оглы' });
  });
});
