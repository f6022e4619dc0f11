import { dnevnikru } from '../../adapters/dnevnikru/index.js';
import { startDnevnikSimulator, type DnevnikSimulator } from '../../adapters/dnevnikru/simulator.js';
import type { AdapterHarness } from './adapter-harness.js';

export const dnevnikHarness: AdapterHarness = {
  adapter: dnevnikru,
  start: (school) => startDnevnikSimulator(school),
  config: (sim) => sim.connectionConfig(),
  badConfig: (sim) => ({ ...dnevnikHarness.config(sim), password: 'not-the-password' }),
  secrets: (sim) => [(sim as DnevnikSimulator).password, (sim as DnevnikSimulator).clientSecret],
};

/** Generated absence codes as Дневник.ру's lesson log reports them. */
export const dnevnikSpelling = { absenceCode: (code: string) => ({ Н: 'Absent', Б: 'Ill', УП: 'Pass', ОП: 'Late' })[code] ?? code };
