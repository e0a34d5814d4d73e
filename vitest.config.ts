import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    // vitest's default on a 2-core machine is one worker, but the longest files mostly wait on
    // child processes (sandbox instances, spawned daemons, Chromium): two workers overlap that
    // waiting and take the suite from about 9 to about 6.5 minutes.
    maxWorkers: 2,
  },
});
