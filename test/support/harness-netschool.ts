import { netschool } from '../../adapters/netschool/index.js';
import { startNetSchoolSimulator, type NetSchoolSimulator } from '../../adapters/netschool/simulator.js';
import { netschoolMark } from '../../adapters/netschool/simulator-data.js';
import type { DemoGroup, DemoSchool } from '../../src/demo/types.js';
import type { AdapterHarness } from './adapter-harness.js';
import type { PlatformSpelling } from './round-trip.js';

export const netschoolHarness: AdapterHarness = {
  adapter: netschool,
  start: (school) => startNetSchoolSimulator(school),
  config: (sim) => ({ ...sim.connectionConfig(), parallelPupils: 6 }),
  badConfig: (sim) => ({ ...netschoolHarness.config(sim), password: 'not-the-password' }),
  secrets: (sim) => [(sim as NetSchoolSimulator).password],
};

/**
 * How NetSchool shows the generated school: integer marks (no «5-»), no lesson topics in the diary, and
 * subgroups named by the adapter from the class and the subject («5А Английский язык гр. 1»).
 */
export function netschoolSpelling(truth: DemoSchool): PlatformSpelling {
  const classes = new Map(truth.groups.map((g) => [g.id, g]));
  const subjects = new Map(truth.subjects.map((s) => [s.id, s.name]));
  return {
    markValue: (value) => String(netschoolMark(value)),
    topic: () => '',
    groupName: (group: DemoGroup) => group.kind === 'subgroup'
      ? `${classes.get(group.parentId!)!.name} ${subjects.get(group.subjectId!)} гр. ${group.name.slice(-1)}`
      : group.name,
  };
}
