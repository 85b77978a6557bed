// Grader setup file (runs in the test worker before each test file): marks on stderr which file is
// loading and which test starts, so the grader's watchdog knows what to blame when it has to kill a
// hung worker. The marks only decide blame for a test that produced no result; they cannot add points.
import {writeSync} from 'node:fs';
import {afterAll, beforeEach, expect} from 'vitest';
import {scanSandbox} from './sandbox/client.mjs';

const mark = (kind, obj) => { try { writeSync(2, `\n@@grader ${kind} ${JSON.stringify(obj)}\n`); } catch { /* stderr closed */ } };
mark('file', {path: expect.getState().testPath ?? ''});

function fullName(task) {
  const names = [];
  for (let t = task; t && t.type !== undefined && t.file !== t; t = t.suite) names.unshift(t.name);
  return names.join(' > ');
}

beforeEach((ctx) => { mark('start', {path: ctx.task.file.filepath, name: fullName(ctx.task)}); });

// what the sandboxed student code has running when a test file ends (helper processes) is observed
afterAll(() => { try { scanSandbox(); } catch { /* no sandbox in this file */ } });
