import {describe, expect, it} from 'vitest';
import {warmupCosine} from '../../../lib/optim/schedule';

const o = {baseLr: 1, warmupSteps: 10, totalSteps: 110};

describe('warmupCosine', () => {
  it('warms up linearly: step k < W gives baseLr·(k + 1)/W', () => {
    expect(warmupCosine(0, o)).toBeCloseTo(0.1, 12);
    expect(warmupCosine(4, o)).toBeCloseTo(0.5, 12);
    expect(warmupCosine(9, o)).toBeCloseTo(1, 12);
  });
  it('decays by a half cosine: baseLr at W, half way at (W + T)/2, 0 at T', () => {
    expect(warmupCosine(10, o)).toBeCloseTo(1, 12);
    expect(warmupCosine(60, o)).toBeCloseTo(0.5, 12);
    expect(warmupCosine(110, o)).toBeCloseTo(0, 12);
  });
});
