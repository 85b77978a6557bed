import {describe, expect, it} from 'vitest';
import {alignmentHeatmap, heatmap} from '../../lib/viz/attention';
import {concatCharts, lineChart} from '../../lib/viz/curves';
import {vegaLiteToSvg} from '../../lib/viz/render';
import {leverChart} from '../../lib/viz/ablation';
import {summarizeAblation} from '../../lib/train/ablation';

const rows = [
  {step: 1, loss: 2.5, model: 'attention'}, {step: 2, loss: 1.5, model: 'attention'},
  {step: 1, loss: 2.6, model: 'no attention'}, {step: 2, loss: 2.0, model: 'no attention'},
];

describe('lineChart', () => {
  it('encodes x, y and colour fields and keeps the data', () => {
    const s = lineChart({data: rows, x: 'step', y: 'loss', color: 'model', title: 'Loss', logY: true}) as any;
    expect(s.title).toBe('Loss');
    expect(s.data.values).toHaveLength(4);
    const enc = s.layer[0].encoding;
    expect(enc.x.field).toBe('step');
    expect(enc.y.field).toBe('loss');
    expect(enc.y.scale.type).toBe('log');
    expect(enc.color.field).toBe('model');
  });
  it('adds labelled reference lines', () => {
    const s = lineChart({data: rows, x: 'step', y: 'loss', title: 't', rules: [{y: 1, label: 'target'}]}) as any;
    expect(s.layer).toHaveLength(3);
    expect(s.layer[1].data.values).toEqual([{y: 1, label: 'target'}]);
  });
  it('draws a mean ± sd band under each line, in the line\'s colour', async () => {
    const banded = rows.map(r => ({...r, lo: r.loss - 0.2, hi: r.loss + 0.2}));
    const s = lineChart({data: banded, x: 'step', y: 'loss', color: 'model', title: 'b', band: {lower: 'lo', upper: 'hi'}}) as any;
    expect(s.layer.map((l: any) => l.mark.type)).toEqual(['area', 'line']);
    expect(s.layer[0].encoding.y.field).toBe('lo');
    expect(s.layer[0].encoding.y2.field).toBe('hi');
    expect(s.layer[0].encoding.color.field).toBe('model');
    const svg = await vegaLiteToSvg(s);
    expect(svg.match(/class="mark-area/g)).toHaveLength(2); // one band per model
    expect(() => lineChart({data: banded, x: 'step', y: 'loss', title: 'b', band: {lower: 'lo', upper: 'nope' as never}}))
      .toThrow(/field "nope"/);
  });
  it('names a missing field', () => {
    expect(() => lineChart({data: [{a: 1}] as any[], x: 'a', y: 'b' as never, title: 't'})).toThrow(/field "b" is not in the rows \(fields: a\)/);
    expect(() => lineChart({data: [] as {a: number}[], x: 'a', y: 'a', title: 't'})).toThrow(/non-empty/);
  });
  it('renders to SVG with the title and both series', async () => {
    const svg = await vegaLiteToSvg(lineChart({data: rows, x: 'step', y: 'loss', color: 'model', title: 'Training loss'}));
    expect(svg).toContain('Training loss');
    expect(svg).toContain('no attention');
  });
});

describe('heatmap', () => {
  it('keeps repeated labels apart by placing cells by index', () => {
    const s = heatmap({matrix: [[0.1, 0.9, 0], [0.5, 0.25, 0.25]], xLabels: ['2', '2', ' '], yLabels: ['a', 'a'], title: 'h'}) as any;
    expect(s.data.values).toHaveLength(6);
    expect(s.data.values[5]).toMatchObject({row: 1, col: 2, value: 0.25, x: '␣', y: 'a'});
    expect(s.layer[0].encoding.x.axis.labelExpr).toBe('["2","2","␣"][datum.value]');
  });
  it('rejects ragged matrices and label counts that do not match', () => {
    expect(() => heatmap({matrix: [[1, 2], [3]], title: 'h'})).toThrow(/not rectangular \(row 0 has 2 columns, row 1 has 1\)/);
    expect(() => heatmap({matrix: [[1, 2]], xLabels: ['a'], title: 'h'})).toThrow(/1 xLabels for 2 columns/);
    expect(() => heatmap({matrix: [[1, 2]], yLabels: ['a', 'b'], title: 'h'})).toThrow(/2 yLabels for 1 rows/);
  });
  it('an alignment heatmap renders the characters of input and output as axis labels', async () => {
    const spec = alignmentHeatmap({input: '1/2/3', output: '12', weights: [[1, 0, 0, 0, 0], [0, 0, 1, 0, 0], [0, 0, 0, 0, 1]]});
    const svg = await vegaLiteToSvg(concatCharts([spec, spec], {columns: 2}));
    for (const label of ['/', '⏎', '1/2/3 → 12']) expect(svg).toContain(label);
  });
});

describe('lineChart vertical rules and leverChart', () => {
  it('draws a labelled vertical line at x', () => {
    const s = lineChart({data: [{m: 1, a: 0.5}, {m: 70, a: 0.8}], x: 'm', y: 'a', title: 't', xRules: [{x: 60, label: '1 hour'}]}) as any;
    expect(s.layer.map((l: any) => l.mark.type)).toEqual(['line', 'rule', 'text']);
    expect(s.layer[1].encoding.x.field).toBe('x');
    expect(s.layer[1].data.values).toEqual([{x: 60, label: '1 hour'}]);
  });
  it('orders levers by mean, draws mean ± sd and one dot per seed', async () => {
    const runs = [
      {lever: 'baseline', epochs: 4, seed: 0, testAcc: 0.58}, {lever: 'baseline', epochs: 4, seed: 1, testAcc: 0.60},
      {lever: 'ema', epochs: 4, seed: 0, testAcc: 0.63}, {lever: 'ema', epochs: 4, seed: 1, testAcc: 0.61},
    ];
    const summary = summarizeAblation(runs);
    const s = leverChart(summary, runs, 'levers') as any;
    expect(s.layer.map((l: any) => l.mark.type)).toEqual(['rule', 'point', 'tick']);
    expect(s.layer[0].encoding.y.sort).toEqual(['ema', 'baseline']);
    const bars = s.layer[2].data.values;
    const base = bars.find((b: any) => b.lever === 'baseline');
    expect(base.mean).toBeCloseTo(59, 10);
    // sample sd of 58 and 60 is sqrt(2) points
    expect(base.upper - base.mean).toBeCloseTo(Math.SQRT2, 10);
    expect(s.layer[1].data.values).toHaveLength(4);
    const svg = await vegaLiteToSvg(s);
    expect(Number(/width="(\d+)"/.exec(svg)![1])).toBeLessThan(700); // nothing drawn outside the axis range
    expect(svg.match(/class="mark-symbol/g)).toHaveLength(1);
    expect(svg).toContain('baseline');
    expect(() => leverChart(summary, [...runs, {lever: 'x', epochs: 4, seed: 0, testAcc: 0.5}], 't')).toThrow(/lever "x" has no summary row/);
  });
});
