import {describe, expect, it} from 'vitest';
import {confusionMatrix} from '../../../lib/eval/metrics';

describe('confusionMatrix', () => {
  it('counts[t][p] counts examples of true class t predicted as p', () => {
    expect(confusionMatrix([0, 1, 1, 2, 0], [0, 1, 2, 2, 1], 3)).toEqual([[1, 0, 0], [1, 1, 0], [0, 1, 1]]);
  });
  it('a perfect classifier gives a diagonal matrix', () => {
    expect(confusionMatrix([2, 0, 1, 2], [2, 0, 1, 2], 3)).toEqual([[1, 0, 0], [0, 1, 0], [0, 0, 2]]);
  });
});
