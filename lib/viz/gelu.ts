/**
 * GELU beside ReLU (Chapter 2, the feed-forward block; Chapter 3's ViT MLP). Computes the curves
 * with the course's own activations (lib/core/activations.ts: exact GELU x·Φ(x) and PyTorch's tanh
 * approximation) and returns vega-lite specs: the three functions, and the error exact − tanh.
 */
import * as tf from '@tensorflow/tfjs';
import {gelu, geluTanh} from '../core/activations';
import type {VegaLiteSpec} from './render';
import {concatCharts, lineChart} from './curves';

export interface GeluRow { x: number; relu: number; gelu: number; geluTanh: number; diff: number }

/** Rows at n evenly spaced x in [from, to] (float32, as the models compute), and the largest |exact − tanh| among them. */
export function geluCurves(from = -4, to = 4, n = 161): {rows: GeluRow[]; maxAbsDiff: number; argmax: number} {
  if (!(to > from) || !Number.isInteger(n) || n < 2) throw new Error(`geluCurves: need from < to and an integer n ≥ 2 (got ${from}, ${to}, ${n})`);
  const xs = Array.from({length: n}, (_, i) => from + (to - from) * i / (n - 1));
  const [e, t] = tf.tidy(() => { const x = tf.tensor1d(xs); return [gelu(x).dataSync(), geluTanh(x).dataSync()]; });
  let maxAbsDiff = 0, argmax = xs[0]!;
  const rows = xs.map((x, i) => {
    const diff = e![i]! - t![i]!;
    if (Math.abs(diff) > maxAbsDiff) { maxAbsDiff = Math.abs(diff); argmax = x; }
    return {x, relu: Math.max(0, x), gelu: e![i]!, geluTanh: t![i]!, diff};
  });
  return {rows, maxAbsDiff, argmax};
}

/** Two panels: ReLU, GELU and its tanh approximation; and exact − tanh (the approximation's error). */
export function geluChart(rows: GeluRow[]): VegaLiteSpec {
  const long = rows.flatMap(r => [
    {x: r.x, y: r.relu, fn: 'ReLU max(0, x)'},
    {x: r.x, y: r.gelu, fn: 'GELU x·Φ(x)'},
    {x: r.x, y: r.geluTanh, fn: 'GELU, tanh approximation'},
  ]);
  const left = lineChart({data: long, x: 'x', y: 'y', color: 'fn', title: 'GELU beside ReLU', yTitle: 'activation', points: false, width: 300, height: 240});
  // the legend sits inside the empty top-left corner (x < 0, y > 0), so the two panels fit a column
  const line = (left as {layer: {encoding: {color: {legend: Record<string, unknown>}}}[]}).layer[0]!;
  line.encoding.color.legend = {...line.encoding.color.legend, orient: 'top-left', title: null, fillColor: 'white'};
  const right = lineChart({data: rows, x: 'x', y: 'diff', title: 'GELU exact − tanh approximation', yTitle: 'exact − tanh', yFormat: '.1e', points: false, width: 300, height: 240});
  return concatCharts([left, right], {columns: 2});
}
