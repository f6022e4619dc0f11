import { dnevnikru } from '../../adapters/dnevnik/index.js';
import { startDnevnikSimulator, type DnevnikSimulator } from '../../adapters/dnevnik/simulator.js';
import type { AdapterHarness } from './adapter-harness.js';

export const dnevnikHarness: AdapterHarness = {
  adapter: dnevnikru,
  start: (school) => startDnevnikSimulator(school),
  config: (sim) => {
    const s = sim as DnevnikSimulator;
    return { baseUrl: s.url, login: s.login, password: s.password, clientId: s.clientId, clientSecret: s.clientSecret, requestsPerSecond: 1000 };
  },
  badConfig: (sim) => ({ ...dnevnikHarness.config(sim), password: 'not-the-password' }),
  secrets: (sim) => [(sim as DnevnikSimulator).password, (sim as DnevnikSimulator).clientSecret],
};

/** Generated absence codes as Дневник.ру's lesson log reports them. */
export const dnevnikSpelling = { absenceCode: (code: string) => ({ Н: 'Absent', Б: 'Ill', УП: 'Pass', ОП: 'Late' })[code] ?? code };
