import {readFileSync} from 'fs';
import {describe, expect, it} from 'vitest';
import {transformerSchedule, warmupCosine} from '../../lib/optim/schedule';

const golden = JSON.parse(readFileSync('test/golden/optim.json', 'utf8')).schedules;
const close = (a: number, b: number, rel = 1e-12) => expect(Math.abs(a - b)).toBeLessThanOrEqual(rel * Math.max(1e-12, Math.abs(b)));

describe('warmupCosine', () => {
  const o = {baseLr: 1, warmupSteps: 4, totalSteps: 12, minLr: 0.1};
  it('warms up linearly from baseLr/W at step 0 to baseLr at step W−1', () => {
    expect([0, 1, 2, 3].map((s) => warmupCosine(s, o))).toEqual([0.25, 0.5, 0.75, 1]);
  });
  it('follows the half cosine from baseLr to minLr (hand values)', () => {
    close(warmupCosine(4, o), 1);                                  // progress 0
    close(warmupCosine(6, o), 0.1 + 0.9 * 0.5 * (1 + Math.SQRT1_2)); // progress 1/4: cos(π/4)
    close(warmupCosine(8, o), 0.55);                               // progress 1/2: halfway
    close(warmupCosine(12, o), 0.1);
    close(warmupCosine(100, o), 0.1);                              // stays at minLr after the end
  });
  it('without warm-up starts at baseLr; minLr defaults to 0', () => {
    const p = {baseLr: 2, warmupSteps: 0, totalSteps: 10};
    expect(warmupCosine(0, p)).toBe(2);
    close(warmupCosine(5, p), 1);
    expect(warmupCosine(10, p)).toBeCloseTo(0, 15);
  });
  for (const g of golden.warmupCosine) {
    it(`matches torch LambdaLR (W=${g.warmupSteps}, T=${g.totalSteps})`, () => {
      g.lrs.forEach((lr: number, k: number) => close(warmupCosine(k, g), lr, 1e-9));
    });
  }
  it('rejects bad options', () => {
    expect(() => warmupCosine(-1, o)).toThrow(/step must be ≥ 0/);
    expect(() => warmupCosine(0, {...o, totalSteps: 4})).toThrow(/totalSteps \(4\) must be an integer > warmupSteps \(4\)/);
    expect(() => warmupCosine(0, {...o, minLr: 2})).toThrow(/minLr/);
  });
});

describe('transformerSchedule', () => {
  it('matches the paper formula at hand-picked steps (dModel 512, warmup 4000)', () => {
    const o = {dModel: 512, warmupSteps: 4000};
    close(transformerSchedule(1, o), 512 ** -0.5 * 4000 ** -1.5);             // 2.7621e-7
    close(transformerSchedule(4000, o), 512 ** -0.5 * 4000 ** -0.5);          // peak 6.9877e-4
    close(transformerSchedule(16000, o), 512 ** -0.5 * 16000 ** -0.5);        // decay branch: d^-0.5·step^-0.5
    expect(transformerSchedule(4000, o)).toBeCloseTo(6.98771e-4, 8);
    expect(transformerSchedule(3999, o)).toBeLessThan(transformerSchedule(4000, o));
    expect(transformerSchedule(4001, o)).toBeLessThan(transformerSchedule(4000, o));
  });
  it('scales with factor', () => {
    close(transformerSchedule(10, {dModel: 32, warmupSteps: 10, factor: 2}), 2 * 32 ** -0.5 * 10 ** -0.5);
  });
  for (const g of golden.transformer) {
    it(`matches the Annotated Transformer's rate() under LambdaLR (d=${g.dModel}, warmup=${g.warmupSteps})`, () => {
      g.lrs.forEach((lr: number, i: number) => close(transformerSchedule(g.firstStep + i * g.stride, g), lr, 1e-9));
    });
  }
  it('rejects step 0 with a hint', () => {
    expect(() => transformerSchedule(0, {dModel: 8, warmupSteps: 4})).toThrow(/step must be ≥ 1 \(counted from 1\)/);
  });
});
