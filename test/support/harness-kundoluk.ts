import { kundoluk } from '../../adapters/kundoluk/index.js';
import { startKundolukSimulator, type KundolukSimulator } from '../../adapters/kundoluk/simulator.js';
import { kundolukMark } from '../../adapters/kundoluk/simulator-data.js';
import type { AdapterHarness } from './adapter-harness.js';
import type { PlatformSpelling } from './round-trip.js';

export const kundolukHarness: AdapterHarness = {
  adapter: kundoluk,
  start: (school) => startKundolukSimulator(school),
  config: (sim) => sim.connectionConfig(),
  badConfig: (sim) => {
    const config = sim.connectionConfig() as { accounts: Array<{ username: string; password: string }>; teacher: Record<string, string> };
    return { ...config, accounts: config.accounts.map((a) => ({ ...a, password: 'not-the-password' })), teacher: { ...config.teacher, password: 'not-the-password' } };
  },
  secrets: (sim) => [...(sim as KundolukSimulator).credentials.map((c) => c.password), (sim as KundolukSimulator).teacher.password],
};

/**
 * How Kundoluk shows the generated school: integer marks (no «5-»; words and «2/5» as `custom_mark`),
 * absences by `absent_type` («sick», «reason», «noreason»; lateness as the app's «ОП»).
 */
export function kundolukSpelling(): PlatformSpelling {
  return {
    markValue: (value) => {
      const { mark, custom_mark } = kundolukMark(value);
      return mark > 0 ? String(mark) : custom_mark ?? value;
    },
    absenceCode: (code) => ({ Н: 'noreason', Б: 'sick', УП: 'reason' } as Record<string, string>)[code] ?? code,
  };
}
