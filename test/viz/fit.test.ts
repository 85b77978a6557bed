import {describe, expect, it} from 'vitest';
import {heatmap} from '../../lib/viz/attention';
import {concatCharts, lineChart} from '../../lib/viz/curves';
import {fitSpec, prepareForWidth, readableTitle, readableTitles, tuneAxes, wrapText, wrapTitles} from '../../lib/viz/fit';
import {fitToWidth, svgWidth, vegaLiteToSvg} from '../../lib/viz/render';

const CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
const matrix = (r: number, c: number) => Array.from({length: r}, (_, i) => Array.from({length: c}, (_, j) => (i * c + j) / (r * c)));

describe('readable titles', () => {
  it('turns field names into words and leaves titles alone', () => {
    expect(readableTitle('tokenAccuracy')).toBe('token accuracy');
    expect(readableTitle('test_loss')).toBe('test loss');
    expect(readableTitle('lr')).toBe('learning rate');
    expect(readableTitle('step')).toBe('step');
    expect(readableTitle('PE')).toBe('PE');
    const spec = readableTitles(lineChart({data: [{step: 1, tokenAccuracy: 0.5}], x: 'step', y: 'tokenAccuracy', title: 't'}));
    expect((spec as any).layer[0].encoding.y.title).toBe('token accuracy');
    expect((spec as any).layer[0].encoding.x.title).toBe('step');
  });
});

describe('fitSpec', () => {
  const panel = (t: string) => heatmap({matrix: matrix(4, 10), title: t, cellSize: 20});
  it('wraps side-by-side charts to the columns that fit', () => {
    const spec = concatCharts([panel('a'), panel('b'), panel('c')], {columns: 3});
    const out = fitSpec(spec, 900, 620)!;
    expect(out.columns).toBe(2);
    expect(out.concat).toHaveLength(3);
    expect(fitSpec(spec, 600, 620)).toBeUndefined(); // fits already
  });

  it('shrinks panels (square cells kept) when one column is still too wide, and says when it cannot', () => {
    const out = fitSpec(concatCharts([panel('a')], {columns: 1}), 300, 200)!;
    const p = out.concat[0];
    expect(p.width).toBe(200 - 100 - 2); // the panel loses the overflow
    expect(p.width).toBeLessThan(200);
    expect(p.height / p.width).toBeCloseTo(80 / 200, 1);
    const tiny = {mark: 'point', width: 40, height: 40, encoding: {x: {field: 'a', type: 'quantitative'}}};
    expect(fitSpec(tiny, 300, 100)).toBeUndefined();
  });

  it('a facet grid shrinks its cells; a single view its plot by the overflow', () => {
    const single = lineChart({data: [{x: 1, y: 2}], x: 'x', y: 'y', title: 't', width: 400});
    expect(fitSpec(single, 500, 300)!.width).toBe(400 - 200 - 2);
    const facet = {data: {values: [{c: 1}, {c: 2}, {c: 3}, {c: 4}]}, facet: {row: {field: 'r'}, column: {field: 'c'}}, spec: {width: 50, height: 50, mark: 'rect'}};
    const f = fitSpec(facet, 280, 200)!;
    expect(f.spec.width).toBeLessThan(50);
  });
});

