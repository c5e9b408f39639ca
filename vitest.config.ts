import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Two cores: more parallel files only fight for them (each PGlite is a WebAssembly PostgreSQL).
    maxWorkers: 2,
    // In CI, a test that fails is run once more before it counts as failed: the suite starts real
    // processes and browsers on a shared 2-core machine, where a start can exceed its bound under
    // load. .ci/run prints every test that needed the second try, so flakiness stays visible.
    retry: process.env.CI ? 1 : 0,
    reporters: process.env.CI ? ['default', 'json'] : ['default'],
    outputFile: process.env.CI ? { json: '.tmp/vitest-report.json' } : undefined,
  },
});
