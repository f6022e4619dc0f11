import type { Adapter } from '../../src/ports/adapter.js';
import { attendance } from './attendance.js';
import { NetSchoolConfigSchema, type NetSchoolConfig } from './client.js';
import { schedule } from './diary.js';
import { ENDPOINTS } from './endpoints.js';
import { VOCABULARY } from './mapping.js';
import { readClasses, roster } from './school.js';

/**
 * NetSchool «Сетевой Город. Образование» through `/webapi` (README.md): a staff account reads the
 * classes and their pupils (`classes`, `grade/studentList`), every pupil's weekly diary (lessons,
 * homework with files, marks) and, through the report queue, each pupil's «studenttotal» report per
 * term (attendance codes, term marks).
 */
export const netschool: Adapter<NetSchoolConfig> = {
  id: 'netschool',
  title: 'NetSchool «Сетевой Город. Образование»',
  configSchema: NetSchoolConfigSchema,
  secretKeys: ['password'],
  // Regional servers seen in public clients (README.md, platforms.md); any other region's server is given by baseUrl.
  instances: [
    { name: 'sgo.edu-74.ru', title: 'Челябинская область', config: { baseUrl: 'https://sgo.edu-74.ru' } },
    { name: 'asurso.ru', title: 'Самарская область (АСУ РСО)', config: { baseUrl: 'https://asurso.ru' } },
    { name: 'net-school.cap.ru', title: 'Чувашская Республика', config: { baseUrl: 'https://net-school.cap.ru' } },
    { name: 'netcity.eimc.ru', title: 'Екатеринбург', config: { baseUrl: 'https://netcity.eimc.ru' } },
  ],
  endpoints: ENDPOINTS,
  vocabulary: VOCABULARY,
  simulator: () => import('./simulator.js').then((m) => m.simulator),
  streams: { roster, schedule, attendance },
  /** Logs in (role choice and SecurityWarning included) and lists the classes: what a staff account must see. */
  async checkConnection(ctx) {
    await readClasses(ctx);
  },
};
