import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Real servers, worker threads and SQLite files: give slow CI machines room, and keep the 2 cores
    // from being oversubscribed by too many suites at once.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    maxWorkers: 2,
  },
});
