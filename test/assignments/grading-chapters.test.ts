// Acceptance of the chapter 2-4 assignments: reference N of N, released starter 0 of N, the
// half-done sample exactly its share. An exercise whose lib file or SOLUTION region is missing is
// reported as unavailable (not graded) instead of failing.
import * as fs from 'fs';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {expectSample, Graded, gradeSamples} from './helpers';

for (const id of ['ch2', 'ch3', 'ch4']) {
  describe(`grading ${id}`, () => {
    let g: Graded;
    beforeAll(async () => { g = await gradeSamples(id, ['half']); }, 2_700_000);
    afterAll(() => { if (g) fs.rmSync(g.tmp, {recursive: true, force: true}); });
    it('has at least three exercises, and says which are unavailable', () => {
      const r = g.results.get('reference')!;
      expect(g.a.spec.exercises.length).toBeGreaterThanOrEqual(3);
      if (r.unavailable.length) console.warn(`${id}: unavailable exercises (lib file or SOLUTION region missing): ${r.unavailable.join(', ')}`);
      expect(r.exercises.length + r.unavailable.length).toBe(g.a.spec.exercises.length);
    });
    it('the reference solution scores N of N', () => {
      const r = g.results.get('reference')!;
      expect(r.tests.filter((t) => t.status === 'failed').map((t) => `${t.name}: ${t.output}`)).toEqual([]);
      expect(r.score).toBe(r.maxScore);
    });
    it('the released starter scores 0 of N', () => {
      const r = g.results.get('starter')!;
      expect(r.tests.filter((t) => t.status === 'passed').map((t) => t.name)).toEqual([]);
      expect(r.score).toBe(0);
    });
    it('the half-done sample scores exactly its share', () => {
      const r = expectSample(g, 'half');
      expect(r.score).toBeGreaterThan(0);
      expect(r.score).toBeLessThan(r.maxScore);
    });
  });
}
