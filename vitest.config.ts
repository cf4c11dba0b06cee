import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    // The e2e tests mostly wait on HTTP (emulated latency, pacing): three files at once on
    // two cores more than halves the suite's time (vitest's default is cores - 1 = one).
    maxWorkers: 3,
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
