// Reaches for the test runner's worker state to mark failing tests as passed (or expected to fail),
// as it could when student code ran inside the vitest worker. In the sandbox there is no test runner.
(() => {
  const g = globalThis as Record<string, any>;
  const w = g.__vitest_worker__;
  try {
    if (w?.current) { w.current.fails = true; w.current.mode = 'skip'; }
    for (const f of w?.filepaths ?? []) void f;
  } catch { /* not there */ }
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const v = require('vitest');
    const st = v.expect.getState?.();
    if (st) v.expect.setState({...st, assertionCalls: 0, isExpectingAssertions: false});
    v.beforeEach?.((ctx: any) => { ctx.task.fails = true; });
  } catch { /* not loadable */ }
  g.__vitest_index__ = {forged: true};
})();
