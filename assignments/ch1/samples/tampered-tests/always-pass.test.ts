import {describe, it} from 'vitest';

describe('scaledDotScores', () => {
  it('divides q·k by √D on a hand-computed example', () => {});
  it('returns scores of shape [B, Tq, Tk]', () => {});
});
describe('additiveScores', () => {
  it('computes vᵀ tanh(W1 q + W2 k) on a hand-computed example', () => {});
  it('returns scores of shape [B, Tq, Tk] when A differs from D', () => {});
});
