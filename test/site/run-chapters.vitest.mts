// The browser acceptance test of run mode (test/site/run-chapters.browser.ts): not part of the
// plain `vitest run`, because it compares with the chapters' Jupyter run, which scripts/test.sh
// makes first. Run it with `npx vitest run --config test/site/run-chapters.vitest.mts`.
import {defineConfig} from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/site/run-chapters.browser.ts'],
    pool: 'forks',
    testTimeout: 1_800_000,
    hookTimeout: 240_000,
  },
});
