/**
 * The levers chart of Chapter 4 §4.6: per lever, the mean test accuracy over seeds (a red tick), an
 * error bar of ± one standard deviation, and every seed's run as a grey circle — so a reader sees
 * both the spread and how many seeds stand behind each mean. No bars: their length from an
 * arbitrary axis start would exaggerate differences of a point. Pure: returns a vega-lite spec.
 */
import type {AblationRun, AblationSummary} from '../train/ablation';
import type {VegaLiteSpec} from './render';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v5.json';

export function leverChart(summary: AblationSummary[], runs: AblationRun[], title: string): VegaLiteSpec {
  if (summary.length === 0) throw new Error('leverChart: no levers to draw');
  const order = [...summary].sort((a, b) => b.mean - a.mean).map((s) => s.lever);
  const known = new Set(order);
  const stray = runs.find((r) => !known.has(r.lever));
  if (stray) throw new Error(`leverChart: run of lever "${stray.lever}" has no summary row`);
  const bars = summary.map((s) => ({lever: s.lever, mean: 100 * s.mean, lower: 100 * (s.mean - s.sd), upper: 100 * (s.mean + s.sd),
    seeds: s.seeds, sd: 100 * s.sd}));
  const dots = runs.map((r) => ({lever: r.lever, accuracy: 100 * r.testAcc, seed: String(r.seed)}));
  const lo = Math.min(...bars.map((b) => b.lower), ...dots.map((d) => d.accuracy));
  const hi = Math.max(...bars.map((b) => b.upper), ...dots.map((d) => d.accuracy));
  const pad = Math.max(1, (hi - lo) * 0.15);
  const domain = [Math.floor(lo - pad), Math.ceil(hi + pad)];
  const y = {field: 'lever', type: 'nominal', sort: order, title: null};
  const x = (field: string) => ({field, type: 'quantitative', scale: {domain, zero: false}, title: 'test accuracy (%), full test set'});
  return {
    $schema: SCHEMA, title, width: 420, height: {step: 26},
    layer: [
      {data: {values: bars}, mark: {type: 'rule', color: 'black'}, encoding: {y, x: x('lower'), x2: {field: 'upper'}}},
      {data: {values: dots}, mark: {type: 'point', size: 30, color: 'gray', opacity: 0.8}, encoding: {y, x: x('accuracy'),
        tooltip: [{field: 'lever'}, {field: 'seed'}, {field: 'accuracy', format: '.2f'}]}},
      {data: {values: bars}, mark: {type: 'tick', color: '#c0392b', thickness: 3, size: 18}, encoding: {y, x: x('mean'),
        tooltip: [{field: 'lever'}, {field: 'mean', format: '.2f', title: 'mean %'}, {field: 'sd', format: '.2f', title: 'sd'}, {field: 'seeds'}]}},
    ],
  } as VegaLiteSpec;
}
