import {availableParallelism} from 'node:os';
import {defineConfig} from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    // two test files at a time even on a 2-core machine (vitest's default there is one): many tests
    // wait on child processes (Jupyter kernels, sandboxed grading, CLIs), so the second core idles otherwise
    maxWorkers: Math.max(2, availableParallelism() - 1),
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // tests run on the deterministic cpu backend unless a test picks wasm itself
    env: {COURSE_BACKEND: process.env.COURSE_BACKEND ?? 'cpu'},
  },
});
