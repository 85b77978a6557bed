import {describe, expect, it} from 'vitest';
import {vegaLiteToSvg} from '../../lib/viz/render';
import {headMapsSpec, masksSpec, positionalEncodingSpec, positionDotProductSpec, scheduleSpec} from '../../lib/viz/transformer';

describe('chapter 2 charts', () => {
  it('the PE matrix: one cell per (position, dimension), colours in [-1, 1]', () => {
    const s = positionalEncodingSpec([[0, 1, 0, 1], [0.84, 0.54, 0.01, 1]]) as any;
    expect(s.data.values).toHaveLength(8);
    expect(s.layer[0].encoding.color.scale.domain).toEqual([-1, 1]);
  });
  it('dot products get a symmetric colour domain', () => {
    const s = positionDotProductSpec([[2, -1], [-1, 2]]) as any;
    expect(s.layer[0].encoding.color.scale.domain).toEqual([-2, 2]);
  });
  it('masks and heads become one panel each, with the token labels', () => {
    const m = masksSpec([{title: 'a', matrix: [[1, 0], [1, 1]]}, {title: 'b', matrix: [[1, 1], [1, 1]]}], {q: ['x', 'y'], k: ['x', 'y']}) as any;
    expect(m.concat).toHaveLength(2);
    const h = headMapsSpec([[[1, 0]], [[0.5, 0.5]], [[0, 1]]], {q: ['q'], k: ['k1', 'k2']}, 'heads') as any;
    expect(h.concat.map((c: any) => c.title)).toEqual(['head 1', 'head 2', 'head 3']);
    expect(h.concat[0].layer[0].encoding.x.axis.labelExpr).toContain('"k2"');
    expect(() => headMapsSpec([], {q: [], k: []}, 't')).toThrow(/no heads/);
  });
  it('renders to SVG', async () => {
    const svg = await vegaLiteToSvg(scheduleSpec([{step: 0, lr: 1e-4, schedule: 'a'}, {step: 1, lr: 2e-4, schedule: 'a'}]));
    expect(svg).toMatch(/^<svg/);
    expect(svg).toContain('learning rate');
  });
});