describe('labels that fit', () => {
  it('turns crowded x labels vertical and thins overlapping ones', () => {
    const spec = tuneAxes(heatmap({matrix: matrix(10, 10), xLabels: CLASSES, yLabels: CLASSES, title: 'confusion', cellSize: 18}));
    const enc = (spec as any).layer[0].encoding;
    expect(enc.x.axis.labelAngle).toBe(-90);
    expect(enc.x.axis.labelOverlap).toBe('greedy');
    expect(enc.y.axis.labelOverlap).toBe('greedy');
    const roomy = tuneAxes(heatmap({matrix: matrix(2, 3), xLabels: ['a', 'b', 'c'], title: 't', cellSize: 30}));
    expect((roomy as any).layer[0].encoding.x.axis.labelAngle).toBe(0);
  });

  it('breaks long titles into lines within the width', () => {
    const s = wrapTitles({title: 'Sinusoidal positional encoding, 50 positions × 64 dimensions', mark: 'rect'}, 240);
    expect(Array.isArray(s.title.text)).toBe(true);
    for (const l of s.title.text) expect(l.length * 8.2).toBeLessThanOrEqual(240);
  });

  it('balances the lines of a wrapped title instead of leaving one word on the last', () => {
    const t = 'CNN vs ViT on fractions of CIFAR-10 (600,000 images seen per run; 1–2 seeds per point)';
    expect(wrapText(t, 82)).toEqual(['CNN vs ViT on fractions of CIFAR-10 (600,000',
      'images seen per run; 1–2 seeds per point)']);
    expect(wrapText('a bb ccc', 100)).toEqual(['a bb ccc']);
    expect(wrapText('a bb ccc dddd', 4)).toEqual(['a bb', 'ccc', 'dddd']);
    for (const l of wrapText(t, 30)) expect(l.length).toBeLessThanOrEqual(30);
    expect(wrapText(t, 30).join(' ')).toBe(t);
  });

  it('a phone puts legends below the plot and grows line charts to the column', () => {
    const s = prepareForWidth(lineChart({data: [{x: 1, y: 2, m: 'a'}], x: 'x', y: 'y', color: 'm', title: 't'}), 340);
    expect(s.width).toBe(340);
    expect(s.autosize).toEqual({type: 'fit-x', contains: 'padding'});
    expect((s as any).layer[0].encoding.color.legend.orient).toBe('bottom');
  });
});

describe('fitToWidth (the kernel SVG in a notebook cell)', () => {
  it('renders side-by-side heat maps with class names no wider than the limit', async () => {
    const cm = heatmap({matrix: matrix(10, 10), xLabels: CLASSES, yLabels: CLASSES, title: 'Confusion matrix (rows: true, columns: predicted)', cellSize: 28});
    const spec = concatCharts([cm, cm, cm], {columns: 3});
    expect(svgWidth(await vegaLiteToSvg(spec))).toBeGreaterThan(900);
    const {spec: fitted, svg} = await fitToWidth(spec, 900);
    expect(svgWidth(svg)).toBeLessThanOrEqual(900);
    expect((fitted as any).columns).toBeLessThan(3);
    const narrow = await fitToWidth(cm, 300);
    expect(svgWidth(narrow.svg)).toBeLessThanOrEqual(300);
  }, 60_000);
});

describe('montageSvg leaves room for its labels', () => {
  it('a long row title and long cell labels are not cut at the edge', async () => {
    const {montageSvg, blank} = await import('../../lib/viz/vit');
    const img = blank(4, 4);
    const svg = montageSvg([[{img, label: 'automobile 97.3 %'}, {img, label: 'cat'}]], {size: 32, rowTitles: ['RandAugment n=2 m=9'], title: 'The same six images under each augmentation'});
    const width = Number(/width="(\d+)"/.exec(svg)![1]);
    const row = /<text x="([\d.]+)"[^>]*text-anchor="end">RandAugment n=2 m=9</.exec(svg)!;
    expect(Number(row[1])).toBeGreaterThanOrEqual('RandAugment n=2 m=9'.length * 6.8); // right-aligned: its start stays ≥ 0
    const label = /<text x="([\d.]+)"[^>]*>automobile 97.3 %</.exec(svg)!;
    expect(Number(label[1]) - 'automobile 97.3 %'.length * 3.5).toBeGreaterThanOrEqual(0);
    expect(width).toBeGreaterThanOrEqual('The same six images under each augmentation'.length * 8);
    const xs = [...svg.matchAll(/<image x="([\d.]+)"/g)].map(m => Number(m[1]));
    expect(xs[1]! - xs[0]!).toBeGreaterThanOrEqual('automobile 97.3 %'.length * 6.8); // neighbours' labels do not overlap
  });
});
