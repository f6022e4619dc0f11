import { edutatar } from '../../adapters/edutatar/index.js';
import { startEduTatarSimulator, type EduTatarSimulator } from '../../adapters/edutatar/simulator.js';
import type { AdapterHarness } from './adapter-harness.js';
import type { PlatformSpelling } from './round-trip.js';

export const edutatarHarness: AdapterHarness = {
  adapter: edutatar,
  start: (school) => startEduTatarSimulator(school),
  config: (sim) => sim.connectionConfig(),
  badConfig: (sim) => ({ ...edutatarHarness.config(sim), password: 'not-the-password' }),
  secrets: (sim) => [(sim as EduTatarSimulator).password],
};

/**
 * How edu.tatar.ru shows the generated school: absence codes lower-case in the mark cells, and no mark
 * «н» of its own (a pupil absent from a test has the cell's absence code, not a second «н»).
 */
export const edutatarSpelling = (): PlatformSpelling => ({
  absenceCode: (code) => code.toLowerCase(),
  markShown: (value) => value !== 'н',
});
