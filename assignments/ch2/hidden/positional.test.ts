import {describe, expect, it} from 'vitest';
import {sinusoidalTable} from '../../../lib/transformer/positional';

describe('sinusoidalTable (hidden)', () => {
  it('each (sin, cos) pair lies on the unit circle', () => {
    const pe = sinusoidalTable(50, 16);
    for (let p = 0; p < 50; p++) for (let i = 0; i < 16; i += 2) expect(pe[p * 16 + i]! ** 2 + pe[p * 16 + i + 1]! ** 2).toBeCloseTo(1, 5);
  });
  it('column 2i has wavelength 2π·10000^(2i/D): position 7, D = 8, i = 3', () => {
    const pe = sinusoidalTable(8, 8);
    expect(pe[7 * 8 + 6]).toBeCloseTo(Math.sin(7 / Math.pow(10000, 6 / 8)), 6);
    expect(pe[7 * 8 + 7]).toBeCloseTo(Math.cos(7 / Math.pow(10000, 6 / 8)), 6);
  });
  it('the table has maxLen · D entries', () => {
    expect(sinusoidalTable(12, 6).length).toBe(72);
  });
});
