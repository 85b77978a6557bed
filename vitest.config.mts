import {defineConfig} from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // tests run on the deterministic cpu backend unless a test picks wasm itself
    env: {COURSE_BACKEND: process.env.COURSE_BACKEND ?? 'cpu'},
  },
});
