import type { Adapter } from '../../src/ports/adapter.js';
import { DnevnikConfigSchema, type DnevnikConfig } from './client.js';
import { ENDPOINTS } from './endpoints.js';
import { attendance, homework, marks, periodMarks, schedule } from './journal.js';
import { VOCABULARY } from './mapping.js';
import { roster } from './roster.js';
import { school } from './school.js';

/**
 * Дневник.ру (and its white labels) through the REST API v2: the roster school-wide with parents and
 * class teachers, lessons, marks and lesson log entries group by group in date slices, homework files
 * school-wide, final marks per class. See README.md.
 */
export const dnevnikru: Adapter<DnevnikConfig> = {
  id: 'dnevnikru',
  title: 'Дневник.ру',
  configSchema: DnevnikConfigSchema,
  secretKeys: ['token', 'password', 'clientSecret'],
  // The white labels README.md names (Kundelik marks out of 10).
  instances: [
    { name: 'dnevnik.ru', title: 'Дневник.ру', config: { baseUrl: 'https://api.dnevnik.ru' } },
    { name: 'school.mosreg.ru', title: 'Школьный портал Московской области', config: { baseUrl: 'https://api.school.mosreg.ru' } },
    { name: 'kundelik.kz', title: 'Kundelik (Казахстан)', config: { baseUrl: 'https://api.kundelik.kz', scale: 10 } },
    { name: 'emaktab.uz', title: 'eMaktab (Узбекистан)', config: { baseUrl: 'https://api.emaktab.uz' } },
  ],
  endpoints: ENDPOINTS,
  vocabulary: VOCABULARY,
  simulator: () => import('./simulator.js').then((m) => m.simulator),
  streams: { roster, schedule, homework, marks, attendance, periodMarks },
  async checkConnection(ctx) {
    await school(ctx);
  },
};
