import {spawnSync} from 'node:child_process';
import * as path from 'node:path';
import {describe, expect, it} from 'vitest';
import {enableWasmThreads} from '../../lib/core/wasm-threads';

describe('enableWasmThreads (opt-in Node threads for wasm)', () => {
  it('rejects a bad thread count', () => {
    expect(() => enableWasmThreads(0)).toThrow(/positive integer \(got 0\)/);
    expect(() => enableWasmThreads(1.5)).toThrow(/positive integer/);
  });
  it('a child process gets 2 XNNPACK threads and correct GEMM / batched matMul (wasm-kernels.ts) results', () => {
    const root = path.resolve(__dirname, '..', '..');
    const r = spawnSync(path.join(root, 'node_modules', '.bin', 'tsx'), [path.join(__dirname, 'wasm-threads.child.ts')], {cwd: root, encoding: 'utf8', timeout: 110_000});
    const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith('RESULT '));
    expect(line, `child failed: ${r.stderr}`).toBeDefined();
    const res = JSON.parse(line!.slice(7));
    expect(res.threads).toBe(2);
    expect(res.bmm).toBe('fast');
    expect(res.maxAbsErr).toBeLessThan(1e-4); // sums of ~96 products of N(0,1) values, float32
  });
});
