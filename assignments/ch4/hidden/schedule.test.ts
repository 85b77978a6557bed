import {describe, expect, it} from 'vitest';
import {warmupCosine} from '../../../lib/optim/schedule';

describe('warmupCosine (hidden)', () => {
  it('decays to minLr and stays there after totalSteps', () => {
    const o = {baseLr: 0.5, warmupSteps: 2, totalSteps: 12, minLr: 0.1};
    expect(warmupCosine(12, o)).toBeCloseTo(0.1, 12);
    expect(warmupCosine(500, o)).toBeCloseTo(0.1, 12);
    expect(warmupCosine(7, o)).toBeCloseTo(0.1 + 0.4 * 0.5, 12);
  });
  it('a quarter of the way through the cosine gives minLr + (baseLr − minLr)·(1 + cos(π/4))/2', () => {
    expect(warmupCosine(25, {baseLr: 2, warmupSteps: 0, totalSteps: 100})).toBeCloseTo((1 + Math.cos(Math.PI / 4)), 12);
  });
  it('never increases after the warm-up', () => {
    const o = {baseLr: 3e-4, warmupSteps: 5, totalSteps: 50};
    for (let s = 5; s < 60; s++) expect(warmupCosine(s + 1, o)).toBeLessThanOrEqual(warmupCosine(s, o));
  });
});
