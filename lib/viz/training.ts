/**
 * Charts for Chapter 4: bar charts (class balance, per-class accuracy), per-epoch training curves
 * and one-vs-rest ROC curves. Pure functions returning vega-lite specs.
 */
import type {RocCurve} from '../eval/metrics';
import {concatCharts, lineChart} from './curves';
import type {VegaLiteSpec} from './render';
import type {EpochRecord} from '../train/training-log';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v5.json';

/** Vertical bars: one per row, `x` nominal (order kept), `y` quantitative. */
export function barChart(o: {data: Record<string, string | number>[]; x: string; y: string; title: string; yFormat?: string; yDomain?: [number, number]; width?: number; height?: number}): VegaLiteSpec {
  if (o.data.length === 0) throw new Error('barChart: no rows');
  return {
    $schema: SCHEMA, title: o.title, width: o.width ?? 420, height: o.height ?? 220, data: {values: o.data},
    mark: {type: 'bar', tooltip: true},
    encoding: {
      x: {field: o.x, type: 'nominal', sort: null, axis: {labelAngle: -40}},
      y: {field: o.y, type: 'quantitative', ...(o.yFormat ? {axis: {format: o.yFormat}} : {}), ...(o.yDomain ? {scale: {domain: o.yDomain}} : {})},
      tooltip: [{field: o.x, type: 'nominal'}, {field: o.y, type: 'quantitative', ...(o.yFormat ? {format: o.yFormat} : {})}],
    },
  };
}

/** An epoch of a training log (lib/train/training-log.ts reads them from a run's metrics.jsonl). */
export type {EpochRecord};

/** The series of {@link epochCurves}: what each curve measures, in its legend. */
export const CURVE_SERIES = {
  train: 'train: augmented, smoothed loss',
  trainClean: 'train: clean, plain loss',
  test: 'test: clean, plain loss',
} as const;

/**
 * Loss and accuracy per epoch, side by side. The training loss of a run with label smoothing and
 * augmentation is measured on other targets and other images than the test loss, so the legend
 * says which is which; `smoothedFloor` (the least smoothed loss, see `smoothedLossFloor`) is drawn
 * as a dashed rule. Clean training curves appear when the log has them; test points measured on
 * fewer images than the run's largest `testCount` (a cheaper per-epoch curve) form their own series.
 */
export function epochCurves(records: EpochRecord[], title = 'Training curves', opts: {smoothedFloor?: number} = {}): VegaLiteSpec {
  if (records.length === 0) throw new Error('epochCurves: no epoch records');
  // a test point measured on fewer images than the run's largest count is another series, named so
  const fullCount = Math.max(0, ...records.map(r => r.testCount ?? 0));
  const testSeries = (r: EpochRecord) => r.testCount !== undefined && r.testCount < fullCount
    ? `${CURVE_SERIES.test}, first ${r.testCount.toLocaleString('en-US')} images` : CURVE_SERIES.test;
  const long = (key: 'Loss' | 'Acc') => records.flatMap(r => {
    const pts: {epoch: number; split: string; value: number}[] = [{epoch: r.epoch, split: CURVE_SERIES.train, value: r[`train${key}`]}];
    const clean = r[`trainClean${key}`], test = r[`test${key}`];
    if (clean !== undefined) pts.push({epoch: r.epoch, split: CURVE_SERIES.trainClean, value: clean});
    if (test !== undefined) pts.push({epoch: r.epoch, split: testSeries(r), value: test});
    return pts;
  });
  const floor = opts.smoothedFloor;
  return concatCharts([
    lineChart({data: long('Loss'), x: 'epoch', y: 'value', color: 'split', title: 'cross-entropy loss', yTitle: 'loss', width: 300, height: 220,
      ...(floor !== undefined ? {rules: [{y: floor, label: 'least possible smoothed loss'}]} : {})}),
    lineChart({data: long('Acc'), x: 'epoch', y: 'value', color: 'split', title: 'top-1 accuracy', yTitle: 'accuracy', yFormat: '.0%', width: 300, height: 220}),
  ], {title, columns: 2});
}

/**
 * The least cross-entropy a model can reach against label-smoothed targets (1 − ε + ε/K for the
 * true class, ε/K for the others): the entropy of those targets,
 * −(1 − ε + ε/K)·ln(1 − ε + ε/K) − (K − 1)·(ε/K)·ln(ε/K). With ε = 0.1, K = 10 it is 0.500 nats.
 */
export function smoothedLossFloor(epsilon: number, numClasses: number): number {
  if (!(epsilon >= 0 && epsilon < 1) || !(numClasses >= 2)) throw new Error(`smoothedLossFloor: need 0 <= epsilon < 1 and numClasses >= 2 (got ${epsilon}, ${numClasses})`);
  const on = 1 - epsilon + epsilon / numClasses, off = epsilon / numClasses;
  const xlogx = (x: number) => (x > 0 ? x * Math.log(x) : 0);
  return 0 - (xlogx(on) + (numClasses - 1) * xlogx(off)); // 0 − x: no −0 for epsilon 0
}

/** Keeps at most `max` points of a curve (always the first and last). */
function thin<T>(xs: T[], max: number): T[] {
  if (xs.length <= max) return xs;
  const step = (xs.length - 1) / (max - 1);
  return Array.from({length: max}, (_, i) => xs[Math.round(i * step)]!);
}

/** One-vs-rest ROC curves, one line per class, the legend naming each AUC. */
export function rocChart(rocs: RocCurve[], classes: string[], title = 'One-vs-rest ROC curves'): VegaLiteSpec {
  if (rocs.length !== classes.length) throw new Error(`rocChart: ${rocs.length} curves for ${classes.length} classes`);
  const data = rocs.flatMap((r, c) => thin(r.fpr.map((f, i) => ({fpr: f, tpr: r.tpr[i]!, order: i})), 200)
    .map(p => ({...p, cls: `${classes[c]} (AUC ${r.auc.toFixed(3)})`})));
  return {
    $schema: SCHEMA, title, width: 360, height: 360,
    layer: [
      {data: {values: [{fpr: 0, tpr: 0}, {fpr: 1, tpr: 1}]}, mark: {type: 'line', strokeDash: [4, 4], color: 'gray'},
        encoding: {x: {field: 'fpr', type: 'quantitative', scale: {domain: [0, 1]}}, y: {field: 'tpr', type: 'quantitative', scale: {domain: [0, 1]}}}},
      {data: {values: data}, mark: {type: 'line', strokeWidth: 1.5},
        encoding: {x: {field: 'fpr', type: 'quantitative', title: 'false-positive rate', scale: {domain: [0, 1]}},
          y: {field: 'tpr', type: 'quantitative', title: 'true-positive rate', scale: {domain: [0, 1]}},
          order: {field: 'order', type: 'quantitative'},
          color: {field: 'cls', type: 'nominal', title: 'class', scale: {scheme: 'tableau10'}, legend: {labelLimit: 320}}}},
    ],
  };
}
