import type { SourceRecord } from '../../src/ports/records.js';

/** A sending system's class: one class, one subject, `pupils` pupils and `lessons` lessons (from 1 September 2025, one a school day). */
export function pushRoster(prefix: string, pupils: number, lessons: number): SourceRecord[] {
  const records: SourceRecord[] = [
    { type: 'class', externalId: `${prefix}c`, year: 2025, name: '7В', grade: 7, letter: 'В' },
    { type: 'subject', externalId: `${prefix}s`, name: 'Информатика' },
  ];
  for (let p = 1; p <= pupils; p++) {
    records.push({ type: 'person', externalId: `${prefix}p${p}`, role: 'pupil', lastName: `Ученик${p}`, firstName: 'Тест', classExternalId: `${prefix}c` });
    records.push({ type: 'enrollment', externalId: `${prefix}e${p}`, pupilExternalId: `${prefix}p${p}`, classExternalId: `${prefix}c` });
  }
  for (let l = 1; l <= lessons; l++) {
    records.push({ type: 'lesson', externalId: `${prefix}l${l}`, classExternalId: `${prefix}c`, subjectExternalId: `${prefix}s`, date: schoolDay(l), slot: 3, status: 'held' });
  }
  return records;
}

/** `count` marks of the roster's pupils in its lessons, the `batch`-th such set (ids do not repeat across batches). */
export function pushMarks(prefix: string, pupils: number, lessons: number, count: number, batch = 0): SourceRecord[] {
  return Array.from({ length: count }, (_, i): SourceRecord => {
    const n = batch * count + i;
    return {
      type: 'mark', externalId: `${prefix}m${n}`, pupilExternalId: `${prefix}p${(n % pupils) + 1}`,
      lessonExternalId: `${prefix}l${(Math.floor(n / pupils) % lessons) + 1}`, value: String(2 + (n % 4)), workCategory: 'oral', weight: 1,
    };
  });
}

/** The n-th school day (Monday to Friday) from 1 September 2025, a Monday. */
function schoolDay(n: number): string {
  const week = Math.floor((n - 1) / 5);
  const date = new Date(Date.UTC(2025, 8, 1 + week * 7 + ((n - 1) % 5)));
  return date.toISOString().slice(0, 10);
}
