import {readFileSync} from 'fs';
import * as tf from '@tensorflow/tfjs';
import {beforeAll, describe, expect, it} from 'vitest';
import {labelRocs, chooseThresholds} from '../../lib/eval/multilabel';
import {geluChart, geluCurves} from '../../lib/viz/gelu';
import {labelRocChart} from '../../lib/viz/multilabel';
import {svgWidth, vegaLiteToSvg} from '../../lib/viz/render';
import {expectAllClose, setupBackend} from '../helpers';

beforeAll(setupBackend);
const golden = JSON.parse(readFileSync('test/golden/multilabel.json', 'utf8')).gelu;

describe('GELU curves', () => {
  it('match torch gelu (exact and tanh) on the golden grid, and the max |exact − tanh| is ≈ 4.7e-4 near |x| = 2.7', async () => {
    const before = tf.memory().numTensors;
    const {rows, maxAbsDiff, argmax} = geluCurves(-4, 4, 161);
    expect(tf.memory().numTensors).toBe(before);
    await expectAllClose(rows.map(r => r.x), golden.x, 1e-6);
    await expectAllClose(rows.map(r => r.gelu), golden.exact, 2e-6);
    await expectAllClose(rows.map(r => r.geluTanh), golden.tanh, 2e-6);
    // torch float64 on a 1e-4 grid: 4.732e-4 at x = ±2.699; our float32 grid of step 0.05 must land close
    expect(Math.abs(maxAbsDiff - golden.maxAbsDiff)).toBeLessThan(5e-6);
    expect(Math.abs(Math.abs(argmax) - Math.abs(golden.argmaxAbsDiff))).toBeLessThan(0.05);
    expect(rows.find(r => r.x === 1)?.relu).toBe(1);
    expect(rows[0]!.relu).toBe(0);
  });
  it('chart renders to an SVG that fits a notebook column, with both panels', async () => {
    const svg = await vegaLiteToSvg(geluChart(geluCurves().rows));
    expect(svgWidth(svg)).toBeLessThanOrEqual(900);
    expect(svg).toContain('GELU beside ReLU');
    expect(svg).toContain('exact − tanh');
  });
});

describe('labelRocChart', () => {
  it('draws one curve per label and a dot at each chosen threshold’s (fpr, tpr)', async () => {
    const probs = [0.9, 0.1, 0.8, 0.9, 0.8, 0.2, 0.1, 0.8], targets = [1, 1, 0, 0, 1, 1, 0, 0];
    const rocs = labelRocs(probs, targets, 2), chosen = chooseThresholds(probs, targets, 2);
    const spec = labelRocChart(rocs, ['cat', 'ship'], chosen) as any;
    const dots = spec.layer.at(-1).data.values;
    expect(dots.map((d: any) => [d.fpr, d.tpr])).toEqual(chosen.map(c => [c.fpr, c.recall]));
    expect(dots[0].cls).toBe('cat (AUC 0.875)');
    const svg = await vegaLiteToSvg(spec);
    expect(svg).toContain('ship (AUC 0.000)');
    expect(() => labelRocChart(rocs, ['cat', 'ship'], chosen.slice(1))).toThrow(/1 thresholds for 2 labels/);
  });
});

