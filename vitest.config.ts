import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One native thread pool per process: forks keep suites from sharing one.
    pool: 'forks',
    testTimeout: 60_000,
  },
});
