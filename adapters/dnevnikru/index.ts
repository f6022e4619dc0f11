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
  endpoints: ENDPOINTS,
  vocabulary: VOCABULARY,
  simulator: () => import('./simulator.js').then((m) => m.simulator),
  streams: { roster, schedule, homework, marks, attendance, periodMarks },
  async checkConnection(ctx) {
    await school(ctx);
  },
};
