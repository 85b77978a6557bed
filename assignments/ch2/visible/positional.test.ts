import {describe, expect, it} from 'vitest';
import {sinusoidalTable} from '../../../lib/transformer/positional';

describe('sinusoidalTable', () => {
  it('position 0 is [sin 0, cos 0, …] = [0, 1, 0, 1]', () => {
    expect(Array.from(sinusoidalTable(1, 4))).toEqual([0, 1, 0, 1]);
  });
  it('position 1 with D = 4 is [sin 1, cos 1, sin 0.01, cos 0.01]', () => {
    const pe = sinusoidalTable(2, 4);
    const want = [Math.sin(1), Math.cos(1), Math.sin(0.01), Math.cos(0.01)];
    want.forEach((w, i) => expect(pe[4 + i]).toBeCloseTo(w, 6));
  });
});
