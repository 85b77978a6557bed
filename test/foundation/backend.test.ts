import * as tf from '@tensorflow/tfjs';
import {describe, expect, it} from 'vitest';
import {describeBackend, initBackend} from '../../lib/backend';
import {budget, courseMode} from '../../lib/mode';

describe('backend switch', () => {
  it('initialises the backend named by COURSE_BACKEND and reports it', async () => {
    const info = await initBackend();
    expect(info.backend).toBe(process.env.COURSE_BACKEND);
    expect(tf.getBackend()).toBe(info.backend);
    expect(describeBackend(info)).toContain(`backend ${info.backend}`);
  });
  it('the wasm backend loads from node_modules and computes the same softmax as cpu', async () => {
    const cpu = await (await initBackend('cpu'), tf.softmax(tf.tensor1d([1, 2, 3])).data());
    const info = await initBackend('wasm');
    expect(info.backend).toBe('wasm');
    expect(describeBackend(info)).toMatch(/SIMD|no SIMD/);
    const wasm = await tf.softmax(tf.tensor1d([1, 2, 3])).data();
    for (let i = 0; i < 3; i++) expect(Math.abs(wasm[i]! - cpu[i]!)).toBeLessThan(1e-6);
    await initBackend('cpu');
  });
  it('rejects an unknown backend name with a clear message', async () => {
    const old = process.env.COURSE_BACKEND;
    process.env.COURSE_BACKEND = 'gpu9000';
    try {
      await expect(initBackend()).rejects.toThrow(/COURSE_BACKEND must be one of/);
    } finally {
      process.env.COURSE_BACKEND = old;
    }
  });
});

describe('course mode switch', () => {
  it('picks the budget of the current mode and rejects unknown modes', () => {
    const old = process.env.COURSE_MODE;
    try {
      process.env.COURSE_MODE = 'quick';
      expect(budget({quick: 1, full: 2})).toBe(1);
      process.env.COURSE_MODE = 'full';
      expect(courseMode()).toBe('full');
      process.env.COURSE_MODE = 'fast';
      expect(() => courseMode()).toThrow(/COURSE_MODE must be "quick" or "full"/);
    } finally {
      process.env.COURSE_MODE = old;
    }
  });
});
