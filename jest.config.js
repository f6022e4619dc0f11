// Two projects: unit (pure, no I/O) and integration (a real Postgres, see test/support/global-setup.ts).
// TypeScript is transpiled per file by ts-jest (isolatedModules: no type check here; `npm run typecheck`
// does that); the project is ESM, so Jest runs with --experimental-vm-modules. Jest 29 and ts-jest are
// pure JavaScript: Jest 30 and @swc/jest pull native packages whose other-platform builds this machine's
// registry lacks, which breaks `npm ci`.
const common = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, diagnostics: false }],
  },
};

export default {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.mjs',
      globalTeardown: '<rootDir>/test/support/global-teardown.mjs',
    },
    // Whole service processes (`npm start` and its signals, kills mid-sync, several processes on one
    // database), minutes each: `npm run test:e2e`, which CI runs after `npm test`.
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/e2e/**/*.test.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.mjs',
      globalTeardown: '<rootDir>/test/support/global-teardown.mjs',
    },
  ],
  // Generous: a test's time is its work, and a busy 2-core machine makes a two-sync round trip three times
  // slower (a 19 s Kundoluk case took over 60 s in CI). A hang still fails, three minutes later.
  testTimeout: 180_000,
  // Two worker processes, one per core: most cases wait on Postgres, simulators and timers, so two files at a
  // time take half the wall time (9.4 min for 60 files against 18 with one) and every case holds under that
  // load. Each worker is recycled when a test file left it holding more than the limit below: Jest's ESM
  // module registries are not freed between files (43 files in one process grew past 9 GB).
  maxWorkers: 2,
  workerIdleMemoryLimit: '1GB',
};
