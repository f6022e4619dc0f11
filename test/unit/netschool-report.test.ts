import { describe, expect, it } from '@jest/globals';
import { placeCodes } from '../../adapters/netschool/attendance.js';
import { hubPaths } from '../../adapters/netschool/hub.js';
import { VOCABULARY, attendanceCodes, matchSubject, periodRecord } from '../../adapters/netschool/mapping.js';
import { columnDates, totalsFor } from '../../adapters/netschool/report.js';
import { serverVersion, versionBefore } from '../../adapters/netschool/version.js';
import { AdapterError } from '../../src/ports/adapter.js';
import { mapAttendanceCode } from '../../src/ports/values.js';

/** The pure parts of reading the studenttotal report and choosing the hub. */
const LEGEND = ['УП', 'Б', 'НП', 'ОТ', 'ОП', 'ОСВ'];

describe('NetSchool «Сетевой Город. Образование» report', () => {
  it.each([['УП', 'valid'], ['Б', 'ill'], ['НП', 'unexcused'], ['ОТ', 'unknown'], ['ОП', 'late'], ['ОСВ', 'valid'], ['оп', 'late']])('maps the legend code %s to %s', (code, kind) => {
    expect(mapAttendanceCode(code, VOCABULARY)).toBe(kind);
  });

  it('tells codes from marks by the legend, or by upper case without one', () => {
    expect(attendanceCodes(['5', 'ОТ', '.', 'н', 'осв', '2/5'], LEGEND)).toEqual(['ОТ', 'осв']);
    expect(attendanceCodes(['4', 'Н', 'ОП', 'зч'], [])).toEqual(['Н', 'ОП']);
  });

  it('places codes: a column per lesson when a day has several, else in order over the day\'s lessons', () => {
    expect(placeCodes([['ОП'], [], ['НП', 'НП']])).toEqual([[0, 'ОП'], [2, 'НП']]);
    expect(placeCodes([['УП', 'УП']])).toEqual([[0, 'УП'], [1, 'УП']]);
    expect(placeCodes([[]])).toEqual([]);
  });

  it('matches a report subject to the diary\'s name: the part after «/», case and ё aside', () => {
    const known = ['Английский язык', 'Физика профиль', 'Основы безопасности жизнедеятельности'];
    expect(matchSubject('Ин.яз./Английский язык', known)).toBe('Английский язык');
    expect(matchSubject('физика  профиль', known)).toBe('Физика профиль');
    expect(matchSubject('Вероятность и статистика', known)).toBe('Вероятность и статистика');
  });

  it('takes the totals of the queried term, else the only ones', () => {
    const row = { subject: 'Алгебра', cells: [], totals: [
      { title: 'Средн. оценка 1 триместр', kind: 'average' as const, text: '4,33' }, { title: 'Итог.оценка 1 триместр', kind: 'final' as const, text: '4' },
      { title: 'Средн. оценка 2 триместр', kind: 'average' as const, text: '3,5' }, { title: 'Итог.оценка 2 триместр', kind: 'final' as const, text: '4' },
    ] };
    expect(totalsFor(row, '1 триместр')).toEqual({ average: 4.33, final: '4' });
    expect(totalsFor(row, '2 триместр')).toEqual({ average: 3.5, final: '4' });
    expect(totalsFor({ ...row, totals: [{ title: 'Средняя оценка', kind: 'average', text: '4,5' }] }, '2 триместр')).toEqual({ average: 4.5 });
  });

  it('dates day columns in the school year: from August the start year, before it the next', () => {
    expect(columnDates([{ month: 9, day: 2 }, { month: 1, day: 13 }, { month: 0, day: 4 }, { month: 2, day: 31 }], 2021))
      .toEqual(['2021-09-02', '2022-01-13', undefined, '2022-02-31']);
  });

  it('reads terms of every system', () => {
    expect(periodRecord('26912', '2 триместр', { start: '2021-12-01T00:00:00', end: '2022-02-28T00:00:00' }, 2021))
      .toEqual({ type: 'period', externalId: '26912', year: 2021, kind: 'trimester', number: 2, title: '2 триместр', startDate: '2021-12-01', endDate: '2022-02-28' });
    expect(periodRecord('1', '1 полугодие', { start: '2021-09-01', end: '2021-12-28' }, 2021).kind).toBe('half_year');
    expect(periodRecord('2', 'Год', { start: '2021-09-01', end: '2022-05-31' }, 2021)).toMatchObject({ kind: 'year', number: 1 });
  });

  it('finds the hub by the server version and refuses the legacy hub by name', () => {
    expect(hubPaths(serverVersion('5.56.0'))).toEqual(['/webapi/signalr/queueHub', '/signalr/queueHub']);
    expect(hubPaths(undefined)).toEqual(['/webapi/signalr/queueHub', '/signalr/queueHub']);
    expect(hubPaths(serverVersion('5.30.1'))).toEqual(['/webapi/queueHub']);
    expect(() => hubPaths(serverVersion('5.10.63221'))).toThrow(AdapterError);
    expect(() => hubPaths(serverVersion('5.10.63221'))).toThrow(/NetSchool 5\.10\.63221: .*before 5\.29/);
    expect(versionBefore([5, 29], [5, 29])).toBe(false);
    expect(serverVersion('нет')).toBeUndefined();
  });
});
